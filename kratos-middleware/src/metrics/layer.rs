use std::sync::Arc;

use kratos_core::Kind;
use tokio::time::Instant;
use tower_layer::Layer;

use super::{Instruments, Measure, Metrics, Names};

/// Records one counter increment and one latency sample per call; see the
/// [module docs](crate::metrics).
///
/// ```
/// use kratos_middleware::metrics::MetricsLayer;
///
/// let server = MetricsLayer::server(); // server_requests_code_total, server_requests_seconds
/// let client = MetricsLayer::client(); // client_requests_code_total, client_requests_seconds
/// let custom = MetricsLayer::named("billing_requests_total", "billing_requests_seconds");
/// # let _ = (server, client, custom);
/// ```
///
/// Every service the layer builds shares its registered handles: register
/// the layer once per server (or client) and clone it.
#[derive(Debug, Clone)]
#[must_use]
pub struct MetricsLayer {
    instruments: Arc<Instruments>,
}

impl MetricsLayer {
    /// Metrics of a server: `server_requests_code_total` and
    /// `server_requests_seconds`.
    pub fn server() -> Self {
        Self::new(super::SERVER_REQUESTS, super::SERVER_SECONDS)
    }

    /// Metrics of a client: `client_requests_code_total` and
    /// `client_requests_seconds`.
    pub fn client() -> Self {
        Self::new(super::CLIENT_REQUESTS, super::CLIENT_SECONDS)
    }

    /// Metrics under other names: `requests` counts calls by kind,
    /// operation, code and reason; `seconds` is the latency histogram by kind
    /// and operation.
    pub fn named(requests: &'static str, seconds: &'static str) -> Self {
        Self::new(requests, seconds)
    }

    /// Starts measuring one call of `kind` and `operation` that started at
    /// `start`, as the layer's service does.
    pub(crate) fn measure(&self, kind: Kind, operation: &str, start: Instant) -> Measure {
        Measure::start(&self.instruments, kind, operation, start)
    }

    fn new(requests: &'static str, seconds: &'static str) -> Self {
        Self {
            instruments: Arc::new(Instruments::new(Names { requests, seconds })),
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics {
            inner,
            instruments: self.instruments.clone(),
        }
    }
}
