//! etcd killed (SIGKILL) for 5 s, then back on the same data dir or with all
//! state lost: registrations come back within one TTL, watchers resume, and
//! during the outage the last known instances are still served.

use std::time::{Duration, Instant};

use kratos_registry::etcd::EtcdRegistry;
use kratos_registry::{Discovery, Registrar, ServiceInstance, Watcher};
use kratos_testing::EtcdServer;

use crate::common::{ids, instance, raw, registry};
use crate::watching::{next_within, wait_for};

const TTL: Duration = Duration::from_secs(3);
const OUTAGE: Duration = Duration::from_secs(5);

struct Setup {
    etcd: EtcdServer,
    registrar: EtcdRegistry,
    discovery: EtcdRegistry,
    watcher: Box<dyn Watcher>,
    leases: Vec<i64>,
}

async fn setup() -> Setup {
    let etcd = EtcdServer::start().await;
    let registrar = registry(&etcd, TTL).await;
    let discovery = registry(&etcd, TTL).await;
    for id in ["a", "b"] {
        registrar.register(&instance(id)).await.unwrap();
    }
    let mut watcher = discovery.watch("svc").await.unwrap();
    assert_eq!(
        ids(&next_within(&mut watcher, Duration::from_millis(100)).await),
        ["a", "b"]
    );
    let leases = current_leases(&etcd, &registrar).await;
    Setup {
        etcd,
        registrar,
        discovery,
        watcher,
        leases,
    }
}

async fn current_leases(etcd: &EtcdServer, registrar: &EtcdRegistry) -> Vec<i64> {
    let mut client = raw(etcd).await;
    let mut leases = Vec::new();
    for id in ["a", "b"] {
        let resp = client
            .get(registrar.key(&instance(id)), None)
            .await
            .unwrap();
        leases.push(resp.kvs().first().map_or(0, |kv| kv.lease()));
    }
    leases
}

/// Kills etcd; for the outage, checks that the last known list is served.
async fn outage(s: &mut Setup) {
    s.etcd.kill();
    let started = Instant::now();
    // During the outage: get_service answers with the last known list...
    let during = s.discovery.get_service("svc").await.unwrap();
    assert_eq!(ids(&during), ["a", "b"]);
    // ...and the watcher reports no change (its last list stands).
    let left = OUTAGE.saturating_sub(started.elapsed());
    let change = tokio::time::timeout(left, s.watcher.next()).await;
    assert!(
        change.is_err(),
        "the watcher changed during the outage: {change:?}"
    );
    let again = s.discovery.get_service("svc").await.unwrap();
    assert_eq!(
        ids(&again),
        ["a", "b"],
        "still served at the end of the outage"
    );
}

/// A watcher on a new registry: the instances are in etcd again within one TTL.
async fn back_within_one_ttl(etcd: &EtcdServer, restarted: Instant) -> Duration {
    let fresh = registry(etcd, TTL).await;
    let mut w = fresh.watch("svc").await.unwrap();
    wait_for(&mut w, TTL, |l| ids(l) == ["a", "b"]).await;
    let back = restarted.elapsed();
    assert!(
        back <= TTL,
        "instances back after {back:?}, more than one TTL"
    );
    back
}

/// The watcher started before the outage follows changes made after it.
async fn watcher_follows_post_outage_changes(s: &mut Setup, last: &[ServiceInstance]) {
    let mut last = last.to_vec();
    if ids(&last) != ["a", "b"] {
        last = wait_for(&mut s.watcher, TTL, |l| ids(l) == ["a", "b"]).await;
    }
    assert_eq!(ids(&last), ["a", "b"]);
    s.registrar.register(&instance("c")).await.unwrap();
    let list = wait_for(&mut s.watcher, Duration::from_secs(2), |l| l.len() == 3).await;
    assert_eq!(ids(&list), ["a", "b", "c"]);
    s.registrar.deregister(&instance("a")).await.unwrap();
    let list = next_within(&mut s.watcher, Duration::from_secs(1)).await;
    assert_eq!(ids(&list), ["b", "c"]);
}

#[tokio::test]
async fn survives_a_kill_and_restart_on_the_same_data_dir() {
    let mut s = setup().await;
    outage(&mut s).await;
    // A watcher started during the outage begins with the last known list.
    let mut late = s.discovery.watch("svc").await.unwrap();
    assert_eq!(
        ids(&next_within(&mut late, Duration::from_millis(50)).await),
        ["a", "b"]
    );
    s.etcd.restart().await;
    let restarted = Instant::now();
    let back = back_within_one_ttl(&s.etcd, restarted).await;

    // The registrar noticed the lost connection and registered on new leases.
    let deadline = restarted + TTL;
    loop {
        let leases = current_leases(&s.etcd, &s.registrar).await;
        if leases
            .iter()
            .zip(&s.leases)
            .all(|(new, old)| new != old && *new != 0)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not re-registered within one TTL: {leases:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "same data dir: instances present {back:?} after restart, re-registered {:?} after restart",
        restarted.elapsed()
    );
    // Still there after the old leases would have expired.
    let change = tokio::time::timeout(TTL + Duration::from_secs(1), s.watcher.next()).await;
    if let Ok(list) = change {
        let list = list.unwrap();
        assert_eq!(ids(&list), ["a", "b"], "unexpected change after restart");
    }
    watcher_follows_post_outage_changes(&mut s, &["a", "b"].map(instance)).await;
    // ...and catches up with etcd once it answers.
    let list = wait_for(&mut late, Duration::from_secs(3), |l| ids(l) == ["b", "c"]).await;
    assert_eq!(ids(&list), ["b", "c"]);
}

#[tokio::test]
async fn survives_a_kill_and_restart_with_all_state_lost() {
    let mut s = setup().await;
    outage(&mut s).await;
    s.etcd.restart_fresh().await;
    let restarted = Instant::now();
    let back = back_within_one_ttl(&s.etcd, restarted).await;
    eprintln!("fresh data dir: instances present {back:?} after restart");
    // The old watcher saw either nothing (re-registration beat its re-read)
    // or the empty store and then the instances again; it ends on both.
    let last = match tokio::time::timeout(Duration::from_millis(200), s.watcher.next()).await {
        Ok(list) => list.unwrap(),
        Err(_) => ["a", "b"].map(instance).to_vec(),
    };
    watcher_follows_post_outage_changes(&mut s, &last).await;
}
