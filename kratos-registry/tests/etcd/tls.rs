//! The etcd backend over TLS (`etcd-tls`): a real etcd serving `https://`
//! with a certificate from a throwaway CA.

use std::error::Error as _;
use std::time::Duration;

use kratos_registry::etcd::{EtcdRegistry, EtcdTls};
use kratos_registry::{Discovery, Registrar, RegistryError};
use kratos_testing::{EtcdServer, TestCa};

use crate::common::{TTL, instance};
use crate::watching::{next_within, wait_for};

/// A registry talking to `etcd` with `tls`, with short timeouts.
async fn tls_registry(etcd: &EtcdServer, tls: EtcdTls) -> EtcdRegistry {
    EtcdRegistry::builder([etcd.endpoint()])
        .ttl(TTL)
        .tls(tls)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(1))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(500))
        .keep_alive(Duration::from_secs(1), Duration::from_secs(1))
        .connect()
        .await
        .expect("build an etcd registry")
}

/// The error and all its sources, one string.
fn chain(e: &RegistryError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(" <- ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test]
async fn register_and_discover_over_tls() {
    let etcd = EtcdServer::start_tls().await;
    assert!(etcd.endpoint().starts_with("https://127.0.0.1:"));
    let ca = etcd.ca_pem().expect("TLS mode has a CA");
    let registry = tls_registry(&etcd, EtcdTls::new().ca_pem(ca)).await;
    let a = instance("a");

    let mut watcher = registry.watch("svc").await.unwrap();
    assert!(
        next_within(&mut watcher, Duration::from_secs(2))
            .await
            .is_empty()
    );

    registry.register(&a).await.unwrap();
    assert_eq!(registry.get_service("svc").await.unwrap(), vec![a.clone()]);
    let seen = wait_for(&mut watcher, Duration::from_secs(2), |l| !l.is_empty()).await;
    assert_eq!(seen, vec![a.clone()]);

    registry.deregister(&a).await.unwrap();
    let none = next_within(&mut watcher, Duration::from_secs(2)).await;
    assert!(none.is_empty(), "deregistering is seen over TLS: {none:?}");
    assert!(registry.get_service("svc").await.unwrap().is_empty());
    watcher.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_whose_ca_is_not_trusted_is_refused_at_the_handshake() {
    let etcd = EtcdServer::start_tls().await;
    let stranger = TestCa::generate().expect("make another CA");
    let cases = [
        ("no CA at all", EtcdTls::new()),
        ("another CA", EtcdTls::new().ca_pem(stranger.cert_pem())),
    ];
    for (what, tls) in cases {
        let registry = tls_registry(&etcd, tls).await;
        let err = tokio::time::timeout(Duration::from_secs(5), registry.register(&instance("a")))
            .await
            .unwrap_or_else(|_| panic!("{what}: registering hung instead of failing"))
            .expect_err("a server signed by an untrusted CA must be refused");
        let text = chain(&err);
        assert!(err.is_unavailable(), "{what}: {text}");
        assert!(
            text.contains(&etcd.endpoint()),
            "{what}: says where: {text}"
        );
        assert!(
            text.contains("the TLS handshake failed") && text.contains("CA"),
            "{what}: points at the CA: {text}"
        );
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{what}: carries rustls's reason: {text}"
        );
    }
}
