//! Rate limiting: reject with 429 `RATELIMIT` what the limiter refuses.
//!
//! Two limiters: [`Bbr`], the adaptive limiter of Go Kratos (protects when
//! CPU usage crosses a threshold, admitting what the service showed it can
//! handle), and [`TokenBucket`]. Any [`Limiter`] works. The permit of an
//! admitted call is held until its response head is ready.

mod bbr;
mod layer;
mod token_bucket;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use kratos_core::Error;
use tower_service::Service;

pub use bbr::{Bbr, BbrConfig, BbrPermit, CpuUsage, SystemCpu};
pub use layer::RateLimitLayer;
pub use token_bucket::TokenBucket;

use crate::body::FromBody;
use crate::util::{kind_of, reject};

/// The reason of a rate-limited call's error (Go Kratos's).
pub const REASON: &str = "RATELIMIT";

/// Decides whether a call may run.
pub trait Limiter: Send + Sync + 'static {
    /// Held while the call runs; dropped when it is done.
    type Permit: Send + 'static;

    /// A permit, or `None` to reject the call.
    fn acquire(&self) -> Option<Self::Permit>;
}

impl Limiter for Bbr {
    type Permit = BbrPermit;

    fn acquire(&self) -> Option<BbrPermit> {
        self.allow()
    }
}

impl Limiter for TokenBucket {
    type Permit = ();

    fn acquire(&self) -> Option<()> {
        self.try_acquire().then_some(())
    }
}

/// The service of a [`RateLimitLayer`].
#[derive(Debug, Clone)]
pub struct RateLimit<S, L> {
    inner: S,
    limiter: L,
}

impl<S, L, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimit<S, L>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    L: Limiter,
    ResBody: FromBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, L::Permit, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match self.limiter.acquire() {
            Some(permit) => ResponseFuture::Admitted {
                fut: self.inner.call(req),
                permit: Some(permit),
            },
            None => ResponseFuture::Limited {
                res: Some(reject(
                    kind_of(&req),
                    &Error::too_many_requests(
                        REASON,
                        "service unavailable due to rate limit exceeded",
                    ),
                )),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RateLimit`].
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F, P, B> {
        /// Admitted: the call runs with its permit.
        Admitted { #[pin] fut: F, permit: Option<P> },
        /// Rejected.
        Limited { res: Option<Response<B>> },
    }
}

impl<F, P, B, E> Future for ResponseFuture<F, P, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Proj::Admitted { fut, permit } => {
                let out = std::task::ready!(fut.poll(cx));
                drop(permit.take());
                Poll::Ready(out)
            }
            Proj::Limited { res } => Poll::Ready(Ok(res.take().expect("polled after completion"))),
        }
    }
}

impl<F, P, B> std::fmt::Debug for ResponseFuture<F, P, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ratelimit::ResponseFuture")
    }
}
