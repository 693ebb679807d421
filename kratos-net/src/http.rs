//! The one pooled HTTP client construction of the workspace, and a bounded
//! [`send`].
//!
//! Config's remote sources (Consul KV, Apollo, Nacos), the Consul registry
//! and the transport's discovery-aware HTTP client all build their hyper-util
//! client with [`client`], so a connector change (TLS, say) is made here
//! once: [`Connector`] is the connector type and [`Client`] the client type
//! they all name.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use kratos_net::http::{self, ClientOptions};
//!
//! # async fn run() -> Result<(), kratos_net::http::SendError> {
//! let client: http::Client<Full<Bytes>> =
//!     http::client(&ClientOptions::new().connect_timeout(Duration::from_secs(1)));
//! let req = ::http::Request::get("http://127.0.0.1:8500/v1/status/leader")
//!     .body(Full::default())
//!     .expect("a valid request");
//! let reply = http::send(&client, req, Duration::from_secs(5), http::DEFAULT_BODY_LIMIT).await?;
//! println!("{} {:?}", reply.status(), reply.body());
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use hyper_util::client::legacy;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::BoxError;

/// The connector every kratos-rs HTTP client dials with: plain TCP today.
pub type Connector = HttpConnector;

/// The pooled hyper-util client every kratos-rs HTTP client uses, sending
/// request bodies of type `B`. Cheap to clone: clones share the pool.
pub type Client<B> = legacy::Client<Connector, B>;

/// How much of a response body [`send`] reads by default before it gives up:
/// 16 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// How a [`Client`] connects and pools; see [`client`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientOptions {
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    nodelay: bool,
    http2_only: bool,
}

impl ClientOptions {
    /// No connect timeout (the caller's overall timeout bounds a dial), idle
    /// connections kept for 90 s, `TCP_NODELAY` on, HTTP/1.1.
    pub fn new() -> Self {
        Self {
            connect_timeout: None,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            nodelay: true,
            http2_only: false,
        }
    }

    /// Gives up on a TCP connect after `timeout`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Closes pooled connections idle for longer than `timeout` (`None`:
    /// keep them).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// Sets `TCP_NODELAY` on new connections (on by default).
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Speaks HTTP/2 only (prior knowledge, as gRPC does) instead of
    /// HTTP/1.1.
    pub fn http2_only(mut self, http2_only: bool) -> Self {
        self.http2_only = http2_only;
        self
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds the pooled client with `options`: the one place a kratos-rs HTTP
/// client is constructed.
pub fn client<B>(options: &ClientOptions) -> Client<B>
where
    B: Body + Send,
    B::Data: Send,
{
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(options.connect_timeout);
    connector.set_nodelay(options.nodelay);
    legacy::Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(options.pool_idle_timeout)
        .http2_only(options.http2_only)
        .build(connector)
}

/// Sends `req` and reads the whole response body, at most `limit` bytes of
/// it, all within `timeout`.
///
/// A body longer than `limit` fails with [`SendError::is_too_large`] as soon
/// as it is announced or read past the limit, so a hostile server cannot make
/// the caller buffer without bound.
pub async fn send<B>(
    client: &Client<B>,
    req: ::http::Request<B>,
    timeout: Duration,
    limit: usize,
) -> Result<::http::Response<Bytes>, SendError>
where
    B: Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let exchange = async {
        let resp = client.request(req).await.map_err(SendError::request)?;
        let (parts, body) = resp.into_parts();
        // A body announced too large (its content-length) is not waited for.
        if body.size_hint().lower() > limit as u64 {
            return Err(SendError::new(Kind::TooLarge(limit), None));
        }
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| SendError::body(e, limit))?
            .to_bytes();
        Ok(::http::Response::from_parts(parts, body))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| SendError::new(Kind::Timeout(timeout), None))?
}

/// Why [`send`] failed: the connection, the request, the body, its size or
/// the timeout.
pub struct SendError {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug)]
enum Kind {
    Connect,
    Request,
    Body,
    TooLarge(usize),
    Timeout(Duration),
}

impl SendError {
    fn new(kind: Kind, source: Option<BoxError>) -> Self {
        Self { kind, source }
    }

    fn request(err: legacy::Error) -> Self {
        let kind = if err.is_connect() {
            Kind::Connect
        } else {
            Kind::Request
        };
        Self::new(kind, Some(err.into()))
    }

    fn body(err: BoxError, limit: usize) -> Self {
        if err.is::<LengthLimitError>() {
            Self::new(Kind::TooLarge(limit), None)
        } else {
            Self::new(Kind::Body, Some(err))
        }
    }

    /// Whether no connection could be made (refused, unreachable, the
    /// connect timeout): the request was not sent.
    pub fn is_connect(&self) -> bool {
        matches!(self.kind, Kind::Connect)
    }

    /// Whether the whole exchange took longer than the timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// Whether the response head arrived but its body failed, or was larger
    /// than the limit.
    pub fn is_body(&self) -> bool {
        matches!(self.kind, Kind::Body | Kind::TooLarge(_))
    }

    /// Whether the response body was larger than the limit.
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::TooLarge(_))
    }
}

impl fmt::Debug for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // Transparent: hyper-util's error says what failed.
            Kind::Connect | Kind::Request => match &self.source {
                Some(source) => fmt::Display::fmt(source, f),
                None => f.write_str("the request failed"),
            },
            Kind::Body => f.write_str("reading the response body failed"),
            Kind::TooLarge(limit) => write!(f, "the response body is over {limit} bytes"),
            Kind::Timeout(after) => write!(f, "no complete answer within {after:?}"),
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let source = self.source.as_deref()?;
        match self.kind {
            // Transparent: its Display is the source's, so skip a level.
            Kind::Connect | Kind::Request => source.source(),
            _ => Some(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Serves one connection: reads the request head, then writes `answer`
    /// (and, with `endless`, body bytes until the client hangs up).
    async fn serve_once(answer: &'static [u8], endless: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            if conn.write_all(answer).await.is_err() {
                return;
            }
            if endless {
                // 1 KiB chunks until the client hangs up.
                let mut chunk = b"400\r\n".to_vec();
                chunk.extend_from_slice(&[b'x'; 1024]);
                chunk.extend_from_slice(b"\r\n");
                while conn.write_all(&chunk).await.is_ok() {}
                return;
            }
            // Hold the connection open (a server that never answers).
            let _ = conn.read(&mut buf).await;
        });
        format!("http://{addr}/")
    }

    /// `GET url` through a fresh client.
    async fn get(
        url: &str,
        timeout: Duration,
        limit: usize,
    ) -> Result<::http::Response<Bytes>, SendError> {
        let client = client(&ClientOptions::new().connect_timeout(Duration::from_secs(1)));
        let req = ::http::Request::get(url)
            .body(Full::<Bytes>::default())
            .unwrap();
        send(&client, req, timeout, limit).await
    }

    #[tokio::test]
    async fn reads_a_whole_answer() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-index: 7\r\n\r\nhello",
            false,
        )
        .await;
        let reply = get(&url, Duration::from_secs(5), 5).await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.headers()["x-index"], "7");
        assert_eq!(reply.body().as_ref(), b"hello");
    }

    #[tokio::test]
    async fn an_announced_body_over_the_limit_is_refused() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\nxxxx",
            false,
        )
        .await;
        let err = get(&url, Duration::from_secs(5), 1024).await.unwrap_err();
        assert!(err.is_too_large() && err.is_body(), "{err:?}");
        assert_eq!(err.to_string(), "the response body is over 1024 bytes");
    }

    #[tokio::test]
    async fn an_endless_chunked_body_stops_at_the_limit() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            true,
        )
        .await;
        let err = get(&url, Duration::from_secs(5), 64 * 1024)
            .await
            .unwrap_err();
        assert!(err.is_too_large(), "{err:?}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let url = serve_once(b"", false).await;
        let err = get(&url, Duration::from_millis(100), 1024)
            .await
            .unwrap_err();
        assert!(err.is_timeout() && !err.is_body(), "{err:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        let err = get(&url, Duration::from_secs(5), 1024).await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    }
}
