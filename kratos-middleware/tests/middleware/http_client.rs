//! kratos-transport's `HttpClient` carries every client middleware the gRPC
//! channel does: the default chain (metadata), retry, circuit breaker,
//! timeout, the JWT signer and a user's `from_fn`, each seen doing its job.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use kratos_core::{Error, Metadata};
use kratos_middleware::auth::jwt::{JwtClientLayer, JwtLayer};
use kratos_middleware::circuitbreaker::CircuitBreakerLayer;
use kratos_middleware::metadata::MetadataLayer;
use kratos_middleware::retry::{RetryBudget, RetryLayer};
use kratos_middleware::timeout::TimeoutLayer;
use kratos_middleware::{Chain, Matcher, Next, Request, client_defaults, from_fn};
use kratos_transport::http::HttpClient;

use crate::common::*;
use crate::jwt::Claims;

const SECRET: &[u8] = b"test-secret";

#[derive(Debug, serde::Deserialize)]
struct Reply {
    message: String,
}

fn claims() -> Claims {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Claims {
        sub: "ada".into(),
        exp: now + 60,
    }
}

async fn post(client: &HttpClient, name: &str) -> Result<String, Error> {
    let reply: Reply = client
        .invoke(http::Method::POST, &format!("/hello/{name}"), &())
        .await?;
    Ok(reply.message)
}

#[tokio::test]
async fn every_client_middleware_does_its_job() {
    let backend = Backend::default();
    let s = serve(
        Chain::new()
            .with(MetadataLayer::server())
            .with(JwtLayer::<Claims>::hs256(SECRET))
            .with(kratos_middleware::layer(backend.clone())),
    )
    .await;
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let client = HttpClient::builder()
        .endpoint(&s.http)
        .timeout(Duration::from_secs(10))
        .layer(JwtClientLayer::hs256(SECRET, claims))
        .layer(
            RetryLayer::new()
                .attempts(3)
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .retry_on([503])
                .idempotent(Matcher::prefix("/hello/"))
                .budget(RetryBudget::new(1.0, 10)),
        )
        .layer(TimeoutLayer::client(Duration::from_millis(200)))
        .layer(client_defaults())
        .layer(from_fn(move |req: Request, next: Next| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            }
        }))
        .connect()
        .await
        .unwrap();

    // The JWT signer: the server read the signed subject.
    assert_eq!(post(&client, "claims").await.unwrap(), "ada");

    // Metadata (the default chain): the request's Metadata reached the server.
    let mut md = Metadata::new();
    md.set("x-md-global-tenant", "acme");
    let mut req = http::Request::post("/hello/md")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    req.extensions_mut().insert(md);
    let reply: Reply = client.invoke_with(req).await.unwrap();
    assert_eq!(reply.message, "x-md-global-tenant=acme");

    // Retry: two 503s, then the answer; a POST, opted in as idempotent.
    let before = backend.hits();
    backend.fail_first.store(2, Ordering::SeqCst);
    assert_eq!(post(&client, "x").await.unwrap(), "Hello x");
    assert_eq!(backend.hits() - before, 3);

    // Timeout: a handler that never answers is 504 TIMEOUT at 200 ms, well
    // before the client's own 10 s.
    let err = post(&client, "slow").await.unwrap_err();
    assert_eq!((err.code(), err.reason()), (504, "TIMEOUT"), "{err:?}");

    // The user's from_fn saw every call (the outermost layer: once each).
    assert_eq!(seen.load(Ordering::SeqCst), 4);
    s.stop().await;
}

#[tokio::test]
async fn the_breaker_opens_on_an_http_client() {
    let backend = Backend::default();
    backend.failing.store(true, Ordering::SeqCst);
    let s = serve(kratos_middleware::layer(backend.clone())).await;
    let client = HttpClient::builder()
        .endpoint(&s.http)
        .layer(CircuitBreakerLayer::new())
        .connect()
        .await
        .unwrap();
    let (mut fast, mut down) = (0, 0);
    for _ in 0..300 {
        let err = post(&client, "x").await.unwrap_err();
        assert_eq!(err.code(), 503);
        match err.reason() {
            "CIRCUITBREAKER" => fast += 1,
            "BACKEND_DOWN" => down += 1,
            other => panic!("unexpected reason {other}"),
        }
    }
    assert_eq!(
        backend.hits(),
        down,
        "a rejected call makes no network call"
    );
    assert!(down >= 100 && fast >= 100, "down={down} fast={fast}");
    s.stop().await;
}
