//! Which provider a layer's spans go to: the global one of each call until
//! a provider starts spans of its own, then that one for good.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kratos_middleware::tracing::TracingLayer;
use opentelemetry::Context;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};
use tower::{Layer, Service, ServiceExt, service_fn};

/// Counts the spans that end in one provider.
#[derive(Debug, Clone, Default)]
struct Ended(Arc<AtomicUsize>);

impl Ended {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl SpanProcessor for Ended {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, _span: SpanData) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Installs a provider counting its ended spans in the returned [`Ended`].
fn install_counting() -> Ended {
    let ended = Ended::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(ended.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider);
    ended
}

#[tokio::test]
async fn a_layer_keeps_the_first_provider_that_starts_its_spans() {
    let _globals = crate::GLOBALS.lock().await;
    opentelemetry::global::set_tracer_provider(NoopTracerProvider::new());
    let mut service = TracingLayer::server().layer(service_fn(|_req: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(()))
    }));
    let mut call = async || {
        let req = http::Request::get("/hello").body(()).unwrap();
        service.ready().await.unwrap().call(req).await.unwrap();
    };

    // No provider yet: the layer is built, and serves, before one exists.
    call().await;
    let first = install_counting();
    call().await;
    assert_eq!(
        first.count(),
        1,
        "a provider installed after the layer is used"
    );

    // The layer now keeps the first provider's tracer.
    let second = install_counting();
    call().await;
    assert_eq!((first.count(), second.count()), (2, 0));

    // A new layer takes the provider of its own first call.
    let mut fresh = TracingLayer::server().layer(service_fn(|_req: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(()))
    }));
    let req = http::Request::get("/hello").body(()).unwrap();
    fresh.ready().await.unwrap().call(req).await.unwrap();
    assert_eq!((first.count(), second.count()), (2, 1));
}
