use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;

use super::call::CallSpan;

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
        span: CallSpan,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, span: CallSpan) -> Self {
        Self { inner, span }
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
        let inner = this.inner;
        let result = ready!(this.span.in_scope(|| inner.poll(cx)));
        this.span.finish(&result);
        Poll::Ready(result)
    }
}
