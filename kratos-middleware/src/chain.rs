//! Chains of middleware, applied in the order they are listed.

use tower_layer::{Identity, Layer, Stack};

use crate::ServerDefaults;
use crate::metadata::MetadataLayer;

/// A list of layers; the first one added is the outermost, as in Go Kratos's
/// `middleware.Chain` and tower's `ServiceBuilder`.
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::{Chain, logging::LoggingLayer, recovery::RecoveryLayer, timeout::TimeoutLayer};
///
/// let chain = Chain::new()
///     .with(RecoveryLayer::new())           // outermost: sees every panic below
///     .with(LoggingLayer::server())
///     .with(TimeoutLayer::new(Duration::from_secs(2)));
/// # let _ = chain;
/// ```
#[derive(Debug, Clone)]
pub struct Chain<L = Identity>(L);

impl Chain<Identity> {
    /// An empty chain.
    pub fn new() -> Self {
        Chain(Identity::new())
    }
}

impl Default for Chain<Identity> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L> Chain<L> {
    /// Adds `layer` inside the layers added before.
    pub fn with<T>(self, layer: T) -> Chain<Stack<T, L>> {
        Chain(Stack::new(layer, self.0))
    }
}

impl<S, L: Layer<S>> Layer<S> for Chain<L> {
    type Service = L::Service;

    fn layer(&self, inner: S) -> Self::Service {
        self.0.layer(inner)
    }
}

/// The tracing layer of the default client chain:
/// [`TracingLayer::client`](crate::tracing::TracingLayer::client) with the
/// `otel` feature, else nothing.
#[cfg(feature = "otel")]
type TracingLayer = crate::tracing::TracingLayer;
#[cfg(not(feature = "otel"))]
type TracingLayer = Identity;

#[cfg(feature = "otel")]
fn tracing() -> TracingLayer {
    TracingLayer::client()
}
#[cfg(not(feature = "otel"))]
fn tracing() -> TracingLayer {
    Identity::new()
}

/// The metrics layer of the default client chain:
/// [`MetricsLayer::client`](crate::metrics::MetricsLayer::client) with the
/// `metrics` feature, else nothing.
#[cfg(feature = "metrics")]
type MetricsLayer = crate::metrics::MetricsLayer;
#[cfg(not(feature = "metrics"))]
type MetricsLayer = Identity;

#[cfg(feature = "metrics")]
fn metrics() -> MetricsLayer {
    MetricsLayer::client()
}
#[cfg(not(feature = "metrics"))]
fn metrics() -> MetricsLayer {
    Identity::new()
}

/// The default server chain, outermost first: recovery, a tracing span
/// (with the `otel` feature; records only once a tracer provider is
/// installed), request metrics (with the `metrics` feature; no-ops until a
/// recorder is installed), metadata (`x-md-*` headers to the handler and
/// onward calls) and a 1 s timeout, fused into one service (see
/// [`defaults`](crate::defaults)). Add
/// [`LoggingLayer::server`](crate::logging::LoggingLayer::server) to log each
/// request.
pub fn server_defaults() -> ServerDefaults {
    ServerDefaults::new()
}

/// The type of [`client_defaults`].
pub type ClientDefaults =
    Chain<Stack<MetadataLayer, Stack<MetricsLayer, Stack<TracingLayer, Identity>>>>;

/// The default client chain, outermost first: a client span whose context
/// travels in the request headers (with the `otel` feature), request
/// metrics (`client_requests_*`, with the `metrics` feature) and metadata
/// (the incoming `x-md-global-*` of the call being served, plus the
/// request's own [`Metadata`](kratos_core::Metadata), sent as headers).
/// Deadlines come from the client's own timeout.
///
/// ```
/// use kratos_middleware::client_defaults;
///
/// // GrpcChannel::builder().endpoint("discovery:///user").layer(client_defaults())
/// let chain = client_defaults();
/// # let _ = chain;
/// ```
pub fn client_defaults() -> ClientDefaults {
    Chain::new()
        .with(tracing())
        .with(metrics())
        .with(MetadataLayer::client())
}
