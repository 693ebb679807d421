//! circuitbreaker (client side): opens against a failing backend, failing
//! fast without a network call, and closes after it recovers.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::circuitbreaker::CircuitBreakerLayer;
use tower::ServiceBuilder;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_against_503_and_closes_after_recovery() {
    let backend = Backend::default();
    backend.failing.store(true, Ordering::SeqCst);
    let s = serve(kratos_middleware::layer(backend.clone())).await;
    let (grpc, http) = (s.grpc.clone(), s.http.clone());
    let b = backend.clone();

    // The client runs on its own runtime with a paused clock, so the test
    // moves the breaker's window forward instead of sleeping.
    let client = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async move {
            let breaker = CircuitBreakerLayer::new();
            let svc = ServiceBuilder::new()
                .layer(breaker.clone())
                .service(channel(&grpc).await);
            let mut client = GreeterClient::new(svc);

            // Open: after the 100-request minimum, nearly every call fails
            // fast with CIRCUITBREAKER and never reaches the backend.
            let (mut fast, mut down) = (0, 0);
            for _ in 0..300 {
                let err = say_hello(&mut client, "x").await.unwrap_err();
                assert_eq!(err.code(), 503);
                match err.reason() {
                    "CIRCUITBREAKER" => fast += 1,
                    "BACKEND_DOWN" => down += 1,
                    other => panic!("unexpected reason {other}"),
                }
            }
            assert_eq!(b.hits(), down, "a rejected call makes no network call");
            assert!(down >= 100 && fast >= 100, "down={down} fast={fast}");

            // The same over HTTP, through the same layer type.
            let http_svc = ServiceBuilder::new().layer(breaker).service(http_client());
            let mut statuses = Vec::new();
            for _ in 0..300 {
                let req = http::Request::get(format!("{http}/hello/x"))
                    .body(Body::empty())
                    .unwrap();
                let (status, _, body) = send(http_svc.clone(), req).await;
                statuses.push((status, json_error(status, &body).reason().to_owned()));
            }
            assert!(statuses.iter().all(|(s, _)| *s == 503));
            let fast_http = statuses
                .iter()
                .filter(|(_, r)| r == "CIRCUITBREAKER")
                .count();
            assert!(fast_http >= 100, "{fast_http}");

            // The backend recovers; once the 3 s window has passed the
            // breaker lets calls through again and stays closed.
            b.failing.store(false, Ordering::SeqCst);
            tokio::time::advance(Duration::from_millis(3100)).await;
            for _ in 0..200 {
                assert_eq!(say_hello(&mut client, "x").await.unwrap(), "Hello x");
            }
        })
    });
    tokio::task::spawn_blocking(move || client.join())
        .await
        .unwrap()
        .unwrap();
    s.stop().await;
}
