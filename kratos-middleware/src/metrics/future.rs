use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http_body::Body as HttpBody;
use kratos_core::{Error, Kind};
use tokio::time::Instant;

use super::instruments::{Instruments, Operation};
use crate::BoxError;
use crate::body::FromBody;
use crate::util::{HeadOutcome, head_outcome, read_error_body};

type ReadBody<B> = Pin<Box<dyn Future<Output = (Response<B>, Error)> + Send>>;

pin_project_lite::pin_project! {
    /// The future of [`Metrics`](super::Metrics): records the call when its
    /// response head (or its error) arrives, after reading the body of an
    /// HTTP error for its reason.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        instruments: Arc<Instruments>,
        op: Arc<Operation>,
        kind: Kind,
        start: Instant,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Call { #[pin] fut: F },
        ReadBody { fut: ReadBody<B> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(super) fn new(
        fut: F,
        instruments: Arc<Instruments>,
        op: Arc<Operation>,
        kind: Kind,
    ) -> Self {
        Self {
            state: State::Call { fut },
            instruments,
            op,
            kind,
            start: Instant::now(),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let record = |code: u16, reason: &str| {
                let seconds = this.start.elapsed().as_secs_f64();
                this.instruments.record(this.op, code, reason, seconds);
            };
            let next = match this.state.as_mut().project() {
                StateProj::Call { fut } => match ready!(fut.poll(cx)) {
                    Err(err) => {
                        record(500, "");
                        return Poll::Ready(Err(err));
                    }
                    Ok(res) => match head_outcome(*this.kind, &res) {
                        HeadOutcome::Ok => {
                            record(res.status().as_u16(), "");
                            return Poll::Ready(Ok(res));
                        }
                        HeadOutcome::Error(err) => {
                            record(err.code(), err.reason());
                            return Poll::Ready(Ok(res));
                        }
                        HeadOutcome::ErrorInBody(err) => State::ReadBody {
                            fut: Box::pin(read_error_body(res, err)),
                        },
                    },
                },
                StateProj::ReadBody { fut } => {
                    let (res, err) = ready!(fut.as_mut().poll(cx));
                    record(err.code(), err.reason());
                    return Poll::Ready(Ok(res));
                }
            };
            this.state.set(next);
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("metrics::ResponseFuture")
    }
}
