//! Consul KV against the stand-in agent (or a real one at `CONSUL_HTTP_ADDR`).

use std::time::Duration;

use kratos_config::Config;
use kratos_config::remote::ConsulSource;
use kratos_testing::ConsulAgent;
use tokio::sync::mpsc;

use crate::next;

/// The agent to talk to: a real one when `CONSUL_HTTP_ADDR` is set.
async fn agent() -> (String, Option<ConsulAgent>) {
    match std::env::var("CONSUL_HTTP_ADDR") {
        Ok(addr) if addr.starts_with("http") => (addr, None),
        Ok(addr) => (format!("http://{addr}"), None),
        Err(_) => {
            let agent = ConsulAgent::start().await;
            (agent.address(), Some(agent))
        }
    }
}

async fn put(address: &str, key: &str, value: &str) {
    let (status, _) = kv(address, http::Method::PUT, key, value).await;
    assert!(status.is_success());
}

async fn kv(
    address: &str,
    method: http::Method,
    key: &str,
    value: &str,
) -> (http::StatusCode, String) {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let req = http::Request::builder()
        .method(method)
        .uri(format!("{address}/v1/kv/{key}"))
        .body(Full::from(value.to_owned()))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn consul_kv_loads_and_sees_a_change() {
    let (address, _agent) = agent().await;
    let prefix = format!("kratos-test/{}/", std::process::id());
    put(
        &address,
        &format!("{prefix}base.yaml"),
        "orders:\n  max: 10\n",
    )
    .await;
    put(
        &address,
        &format!("{prefix}override.json"),
        r#"{"log": {"level": "info"}}"#,
    )
    .await;

    let config = Config::builder()
        .source(ConsulSource::new(&address, &prefix).wait(Duration::from_secs(5)))
        .build();
    config.load().await.unwrap();
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 10);
    assert_eq!(config.get::<String>("log.level").unwrap(), "info");

    let (tx, mut rx) = mpsc::unbounded_channel();
    config
        .watch("orders.max", move |max: Option<u32>| {
            let _ = tx.send(max);
        })
        .unwrap();
    put(
        &address,
        &format!("{prefix}base.yaml"),
        "orders:\n  max: 15\n",
    )
    .await;
    assert_eq!(next(&mut rx).await, Some(15));

    // Deleting the key removes its values, and observers hear of it.
    kv(
        &address,
        http::Method::DELETE,
        &format!("{prefix}base.yaml"),
        "",
    )
    .await;
    assert_eq!(next(&mut rx).await, None);
    kv(
        &address,
        http::Method::DELETE,
        &format!("{prefix}?recurse"),
        "",
    )
    .await;
}
