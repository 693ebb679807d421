//! [`Limits`]: the timeouts and caps that keep a server up when clients are
//! slow, idle, many or hostile.

use std::sync::OnceLock;
use std::time::Duration;

/// The timeouts and caps of a server; every field has a default and a
/// setter. Give them to
/// [`HttpServerBuilder::limits`](crate::http::HttpServerBuilder::limits) or
/// [`GrpcServerBuilder::limits`](crate::grpc::GrpcServerBuilder::limits).
///
/// | limit | default | past it |
/// |---|---|---|
/// | [`header_read_timeout`](Self::with_header_read_timeout) | 10 s | a connection that has not sent a complete request head (or, on HTTP/2, its first bytes; with TLS, its handshake) is closed |
/// | [`idle_timeout`](Self::with_idle_timeout) | 120 s | a connection with no call in flight for that long is closed gracefully |
/// | [`body_read_timeout`](Self::with_body_read_timeout) | 30 s | HTTP only: a request body still arriving is abandoned, 408 `REQUEST_TIMEOUT` |
/// | [`body_limit`](Self::with_body_limit) | 4 MiB | HTTP only: 413 `PAYLOAD_TOO_LARGE`, before the body is read when its length is declared |
/// | [`max_connections`](Self::with_max_connections) | the descriptor limit minus a reserve | accept waits (logged once), and connections idle for a second are closed first |
/// | [`http2_max_concurrent_streams`](Self::with_http2_max_concurrent_streams) | 256 | the client waits for a stream |
/// | [`tcp_keepalive`](Self::with_tcp_keepalive) | 60 s idle, then 3 probes 20 s apart | the kernel drops a connection whose peer is gone (no per-call cost) |
/// | [`http2_keepalive_interval`](Self::with_http2_keepalive_interval) | off (20 s timeout when set) | an HTTP/2 peer that does not answer a ping is dropped |
///
/// **Keepalive.** A peer that vanished (a killed host, a cut network) is
/// found by TCP keepalive, which the kernel runs on every accepted
/// connection at no cost to the calls; an idle connection is closed after
/// `idle_timeout` anyway. HTTP/2 pings are off by default, as in grpc-go's
/// server (2 h) and tonic: with them on, hyper reads the clock for every
/// frame it sends or receives, ≈ 0.9 k instructions per call. Turn them on
/// to also drop a peer whose TCP stack answers but whose HTTP/2 stack hangs.
///
/// **Descriptors.** At start the process's soft limit of open files is
/// raised to its hard limit (as Go does since 1.19), and the connection cap
/// is kept an eighth (at least 32, at most 1024) below it, so a flood of
/// connections makes accept wait instead of failing with "too many open
/// files" and leaves room for the registry, config and log files.
///
/// gRPC message sizes are per service, on the value `<service>_grpc::server`
/// returns (tonic's `max_decoding_message_size`, 4 MiB by default as in Go).
///
/// ```
/// use std::time::Duration;
/// use kratos_transport::Limits;
///
/// let limits = Limits::default()
///     .with_header_read_timeout(Duration::from_secs(5))
///     .with_body_limit(1 << 20)
///     .with_max_connections(10_000);
/// assert_eq!(limits.body_limit(), 1 << 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
#[must_use]
pub struct Limits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    body_read_timeout: Duration,
    body_limit: usize,
    max_connections: Option<usize>,
    http2_max_concurrent_streams: u32,
    http2_keepalive_interval: Option<Duration>,
    http2_keepalive_timeout: Duration,
    tcp_keepalive: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            body_read_timeout: Duration::from_secs(30),
            body_limit: 4 * 1024 * 1024,
            max_connections: None,
            http2_max_concurrent_streams: 256,
            http2_keepalive_interval: None,
            http2_keepalive_timeout: Duration::from_secs(20),
            tcp_keepalive: Some(Duration::from_secs(60)),
        }
    }
}

impl Limits {
    /// How long a connection may take to send a request head (HTTP/1.1:
    /// every request's; HTTP/2: the connection's first bytes).
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a connection may stay open with no call in flight. The
    /// connection's calls are looked at four times per timeout (a call
    /// reads no clock for it), so an idle connection is closed after
    /// between one and 1.25 timeouts.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long an HTTP request body may take to arrive once a handler
    /// reads it.
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// The largest HTTP request body, in bytes.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The most connections served at once (still capped by the descriptor
    /// limit minus its reserve).
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections.max(1));
        self
    }

    /// The most HTTP/2 streams (calls) a connection may have open at once.
    pub fn with_http2_max_concurrent_streams(mut self, streams: u32) -> Self {
        self.http2_max_concurrent_streams = streams;
        self
    }

    /// How often an HTTP/2 connection is pinged (`None`: never) and how long
    /// the answer may take before the connection is dropped.
    pub fn with_http2_keepalive_interval(
        mut self,
        interval: impl Into<Option<Duration>>,
        timeout: Duration,
    ) -> Self {
        self.http2_keepalive_interval = interval.into();
        self.http2_keepalive_timeout = timeout;
        self
    }

    /// How long an accepted connection may be silent before the kernel
    /// probes its peer (`None`: never), with three probes a third of that
    /// apart: a peer that is gone is dropped about twice that after its last
    /// packet.
    pub fn with_tcp_keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.tcp_keepalive = idle.into();
        self
    }

    /// See [`with_header_read_timeout`](Self::with_header_read_timeout).
    pub fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// See [`with_idle_timeout`](Self::with_idle_timeout).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// See [`with_body_read_timeout`](Self::with_body_read_timeout).
    pub fn body_read_timeout(&self) -> Duration {
        self.body_read_timeout
    }

    /// See [`with_body_limit`](Self::with_body_limit).
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The connection cap this process can afford: the configured one, at
    /// most the descriptor limit minus its reserve.
    pub fn max_connections(&self) -> usize {
        let affordable = descriptor_budget();
        self.max_connections
            .map_or(affordable, |n| n.min(affordable))
    }

    /// See [`with_http2_max_concurrent_streams`](Self::with_http2_max_concurrent_streams).
    pub fn http2_max_concurrent_streams(&self) -> u32 {
        self.http2_max_concurrent_streams
    }

    /// See [`with_http2_keepalive_interval`](Self::with_http2_keepalive_interval).
    pub fn http2_keepalive_interval(&self) -> Option<Duration> {
        self.http2_keepalive_interval
    }

    /// See [`with_http2_keepalive_interval`](Self::with_http2_keepalive_interval).
    pub fn http2_keepalive_timeout(&self) -> Duration {
        self.http2_keepalive_timeout
    }

    /// See [`with_tcp_keepalive`](Self::with_tcp_keepalive).
    pub fn tcp_keepalive(&self) -> Option<Duration> {
        self.tcp_keepalive
    }
}

/// The connections this process can hold open: its open-file limit (raised
/// to the hard limit once) minus a reserve for everything else.
fn descriptor_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        let soft = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => soft,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the open-file limit; assuming 1024");
                1024
            }
        };
        let soft = usize::try_from(soft).unwrap_or(usize::MAX);
        let budget = soft.saturating_sub(reserve(soft)).max(1);
        tracing::info!(
            open_files = soft,
            connections = budget,
            "open-file limit raised to its hard limit; connection cap set below it"
        );
        budget
    })
}

/// The descriptors kept out of the connection cap: an eighth of the limit,
/// at least 32 and at most 1024.
fn reserve(limit: usize) -> usize {
    (limit / 8).clamp(32, 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_an_eighth_within_bounds() {
        assert_eq!(reserve(256), 32);
        assert_eq!(reserve(4096), 512);
        assert_eq!(reserve(1 << 20), 1024);
    }

    #[test]
    fn the_cap_never_exceeds_what_descriptors_allow() {
        let affordable = Limits::default().max_connections();
        assert!(affordable >= 1);
        assert_eq!(
            Limits::default().with_max_connections(3).max_connections(),
            3.min(affordable)
        );
        assert_eq!(
            Limits::default()
                .with_max_connections(usize::MAX)
                .max_connections(),
            affordable
        );
    }
}
