use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use kratos_core::Kind;
use tokio::time::Instant;

use super::instruments::{Instruments, Operation};
use crate::util::response_error;

/// One call being measured: its operation's handles and when it started.
#[derive(Debug)]
pub(crate) struct Measure {
    instruments: Arc<Instruments>,
    op: Arc<Operation>,
    start: Instant,
}

impl Measure {
    /// Measures a call of `kind` and `operation` that started at `start`.
    pub(super) fn start(
        instruments: &Arc<Instruments>,
        kind: Kind,
        operation: &str,
        start: Instant,
    ) -> Self {
        Self {
            op: instruments.operation(kind, operation),
            instruments: instruments.clone(),
            start,
        }
    }

    /// Records the call's outcome: the code and reason of its typed outcome,
    /// `500` when the service failed, and the time since it started.
    pub(crate) fn finish<B, E>(&self, result: &Result<Response<B>, E>) {
        let seconds = self.start.elapsed().as_secs_f64();
        let record = |code, reason: &str| self.instruments.record(&self.op, code, reason, seconds);
        match result {
            Err(_) => record(500, ""),
            Ok(res) => match response_error(res) {
                None => record(res.status().as_u16(), ""),
                Some(err) => record(err.code(), err.reason()),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Metrics`](super::Metrics): records the call when its
    /// response head (or its error) arrives, with the code and reason of its
    /// typed outcome.
    pub struct ResponseFuture<F> {
        #[pin]
        fut: F,
        measure: Measure,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(fut: F, measure: Measure) -> Self {
        Self { fut, measure }
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
        this.measure.finish(&result);
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("metrics::ResponseFuture")
    }
}
