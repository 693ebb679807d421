//! Compile-time checks, as tokio's `async_send_sync.rs`: the layers, their
//! services and futures are `Send` (and `Sync` where shared), so they fit
//! both servers and multi-threaded clients.

use std::time::Duration;

use axum::body::Body;
use axum::routing::Route;
#[cfg(feature = "jwt")]
use kratos_middleware::auth::jwt::{JwtClientLayer, JwtLayer};
use kratos_middleware::circuitbreaker::CircuitBreakerLayer;
use kratos_middleware::logging::LoggingLayer;
use kratos_middleware::metadata::MetadataLayer;
use kratos_middleware::ratelimit::RateLimitLayer;
use kratos_middleware::recovery::RecoveryLayer;
use kratos_middleware::retry::RetryLayer;
use kratos_middleware::timeout::TimeoutLayer;
#[cfg(feature = "otel")]
use kratos_middleware::tracing::TracingLayer;
use kratos_middleware::{Matcher, Next, Request, client_defaults, from_fn, server_defaults, when};
use tower_layer::Layer;
use tower_service::Service;

fn send_sync<T: Send + Sync>(_: &T) {}

fn future_is_send<L>(layer: L)
where
    L: Layer<Route> + Send + Sync,
    L::Service: Service<http::Request<Body>> + Send + Sync,
    <L::Service as Service<http::Request<Body>>>::Future: Send,
{
    send_sync(&layer);
}

#[test]
fn layers_services_and_futures_are_send_and_sync() {
    future_is_send(RecoveryLayer::new());
    future_is_send(LoggingLayer::server());
    future_is_send(MetadataLayer::server());
    future_is_send(TimeoutLayer::new(Duration::from_secs(1)));
    future_is_send(RateLimitLayer::bbr());
    future_is_send(RateLimitLayer::token_bucket(1.0, 1));
    future_is_send(CircuitBreakerLayer::new());
    future_is_send(RetryLayer::new());
    #[cfg(feature = "jwt")]
    future_is_send(JwtLayer::<crate::jwt::Claims>::hs256(b"k"));
    #[cfg(feature = "jwt")]
    future_is_send(JwtClientLayer::token("t"));
    #[cfg(feature = "otel")]
    future_is_send(TracingLayer::server());
    #[cfg(feature = "otel")]
    future_is_send(TracingLayer::client());
    future_is_send(server_defaults());
    future_is_send(client_defaults());
    future_is_send(when(
        Matcher::prefix("/a"),
        from_fn(|req: Request, next: Next| next.run(req)),
    ));
}

#[test]
fn a_call_context_and_its_scope_are_send() {
    fn send<T: Send>(_: &T) {}
    let cx = kratos_middleware::context::current();
    send_sync(&cx);
    send(&cx.scope(async {}));
}
