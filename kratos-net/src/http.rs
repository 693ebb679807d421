//! The one pooled HTTP client construction of the workspace, and a bounded
//! [`send`].
//!
//! Config's remote sources (Consul KV, Apollo, Nacos), the Consul registry
//! and the transport's discovery-aware HTTP client all build their hyper-util
//! client with [`client`], and the gRPC client dials with [`connector`], so
//! a connector change is made here once: [`Connector`] is the connector type
//! and [`Client`] the client type they all name.
//!
//! **TLS.** With the `tls` feature, [`Connector`] is hyper-rustls's
//! `HttpsConnector<HttpConnector>`: the same client dials `http://` in the
//! clear and `https://` with rustls, verified with the `tls::ClientTls` of
//! `ClientOptions::tls` (the system's roots when none is given).
//! Without the feature it is hyper-util's plain `HttpConnector`, and an
//! `https://` request fails ("invalid URL, scheme is not http"). Code that
//! names only [`Connector`], [`Client`], [`client`] and [`connector`]
//! compiles either way.
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

/// The connector every kratos-rs HTTP client dials with: plain TCP
/// (`http://` only) without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub type Connector = HttpConnector;

/// The connector every kratos-rs HTTP client dials with: `http://` in the
/// clear and `https://` over rustls (feature `tls`).
#[cfg(feature = "tls")]
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

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
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ClientTls>,
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
            #[cfg(feature = "tls")]
            tls: None,
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

    /// Dials `https://` URLs with `tls` (given CAs, a client certificate, a
    /// server-name override) instead of [`ClientTls::new`](crate::tls::ClientTls::new)
    /// (the system's roots). ALPN offers `h2` and `http/1.1`, or only `h2`
    /// with [`http2_only`](Self::http2_only).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.tls = Some(tls);
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
    legacy::Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(options.pool_idle_timeout)
        .http2_only(options.http2_only)
        .build(connector(options))
}

/// The connector of [`client`], alone: what the gRPC client (tonic's
/// `Endpoint::connect_with_connector_lazy`) dials with, so that TCP and TLS
/// settings are made in one place.
///
/// With the `tls` feature, a TLS configuration that cannot be built (a CA
/// file missing, say) is logged as an error and makes every `https://` dial
/// of this connector fail with that error; `http://` dials still work.
/// Call `tls::ClientTls::client_config` first to fail early instead.
pub fn connector(options: &ClientOptions) -> Connector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(options.connect_timeout);
    http.set_nodelay(options.nodelay);
    #[cfg(feature = "tls")]
    {
        tls_connector::build(http, options)
    }
    #[cfg(not(feature = "tls"))]
    {
        http
    }
}

#[cfg(feature = "tls")]
mod tls_connector {
    use std::sync::Arc;

    use hyper_rustls::{
        DefaultServerNameResolver, FixedServerNameResolver, HttpsConnector, ResolveServerName,
    };
    use hyper_util::client::legacy::connect::HttpConnector;
    use rustls_pki_types::ServerName;

    use super::{ClientOptions, Connector};
    use crate::BoxError;
    use crate::tls::{ALPN_H2, ALPN_HTTP1, ClientTls, TlsError};

    pub(super) fn build(mut http: HttpConnector, options: &ClientOptions) -> Connector {
        // The TLS connector sees `https://` URLs first; let them through.
        http.enforce_http(false);
        let tls = options.tls.clone().unwrap_or_default();
        let alpn: &[&[u8]] = if options.http2_only {
            &[ALPN_H2]
        } else {
            &[ALPN_H2, ALPN_HTTP1]
        };
        match configure(&tls, alpn) {
            Ok((config, resolver)) => HttpsConnector::new(http, config, false, resolver),
            Err(err) => {
                tracing::error!(error = %err, "TLS client configuration failed; https:// requests will fail");
                let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports TLS 1.2 and 1.3")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                HttpsConnector::new(http, config, false, Arc::new(Failed(Arc::new(err))))
            }
        }
    }

    type Resolver = Arc<dyn ResolveServerName + Send + Sync>;

    fn configure(
        tls: &ClientTls,
        alpn: &[&[u8]],
    ) -> Result<(Arc<rustls::ClientConfig>, Resolver), TlsError> {
        let config = tls.client_config(alpn)?;
        let resolver: Resolver = match tls.server_name_override() {
            Some(name) => {
                let name = ServerName::try_from(
                    name.trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned(),
                )
                .map_err(|err| {
                    TlsError::new(format!("`{name}` is not a valid TLS server name"))
                        .with_source(err)
                })?;
                Arc::new(FixedServerNameResolver::new(name))
            }
            None => Arc::new(DefaultServerNameResolver::default()),
        };
        Ok((config, resolver))
    }

    /// Fails every `https://` dial with the configuration error.
    struct Failed(Arc<TlsError>);

    impl ResolveServerName for Failed {
        fn resolve(&self, _uri: &::http::Uri) -> Result<ServerName<'static>, BoxError> {
            Err(format!("TLS client configuration failed: {}", self.0).into())
        }
    }
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
