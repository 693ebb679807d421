//! A discovery client reaching a `grpcs://` and an `https://` instance.

use kratos::registry::{Discovery, MemoryRegistry};
use kratos_testing::TestPki;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::common::{self, SERVICE};

#[tokio::test]
async fn discovery_clients_reach_grpcs_and_https_instances() {
    let pki = TestPki::new();
    let registry = MemoryRegistry::new();
    let app = common::start(common::server_tls(&pki), &registry).await;

    // The servers advertise, and register, the TLS schemes.
    let endpoints = app.endpoints().to_vec();
    assert!(
        endpoints
            .iter()
            .any(|e| e.starts_with("https://127.0.0.1:")),
        "{endpoints:?}"
    );
    assert!(
        endpoints
            .iter()
            .any(|e| e.starts_with("grpcs://127.0.0.1:")),
        "{endpoints:?}"
    );
    let registered = registry.get_service(SERVICE).await.unwrap();
    assert_eq!(registered[0].endpoints, endpoints);

    let channel = common::grpc_channel(&registry, common::client_tls(&pki)).await;
    let status = common::health_check(channel)
        .await
        .expect("a health check over TLS");
    assert_eq!(status, ServingStatus::Serving as i32);

    let client = common::http_client(&registry, common::client_tls(&pki)).await;
    let reply = common::hello(&client).await.expect("GET /hello over TLS");
    assert_eq!(reply, serde_json::json!({"hello": "tls"}));

    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_not_signed_by_the_trusted_ca_is_refused() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let registry = MemoryRegistry::new();
    let app = common::start(common::server_tls(&pki), &registry).await;

    // Trusting another CA: both clients fail to connect, naming the reason.
    let channel = common::grpc_channel(&registry, common::client_tls(&other)).await;
    let status = common::health_check(channel).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.message().contains("UnknownIssuer"), "{status:?}");
    let client = common::http_client(&registry, common::client_tls(&other)).await;
    let err = common::hello(&client).await.unwrap_err();
    assert_eq!(err.code(), 503, "{err:?}");
    assert!(err.message().contains("UnknownIssuer"), "{err:?}");

    app.stop().await.unwrap();
}

#[tokio::test]
async fn go_kratos_is_secure_endpoints_are_dialled_over_tls() {
    use kratos::registry::{Registrar, ServiceInstance};

    let pki = TestPki::new();
    let served = MemoryRegistry::new();
    let app = common::start(common::server_tls(&pki), &served).await;
    // Re-register the instance as an older Go Kratos service spells it.
    let go_form: Vec<String> = app
        .endpoints()
        .iter()
        .map(|e| {
            e.replacen("grpcs://", "grpc://", 1)
                .replacen("https://", "http://", 1)
                + "?isSecure=true"
        })
        .collect();
    let registry = MemoryRegistry::new();
    let mut instance = ServiceInstance::new("go-1", SERVICE);
    instance.endpoints = go_form;
    registry.register(&instance).await.unwrap();

    let channel = common::grpc_channel(&registry, common::client_tls(&pki)).await;
    assert_eq!(channel.selector().nodes()[0].node().scheme(), "grpcs");
    let status = common::health_check(channel)
        .await
        .expect("a health check over TLS");
    assert_eq!(status, ServingStatus::Serving as i32);
    let client = common::http_client(&registry, common::client_tls(&pki)).await;
    assert_eq!(client.selector().nodes()[0].node().scheme(), "https");
    common::hello(&client).await.expect("GET /hello over TLS");

    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_trickled_handshake_is_closed_after_the_header_read_timeout() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let pki = kratos_testing::TestPki::new();
    let http = kratos::http::HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .tls(common::server_tls(&pki))
        .limits(kratos::Limits::default().with_header_read_timeout(Duration::from_millis(500)))
        .build();
    let app = kratos::App::builder()
        .name("slow-handshake")
        .server(http)
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the App starts");
    let endpoint = app.endpoints()[0].clone();
    let addr = endpoint.trim_start_matches("https://").to_owned();

    // The first byte of a ClientHello record, then nothing: the server has
    // seen the connection speak, and waits for the rest of the handshake.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(&[0x16]).await.unwrap();
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the stalled handshake was never given up");
    app.stop().await.expect("a clean stop");
}
