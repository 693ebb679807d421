//! Rate limiting: reject with 429 `RATELIMIT` what the limiter refuses.
//!
//! Two limiters: [`Bbr`], the adaptive limiter of Go Kratos (protects when
//! CPU usage crosses a threshold, admitting what the service showed it can
//! handle), and [`TokenBucket`]. Any [`Limiter`] works. The permit of an
//! admitted call is held until its response head is ready.

mod bbr;
mod layer;
mod token_bucket;

use std::task::{Context, Poll};

use http::{Request, Response};
use kratos_core::Error;
use tower_service::Service;

pub use bbr::{Bbr, BbrConfig, BbrPermit, CpuUsage, SystemCpu};
pub use layer::RateLimitLayer;
pub use token_bucket::TokenBucket;

use crate::body::FromBody;
use crate::future::{RejectOr, Settle};
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
            Some(permit) => RejectOr::called(self.inner.call(req), Release(permit)),
            None => RejectOr::rejected(reject(
                kind_of(&req),
                &Error::too_many_requests(REASON, "service unavailable due to rate limit exceeded"),
            )),
        }
    }
}

/// The future of [`RateLimit`]: the admitted call, holding its permit until
/// it ends, or the limiter's rejection.
pub type ResponseFuture<F, P, B> = RejectOr<F, B, Release<P>>;

/// Holds a limiter's permit until the call it admitted ends.
#[derive(Debug)]
pub struct Release<P>(P);

impl<P> Settle for Release<P> {
    fn settle<B, E>(self, _out: &Result<Response<B>, E>) {
        drop(self.0);
    }
}
