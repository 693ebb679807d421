//! The accept loop both servers share: bind, serve connections, drain on stop.

use kratos_core::sync::LockExt;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use kratos_core::Error;
use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};
use tower_service::Service;

use crate::Limits;
use crate::activity::Activity;
use crate::connection_call::ConnectionCall;
use crate::endpoint;

/// Pause after an accept error (e.g. out of file descriptors) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// While the connection cap is reached, how often idle connections are asked
/// to close.
const EVICT_EVERY: Duration = Duration::from_millis(250);
/// At the connection cap, a connection idle for this long is closed to make
/// room (a connection that just opened gets time to send its request).
const EVICT_IDLE_AFTER: Duration = Duration::from_secs(1);
/// How many times per idle timeout a connection's activity is looked at.
const IDLE_LOOKS: u32 = 4;
/// When the server stops, how long an idle connection is kept open for a
/// request the client may already have sent on it (over HTTP/1.1 a client
/// cannot tell a connection closed while its request was on the way from
/// one that failed it). A request arriving in this time is served and
/// answered with `Connection: close`; the connection then closes.
const DRAIN_LINGER: Duration = Duration::from_millis(250);
/// How often reaching the connection cap is logged as a warning, at most.
const CAP_WARN_EVERY: Duration = Duration::from_secs(60);

/// What a TLS connection is accepted with (none without the `tls` feature).
#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
type Acceptor = NoTls;

/// The acceptor of a build without TLS: there is none.
#[cfg(not(feature = "tls"))]
#[derive(Debug, Clone)]
enum NoTls {}

/// A router served on one address: the part of [`HttpServer`](crate::http::HttpServer)
/// and [`GrpcServer`](crate::grpc::GrpcServer) that is the same for both.
#[derive(Debug)]
pub(crate) struct Listener {
    scheme: &'static str,
    address: SocketAddr,
    advertised: Option<String>,
    http2_only: bool,
    limits: Limits,
    router: Mutex<Option<Router>>,
    local_addr: OnceLock<SocketAddr>,
    endpoint: OnceLock<String>,
    running: Mutex<Option<Running>>,
    /// Serve TLS with this (built into an acceptor at start).
    #[cfg(feature = "tls")]
    tls: Option<kratos_net::tls::ServerTls>,
}

/// Signals shared by the accept loop and every connection task.
#[derive(Debug, Clone)]
struct Tokens {
    /// Stop accepting; connections finish their in-flight requests.
    shutdown: CancellationToken,
    /// `shutdown`, shared by every connection's [`ConnectionCall`].
    draining: Arc<CancellationToken>,
    /// The stop deadline passed: drop whatever still runs.
    abort: CancellationToken,
    /// Every connection task, so stop can wait for them.
    connections: TaskTracker,
    /// The connection cap is reached: idle connections close.
    evict: Arc<Notify>,
    /// The first bytes of a connection must arrive within this.
    header_read_timeout: Duration,
    /// A connection with no call in flight for this long closes.
    idle_timeout: Duration,
    /// The kernel's keepalive of accepted connections.
    tcp_keepalive: Option<TcpKeepalive>,
}

impl Tokens {
    fn new(limits: &Limits) -> Self {
        let shutdown = CancellationToken::new();
        Self {
            draining: Arc::new(shutdown.clone()),
            shutdown,
            abort: CancellationToken::new(),
            connections: TaskTracker::new(),
            evict: Arc::default(),
            header_read_timeout: limits.header_read_timeout(),
            idle_timeout: limits.idle_timeout(),
            tcp_keepalive: limits.tcp_keepalive().map(tcp_keepalive),
        }
    }
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
        limits: Limits,
        router: Router,
    ) -> Self {
        Self {
            scheme,
            address,
            advertised,
            http2_only,
            limits,
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
        // `with_state` turns every handler into its route, wrapped in its
        // layers, once: a `Router` served as it is does that per request
        // (axum's `into_make_service` calls it for the same reason).
        let router = self
            .router
            .lock_unpoisoned()
            .take()
            .ok_or_else(|| {
                Error::internal_server("SERVER_STARTED", "the server was already started")
            })?
            .with_state(());
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

        let builder = Protocol::new(self.http2_only, &self.limits);
        let tokens = Tokens::new(&self.limits);
        let permits = Arc::new(Semaphore::new(self.limits.max_connections()));
        let accept = tokio::spawn(accept_loop(
            listener,
            service,
            builder,
            permits,
            tokens.clone(),
            tls,
        ));
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

    /// The limits the server runs with.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }
}

async fn accept_loop<S: HttpService>(
    listener: TcpListener,
    service: S,
    builder: Protocol,
    permits: Arc<Semaphore>,
    tokens: Tokens,
    tls: Option<Acceptor>,
) {
    let mut capped = Capped::default();
    loop {
        // A connection is accepted only with a permit: past the cap the
        // kernel's backlog holds new connections until one closes.
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match capped.wait(&permits, &tokens).await {
                Some(permit) => permit,
                None => break,
            },
        };
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
            permit,
            tls.clone(),
        ));
    }
    drop(listener);
}

/// The accept loop's state at the connection cap: when it last warned.
#[derive(Debug, Default)]
struct Capped {
    warned: Option<Instant>,
}

impl Capped {
    /// Waits for a free connection slot, asking idle connections to close
    /// meanwhile; `None` when the server stops first.
    async fn wait(
        &mut self,
        permits: &Arc<Semaphore>,
        tokens: &Tokens,
    ) -> Option<OwnedSemaphorePermit> {
        let now = Instant::now();
        if self
            .warned
            .is_none_or(|at| now.duration_since(at) >= CAP_WARN_EVERY)
        {
            self.warned = Some(now);
            tracing::warn!(
                open = tokens.connections.len(),
                "connection limit reached: new connections wait, idle ones are closed"
            );
        }
        loop {
            tokens.evict.notify_waiters();
            tokio::select! {
                biased;
                () = tokens.shutdown.cancelled() => return None,
                permit = permits.clone().acquire_owned() => return permit.ok(),
                () = tokio::time::sleep(EVICT_EVERY) => {}
            }
        }
    }
}

/// TCP keepalive after `idle` of silence: three probes a third of it apart.
fn tcp_keepalive(idle: Duration) -> TcpKeepalive {
    TcpKeepalive::new()
        .with_time(idle)
        .with_interval((idle / 3).max(Duration::from_secs(1)))
        .with_retries(3)
}

/// Serves one accepted connection; with TLS, after its handshake (in this
/// task, never in the accept loop, and within the header-read timeout: a
/// client trickling its handshake is a slow client like any other).
async fn serve_connection<S: HttpService>(
    stream: TcpStream,
    service: S,
    builder: Protocol,
    tokens: Tokens,
    _permit: OwnedSemaphorePermit,
    tls: Option<Acceptor>,
) {
    let _ = stream.set_nodelay(true);
    if let Some(keepalive) = &tokens.tcp_keepalive {
        let _ = SockRef::from(&stream).set_tcp_keepalive(keepalive);
    }
    let activity = Activity::new();
    // HTTP/2 and protocol detection have no header timer of their own: a
    // connection that sends nothing is closed here.
    let mut first = [0u8; 1];
    let sent = tokio::select! {
        biased;
        () = tokens.shutdown.cancelled() => return,
        () = evicted(&tokens, &activity) => return,
        sent = tokio::time::timeout(tokens.header_read_timeout, stream.peek(&mut first)) => sent,
    };
    match sent {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => return,
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "connection failed before its first request");
            return;
        }
        Err(_) => {
            tracing::debug!(
                timeout = ?tokens.header_read_timeout,
                "connection sent nothing within the header read timeout, closing it"
            );
            return;
        }
    }
    match tls {
        None => serve_io(TokioIo::new(stream), service, builder, tokens, activity).await,
        #[cfg(feature = "tls")]
        Some(acceptor) => {
            let handshake =
                tokio::time::timeout(tokens.header_read_timeout, acceptor.accept(stream));
            let stream = tokio::select! {
                biased;
                () = tokens.shutdown.cancelled() => return,
                () = evicted(&tokens, &activity) => return,
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(err)) => {
                        tracing::debug!(error = %err, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(
                            after = ?tokens.header_read_timeout,
                            "TLS handshake timed out"
                        );
                        return;
                    }
                },
            };
            serve_io(TokioIo::new(stream), service, builder, tokens, activity).await;
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}

/// Serves HTTP on an established (plain or TLS) connection until it ends.
async fn serve_io<S, I>(
    io: TokioIo<I>,
    service: S,
    builder: Protocol,
    tokens: Tokens,
    activity: Arc<Activity>,
) where
    S: HttpService,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(ConnectionCall::new(
        service,
        activity.clone(),
        tokens.draining.clone(),
    ));
    let result = match &builder {
        Protocol::Auto(auto) => {
            let conn = auto.serve_connection_with_upgrades(io, service);
            drive(conn, |c| c.graceful_shutdown(), &tokens, &activity).await
        }
        Protocol::Http2(h2) => {
            let conn = h2.serve_connection(io, service);
            drive(conn, |c| c.graceful_shutdown(), &tokens, &activity)
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

impl Protocol {
    /// gRPC speaks HTTP/2 only (`http2_only`): it is served with hyper's
    /// HTTP/2 connection directly, without sniffing the protocol first (and
    /// without the rewind buffer every read of a sniffed connection goes
    /// through), and its replies carry no `date` header, as grpc-go's (the
    /// server of Go Kratos) do not: gRPC defines none, and hyper would read
    /// the clock, allocate and encode one for every reply.
    fn new(http2_only: bool, limits: &Limits) -> Self {
        if http2_only {
            let mut h2 = http2::Builder::new(TokioExecutor::new());
            h2.timer(TokioTimer::new())
                .auto_date_header(false)
                .max_concurrent_streams(limits.http2_max_concurrent_streams())
                .keep_alive_interval(limits.http2_keepalive_interval())
                .keep_alive_timeout(limits.http2_keepalive_timeout());
            return Self::Http2(h2);
        }
        let mut auto = auto::Builder::new(TokioExecutor::new());
        auto.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout());
        auto.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.http2_max_concurrent_streams())
            .keep_alive_interval(limits.http2_keepalive_interval())
            .keep_alive_timeout(limits.http2_keepalive_timeout());
        Self::Auto(auto)
    }
}

/// Runs a connection to its end. On shutdown (with a call in flight, or
/// after at most [`DRAIN_LINGER`] for one), after the idle timeout and when
/// the connection cap needs room while it is idle, asks it to finish
/// gracefully (`drain`); drops it when the stop deadline passed (`None`).
async fn drive<C, E>(
    conn: C,
    drain: impl FnOnce(Pin<&mut C>),
    tokens: &Tokens,
    activity: &Arc<Activity>,
) -> Option<Result<(), E>>
where
    C: Future<Output = Result<(), E>>,
{
    tokio::pin!(conn);
    let mut closing = close_reason(tokens, activity);
    let why = tokio::select! {
        biased;
        result = conn.as_mut() => return Some(result),
        why = &mut closing => why.unwrap_or("the server stops"),
    };
    if tokens.shutdown.is_cancelled() {
        // Closed at once, an idle connection would drop a request the
        // client is sending right now: drain once a call is in flight
        // (its response closes the connection), or after DRAIN_LINGER.
        tokio::select! {
            result = conn.as_mut() => return Some(result),
            () = activity.busy_within(DRAIN_LINGER) => {}
            () = tokens.abort.cancelled() => return None,
        }
    }
    tracing::debug!(why, "closing a connection gracefully");
    drain(conn.as_mut());
    tokio::select! {
        result = conn.as_mut() => Some(result),
        () = tokens.abort.cancelled() => None,
    }
}

/// Why a connection is to close: the server stops, the connection had no
/// call in flight for its idle timeout, or the accept loop needs its room.
/// Watched in a task of its own (stopped with the connection): in the
/// connection's `select!`, the notifications and the timer would be polled
/// again at each of its wakes (every frame), where the task's handle is one
/// check.
fn close_reason(tokens: &Tokens, activity: &Arc<Activity>) -> AbortOnDropHandle<&'static str> {
    let (tokens, activity) = (tokens.clone(), activity.clone());
    AbortOnDropHandle::new(tokio::spawn(async move {
        let timeout = tokens.idle_timeout;
        // Looked at IDLE_LOOKS times per timeout: closed after between one
        // and 1 + 1/IDLE_LOOKS timeouts of idleness.
        let every = (timeout / IDLE_LOOKS).max(Duration::from_millis(1));
        let mut watch = activity.watch();
        let mut next = Instant::now() + every;
        loop {
            tokio::select! {
                biased;
                () = tokens.shutdown.cancelled() => return "the server stops",
                () = tokio::time::sleep_until(next) => {
                    next += every;
                    if watch.idle_for(Instant::now()).is_some_and(|idle| idle >= timeout) {
                        return "idle timeout";
                    }
                }
                () = tokens.evict.notified() => {
                    if watch.idle_for(Instant::now()).is_some_and(|idle| idle >= EVICT_IDLE_AFTER) {
                        return "connection limit";
                    }
                }
            }
        }
    }))
}

/// Resolves when the accept loop needs room and this connection has been
/// idle for [`EVICT_IDLE_AFTER`].
async fn evicted(tokens: &Tokens, activity: &Activity) {
    let mut watch = activity.watch();
    loop {
        tokens.evict.notified().await;
        if watch
            .idle_for(Instant::now())
            .is_some_and(|idle| idle >= EVICT_IDLE_AFTER)
        {
            return;
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
