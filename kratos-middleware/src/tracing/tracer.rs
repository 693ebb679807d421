//! [`LayerTracer`]: the tracer a [`TracingLayer`](super::TracingLayer)
//! starts its spans with.

use std::sync::{Arc, OnceLock};

use opentelemetry::Context;
use opentelemetry::global::{self, BoxedSpan, BoxedTracer};
use opentelemetry::trace::{Span as _, SpanBuilder, TraceContextExt, Tracer as _};

/// The instrumentation scope of every span the layer starts.
const SCOPE: &str = "kratos";

/// The global provider's `kratos` tracer, kept by a layer (and every service
/// it builds) once the provider starts spans of its own.
///
/// Until then (no provider installed: the global one is a no-op, whose spans
/// are the parent's or invalid) it is looked up per call, so a provider
/// installed after the layer was built is used from the next call on. Once
/// kept, it saves the lookup (a lock, a scope and two allocations per call);
/// a provider installed after that is not seen by this layer, as a Go tracer
/// taken from the global provider stays with the provider it was delegated
/// to.
#[derive(Debug, Clone, Default)]
pub(super) struct LayerTracer(Arc<OnceLock<BoxedTracer>>);

impl LayerTracer {
    /// Starts the span `builder` describes under `parent`.
    pub(super) fn start(&self, builder: SpanBuilder, parent: &Context) -> BoxedSpan {
        if let Some(tracer) = self.0.get() {
            return tracer.build_with_context(builder, parent);
        }
        let tracer = global::tracer(SCOPE);
        let span = tracer.build_with_context(builder, parent);
        if started_its_own(&span, parent) {
            let _ = self.0.set(tracer);
        }
        span
    }
}

/// Whether `span` is one its tracer started, not the parent's span context
/// handed back (or an invalid one) as a no-op tracer does.
fn started_its_own(span: &BoxedSpan, parent: &Context) -> bool {
    let own = span.span_context();
    own.is_valid() && own.span_id() != parent.span().span_context().span_id()
}
