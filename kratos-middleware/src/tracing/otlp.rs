//! OTLP/gRPC export: installs an OpenTelemetry SDK tracer provider that
//! batches spans to a collector (Jaeger, Tempo, the OpenTelemetry
//! Collector...) over tonic, as the global provider
//! [`TracingLayer`](super::TracingLayer) uses, and the W3C TraceContext
//! propagator as the global one (for your own code: the layers propagate
//! with their own).
//!
//! Install it from inside a multi-threaded Tokio runtime (the exporter's
//! tonic channel runs on it; the batch processor exports from a thread of
//! its own). Keep the returned [`SdkTracerProvider`] and, before the process
//! exits, call its [`shutdown`](SdkTracerProvider::shutdown) (or
//! [`force_flush`](SdkTracerProvider::force_flush)) so the last batch is
//! sent. Both block until the export finishes, so from async code call them
//! in [`tokio::task::spawn_blocking`]:
//!
//! ```no_run
//! use kratos_middleware::tracing::{otlp, TracingLayer};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), kratos_core::Error> {
//!     let provider = otlp::Otlp::new("http://127.0.0.1:4317", "helloworld")
//!         .ratio(0.1) // sample 10% of new traces, follow the caller's decision
//!         .install()?;
//!     // ... HttpServer::builder().layer(TracingLayer::server()) ...
//!     # let _ = TracingLayer::server();
//!     tokio::task::spawn_blocking(move || provider.shutdown())
//!         .await
//!         .expect("shutdown task")
//!         .map_err(|e| kratos_core::Error::internal_server("OTLP", e.to_string()))?;
//!     Ok(())
//! }
//! ```

use std::fmt;

use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
pub use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

/// Installs the OTLP pipeline with the default sampler (parent-based,
/// sampling every new trace); see [`Otlp`] to choose another.
///
/// `endpoint` is the collector's OTLP/gRPC address
/// (`http://127.0.0.1:4317`); `service_name` becomes the resource's
/// `service.name`.
pub fn init(
    endpoint: impl Into<String>,
    service_name: impl Into<String>,
) -> Result<SdkTracerProvider, OtlpError> {
    Otlp::new(endpoint, service_name).install()
}

/// Configures and installs an OTLP/gRPC tracer provider; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct Otlp {
    endpoint: String,
    service_name: String,
    sampler: Sampler,
}

impl Otlp {
    /// A pipeline exporting to `endpoint` as `service_name`, sampling as the
    /// caller did and every new trace
    /// (`Sampler::ParentBased(Box::new(Sampler::AlwaysOn))`).
    pub fn new(endpoint: impl Into<String>, service_name: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            service_name: service_name.into(),
            sampler: Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        }
    }

    /// Samples with `sampler`.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// Samples `ratio` (0.0 to 1.0) of new traces and follows the caller's
    /// decision for the others, as Go's
    /// `ParentBased(TraceIDRatioBased(ratio))`.
    pub fn ratio(self, ratio: f64) -> Self {
        self.sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
    }

    /// Builds the exporter and the provider, and installs the provider and
    /// the W3C TraceContext propagator as the globals. Call it inside a
    /// Tokio runtime. The exporter connects lazily: an unreachable collector
    /// shows in the SDK's internal logs, not here.
    pub fn install(self) -> Result<SdkTracerProvider, OtlpError> {
        let exporter = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(self.endpoint.clone())
            .build()
            .map_err(|source| OtlpError {
                endpoint: self.endpoint,
                source,
            })?;
        let resource = Resource::builder()
            .with_service_name(self.service_name)
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(self.sampler)
            .with_resource(resource)
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        opentelemetry::global::set_tracer_provider(provider.clone());
        Ok(provider)
    }
}

/// The OTLP exporter could not be built (a malformed endpoint, or no Tokio
/// runtime).
#[derive(Debug)]
pub struct OtlpError {
    endpoint: String,
    source: opentelemetry_otlp::ExporterBuildError,
}

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OTLP exporter for {:?}: {}; is it an `http://host:port` address and are we inside a Tokio runtime?",
            self.endpoint, self.source
        )
    }
}

impl std::error::Error for OtlpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<OtlpError> for kratos_core::Error {
    fn from(err: OtlpError) -> Self {
        let message = err.to_string();
        kratos_core::Error::internal_server("OTLP", message).with_cause(err)
    }
}
