//! Tracing over real HTTP and gRPC servers and clients, exporting through
//! the OpenTelemetry SDK over OTLP/gRPC to an in-process receiver.
//!
//! A binary of its own: the tracer provider and propagator are process-wide
//! globals, so these tests take [`GLOBALS`] while they run.

mod binding;
mod collector;
mod sampled;
mod servers;
mod unsampled;

use kratos_middleware::tracing::TracingLayer;
use kratos_middleware::tracing::otlp::{Otlp, OtlpProvider, Sampling};
use kratos_transport::grpc::GrpcChannel;
use kratos_transport::http::HttpClient;

use crate::collector::Collector;
use crate::servers::Servers;

/// Held by a test while it owns the global tracer provider.
static GLOBALS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One test's world: the global tracer provider, sampling with a given
/// sampler and exporting to an in-process collector; both servers; a gRPC
/// channel and an HTTP client to them carrying the client layer.
pub struct Traced {
    /// The test owns the globals while this lives.
    pub guard: tokio::sync::MutexGuard<'static, ()>,
    pub collector: Collector,
    pub provider: OtlpProvider,
    pub servers: Servers,
    pub channel: GrpcChannel,
    pub http: HttpClient,
}

/// Sets up a [`Traced`] world sampling with `sampler`.
pub async fn traced(sampling: Sampling) -> Traced {
    let guard = GLOBALS.lock().await;
    let (collector, endpoint) = Collector::start().await;
    let provider = Otlp::new(endpoint, "tracing-test")
        .sampling(sampling)
        .follow_parent(false)
        .install()
        .expect("installed");
    let servers = Servers::start().await;
    let channel = GrpcChannel::builder()
        .endpoint(servers.grpc.clone())
        .layer(TracingLayer::client())
        .connect()
        .await
        .expect("channel");
    let http = HttpClient::builder()
        .endpoint(servers.http.clone())
        .layer(TracingLayer::client())
        .connect()
        .await
        .expect("client");
    Traced {
        guard,
        collector,
        provider,
        servers,
        channel,
        http,
    }
}

/// Flushes every finished span to the collector (blocking, so off the
/// runtime's workers).
pub async fn flush(provider: &OtlpProvider) {
    provider.flush().await.expect("flushed");
}

/// Shuts the provider down.
pub async fn shutdown(provider: OtlpProvider) {
    provider.shutdown().await.expect("shut down");
}
