//! OTLP/gRPC export: installs an OpenTelemetry SDK tracer provider that
//! batches spans to a collector (Jaeger, Tempo, the OpenTelemetry
//! Collector...) over tonic, as the global provider
//! [`TracingLayer`](super::TracingLayer) uses, and the W3C Trace Context
//! propagator ([`TraceContext`]) as the
//! global one (for your own code: the layers propagate with their own).
//!
//! Install it from inside a multi-threaded Tokio runtime (the exporter's
//! tonic channel runs on it; the batch processor exports from a thread of
//! its own). Keep the returned [`OtlpProvider`] and, before the process
//! exits, [`shutdown`](OtlpProvider::shutdown) it so the last batch is sent
//! (it waits for the export off the runtime's workers):
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
//!     provider.shutdown().await?;
//!     Ok(())
//! }
//! ```
//!
//! The types here are this crate's own: the OpenTelemetry SDK's sampler and
//! provider types stay private, so an SDK release (0.x, frequent) is not a
//! breaking change of ours.

use std::fmt;

use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use super::propagation::TraceContext;

/// Installs the OTLP pipeline with the default sampler (parent-based,
/// sampling every new trace); see [`Otlp`] to choose another.
///
/// `endpoint` is the collector's OTLP/gRPC address
/// (`http://127.0.0.1:4317`); `service_name` becomes the resource's
/// `service.name`.
pub fn init(
    endpoint: impl Into<String>,
    service_name: impl Into<String>,
) -> Result<OtlpProvider, OtlpError> {
    Otlp::new(endpoint, service_name).install()
}

/// Which new traces are sampled (recorded and exported).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Sampling {
    /// Every trace.
    Always,
    /// None: spans are still created and propagated, unsampled.
    Never,
    /// This share (0.0 to 1.0) of trace ids, as Go's `TraceIDRatioBased`.
    Ratio(f64),
}

impl Sampling {
    fn sampler(self) -> Sampler {
        match self {
            Sampling::Always => Sampler::AlwaysOn,
            Sampling::Never => Sampler::AlwaysOff,
            Sampling::Ratio(ratio) => Sampler::TraceIdRatioBased(ratio),
        }
    }
}

/// Configures and installs an OTLP/gRPC tracer provider; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct Otlp {
    endpoint: String,
    service_name: String,
    sampling: Sampling,
    follow_parent: bool,
}

impl Otlp {
    /// A pipeline exporting to `endpoint` as `service_name`, sampling as the
    /// caller did and every new trace (Go's `ParentBased(AlwaysSample())`).
    pub fn new(endpoint: impl Into<String>, service_name: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            service_name: service_name.into(),
            sampling: Sampling::Always,
            follow_parent: true,
        }
    }

    /// Samples new traces by `sampling`.
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// Samples `ratio` (0.0 to 1.0) of new traces and follows the caller's
    /// decision for the others, as Go's
    /// `ParentBased(TraceIDRatioBased(ratio))`.
    pub fn ratio(self, ratio: f64) -> Self {
        self.sampling(Sampling::Ratio(ratio))
    }

    /// Whether a call that arrives with a trace follows the caller's
    /// sampling decision (default `true`) or is sampled by [`Sampling`]
    /// like a new trace.
    pub fn follow_parent(mut self, follow: bool) -> Self {
        self.follow_parent = follow;
        self
    }

    /// Builds the exporter and the provider, and installs the provider and
    /// the W3C Trace Context propagator as the globals. Call it inside a
    /// Tokio runtime. The exporter connects lazily: an unreachable collector
    /// shows in the SDK's internal logs, not here.
    pub fn install(self) -> Result<OtlpProvider, OtlpError> {
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
        let sampler = match self.follow_parent {
            true => Sampler::ParentBased(Box::new(self.sampling.sampler())),
            false => self.sampling.sampler(),
        };
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContext);
        opentelemetry::global::set_tracer_provider(provider.clone());
        Ok(OtlpProvider(provider))
    }
}

/// The installed tracer provider; cheap to clone. Spans are exported in
/// batches: [`flush`](Self::flush) sends what has finished, and
/// [`shutdown`](Self::shutdown) sends the rest and stops exporting.
#[derive(Debug, Clone)]
pub struct OtlpProvider(SdkTracerProvider);

impl OtlpProvider {
    /// Exports every finished span now and waits for the collector's answer
    /// (on a blocking thread, not a runtime worker).
    pub async fn flush(&self) -> Result<(), OtlpExportError> {
        let provider = self.0.clone();
        blocking(move || provider.force_flush()).await
    }

    /// Exports what is left and shuts the pipeline down; later spans are
    /// dropped. Call it once, before the process exits.
    pub async fn shutdown(self) -> Result<(), OtlpExportError> {
        blocking(move || self.0.shutdown()).await
    }

    /// [`shutdown`](Self::shutdown) for code outside async: blocks the
    /// calling thread until the export finishes.
    pub fn shutdown_blocking(self) -> Result<(), OtlpExportError> {
        self.0
            .shutdown()
            .map_err(|e| OtlpExportError(e.to_string()))
    }
}

async fn blocking(
    run: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
) -> Result<(), OtlpExportError> {
    match tokio::task::spawn_blocking(run).await {
        Ok(result) => result.map_err(|e| OtlpExportError(e.to_string())),
        Err(join) => Err(OtlpExportError(join.to_string())),
    }
}

/// Exporting the last spans failed (the collector did not answer in time,
/// or the pipeline was already shut down).
#[derive(Debug, Clone)]
pub struct OtlpExportError(String);

impl fmt::Display for OtlpExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OTLP export: {}", self.0)
    }
}

impl std::error::Error for OtlpExportError {}

impl From<OtlpExportError> for kratos_core::Error {
    fn from(err: OtlpExportError) -> Self {
        kratos_core::Error::internal_server("OTLP", err.to_string())
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
