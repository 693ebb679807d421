use std::fmt::Display;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body::Body as HttpBody;
use kratos_core::{Kind, Metadata, TransportInfo};
use tokio::time::Instant;

use crate::BoxError;
use crate::body::FromBody;
use crate::metadata::INCOMING;
#[cfg(feature = "metrics")]
use crate::metrics::Measure;
use crate::recovery::{PanicHandler, guard_stream, in_call, recovered};
use crate::timeout::{DEADLINE, Timer, timed_out};
#[cfg(feature = "otel")]
use crate::tracing::CallSpan;

/// What the default chain keeps of one call while its handler runs.
pub(super) struct Call {
    pub(super) kind: Kind,
    pub(super) info: Option<TransportInfo>,
    pub(super) handler: PanicHandler,
    #[cfg(feature = "otel")]
    pub(super) span: CallSpan,
    #[cfg(feature = "metrics")]
    pub(super) measure: Measure,
    pub(super) incoming: Option<Arc<Metadata>>,
}

impl Call {
    /// Runs `poll` as each layer of the chain would have it run: inside the
    /// span's context, with the call's metadata and `deadline`.
    fn scoped<R>(&self, deadline: Instant, poll: impl FnOnce() -> R) -> R {
        let poll = move || DEADLINE.sync_scope(deadline, poll);
        let poll = move || match &self.incoming {
            Some(md) => INCOMING.sync_scope(md.clone(), poll),
            None => poll(),
        };
        #[cfg(feature = "otel")]
        return self.span.in_scope(poll);
        #[cfg(not(feature = "otel"))]
        poll()
    }

    /// Records the outcome and ends the span.
    fn finish<B, E: Display + 'static>(&mut self, result: &Result<Response<B>, E>) {
        #[cfg(feature = "metrics")]
        self.measure.finish(result);
        #[cfg(feature = "otel")]
        self.span.finish(result);
        let _ = result;
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Defaults`](super::Defaults).
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F, B> {
        /// The handler runs.
        Running { #[pin] fut: F, #[pin] timer: Timer, call: Call },
        /// Making the call panicked.
        Done { res: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(super) fn running(fut: F, call: Call, deadline: Instant) -> Self {
        let timer = Timer::new(deadline);
        Self::Running { fut, timer, call }
    }

    pub(super) fn done(res: Response<B>) -> Self {
        Self::Done { res: Some(res) }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display + 'static,
    B: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (fut, mut timer, call) = match self.project() {
            Proj::Running { fut, timer, call } => (fut, timer, call),
            Proj::Done { res } => {
                return Poll::Ready(Ok(res.take().expect("polled after completion")));
            }
        };
        // The deadline first, as the timeout layer checks it.
        let result = if timer.as_mut().fired(cx) {
            Ok(timed_out(call.kind))
        } else {
            let deadline = timer.deadline();
            let polled = in_call(|| {
                catch_unwind(AssertUnwindSafe(|| call.scoped(deadline, || fut.poll(cx))))
            });
            match polled {
                Err(payload) => {
                    let res = recovered(call.kind, call.info.as_ref(), &*payload, &call.handler);
                    return Poll::Ready(Ok(res));
                }
                Ok(Poll::Ready(result)) => result,
                Ok(Poll::Pending) if timer.arm(cx) => Ok(timed_out(call.kind)),
                Ok(Poll::Pending) => return Poll::Pending,
            }
        };
        call.finish(&result);
        Poll::Ready(result.map(|res| guard_stream(call.kind, res, &mut call.info, &call.handler)))
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("defaults::ResponseFuture")
    }
}
