//! The discovery-aware HTTP/JSON client against real servers.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use bytes::Bytes;
use common::{SERVICE, answered_by, node, register_dead, start};
use kratos_core::Error;
use kratos_examples_api::helloworld::v1::HelloReply;
use kratos_registry::MemoryRegistry;
use kratos_selector::balancer::RoundRobin;
use kratos_selector::{NodeFilters, VersionFilter};
use kratos_transport::http::{HttpClient, HttpClientBuilder};

fn dial(registry: &MemoryRegistry) -> HttpClientBuilder {
    HttpClient::builder()
        .endpoint(format!("discovery:///{SERVICE}"))
        .discovery(registry.clone())
}

async fn hello(client: &HttpClient, name: &str) -> Result<String, Error> {
    let reply: HelloReply = client
        .invoke(http::Method::GET, &format!("/hello/{name}"), &())
        .await?;
    Ok(reply.message)
}

async fn spread(client: &HttpClient, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let who = match hello(client, "ada").await {
            Ok(msg) => answered_by(&msg).to_owned(),
            Err(e) => format!("error {}", e.reason()),
        };
        *counts.entry(who).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn json_calls_spread_over_instances_and_follow_deregistration() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let b = start(&registry, "b", "v1").await;
    let client = dial(&registry)
        .balancer(RoundRobin::new)
        .connect()
        .await
        .unwrap();
    let counts = spread(&client, 10).await;
    assert_eq!(counts.get("a"), Some(&5), "{counts:?}");
    assert_eq!(counts.get("b"), Some(&5), "{counts:?}");

    let mut updates = client.selector().subscribe();
    b.stop().await;
    updates
        .wait_for(|_| client.selector().nodes().len() == 1)
        .await
        .unwrap();
    let counts = spread(&client, 10).await;
    assert_eq!(counts.get("a"), Some(&10), "{counts:?}");
    a.stop().await;
}

#[tokio::test]
async fn direct_target_and_error_bodies() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    let client = HttpClient::builder()
        .endpoint(a.endpoint("http"))
        .connect()
        .await
        .unwrap();
    assert_eq!(hello(&client, "ada").await.unwrap(), "Hello ada from a");
    let err = hello(&client, "missing").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.reason(), "USER_NOT_FOUND");
    let node = client.selector().nodes()[0].clone();
    assert_eq!(node.stats().requests(), 2);
    assert_eq!(node.stats().failures(), 0);

    // A request built by hand, with a body, to an unknown route.
    let req = http::Request::post("/nowhere")
        .header("content-type", "application/json")
        .body(Body::from(Bytes::from_static(b"{}")))
        .unwrap();
    let resp = client.send(req).await.unwrap();
    assert_eq!(resp.status(), http::StatusCode::NOT_FOUND);
    a.stop().await;
}

#[tokio::test]
async fn no_instance_is_node_not_found() {
    let registry = MemoryRegistry::new();
    let client = dial(&registry).connect().await.unwrap();
    let err = hello(&client, "ada").await.unwrap_err();
    assert_eq!(err.code(), 503);
    assert_eq!(err.reason(), "NODE_NOT_FOUND");
}

#[tokio::test]
async fn killed_instance_costs_no_call_and_is_ejected() {
    let registry = MemoryRegistry::new();
    let a = start(&registry, "a", "v1").await;
    register_dead(&registry, "dead").await;
    let client = dial(&registry)
        .balancer(RoundRobin::new)
        .connect()
        .await
        .unwrap();
    let counts = spread(&client, 10).await;
    // The refused connection sent nothing: the call went on to `a`, and the
    // dead node left rotation after that one failure.
    assert_eq!(counts.get("a"), Some(&10), "{counts:?}");
    let dead = node(client.selector(), "dead");
    assert_eq!(dead.stats().failures(), 1);
    assert!(dead.stats().is_ejected());
    a.stop().await;
}

#[tokio::test]
async fn version_filter_per_call() {
    let registry = MemoryRegistry::new();
    let v1 = start(&registry, "one", "v1").await;
    let v2 = start(&registry, "two", "v2").await;
    let client = dial(&registry).connect().await.unwrap();
    for _ in 0..10 {
        let mut req = http::Request::get("/hello/ada")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(NodeFilters::new().with(VersionFilter::new("v2")));
        let reply: HelloReply = client.invoke_with(req).await.unwrap();
        assert_eq!(answered_by(&reply.message), "two");
    }
    v1.stop().await;
    v2.stop().await;
}

#[tokio::test]
async fn block_waits_for_the_first_instance() {
    let registry = MemoryRegistry::new();
    let dialling = tokio::spawn(
        dial(&registry)
            .block(true)
            .timeout(std::time::Duration::from_secs(30))
            .connect(),
    );
    let a = start(&registry, "a", "v1").await;
    let client = dialling.await.unwrap().expect("dialled once a registered");
    assert_eq!(hello(&client, "ada").await.unwrap(), "Hello ada from a");
    a.stop().await;
}

/// Serves every connection with `head` and then `body_len` bytes of body
/// (`None`: chunks until the client hangs up).
async fn big_replier(head: &'static str, body_len: Option<usize>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                if conn.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                match body_len {
                    Some(len) => {
                        let _ = conn.write_all(&vec![b'x'; len]).await;
                    }
                    None => {
                        let mut chunk = b"400\r\n".to_vec();
                        chunk.extend_from_slice(&[b'x'; 1024]);
                        chunk.extend_from_slice(b"\r\n");
                        while conn.write_all(&chunk).await.is_ok() {}
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_reply_over_the_limit_is_a_clear_error_not_unbounded_memory() {
    // Announced by its content-length.
    let url = big_replier(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n",
        Some(10),
    )
    .await;
    let (client, err) = fetch_over_limit(url, "/big").await;
    assert!(err.message().contains("over 65536 bytes"), "{err:?}");
    // The node is not blamed for it.
    assert_eq!(client.selector().nodes().len(), 1);

    // Streamed without end: stopped at the limit.
    let url = big_replier(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        None,
    )
    .await;
    fetch_over_limit(url, "/endless").await;
}

/// GETs `path` from `url` with a 64 KiB reply limit, asserting the call
/// fails with 502 `REPLY_TOO_LARGE`; returns the client and the error.
async fn fetch_over_limit(url: String, path: &str) -> (HttpClient, Error) {
    use kratos_transport::http::REPLY_TOO_LARGE;
    let client = HttpClient::builder()
        .endpoint(url)
        .reply_limit(64 * 1024)
        .connect()
        .await
        .unwrap();
    let err = client
        .invoke::<_, serde_json::Value>(http::Method::GET, path, &())
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.reason()),
        (502, REPLY_TOO_LARGE),
        "{err:?}"
    );
    (client, err)
}
