//! A Prometheus recorder for the request metrics, rendered in the text
//! exposition format for a `/metrics` route.
//!
//! [`Prometheus::install`] installs the process-wide recorder once, with
//! Go Kratos's latency buckets for the histograms whose name ends in
//! `requests_seconds` (the others render as summaries) and a
//! background thread that drains histogram samples every second (so memory stays
//! bounded between scrapes). The thread runs as long as a [`Prometheus`]
//! (or a clone of it) does and ends within a second after the last one is
//! dropped; keep one for as long as metrics are recorded (it is also what
//! renders them).
//!
//! ```no_run
//! use axum::routing::{MethodRouter, get};
//! use kratos_middleware::metrics::{MetricsLayer, prometheus::Prometheus};
//!
//! let prometheus = Prometheus::install().expect("the only recorder");
//! let metrics: MethodRouter = get(move || std::future::ready(prometheus.render()));
//! // HttpServer::builder().handle("/metrics", metrics).layer(MetricsLayer::server())
//! # let _ = (metrics, MetricsLayer::server());
//! ```

use std::fmt;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Go Kratos's latency buckets, in seconds.
pub const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// How often histogram samples are drained into their buckets. Until then
/// the exporter keeps every sample (8 bytes, in blocks of 64) in the memory
/// of the threads that recorded them: a server answering 90 k calls a second
/// peaked at 10.3–10.7 MiB with a 1 s drain, 9.2–9.6 MiB with this one
/// (docs/benchmarks.md). The drain costs the same per sample either way; the
/// thread wakes 20 times a second for it.
const UPKEEP: Duration = Duration::from_millis(50);

/// The installed Prometheus recorder; cheap to clone. The last clone
/// dropped stops the upkeep thread.
#[derive(Debug, Clone)]
pub struct Prometheus {
    handle: Arc<PrometheusHandle>,
}

impl Prometheus {
    /// Installs the process-wide Prometheus recorder.
    ///
    /// Fails if a recorder is already installed.
    pub fn install() -> Result<Self, PrometheusError> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("requests_seconds".into()), &BUCKETS)
            .and_then(PrometheusBuilder::install_recorder)
            .map_err(PrometheusError)?;
        describe();
        let handle = Arc::new(handle);
        if let Err(e) = spawn_upkeep(Arc::downgrade(&handle), UPKEEP) {
            // Samples are then drained by each render only.
            tracing::warn!(target: "kratos::middleware::metrics", error = %e, "no upkeep thread");
        }
        Ok(Self { handle })
    }

    /// Every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// The Prometheus recorder could not be installed: another `metrics`
/// recorder already is (a process has one), or the exporter refused its
/// settings. Becomes a 500 `METRICS` [`kratos_core::Error`].
#[derive(Debug)]
pub struct PrometheusError(BuildError);

impl fmt::Display for PrometheusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Prometheus recorder could not be installed: {}",
            self.0
        )
    }
}

impl std::error::Error for PrometheusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<PrometheusError> for kratos_core::Error {
    fn from(err: PrometheusError) -> Self {
        let message = err.to_string();
        kratos_core::Error::internal_server("METRICS", message).with_cause(err)
    }
}

/// Drains `handle`'s histogram samples every `period`, until the handle
/// has no user left.
fn spawn_upkeep(
    handle: Weak<PrometheusHandle>,
    period: Duration,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("kratos-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(period);
                let Some(handle) = handle.upgrade() else {
                    break;
                };
                handle.run_upkeep();
            }
        })
}

/// The `# HELP` lines of the request metrics.
fn describe() {
    use super::{CLIENT_REQUESTS, CLIENT_SECONDS, SERVER_REQUESTS, SERVER_SECONDS};
    use metrics::Unit;
    metrics::describe_counter!(
        SERVER_REQUESTS,
        Unit::Count,
        "Server requests by kind, operation, code and reason."
    );
    metrics::describe_histogram!(
        SERVER_SECONDS,
        Unit::Seconds,
        "Server request latency by kind and operation."
    );
    metrics::describe_counter!(
        CLIENT_REQUESTS,
        Unit::Count,
        "Client requests by kind, operation, code and reason."
    );
    metrics::describe_histogram!(
        CLIENT_SECONDS,
        Unit::Seconds,
        "Client request latency by kind and operation."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upkeep_thread_ends_with_its_last_user() {
        // A recorder that is not installed: no process-wide effect.
        let handle = Arc::new(PrometheusBuilder::new().build_recorder().handle());
        let thread = spawn_upkeep(Arc::downgrade(&handle), Duration::from_millis(1)).unwrap();
        let prometheus = Prometheus { handle };
        let clone = prometheus.clone();
        drop(prometheus);
        assert!(!thread.is_finished(), "a clone still uses it");
        drop(clone);
        let ended = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            thread.is_finished()
        });
        assert!(ended, "the upkeep thread outlived its last user");
    }
}
