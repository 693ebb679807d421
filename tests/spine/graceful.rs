//! Graceful stop: in-flight requests finish, new ones are refused once the
//! servers stopped, and health says NOT_SERVING while the App drains.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::routing::get;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::registry::{Discovery, MemoryRegistry};
use kratos::{App, Error, Server, ServerContext};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::common::{channel, fetch, http, start_app};

/// Wraps a server and says when the App asks it to stop.
#[derive(Debug)]
struct StopSignalling {
    inner: HttpServer,
    stopping: Arc<Notify>,
}

#[async_trait]
impl Server for StopSignalling {
    async fn start(&self, ctx: ServerContext) -> Result<(), Error> {
        self.inner.start(ctx).await
    }

    async fn stop(&self, deadline: Instant) -> Result<(), Error> {
        self.stopping.notify_one();
        self.inner.stop(deadline).await
    }

    fn endpoint(&self) -> Option<String> {
        self.inner.endpoint()
    }
}

#[tokio::test]
async fn in_flight_request_completes_and_later_ones_are_refused() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let stopping = Arc::new(Notify::new());
    let (entered_tx, release_rx) = (entered.clone(), release.clone());
    let server = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/slow",
            get(move || {
                let (entered, release) = (entered_tx.clone(), release_rx.clone());
                async move {
                    entered.notify_one();
                    let _permit = release.acquire().await.unwrap();
                    "finished"
                }
            }),
        )
        .build();
    let app = start_app(
        App::builder()
            .name("graceful")
            .registrar(MemoryRegistry::new())
            .stop_timeout(Duration::from_secs(30))
            .server(StopSignalling {
                inner: server,
                stopping: stopping.clone(),
            }),
    )
    .await;
    let base = app.endpoints()[0].clone();

    let in_flight = tokio::spawn({
        let url = format!("{base}/slow");
        async move { fetch(&url).await }
    });
    entered.notified().await;
    app.stop_handle().stop();
    stopping.notified().await;
    release.add_permits(1);

    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status.as_u16(), body.as_str()), (200, "finished"));
    app.wait().await.expect("a clean stop");

    let refused = http(http::Method::GET, &format!("{base}/slow"), "").await;
    assert!(
        refused.is_err(),
        "a request after stop must be refused: {refused:?}"
    );
}

#[tokio::test]
async fn health_is_not_serving_during_the_drain() {
    let registry = MemoryRegistry::new();
    let app = start_app(
        App::builder()
            .name("draining")
            .registrar(registry.clone())
            // Long enough to check health from both transports while draining;
            // the test does not wait for it to pass.
            .drain_delay(Duration::from_secs(3))
            .server(HttpServer::builder().address(([127, 0, 0, 1], 0)).build())
            .server(GrpcServer::builder().address(([127, 0, 0, 1], 0)).build()),
    )
    .await;
    let http_base = app.endpoints()[0].clone();
    let mut health = HealthClient::new(channel(&app.endpoints()[1]).await);
    let check = HealthCheckRequest::default();

    assert_eq!(fetch(&format!("{http_base}/health")).await.0, 200);
    let serving = health.check(check.clone()).await.unwrap().into_inner();
    assert_eq!(serving.status, 1, "SERVING");

    let mut watcher = registry.watch("draining").await.unwrap();
    assert!(!watcher.next().await.unwrap().is_empty());
    app.stop_handle().stop();
    // Health goes NOT_SERVING before the instance is deregistered.
    assert!(watcher.next().await.unwrap().is_empty());

    let (status, body) = fetch(&format!("{http_base}/health")).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (503, r#"{"status":"NOT_SERVING"}"#)
    );
    let draining = health.check(check).await.unwrap().into_inner();
    assert_eq!(draining.status, 2, "NOT_SERVING");
    app.wait().await.expect("a clean stop");
}

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body) from
/// `stream`; the lowercased text.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|n| n.trim().parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response within 10 s")
            .expect("a read");
        assert!(
            n > 0,
            "the connection closed before a whole response: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn a_request_sent_on_an_idle_connection_as_the_stop_begins_is_answered_and_closes_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stopping = Arc::new(Notify::new());
    let server = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/hello", get(|| async { "hi" }))
        .build();
    let app = start_app(App::builder().name("linger").server(StopSignalling {
        inner: server,
        stopping: stopping.clone(),
    }))
    .await;
    let address = app.endpoints()[0].trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connected");
    let request = b"GET /hello HTTP/1.1\r\nhost: linger\r\n\r\n";

    stream.write_all(request).await.expect("sent");
    let first = read_response(&mut stream).await;
    assert!(
        first.starts_with("http/1.1 200") && first.ends_with("hi"),
        "{first}"
    );

    // The connection is idle and kept alive; the stop begins and the
    // client, not knowing, sends its next request on it.
    app.stop_handle().stop();
    stopping.notified().await;
    // Stopped accepting: new connections are refused from here on.
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        tokio::task::yield_now().await;
    }
    stream.write_all(request).await.expect("sent");
    let second = read_response(&mut stream).await;
    assert!(
        second.starts_with("http/1.1 200") && second.ends_with("hi"),
        "{second}"
    );
    assert!(second.contains("connection: close"), "{second}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "then the server closes it: {closed:?}"
    );
    app.wait().await.expect("a clean stop");
}
