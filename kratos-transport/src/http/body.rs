//! The guard on every HTTP request body the server hands to its router: a
//! declared length over the limit fails before anything is read, a body
//! that grows past it fails when it does (axum's `LengthLimitError`, which
//! its extractors answer with 413: the server turns axum's own limit, a
//! second boxed wrapper, off), and a body that stops arriving fails after
//! the body read timeout. Reading errors become Kratos errors (413, 408,
//! 400) in one place.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{LengthLimitError, Limited};
use kratos_core::Error;
use tokio::time::Sleep;
use tower_layer::Layer;
use tower_service::Service;

use super::codec::CODEC_REASON;
use crate::BoxError;

/// The reason of the 413 error for a request body over the server's limit.
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// The reason of the 408 error for a request body that did not arrive in
/// time.
pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";

pin_project_lite::pin_project! {
    /// A request body with a size limit, checked against its declared length
    /// first and then counted, and a read deadline armed the first time a
    /// read has to wait.
    #[derive(Debug)]
    pub(crate) struct GuardedBody<B> {
        #[pin]
        inner: Limited<B>,
        limit: usize,
        timeout: Duration,
        // The declared length is over the limit: the first read fails.
        declared_too_large: bool,
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<B: Body> GuardedBody<B> {
    pub(crate) fn new(inner: B, limit: usize, timeout: Duration) -> Self {
        // Read before the wrapper: `Limited` caps the size hint it reports.
        let declared_too_large = inner.size_hint().lower() > limit as u64;
        Self {
            inner: Limited::new(inner, limit),
            limit,
            timeout,
            declared_too_large,
            deadline: None,
        }
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if std::mem::take(this.declared_too_large) {
            return Poll::Ready(Some(Err(BodyError::TooLarge(*this.limit).into())));
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame),
            Poll::Pending => {
                if this.deadline.is_none() {
                    this.deadline.set(Some(tokio::time::sleep(*this.timeout)));
                }
                match this.deadline.as_pin_mut().map(|d| d.poll(cx)) {
                    Some(Poll::Ready(())) => {
                        Poll::Ready(Some(Err(BodyError::Timeout(*this.timeout).into())))
                    }
                    _ => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The server's request service wrapper: every request body becomes a
/// [`GuardedBody`] before routing.
#[derive(Debug, Clone)]
pub(crate) struct Guarded<S> {
    inner: S,
    limit: usize,
    timeout: Duration,
}

/// Wraps a service in [`Guarded`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedLayer {
    limit: usize,
    timeout: Duration,
}

impl GuardedLayer {
    /// Guards bodies with `limit` bytes and a read `timeout`.
    pub(crate) fn new(limit: usize, timeout: Duration) -> Self {
        Self { limit, timeout }
    }
}

impl<S> Layer<S> for GuardedLayer {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            limit: self.limit,
            timeout: self.timeout,
        }
    }
}

impl<S, B> Service<http::Request<B>> for Guarded<S>
where
    S: Service<http::Request<GuardedBody<B>>>,
    B: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let (limit, timeout) = (self.limit, self.timeout);
        self.inner
            .call(req.map(|body| GuardedBody::new(body, limit, timeout)))
    }
}

/// Why a guarded body failed.
#[derive(Debug)]
enum BodyError {
    /// The declared length is over the limit (bytes).
    TooLarge(usize),
    /// The body stopped arriving for this long.
    Timeout(Duration),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(limit) => write!(f, "the request body is over the {limit}-byte limit"),
            Self::Timeout(after) => write!(f, "the request body did not arrive within {after:?}"),
        }
    }
}

impl StdError for BodyError {}

/// The Kratos error for a failed request body read: 413
/// [`PAYLOAD_TOO_LARGE`] over the limit, 408 [`REQUEST_TIMEOUT`] when it
/// stalled, else 400 `CODEC` with `message`.
pub(crate) fn read_error(err: &(dyn StdError + 'static), message: impl Into<String>) -> Error {
    let mut source = Some(err);
    while let Some(err) = source {
        if let Some(body) = err.downcast_ref::<BodyError>() {
            let status = match body {
                BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            };
            return reading_failed(status, body.to_string());
        }
        if err.is::<LengthLimitError>() {
            return too_large();
        }
        source = err.source();
    }
    Error::bad_request(CODEC_REASON, message)
}

/// The 413 error for a body over a limit that is not the server's (axum's
/// `DefaultBodyLimit` of a route).
pub(crate) fn too_large() -> Error {
    reading_failed(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is over the limit".to_owned(),
    )
}

fn reading_failed(status: StatusCode, message: String) -> Error {
    let reason = if status == StatusCode::PAYLOAD_TOO_LARGE {
        PAYLOAD_TOO_LARGE
    } else {
        REQUEST_TIMEOUT
    };
    Error::new(status.as_u16(), reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

    #[tokio::test]
    async fn a_declared_length_over_the_limit_fails_before_reading() {
        let body = GuardedBody::new(Full::new(Bytes::from(vec![0; 11])), 10, Duration::MAX);
        let err = body.collect().await.unwrap_err();
        let err = read_error(&*err, "unused");
        assert_eq!((err.code(), err.reason()), (413, PAYLOAD_TOO_LARGE));

        let body = GuardedBody::new(Full::new(Bytes::from(vec![0; 10])), 10, Duration::MAX);
        assert_eq!(body.collect().await.unwrap().to_bytes().len(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_read_timeout() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
        tx.send(Ok(Frame::data(Bytes::from_static(b"{"))))
            .await
            .unwrap();
        let body = GuardedBody::new(
            StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)),
            10,
            Duration::from_secs(30),
        );
        let err = body.collect().await.unwrap_err();
        let err = read_error(&*err, "unused");
        assert_eq!((err.code(), err.reason()), (408, REQUEST_TIMEOUT));
        drop(tx);
    }

    #[test]
    fn other_read_errors_are_codec_errors() {
        let err = std::io::Error::other("reset");
        let err = read_error(&err, "cannot read");
        assert_eq!((err.code(), err.reason()), (400, CODEC_REASON));
    }
}
