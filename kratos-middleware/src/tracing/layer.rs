use std::sync::{Arc, OnceLock};

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use tower_layer::Layer;

use super::propagation::{Baggage, TraceContext};
use http::Request;
use kratos_core::Kind;

use super::tracer::LayerTracer;
use super::{CallSpan, Side, Tracing, call};

/// A propagator the layer extracts and injects with.
pub(super) type Propagator = Arc<dyn TextMapPropagator + Send + Sync>;

/// W3C Trace Context and W3C Baggage (our own, see
/// [`propagation`](super::propagation)): the layers' default propagator, as
/// Go Kratos's tracing middleware defaults to its own (not the global one).
fn default_propagator() -> Propagator {
    static DEFAULT: OnceLock<Propagator> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            Arc::new(TextMapCompositePropagator::new(vec![
                Box::new(TraceContext),
                Box::new(Baggage),
            ]))
        })
        .clone()
}

/// Starts an OpenTelemetry span per call; see the [module docs](crate::tracing).
///
/// ```
/// use kratos_middleware::tracing::TracingLayer;
///
/// let server = TracingLayer::server(); // SpanKind::Server, parent from the headers
/// let client = TracingLayer::client(); // SpanKind::Client, parent = Context::current()
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TracingLayer {
    pub(super) side: Side,
    pub(super) propagator: Propagator,
    /// Whether `propagator` is the default one, which reads nothing but the
    /// W3C fields: a request without them then has nothing to extract.
    w3c: bool,
    pub(super) tracer: LayerTracer,
}

impl TracingLayer {
    /// Tracing for a server: extracts the caller's span context and baggage
    /// from the request headers (W3C `traceparent`, `tracestate`, `baggage`)
    /// and starts a
    /// [`SpanKind::Server`](opentelemetry::trace::SpanKind::Server) span
    /// under it.
    pub fn server() -> Self {
        Self {
            side: Side::Server,
            propagator: default_propagator(),
            w3c: true,
            tracer: LayerTracer::default(),
        }
    }

    /// Tracing for a client: starts a
    /// [`SpanKind::Client`](opentelemetry::trace::SpanKind::Client) span
    /// under [`Context::current`](opentelemetry::Context::current) and
    /// injects it and the current baggage into the request headers.
    pub fn client() -> Self {
        Self {
            side: Side::Client,
            propagator: default_propagator(),
            w3c: true,
            tracer: LayerTracer::default(),
        }
    }

    /// Extracts and injects with `propagator` (B3, Jaeger, a composite...)
    /// instead of the default W3C Trace Context + Baggage. The global
    /// propagator is not consulted, as in Go Kratos.
    pub fn with_propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Arc::new(propagator);
        self.w3c = false;
        self
    }

    /// Starts the span of one call, as the layer's service does, for a
    /// caller that already looked at the request: its `operation` (if it
    /// has one at hand) and `w3c_seen`, whether its headers have
    /// `traceparent` or `baggage`.
    pub(crate) fn start_span<B>(
        &self,
        kind: Kind,
        operation: Option<&str>,
        req: &mut Request<B>,
        w3c_seen: bool,
    ) -> CallSpan {
        let extract = !self.w3c || w3c_seen;
        CallSpan::start(self, extract, kind, operation, req)
    }

    /// Starts the span of one call, as the layer's service does.
    pub(super) fn start_call<B>(&self, kind: Kind, req: &mut Request<B>) -> CallSpan {
        let w3c_seen = self.w3c && call::has_w3c_fields(req.headers());
        self.start_span(kind, None, req, w3c_seen)
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = Tracing<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Tracing {
            inner,
            layer: self.clone(),
        }
    }
}
