use tower_layer::Layer;

use super::{Side, Tracing};

/// Starts an OpenTelemetry span per call; see the [module docs](crate::tracing).
///
/// ```
/// use kratos_middleware::tracing::TracingLayer;
///
/// let server = TracingLayer::server(); // SpanKind::Server, parent from the headers
/// let client = TracingLayer::client(); // SpanKind::Client, parent = Context::current()
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct TracingLayer {
    side: Side,
}

impl TracingLayer {
    /// Tracing for a server: extracts the caller's span context from the
    /// request headers with the global propagator and starts a
    /// [`SpanKind::Server`](opentelemetry::trace::SpanKind::Server) span
    /// under it.
    pub fn server() -> Self {
        Self { side: Side::Server }
    }

    /// Tracing for a client: starts a
    /// [`SpanKind::Client`](opentelemetry::trace::SpanKind::Client) span
    /// under [`Context::current`](opentelemetry::Context::current) and
    /// injects it into the request headers with the global propagator.
    pub fn client() -> Self {
        Self { side: Side::Client }
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = Tracing<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Tracing {
            inner,
            side: self.side,
        }
    }
}
