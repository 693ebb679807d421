//! Helpers shared by the etcd tests.

use std::time::Duration;

use kratos_registry::etcd::EtcdRegistry;
use kratos_registry::{Discovery, ServiceInstance, Watcher};
use kratos_testing::EtcdServer;

/// The lease TTL the tests use, short so that expiry tests stay fast.
pub(crate) const TTL: Duration = Duration::from_secs(2);

/// A registry with short timeouts and retry delays, as a test wants.
pub(crate) async fn registry(etcd: &EtcdServer, ttl: Duration) -> EtcdRegistry {
    registry_at(&[etcd.endpoint()], ttl).await
}

/// [`registry`] for any endpoints, e.g. the members of a cluster.
pub(crate) async fn registry_at(endpoints: &[String], ttl: Duration) -> EtcdRegistry {
    EtcdRegistry::builder(endpoints)
        .ttl(ttl)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(1))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(500))
        .keep_alive(Duration::from_secs(1), Duration::from_secs(1))
        .connect()
        .await
        .expect("build an etcd registry")
}

/// A raw etcd client, to look at what is stored.
pub(crate) async fn raw(etcd: &EtcdServer) -> kratos_registry::etcd::etcd_client::Client {
    kratos_registry::etcd::etcd_client::Client::connect([etcd.endpoint()], None)
        .await
        .expect("connect a raw etcd client")
}

/// A watcher of `svc` on `discovery` whose first list has the instances
/// `first` (by id).
pub(crate) async fn watch_svc(discovery: &EtcdRegistry, first: &[&str]) -> Box<dyn Watcher> {
    let mut watcher = discovery.watch("svc").await.expect("watch svc");
    let list = crate::watching::next_within(&mut watcher, Duration::from_secs(1)).await;
    assert_eq!(ids(&list), first, "the first list");
    watcher
}

pub(crate) fn instance(id: &str) -> ServiceInstance {
    ServiceInstance::new(id, "svc")
        .with_version("v1")
        .with_endpoint(format!("grpc://127.0.0.1:{}", 9000 + id.len()))
}

pub(crate) fn ids(list: &[ServiceInstance]) -> Vec<&str> {
    list.iter().map(|i| i.id.as_str()).collect()
}
