//! The service every call of a connection goes through: the call is counted
//! in the connection's [`Activity`] while it is in flight, and its HTTP/1
//! response says `Connection: close` once the server drains. One wrapper
//! (one future, moved once) for both.
//!
//! Once a server stops, each connection finishes the call it has in flight
//! and closes. Over HTTP/2 the GOAWAY frame tells the client; over HTTP/1.1
//! only this header does (RFC 9112 §9.6): without it a client may send its
//! next request on the connection as it closes, and cannot tell whether the
//! server saw it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{CONNECTION, HeaderValue};
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use crate::activity::{Activity, Busy};

/// A connection's service: `inner`, each call counted into the connection's
/// [`Activity`], whose HTTP/1 responses carry `Connection: close` once
/// `draining` is cancelled.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionCall<S> {
    inner: S,
    activity: Arc<Activity>,
    draining: Arc<CancellationToken>,
}

impl<S> ConnectionCall<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>, draining: Arc<CancellationToken>) -> Self {
        Self {
            inner,
            activity,
            draining,
        }
    }
}

impl<S, B, R> Service<http::Request<B>> for ConnectionCall<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ConnectionCallFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let busy = self.activity.begin();
        let http1 = req.version() < http::Version::HTTP_2;
        ConnectionCallFuture {
            draining: http1.then(|| self.draining.clone()),
            inner: self.inner.call(req),
            _busy: busy,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`ConnectionCall`]: the call is in flight until it
    /// finishes or is dropped.
    #[derive(Debug)]
    pub(crate) struct ConnectionCallFuture<F> {
        #[pin]
        inner: F,
        // `None` over HTTP/2.
        draining: Option<Arc<CancellationToken>>,
        _busy: Busy,
    }
}

impl<F, R, E> Future for ConnectionCallFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(cx));
        if let Ok(response) = &mut result
            && this.draining.as_ref().is_some_and(|d| d.is_cancelled())
        {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::ServiceExt;

    async fn connection_header(version: http::Version, draining: bool) -> Option<HeaderValue> {
        let token = Arc::new(CancellationToken::new());
        if draining {
            token.cancel();
        }
        let service = ConnectionCall::new(
            tower::service_fn(|_: http::Request<()>| async {
                Ok::<_, Infallible>(http::Response::new(()))
            }),
            Activity::new(),
            token,
        );
        let req = http::Request::builder().version(version).body(()).unwrap();
        let res = service.oneshot(req).await.unwrap();
        res.headers().get(CONNECTION).cloned()
    }

    #[tokio::test]
    async fn only_http1_responses_written_while_draining_say_close() {
        let close = Some(HeaderValue::from_static("close"));
        assert_eq!(connection_header(http::Version::HTTP_11, true).await, close);
        assert_eq!(connection_header(http::Version::HTTP_10, true).await, close);
        assert_eq!(connection_header(http::Version::HTTP_11, false).await, None);
        assert_eq!(connection_header(http::Version::HTTP_2, true).await, None);
    }
}
