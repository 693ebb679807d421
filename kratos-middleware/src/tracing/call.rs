//! [`CallSpan`]: one call's span from its start to its end, shared by the
//! [`Tracing`](super::Tracing) service and the fused default chain.

use std::fmt::Display;

use http::{Request, Response};
use kratos_core::Kind;
use kratos_core::transport::headers::{BAGGAGE, TRACEPARENT};
use opentelemetry::trace::{Span as _, TraceContextExt};

use super::{HeaderExtractor, HeaderInjector, Side, TracingLayer, span};

/// The span of one call: the context its inner service is polled in, the
/// `tracing` span its log events carry, and whether it records (and so must
/// be ended with the call's outcome).
#[derive(Debug)]
pub(crate) struct CallSpan {
    otel_cx: Option<opentelemetry::Context>,
    // A server call's `tracing` span with its trace and span ids: every
    // log event inside the call carries them.
    log_span: Option<tracing::Span>,
    recording: bool,
    kind: Kind,
}

impl CallSpan {
    /// Starts the span of `req`: a server's parent comes from the request
    /// headers (when `extract`; else it is the current context), a client's
    /// is the current context, whose span context and baggage the client
    /// then writes into the headers.
    pub(super) fn start<B>(
        layer: &TracingLayer,
        extract: bool,
        kind: Kind,
        operation: Option<&str>,
        req: &mut Request<B>,
    ) -> Self {
        let (side, propagator) = (layer.side, &layer.propagator);
        let parent = match side {
            Side::Server if extract => propagator.extract(&HeaderExtractor(req.headers())),
            Side::Server | Side::Client => opentelemetry::Context::current(),
        };
        let span = span::start(&layer.tracer, side, kind, operation, req, &parent);
        // The context the call runs in. A span that does not record needs no
        // status and no end: its span context alone is enough to propagate.
        // Without a provider there is not even that: a client then runs in
        // the current context as is.
        let recording = span.is_recording();
        let otel_cx = if recording {
            Some(parent.with_span(span))
        } else if span.span_context().is_valid() {
            Some(parent.with_remote_span_context(span.span_context().clone()))
        } else if side == Side::Server {
            Some(parent)
        } else {
            None
        };
        if side == Side::Client
            && let Some(otel_cx) = &otel_cx
        {
            propagator.inject_context(otel_cx, &mut HeaderInjector(req.headers_mut()));
        }
        let log_span = match (&otel_cx, side) {
            (Some(otel_cx), Side::Server) => log_span(otel_cx),
            _ => None,
        };
        Self {
            otel_cx,
            log_span,
            recording,
            kind,
        }
    }

    /// Runs `f` (a poll of the inner call) inside the span's context and its
    /// `tracing` span, as
    /// [`FutureExt::with_context`](opentelemetry::context::FutureExt::with_context)
    /// does for a whole future.
    pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self
            .otel_cx
            .as_ref()
            .map(|otel_cx| otel_cx.clone().attach());
        let _entered = self.log_span.as_ref().map(tracing::Span::enter);
        f()
    }

    /// Ends a recording span with the outcome of the call: the response head
    /// or the service's error. Once; later calls do nothing.
    pub(crate) fn finish<B, E: Display + 'static>(&mut self, result: &Result<Response<B>, E>) {
        if !std::mem::take(&mut self.recording) {
            return;
        }
        if let Some(otel_cx) = self.otel_cx.take() {
            match result {
                Ok(res) => span::end_with_response(otel_cx.span(), self.kind, res),
                Err(err) => span::end_with_error(otel_cx.span(), err),
            }
        }
    }
}

/// Whether `headers` has a field the default W3C propagator reads: without
/// one it would return the current context, so it need not be asked.
pub(super) fn has_w3c_fields(headers: &http::HeaderMap) -> bool {
    headers.contains_key(TRACEPARENT) || headers.contains_key(BAGGAGE)
}

/// The `tracing` span a server call's log events are recorded in, carrying
/// `trace_id` and `span_id` as Go Kratos's `log.With(logger, "trace.id",
/// tracing.TraceID(), "span.id", tracing.SpanID())` does; `None` without a
/// valid span context, or when no subscriber wants `kratos` spans at INFO.
fn log_span(otel_cx: &opentelemetry::Context) -> Option<tracing::Span> {
    let span = otel_cx.span();
    let span_context = span.span_context();
    if !span_context.is_valid() {
        return None;
    }
    let log_span = tracing::info_span!(
        target: "kratos",
        "call",
        trace_id = %span_context.trace_id(),
        span_id = %span_context.span_id(),
    );
    (!log_span.is_disabled()).then_some(log_span)
}
