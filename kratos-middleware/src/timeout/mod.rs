//! Timeout and deadline propagation.
//!
//! A server [`TimeoutLayer`] gives each call `min(timeout, grpc-timeout of
//! the request)` and answers 504 `TIMEOUT` when it passes; the deadline is
//! the [`deadline`] of the task handling the call. A client
//! [`TimeoutLayer::client`] gives each outgoing call `min(timeout, the
//! current deadline)`, sends it as `grpc-timeout` on gRPC calls (so the next
//! server inherits what is left), and answers 504 `TIMEOUT` locally when it
//! passes. For a stream the limit covers the call until its response head.

mod layer;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use kratos_core::transport::headers::GRPC_TIMEOUT;
use kratos_core::{Error, Kind};
use tokio::task::futures::TaskLocalFuture;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

pub use layer::TimeoutLayer;

use crate::body::FromBody;
use crate::util::{kind_of, reject};

/// The reason of the error of a call that ran out of time.
pub const REASON: &str = "TIMEOUT";

tokio::task_local! {
    pub(crate) static DEADLINE: Instant;
}

/// The deadline of the call the current task is handling, if a
/// [`TimeoutLayer`] runs above it. A task spawned by the handler does not
/// inherit it unless it runs in the caller's [`context`](crate::context).
pub fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Parses a `grpc-timeout` header value (`100m`, `5S`, ...).
pub(crate) fn parse_grpc_timeout(value: &HeaderValue) -> Option<Duration> {
    let s = value.to_str().ok()?;
    if s.len() < 2 || s.len() > 9 {
        return None;
    }
    let (digits, unit) = s.split_at(s.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Encodes a duration as a `grpc-timeout` header value (at most 8 digits).
pub(crate) fn encode_grpc_timeout(d: Duration) -> HeaderValue {
    // Rounded up, so that whoever enforces the header never stops before us.
    let micros = d.as_nanos().div_ceil(1000);
    let value = if micros < 100_000_000 {
        format!("{micros}u")
    } else if d.as_millis() < 100_000_000 {
        format!("{}m", d.as_millis())
    } else {
        format!("{}S", d.as_secs().min(99_999_999))
    };
    HeaderValue::from_str(&value).expect("digits and a unit")
}

/// The service of a [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
    client: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Timeout<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: FromBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let kind = kind_of(&req);
        let now = Instant::now();
        let mut deadline = now + self.timeout;
        if self.client {
            if let Some(outer) = self::deadline() {
                deadline = deadline.min(outer);
            }
            if kind == Kind::Grpc {
                let left = deadline.saturating_duration_since(now);
                req.headers_mut()
                    .insert(GRPC_TIMEOUT, encode_grpc_timeout(left));
            }
        } else if let Some(asked) = req.headers().get(GRPC_TIMEOUT).and_then(parse_grpc_timeout) {
            deadline = deadline.min(now + asked);
        }
        ResponseFuture {
            fut: DEADLINE.scope(deadline, self.inner.call(req)),
            sleep: None,
            deadline,
            kind,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Timeout`]. The timer is armed only if the call does
    /// not complete on its first poll, so fast calls pay for no timer.
    pub struct ResponseFuture<F> {
        #[pin]
        fut: TaskLocalFuture<Instant, F>,
        sleep: Option<Pin<Box<Sleep>>>,
        deadline: Instant,
        kind: Kind,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: FromBody,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let timed_out = || {
            Poll::Ready(Ok(reject(
                *this.kind,
                &Error::gateway_timeout(REASON, "deadline exceeded"),
            )))
        };
        // The deadline first: when it passed, an inner timeout racing ours
        // (tonic's channel enforces `grpc-timeout` too) must not win.
        if let Some(sleep) = this.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            return timed_out();
        }
        if let Poll::Ready(out) = this.fut.poll(cx) {
            return Poll::Ready(out);
        }
        if this.sleep.is_none() {
            let mut sleep = Box::pin(tokio::time::sleep_until(*this.deadline));
            if sleep.as_mut().poll(cx).is_ready() {
                return timed_out();
            }
            *this.sleep = Some(sleep);
        }
        Poll::Pending
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timeout::ResponseFuture")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_round_trips() {
        for d in [
            Duration::from_millis(250),
            Duration::from_secs(3),
            Duration::from_secs(7200),
        ] {
            assert_eq!(parse_grpc_timeout(&encode_grpc_timeout(d)), Some(d));
        }
        assert_eq!(
            parse_grpc_timeout(&HeaderValue::from_static("5S")),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_grpc_timeout(&HeaderValue::from_static("5x")), None);
        assert_eq!(parse_grpc_timeout(&HeaderValue::from_static("m")), None);
    }
}
