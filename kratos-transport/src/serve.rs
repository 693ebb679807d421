//! The accept loop both servers share: bind, serve connections, drain on stop.

use kratos_core::sync::LockExt;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use kratos_core::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use crate::endpoint;

/// Pause after an accept error (e.g. out of file descriptors) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How long a TLS client may take to complete its handshake.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a TLS connection is accepted with (none without the `tls` feature).
#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
type Acceptor = Infallible;

/// A router served on one address: the part of [`HttpServer`](crate::http::HttpServer)
/// and [`GrpcServer`](crate::grpc::GrpcServer) that is the same for both.
#[derive(Debug)]
pub(crate) struct Listener {
    scheme: &'static str,
    address: SocketAddr,
    advertised: Option<String>,
    http2_only: bool,
    router: Mutex<Option<Router>>,
    local_addr: OnceLock<SocketAddr>,
    endpoint: OnceLock<String>,
    running: Mutex<Option<Running>>,
    /// Serve TLS with this (built into an acceptor at start).
    #[cfg(feature = "tls")]
    tls: Option<kratos_net::tls::ServerTls>,
}

/// Signals shared by the accept loop and every connection task.
#[derive(Debug, Clone, Default)]
struct Tokens {
    /// Stop accepting; connections finish their in-flight requests.
    shutdown: CancellationToken,
    /// The stop deadline passed: drop whatever still runs.
    abort: CancellationToken,
    /// Every connection task, so stop can wait for them.
    connections: TaskTracker,
}

#[derive(Debug)]
struct Running {
    tokens: Tokens,
    accept: JoinHandle<()>,
}

impl Listener {
    pub(crate) fn new(
        scheme: &'static str,
        address: SocketAddr,
        advertised: Option<String>,
        http2_only: bool,
        router: Router,
    ) -> Self {
        Self {
            scheme,
            address,
            advertised,
            http2_only,
            router: Mutex::new(Some(router)),
            local_addr: OnceLock::new(),
            endpoint: OnceLock::new(),
            running: Mutex::new(None),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Serves TLS with `tls` (none: plaintext); the endpoint's scheme then
    /// says so (`https`, `grpcs`).
    #[cfg(feature = "tls")]
    pub(crate) fn with_tls(mut self, tls: Option<kratos_net::tls::ServerTls>) -> Self {
        self.tls = tls;
        self
    }

    /// The TLS acceptor, built from the configuration (ALPN `h2` for an
    /// HTTP/2-only server, else `h2` and `http/1.1`).
    fn acceptor(&self) -> Result<Option<Acceptor>, Error> {
        #[cfg(feature = "tls")]
        {
            use kratos_net::tls::{ALPN_H2, ALPN_HTTP1};
            let Some(tls) = &self.tls else {
                return Ok(None);
            };
            let alpn: &[&[u8]] = if self.http2_only {
                &[ALPN_H2]
            } else {
                &[ALPN_H2, ALPN_HTTP1]
            };
            tls.acceptor(alpn).map(Some).map_err(|err| {
                Error::internal_server("TLS_CONFIG", format!("TLS for {}: {err}", self.address))
                    .with_cause(err)
            })
        }
        #[cfg(not(feature = "tls"))]
        Ok(None)
    }

    /// Binds, then serves the service `finish(router, endpoint)` returns in
    /// the background.
    /// Returns once the socket listens.
    pub(crate) async fn start<S>(&self, finish: impl FnOnce(Router, &str) -> S) -> Result<(), Error>
    where
        S: HttpService,
    {
        let router = self.router.lock_unpoisoned().take().ok_or_else(|| {
            Error::internal_server("SERVER_STARTED", "the server was already started")
        })?;
        let tls = self.acceptor()?;
        let listener = TcpListener::bind(self.address).await.map_err(|err| {
            Error::internal_server(
                "BIND_FAILED",
                format!("cannot listen on {}: {err}", self.address),
            )
            .with_cause(err)
        })?;
        let local = listener.local_addr().map_err(|err| {
            Error::internal_server(
                "BIND_FAILED",
                format!("cannot read the bound address: {err}"),
            )
            .with_cause(err)
        })?;
        let endpoint = self.advertised.clone().unwrap_or_else(|| {
            endpoint::advertised(endpoint::scheme(self.scheme, tls.is_some()), local)
        });
        let service = finish(router, &endpoint);
        let _ = self.local_addr.set(local);
        let _ = self.endpoint.set(endpoint.clone());

        // gRPC speaks HTTP/2 only: serve it with hyper's HTTP/2 connection
        // directly, without sniffing the protocol first (and without the
        // rewind buffer every read of a sniffed connection goes through).
        let builder = if self.http2_only {
            Protocol::Http2(http2::Builder::new(TokioExecutor::new()))
        } else {
            Protocol::Auto(auto::Builder::new(TokioExecutor::new()))
        };
        let tokens = Tokens::default();
        let accept = tokio::spawn(accept_loop(listener, service, builder, tokens.clone(), tls));
        *self.running.lock_unpoisoned() = Some(Running { tokens, accept });
        Ok(())
    }

    /// Stops accepting, drains connections until `deadline`, then aborts them.
    pub(crate) async fn stop(&self, deadline: Instant) -> Result<(), Error> {
        let Some(Running { tokens, accept }) = self.running.lock_unpoisoned().take() else {
            return Ok(());
        };
        tokens.shutdown.cancel();
        // The accept loop returns at once and drops the listener: new
        // connections are refused from here on.
        let _ = accept.await;
        tokens.connections.close();
        if tokio::time::timeout_at(deadline, tokens.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                endpoint = self.endpoint().unwrap_or_default(),
                remaining = tokens.connections.len(),
                "stop deadline passed, aborting connections"
            );
            tokens.abort.cancel();
            tokens.connections.wait().await;
        }
        tracing::info!(
            endpoint = self.endpoint().unwrap_or_default(),
            "server stopped"
        );
        Ok(())
    }

    pub(crate) fn endpoint(&self) -> Option<String> {
        self.endpoint.get().cloned()
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr.get().copied()
    }
}

async fn accept_loop<S: HttpService>(
    listener: TcpListener,
    service: S,
    builder: Protocol,
    tokens: Tokens,
    tls: Option<Acceptor>,
) {
    let service = TowerToHyperService::new(service);
    loop {
        let stream = tokio::select! {
            biased;
            () = tokens.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed, retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        tokens.connections.spawn(serve_connection(
            stream,
            service.clone(),
            builder.clone(),
            tokens.clone(),
            tls.clone(),
        ));
    }
    drop(listener);
}

/// Serves one accepted connection; with TLS, after its handshake (in this
/// task, never in the accept loop, and within [`TLS_HANDSHAKE_TIMEOUT`]).
async fn serve_connection<S: HttpService>(
    stream: TcpStream,
    service: TowerToHyperService<S>,
    builder: Protocol,
    tokens: Tokens,
    tls: Option<Acceptor>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_io(TokioIo::new(stream), service, builder, tokens).await,
        #[cfg(feature = "tls")]
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => {
                        tracing::debug!(error = %err, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(after = ?TLS_HANDSHAKE_TIMEOUT, "TLS handshake timed out");
                        return;
                    }
                },
                () = tokens.shutdown.cancelled() => return,
            };
            serve_io(TokioIo::new(stream), service, builder, tokens).await;
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}

/// Serves HTTP on an established (plain or TLS) connection until it ends.
async fn serve_io<S, I>(
    io: TokioIo<I>,
    service: TowerToHyperService<S>,
    builder: Protocol,
    tokens: Tokens,
) where
    S: HttpService,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let result = match &builder {
        Protocol::Auto(auto) => {
            let conn = auto.serve_connection_with_upgrades(io, service);
            drive(conn, |c| c.graceful_shutdown(), &tokens).await
        }
        Protocol::Http2(h2) => {
            let conn = h2.serve_connection(io, service);
            drive(conn, |c| c.graceful_shutdown(), &tokens)
                .await
                .map(|r| r.map_err(Into::into))
        }
    };
    if let Some(Err(err)) = result {
        tracing::debug!(error = %err, "connection closed with an error");
    }
}

/// What a [`Listener`] serves: an axum [`Router`], possibly wrapped in layers.
pub(crate) trait HttpService:
    Service<
        http::Request<hyper::body::Incoming>,
        Response = http::Response<axum::body::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> HttpService for S where
    S: Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<axum::body::Body>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// How connections are served: HTTP/1.1 and HTTP/2 (detected per
/// connection, upgrades allowed), or HTTP/2 only.
#[derive(Debug, Clone)]
enum Protocol {
    Auto(auto::Builder<TokioExecutor>),
    Http2(http2::Builder<TokioExecutor>),
}

/// Runs a connection to its end; on shutdown asks it to finish gracefully
/// (`drain`), and drops it when the stop deadline passed (`None`).
async fn drive<C, E>(
    conn: C,
    drain: impl FnOnce(Pin<&mut C>),
    tokens: &Tokens,
) -> Option<Result<(), E>>
where
    C: Future<Output = Result<(), E>>,
{
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => Some(result),
        () = tokens.shutdown.cancelled() => {
            drain(conn.as_mut());
            tokio::select! {
                result = conn.as_mut() => Some(result),
                () = tokens.abort.cancelled() => None,
            }
        }
    }
}

/// Errors that concern one connection, not the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
