//! The Consul registry against the stand-in agent, over `https://` (a
//! TLS-terminating proxy in front of the plain stand-in).

use kratos::registry::consul::ConsulRegistry;
use kratos::registry::{Discovery, Registrar, ServiceInstance};
use kratos::tls::ALPN_HTTP1;
use kratos_testing::{ConsulAgent, TestPki};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::common;

/// Accepts TLS on a loopback port and forwards each connection to
/// `upstream` in the clear; returns the port's `https://` URL.
async fn tls_proxy(pki: &TestPki, upstream: std::net::SocketAddr) -> (String, JoinHandle<()>) {
    let acceptor = common::server_tls(pki)
        .acceptor(&[ALPN_HTTP1])
        .expect("an acceptor");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn the_consul_registry_registers_and_discovers_over_https() {
    let pki = TestPki::new();
    let agent = ConsulAgent::start().await;
    let (url, proxy) = tls_proxy(&pki, agent.local_addr()).await;

    let registry = ConsulRegistry::builder(url.as_str())
        .tls(common::client_tls(&pki))
        .build();
    let instance =
        ServiceInstance::new("tls-1", "tls-consul").with_endpoint("grpcs://127.0.0.1:9443");
    registry
        .register(&instance)
        .await
        .expect("register over https");
    assert_eq!(agent.service_ids(), vec!["tls-1".to_owned()]);
    let found = registry
        .get_service("tls-consul")
        .await
        .expect("discover over https");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].endpoints,
        vec!["grpcs://127.0.0.1:9443".to_owned()]
    );
    registry
        .deregister(&instance)
        .await
        .expect("deregister over https");

    // Without the CA (system roots only), the agent's certificate is refused.
    let untrusting = ConsulRegistry::builder(url.as_str()).build();
    let err = untrusting.get_service("tls-consul").await.unwrap_err();
    assert!(
        err.to_string().contains("UnknownIssuer") || format!("{err:?}").contains("UnknownIssuer"),
        "{err:?}"
    );

    proxy.abort();
}

/// `PUT /v1/kv/<key>` on the stand-in, in the clear.
async fn put_kv(agent: &ConsulAgent, key: &str, value: &'static str) {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let req = http::Request::put(format!("{}/v1/kv/{key}", agent.address()))
        .body(Full::from(value))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
}

#[tokio::test]
async fn the_consul_config_source_loads_over_https() {
    use kratos::config::Config;
    use kratos::config::remote::ConsulSource;

    let pki = TestPki::new();
    let agent = ConsulAgent::start().await;
    put_kv(&agent, "tls-app/base.yaml", "orders:\n  max: 10\n").await;
    let (url, proxy) = tls_proxy(&pki, agent.local_addr()).await;

    let config = Config::builder()
        .source(ConsulSource::new(&url, "tls-app/").tls(common::client_tls(&pki)))
        .build();
    config.load().await.expect("load over https");
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 10);

    proxy.abort();
}
