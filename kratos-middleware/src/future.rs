//! [`RejectOr`], the future of every middleware that either answers a call
//! itself (a rejection made up front) or lets it through, settling a guard
//! with the outcome: the rate limiter's permit, the breaker's mark, or
//! nothing.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;

/// What a middleware does once the call it let through has an outcome.
pub trait Settle {
    /// Called once with the inner service's result, before it is returned.
    fn settle<B, E>(self, out: &Result<Response<B>, E>);
}

/// Nothing to settle.
impl Settle for () {
    fn settle<B, E>(self, _out: &Result<Response<B>, E>) {}
}

pin_project_lite::pin_project! {
    /// The inner call's future with its guard, or a rejection made up front.
    #[project = RejectOrProj]
    #[allow(missing_docs)]
    pub enum RejectOr<F, B, G = ()> {
        /// The call went through; `guard` is settled with its outcome.
        Called { #[pin] fut: F, guard: Option<G> },
        /// The middleware answered itself.
        Rejected { res: Option<Response<B>> },
    }
}

impl<F, B, G> RejectOr<F, B, G> {
    /// The call `fut`, whose outcome settles `guard`.
    pub fn called(fut: F, guard: G) -> Self {
        Self::Called {
            fut,
            guard: Some(guard),
        }
    }

    /// The answer `res`, made without calling the inner service.
    pub fn rejected(res: Response<B>) -> Self {
        Self::Rejected { res: Some(res) }
    }
}

impl<F, B, G, E> Future for RejectOr<F, B, G>
where
    F: Future<Output = Result<Response<B>, E>>,
    G: Settle,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RejectOrProj::Called { fut, guard } => {
                let out = ready!(fut.poll(cx));
                if let Some(guard) = guard.take() {
                    guard.settle(&out);
                }
                Poll::Ready(out)
            }
            RejectOrProj::Rejected { res } => {
                Poll::Ready(Ok(res.take().expect("polled after completion")))
            }
        }
    }
}

impl<F, B, G> std::fmt::Debug for RejectOr<F, B, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Called { .. } => f.write_str("RejectOr::Called"),
            Self::Rejected { .. } => f.write_str("RejectOr::Rejected"),
        }
    }
}
