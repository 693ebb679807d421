//! A server wraps each route in its layers once, when it starts: a request
//! is served by that route, not by a route built again for it (which an
//! axum `Router` served as it is would do, boxing and layering per call).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use kratos::http::HttpServer;
use kratos::{AppInfo, Server, ServerContext};
use tower::Layer;

use crate::common::fetch;

/// A layer that counts how often it wraps a service.
#[derive(Clone, Default)]
struct CountWraps(Arc<AtomicUsize>);

impl<S> Layer<S> for CountWraps {
    type Service = S;

    fn layer(&self, inner: S) -> S {
        self.0.fetch_add(1, Ordering::Relaxed);
        inner
    }
}

#[tokio::test]
async fn routes_are_layered_when_the_server_starts_not_per_request() {
    let wraps = CountWraps::default();
    let server = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/hello", get(|| async { "hello" }))
        .layer(wraps.clone())
        .build();
    server
        .start(ServerContext::standalone(AppInfo::new(
            "layered",
            "layered",
            "v1",
            Default::default(),
        )))
        .await
        .unwrap();
    let url = format!("{}/hello", server.endpoint().unwrap());
    assert_eq!(fetch(&url).await.1, "hello");
    let after_one = wraps.0.load(Ordering::Relaxed);
    for _ in 0..5 {
        assert_eq!(fetch(&url).await, (http::StatusCode::OK, "hello".into()));
    }
    assert_eq!(
        wraps.0.load(Ordering::Relaxed),
        after_one,
        "five more requests wrapped the route again"
    );
    server
        .stop(tokio::time::Instant::now() + std::time::Duration::from_secs(1))
        .await
        .unwrap();
}
