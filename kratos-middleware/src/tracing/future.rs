use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use kratos_core::Kind;
use opentelemetry::trace::TraceContextExt;

use super::span;

pin_project_lite::pin_project! {
    /// The future of a [`Tracing`](super::Tracing) call: polls the inner call
    /// inside the span's context (as
    /// [`FutureExt::with_context`](opentelemetry::context::FutureExt::with_context)
    /// does) and ends a recording span when the response head (or an error)
    /// arrives.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        otel_cx: Option<opentelemetry::Context>,
        // A server call's `tracing` span with its trace and span ids: every
        // log event inside the call carries them.
        log_span: Option<tracing::Span>,
        recording: bool,
        kind: Kind,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(
        inner: F,
        otel_cx: Option<opentelemetry::Context>,
        log_span: Option<tracing::Span>,
        recording: bool,
        kind: Kind,
    ) -> Self {
        Self {
            inner,
            otel_cx,
            log_span,
            recording,
            kind,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _guard = this
                .otel_cx
                .as_ref()
                .map(|otel_cx| otel_cx.clone().attach());
            let _entered = this.log_span.as_ref().map(tracing::Span::enter);
            ready!(this.inner.poll(cx))
        };
        if *this.recording {
            *this.recording = false;
            if let Some(otel_cx) = this.otel_cx.take() {
                match &result {
                    Ok(res) => span::end_with_response(otel_cx.span(), *this.kind, res),
                    Err(err) => span::end_with_error(otel_cx.span(), err),
                }
            }
        }
        Poll::Ready(result)
    }
}
