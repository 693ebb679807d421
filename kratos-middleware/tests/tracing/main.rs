//! Tracing over real HTTP and gRPC servers and clients, exporting through
//! the OpenTelemetry SDK over OTLP/gRPC to an in-process receiver.
//!
//! A binary of its own: the tracer provider and propagator are process-wide
//! globals, so these tests take [`GLOBALS`] while they run.

mod collector;
mod sampled;
mod servers;
mod unsampled;

/// Held by a test while it owns the global tracer provider.
pub static GLOBALS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Flushes every finished span to the collector (blocking, so off the
/// runtime's workers).
pub async fn flush(provider: &kratos_middleware::tracing::otlp::SdkTracerProvider) {
    let provider = provider.clone();
    tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .expect("flush task")
        .expect("flushed");
}

/// Shuts the provider down.
pub async fn shutdown(provider: kratos_middleware::tracing::otlp::SdkTracerProvider) {
    tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .expect("shutdown task")
        .expect("shut down");
}
