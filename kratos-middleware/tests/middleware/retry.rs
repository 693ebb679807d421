//! retry (client side): a flaky backend succeeds on the third attempt, a
//! non-idempotent call is not retried, the budget stops a retry storm, a
//! retry goes to a node the call has not tried.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::Matcher;
use kratos_middleware::retry::{RetryBudget, RetryLayer};
use tower::ServiceBuilder;

use crate::common::*;

fn retry() -> RetryLayer {
    RetryLayer::new()
        .attempts(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn flaky_backend_succeeds_on_the_third_attempt() {
    let backend = Backend::default();
    let s = serve(kratos_middleware::layer(backend.clone())).await;

    // gRPC: opted in as idempotent.
    backend.fail_first.store(2, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(retry().idempotent(Matcher::exact("/helloworld.v1.Greeter/SayHello")))
        .service(channel(&s.grpc).await);
    let mut client = GreeterClient::new(svc);
    assert_eq!(say_hello(&mut client, "x").await.unwrap(), "Hello x");
    assert_eq!(backend.hits(), 3);

    // HTTP: GET is idempotent.
    backend.fail_first.store(2, Ordering::SeqCst);
    let svc = ServiceBuilder::new().layer(retry()).service(http_client());
    let req = http::Request::get(format!("{}/hello/x", s.http))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(svc, req).await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"Hello x"}"#));
    assert_eq!(backend.hits(), 6);
    s.stop().await;
}

#[tokio::test]
async fn non_idempotent_calls_are_not_retried() {
    let backend = Backend::default();
    let s = serve(kratos_middleware::layer(backend.clone())).await;

    backend.fail_first.store(2, Ordering::SeqCst);
    let svc = ServiceBuilder::new()
        .layer(retry())
        .service(channel(&s.grpc).await);
    let err = say_hello(&mut GreeterClient::new(svc), "x")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (503, "BACKEND_DOWN"));
    assert_eq!(backend.hits(), 1);

    backend.fail_first.store(2, Ordering::SeqCst);
    let svc = ServiceBuilder::new().layer(retry()).service(http_client());
    let req = http::Request::post(format!("{}/hello/x", s.http))
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, body) = send(svc, req).await;
    assert_eq!(
        (status, json_error(status, &body).reason().to_owned()),
        (503, "BACKEND_DOWN".into())
    );
    assert_eq!(backend.hits(), 2);
    s.stop().await;
}

#[tokio::test]
async fn budget_stops_a_retry_storm() {
    let backend = Backend::default();
    backend.failing.store(true, Ordering::SeqCst);
    let s = serve(kratos_middleware::layer(backend.clone())).await;
    let svc = ServiceBuilder::new()
        .layer(
            retry()
                .idempotent(Matcher::prefix("/helloworld."))
                .budget(RetryBudget::new(0.1, 5)),
        )
        .service(channel(&s.grpc).await);
    let mut client = GreeterClient::new(svc);
    for _ in 0..100 {
        let err = say_hello(&mut client, "x").await.unwrap_err();
        assert_eq!(err.reason(), "BACKEND_DOWN");
    }
    // Without a budget: 300 calls. With it: 100 + 5 banked + 10% of 100.
    let hits = backend.hits();
    assert!((101..=115).contains(&hits), "{hits}");
    s.stop().await;
}

/// Registers the servers `s` as instances `id` of `greeter` in `registry`.
async fn register(registry: &kratos_registry::MemoryRegistry, id: &str, s: &Servers) {
    use kratos_registry::Registrar;
    let instance = kratos_registry::ServiceInstance::new(id, "greeter")
        .with_endpoint(s.grpc.replacen("http://", "grpc://", 1))
        .with_endpoint(s.http.clone());
    registry.register(&instance).await.unwrap();
}

#[tokio::test]
async fn a_retry_goes_to_a_node_this_call_has_not_tried() {
    let (down, up) = (Backend::default(), Backend::default());
    down.failing.store(true, Ordering::SeqCst);
    let bad = serve(kratos_middleware::layer(down.clone())).await;
    let good = serve(kratos_middleware::layer(up.clone())).await;
    let registry = kratos_registry::MemoryRegistry::new();
    register(&registry, "bad", &bad).await;
    register(&registry, "good", &good).await;
    // Random picks: without the tried-node exclusion, a retry would land on
    // the failing node again a quarter of the time.
    let retry = || {
        retry()
            .retry_on([503])
            .idempotent(Matcher::prefix("/"))
            .budget(RetryBudget::new(1.0, 100))
    };
    let channel = kratos_transport::grpc::GrpcChannel::builder()
        .endpoint("discovery:///greeter")
        .discovery(registry.clone())
        .balancer(kratos_selector::balancer::Random::new)
        .layer(retry())
        .connect()
        .await
        .unwrap();
    let mut grpc = GreeterClient::new(channel);
    let http = kratos_transport::http::HttpClient::builder()
        .endpoint("discovery:///greeter")
        .discovery(registry)
        .balancer(kratos_selector::balancer::Random::new)
        .layer(retry())
        .connect()
        .await
        .unwrap();
    for _ in 0..40 {
        let before = down.hits();
        assert_eq!(say_hello(&mut grpc, "x").await.unwrap(), "Hello x");
        assert!(
            down.hits() - before <= 1,
            "a gRPC call went to the failing node twice"
        );
        let before = down.hits();
        let reply: serde_json::Value = http
            .invoke(http::Method::POST, "/hello/y", &())
            .await
            .unwrap();
        assert_eq!(reply["message"], "Hello y");
        assert!(
            down.hits() - before <= 1,
            "an HTTP call went to the failing node twice"
        );
    }
    assert!(down.hits() > 0 && up.hits() >= 80);
    bad.stop().await;
    good.stop().await;
}
