use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use kratos_core::Kind;
use opentelemetry::trace::{TraceContextExt, WithContext};

use super::span;

pin_project_lite::pin_project! {
    /// The future of a [`Tracing`](super::Tracing) call: runs the inner call
    /// inside the span's context and ends the span when the response head
    /// (or an error) arrives.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        otel_cx: Option<opentelemetry::Context>,
        kind: Kind,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: WithContext<F>, otel_cx: opentelemetry::Context, kind: Kind) -> Self {
        Self {
            inner,
            otel_cx: Some(otel_cx),
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
        let result = ready!(this.inner.poll(cx));
        if let Some(otel_cx) = this.otel_cx.take() {
            match &result {
                Ok(res) => span::end_with_response(otel_cx.span(), *this.kind, res),
                Err(err) => span::end_with_error(otel_cx.span(), err),
            }
        }
        Poll::Ready(result)
    }
}
