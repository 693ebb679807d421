use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use tokio::time::Instant;

use super::instruments::{Instruments, Operation};
use crate::util::response_error;

pin_project_lite::pin_project! {
    /// The future of [`Metrics`](super::Metrics): records the call when its
    /// response head (or its error) arrives, with the code and reason of its
    /// typed outcome.
    pub struct ResponseFuture<F> {
        #[pin]
        fut: F,
        instruments: Arc<Instruments>,
        op: Arc<Operation>,
        start: Instant,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(fut: F, instruments: Arc<Instruments>, op: Arc<Operation>) -> Self {
        Self {
            fut,
            instruments,
            op,
            start: Instant::now(),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.fut.poll(cx));
        let seconds = this.start.elapsed().as_secs_f64();
        match &result {
            Err(_) => this.instruments.record(this.op, 500, "", seconds),
            Ok(res) => match response_error(res) {
                None => this
                    .instruments
                    .record(this.op, res.status().as_u16(), "", seconds),
                Some(err) => this
                    .instruments
                    .record(this.op, err.code(), err.reason(), seconds),
            },
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("metrics::ResponseFuture")
    }
}
