//! A watcher sees every change, the last instance leaving included.

use std::time::Duration;

use kratos_registry::{Discovery, Registrar};
use kratos_testing::EtcdServer;

use crate::common::{TTL, ids, instance, registry};
use crate::watching::{next_within, wait_for};

#[tokio::test]
async fn watcher_sees_two_then_one_then_none() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    let (a, b) = (instance("a"), instance("b"));

    let mut watcher = registry.watch("svc").await.unwrap();
    assert!(
        next_within(&mut watcher, Duration::from_millis(100))
            .await
            .is_empty()
    );

    registry.register(&a).await.unwrap();
    registry.register(&b).await.unwrap();
    let both = wait_for(&mut watcher, Duration::from_secs(2), |l| l.len() == 2).await;
    assert_eq!(both, vec![a.clone(), b.clone()]);

    registry.deregister(&a).await.unwrap();
    let one = next_within(&mut watcher, Duration::from_secs(1)).await;
    assert_eq!(one, vec![b.clone()]);

    registry.deregister(&b).await.unwrap();
    let none = next_within(&mut watcher, Duration::from_secs(1)).await;
    assert!(
        none.is_empty(),
        "the last instance leaving is reported: {none:?}"
    );

    watcher.stop().await.unwrap();
    assert!(watcher.next().await.unwrap_err().is_stopped());
}

#[tokio::test]
async fn first_list_comes_at_once_and_get_service_agrees() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    for id in ["a", "b", "c"] {
        registry.register(&instance(id)).await.unwrap();
    }
    let mut watcher = registry.watch("svc").await.unwrap();
    let first = next_within(&mut watcher, Duration::from_millis(50)).await;
    assert_eq!(ids(&first), ["a", "b", "c"]);
    assert_eq!(registry.get_service("svc").await.unwrap(), first);
    assert!(registry.get_service("other").await.unwrap().is_empty());
}

#[tokio::test]
async fn services_sharing_a_name_prefix_stay_apart() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    let mut svc2 = instance("x");
    svc2.name = "svc2".into();
    registry.register(&svc2).await.unwrap();
    registry.register(&instance("a")).await.unwrap();
    assert_eq!(ids(&registry.get_service("svc").await.unwrap()), ["a"]);
    assert_eq!(ids(&registry.get_service("svc2").await.unwrap()), ["x"]);
}

#[tokio::test]
async fn re_registering_replaces_the_record() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    let mut watcher = registry.watch("svc").await.unwrap();
    next_within(&mut watcher, Duration::from_millis(100)).await;
    registry.register(&instance("a")).await.unwrap();
    next_within(&mut watcher, Duration::from_secs(1)).await;
    registry
        .register(&instance("a").with_version("v2"))
        .await
        .unwrap();
    let list = next_within(&mut watcher, Duration::from_secs(1)).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].version, "v2");
    assert!(
        registry
            .register(&kratos_registry::ServiceInstance::new("", "svc"))
            .await
            .unwrap_err()
            .is_invalid_instance()
    );
}
