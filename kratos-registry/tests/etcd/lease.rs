//! Leases: kept alive while registered, expire when the process is gone,
//! and are re-created when lost.

use std::time::{Duration, Instant};

use kratos_registry::etcd::etcd_client::GetOptions;
use kratos_registry::{Discovery, Registrar};
use kratos_testing::EtcdServer;

use crate::common::{TTL, ids, instance, raw, registry};
use crate::watching::{next_within, wait_for};

#[tokio::test]
async fn a_registrar_gone_without_deregister_disappears_after_the_ttl() {
    let etcd = EtcdServer::start().await;
    let discovery = registry(&etcd, TTL).await;
    let doomed = registry(&etcd, TTL).await;
    doomed.register(&instance("a")).await.unwrap();
    let mut watcher = discovery.watch("svc").await.unwrap();
    assert_eq!(
        ids(&next_within(&mut watcher, Duration::from_millis(100)).await),
        ["a"]
    );

    // A killed process: its keep-alive stops, nobody deletes the key.
    let killed_at = Instant::now();
    drop(doomed);

    let list = next_within(&mut watcher, TTL * 2 + Duration::from_secs(2)).await;
    let gone_after = killed_at.elapsed();
    assert!(list.is_empty());
    assert!(
        gone_after >= TTL / 2,
        "removed by lease expiry, not by a delete: {gone_after:?}"
    );
    eprintln!("instance of a killed registrar gone after {gone_after:?} (TTL {TTL:?})");
}

#[tokio::test]
async fn keep_alive_holds_the_instance_past_its_ttl() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    registry.register(&instance("a")).await.unwrap();
    let mut watcher = registry.watch("svc").await.unwrap();
    next_within(&mut watcher, Duration::from_millis(100)).await;
    // Nothing may change for two TTLs: the lease is being renewed.
    let change = tokio::time::timeout(TTL * 2, watcher.next()).await;
    assert!(change.is_err(), "unexpected change: {change:?}");
    assert_eq!(ids(&registry.get_service("svc").await.unwrap()), ["a"]);
}

#[tokio::test]
async fn a_revoked_lease_is_replaced_by_a_new_registration() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    let a = instance("a");
    registry.register(&a).await.unwrap();
    let mut watcher = registry.watch("svc").await.unwrap();
    next_within(&mut watcher, Duration::from_millis(100)).await;

    let mut client = raw(&etcd).await;
    let key = registry.key(&a);
    let lease = client.get(key.as_str(), None).await.unwrap().kvs()[0].lease();
    client.lease_revoke(lease).await.unwrap();

    assert!(
        next_within(&mut watcher, Duration::from_secs(1))
            .await
            .is_empty()
    );
    let back = wait_for(&mut watcher, TTL + Duration::from_secs(1), |l| l.len() == 1).await;
    assert_eq!(back, vec![a.clone()]);
    let resp = client
        .get(key.as_str(), Some(GetOptions::new()))
        .await
        .unwrap();
    assert_ne!(resp.kvs()[0].lease(), lease, "registered on a new lease");

    // Deregistering stops the keep-alive for good.
    registry.deregister(&a).await.unwrap();
    assert!(
        next_within(&mut watcher, Duration::from_secs(1))
            .await
            .is_empty()
    );
    let change = tokio::time::timeout(TTL, watcher.next()).await;
    assert!(
        change.is_err(),
        "a deregistered instance came back: {change:?}"
    );
}
