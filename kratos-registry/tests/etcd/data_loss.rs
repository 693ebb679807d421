//! etcd restarted with its data lost (a fresh data dir, revisions from 1):
//! a watcher keeps its last list while the instances register again, and
//! shows the empty list only when nothing registers within one TTL.

use std::time::{Duration, Instant};

use kratos_registry::{Discovery, Registrar, ServiceInstance, Watcher};
use kratos_testing::EtcdServer;

use crate::common::{TTL, ids, instance, registry, watch_svc};
use crate::watching::{next_within, wait_for};

/// Reads the watcher until etcd itself holds `want` again (asked through
/// `check`), failing if the watcher ever shows an empty list.
async fn until_back(
    watcher: &mut Box<dyn Watcher>,
    check: &kratos_registry::etcd::EtcdRegistry,
    want: &[&str],
    within: Duration,
) -> usize {
    let deadline = Instant::now() + within;
    let mut shown = 0;
    loop {
        if let Ok(list) = check.get_service("svc").await
            && ids(&list) == want
        {
            return shown;
        }
        assert!(
            Instant::now() < deadline,
            "{want:?} not back within {within:?}"
        );
        if let Ok(list) = tokio::time::timeout(Duration::from_millis(20), watcher.next()).await {
            let list = list.unwrap();
            shown += 1;
            assert!(!list.is_empty(), "the watcher showed an empty list");
        }
    }
}

#[tokio::test]
async fn a_watcher_never_shows_an_empty_list_while_instances_register_again() {
    let mut etcd = EtcdServer::start().await;
    let registrar = registry(&etcd, TTL).await;
    let discovery = registry(&etcd, TTL).await;
    let check = registry(&etcd, TTL).await;
    registrar.register(&instance("a")).await.unwrap();
    let mut watcher = watch_svc(&discovery, &["a"]).await;
    for round in 0..5 {
        etcd.restart_fresh().await;
        let restarted = Instant::now();
        let shown = until_back(&mut watcher, &check, &["a"], TTL * 2).await;
        let back = restarted.elapsed();
        // A little longer: the watcher must not drop `a` after it came back.
        if let Ok(list) = tokio::time::timeout(Duration::from_millis(100), watcher.next()).await {
            assert_eq!(ids(&list.unwrap()), ["a"]);
        }
        eprintln!(
            "fresh etcd, round {round}: a registered again {back:?} after the restart; the watcher showed {shown} lists meanwhile, none empty"
        );
    }
    // The watcher still follows changes.
    registrar.register(&instance("b")).await.unwrap();
    let list = wait_for(&mut watcher, Duration::from_secs(2), |l| l.len() == 2).await;
    assert_eq!(ids(&list), ["a", "b"]);
    registrar.deregister(&instance("a")).await.unwrap();
    assert_eq!(
        ids(&next_within(&mut watcher, Duration::from_secs(1)).await),
        ["b"]
    );
}

#[tokio::test]
async fn instances_that_are_really_gone_reach_the_empty_list_after_one_ttl() {
    let mut etcd = EtcdServer::start().await;
    let discovery = registry(&etcd, TTL).await;
    let doomed = registry(&etcd, TTL).await;
    doomed.register(&instance("a")).await.unwrap();
    let mut watcher = watch_svc(&discovery, &["a"]).await;

    // Its process is gone (nothing will register it again), and etcd
    // comes back empty.
    drop(doomed);
    etcd.restart_fresh().await;
    let restarted = Instant::now();
    let list: Vec<ServiceInstance> = next_within(&mut watcher, TTL * 3).await;
    let after = restarted.elapsed();
    assert!(list.is_empty(), "{:?}", ids(&list));
    eprintln!(
        "fresh etcd, nobody registering: empty list shown {after:?} after the restart (TTL {TTL:?})"
    );
    // Held back (for one TTL from the re-read, which came once etcd
    // answered; half a TTL here leaves room for a slow readiness probe).
    assert!(after >= TTL / 2, "shown before one TTL: {after:?}");
    // From then on the watcher follows etcd as usual.
    let fresh = registry(&etcd, TTL).await;
    fresh.register(&instance("c")).await.unwrap();
    assert_eq!(
        ids(&next_within(&mut watcher, Duration::from_secs(2)).await),
        ["c"]
    );
}
