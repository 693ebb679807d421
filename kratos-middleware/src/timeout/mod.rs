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
        let deadline = if self.client {
            let mut deadline = now + self.timeout;
            if let Some(outer) = self::deadline() {
                deadline = deadline.min(outer);
            }
            if kind == Kind::Grpc {
                let left = deadline.saturating_duration_since(now);
                req.headers_mut()
                    .insert(GRPC_TIMEOUT, encode_grpc_timeout(left));
            }
            deadline
        } else {
            server_deadline(self.timeout, req.headers().get(GRPC_TIMEOUT), now)
        };
        ResponseFuture {
            fut: DEADLINE.scope(deadline, self.inner.call(req)),
            timer: Timer::new(deadline),
            kind,
        }
    }
}

/// A server call's deadline: `timeout` after `now`, or sooner when the
/// caller's `grpc-timeout` (`asked`) asks for less.
pub(crate) fn server_deadline(
    timeout: Duration,
    asked: Option<&HeaderValue>,
    now: Instant,
) -> Instant {
    let deadline = now + timeout;
    match asked.and_then(parse_grpc_timeout) {
        Some(asked) => deadline.min(now + asked),
        None => deadline,
    }
}

/// The 504 `TIMEOUT` answer of a call whose deadline passed.
pub(crate) fn timed_out<B: FromBody>(kind: Kind) -> Response<B> {
    reject(kind, &Error::gateway_timeout(REASON, "deadline exceeded"))
}

pin_project_lite::pin_project! {
    /// A call's deadline and its timer, armed only once the call was found
    /// not ready (so fast calls pay for no timer), in place (no allocation).
    #[derive(Debug)]
    pub(crate) struct Timer {
        deadline: Instant,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl Timer {
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            sleep: None,
        }
    }

    /// The deadline.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether an armed timer has fired: checked before the call is polled,
    /// so that when the deadline passed an inner timeout racing ours (tonic's
    /// channel enforces `grpc-timeout` too) does not win.
    pub(crate) fn fired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        (self.project().sleep.as_pin_mut()).is_some_and(|sleep| sleep.poll(cx).is_ready())
    }

    /// Arms the timer after the call was found not ready (once; later calls
    /// do nothing); whether the deadline has passed already.
    pub(crate) fn arm(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let mut this = self.project();
        if this.sleep.is_some() {
            return false;
        }
        this.sleep
            .set(Some(tokio::time::sleep_until(*this.deadline)));
        (this.sleep.as_pin_mut()).is_some_and(|sleep| sleep.poll(cx).is_ready())
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Timeout`].
    pub struct ResponseFuture<F> {
        #[pin]
        fut: TaskLocalFuture<Instant, F>,
        #[pin]
        timer: Timer,
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
        let mut this = self.project();
        if this.timer.as_mut().fired(cx) {
            return Poll::Ready(Ok(timed_out(*this.kind)));
        }
        if let Poll::Ready(out) = this.fut.poll(cx) {
            return Poll::Ready(out);
        }
        if this.timer.arm(cx) {
            return Poll::Ready(Ok(timed_out(*this.kind)));
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
