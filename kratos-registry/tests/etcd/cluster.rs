//! A 3-member etcd cluster with a member down: every call tries each
//! endpoint before it fails, so registering, discovering and watching work
//! with any one member dead, and a dead endpoint is not tried again and
//! again; the leader dying under a registrar and a watcher loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kratos_registry::{Discovery, Registrar, RegistryError, ServiceInstance, Watcher};
use kratos_testing::{EtcdCluster, EtcdServer};

use crate::common::{TTL, ids, instance, registry_at, watch_svc};
use crate::watching::next_within;

const TRIES: usize = 10;

/// min / median / max of some durations, for the log.
fn spread(mut samples: Vec<Duration>) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    format!(
        "min {:?}, median {:?}, max {:?}",
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    )
}

/// A fresh registry on all members registers an instance and finds it.
async fn register_and_get(
    endpoints: &[String],
    me: &ServiceInstance,
) -> Result<kratos_registry::etcd::EtcdRegistry, RegistryError> {
    let registry = registry_at(endpoints, TTL).await;
    registry.register(me).await?;
    let found = registry.get_service("svc").await?;
    assert!(found.contains(me), "{} not in {:?}", me.id, ids(&found));
    Ok(registry)
}

/// A fresh registry on all members watches and gets a first list with `pinned`.
async fn connect_and_watch(
    endpoints: &[String],
    pinned: &ServiceInstance,
) -> Result<Box<dyn Watcher>, RegistryError> {
    let registry = kratos_registry::etcd::EtcdRegistry::builder(endpoints)
        .ttl(TTL)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(1))
        .connect()
        .await?;
    let mut watcher = registry.watch("svc").await?;
    let first = next_within(&mut watcher, Duration::from_secs(1)).await;
    assert!(first.contains(pinned), "first list: {:?}", ids(&first));
    Ok(watcher)
}

#[tokio::test]
async fn with_any_one_member_down_register_discover_and_watch_succeed() {
    let mut cluster = EtcdCluster::start().await;
    let endpoints = cluster.endpoints();
    for down in 0..3 {
        // The member is down before the services start: the cluster has
        // elected a leader among the other two.
        cluster.kill(down);
        cluster
            .wait_for_leader(Duration::from_secs(10))
            .await
            .expect("a leader among the two members left");
        let pinned = instance(&format!("pinned-{down}"));
        let holder = registry_at(&endpoints, TTL).await;
        holder
            .register(&pinned)
            .await
            .expect("register the pinned instance");

        let (mut registered, mut times, mut failures) = (0, Vec::new(), Vec::new());
        let mut keep = Vec::new();
        for k in 0..TRIES {
            let me = instance(&format!("m{down}-{k}"));
            let started = Instant::now();
            match register_and_get(&endpoints, &me).await {
                Ok(registry) => {
                    registered += 1;
                    times.push(started.elapsed());
                    keep.push(registry);
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        eprintln!(
            "member {down} down: register + get_service {registered}/{TRIES} ({})",
            spread(times)
        );
        assert_eq!(registered, TRIES, "member {down} down: {failures:#?}");

        let (mut watched, mut times, mut failures) = (0, Vec::new(), Vec::new());
        for _ in 0..TRIES {
            let started = Instant::now();
            match connect_and_watch(&endpoints, &pinned).await {
                Ok(_) => {
                    watched += 1;
                    times.push(started.elapsed());
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        eprintln!(
            "member {down} down: connect + watch first list {watched}/{TRIES} ({})",
            spread(times)
        );
        assert_eq!(watched, TRIES, "member {down} down: {failures:#?}");
        cluster.restart(down).await;
    }
}

#[tokio::test]
async fn the_leader_dying_under_a_registrar_and_a_watcher_loses_nothing() {
    let mut cluster = EtcdCluster::start().await;
    let endpoints = cluster.endpoints();
    let registrar = registry_at(&endpoints, TTL).await;
    let discovery = registry_at(&endpoints, TTL).await;
    let a = instance("a");
    registrar.register(&a).await.unwrap();
    let mut watcher = watch_svc(&discovery, &["a"]).await;

    let leader = cluster.leader().await.expect("a leader");
    let killed = Instant::now();
    cluster.kill(leader);

    // Registering goes on: the first try may fall into the election.
    let b = instance("bb");
    let mut tries = 0;
    loop {
        tries += 1;
        match registrar.register(&b).await {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    killed.elapsed() < Duration::from_secs(10),
                    "no registration 10 s after the leader died: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    eprintln!(
        "leader {leader} killed: registering again took {:?} ({tries} tries)",
        killed.elapsed()
    );

    // Past the TTL of the lease `a` had when the leader died, the watcher
    // has never lost `a`, and has seen `bb` arrive.
    let mut saw_b = None;
    let watch_until = killed + TTL + Duration::from_millis(500);
    while let Some(left) = watch_until.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, watcher.next()).await {
            Err(_) => break,
            Ok(list) => {
                let list = list.unwrap();
                assert!(list.contains(&a), "a vanished: {:?}", ids(&list));
                if list.contains(&b) {
                    saw_b.get_or_insert(killed.elapsed());
                }
            }
        }
    }
    let saw_b = saw_b.expect("the watcher saw the instance registered after the kill");
    // Both are still in etcd (their leases kept alive or renewed).
    let now = discovery.get_service("svc").await.unwrap();
    assert_eq!(ids(&now), ["a", "bb"]);
    eprintln!("leader {leader} killed: watcher saw bb {saw_b:?} after the kill, a throughout");
}

/// A "member" that accepts connections and drops them at once, counting them.
async fn dropping_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_failing_endpoint_is_tried_once_then_skipped() {
    let etcd = EtcdServer::start().await;
    let (broken, accepted) = dropping_listener().await;
    let registry = registry_at(&[broken.clone(), etcd.endpoint()], TTL).await;
    registry.register(&instance("a")).await.unwrap();
    for _ in 0..20 {
        assert_eq!(ids(&registry.get_service("svc").await.unwrap()), ["a"]);
    }
    let mut watcher = registry.watch("svc").await.unwrap();
    assert_eq!(
        ids(&next_within(&mut watcher, Duration::from_secs(1)).await),
        ["a"]
    );
    let tried = accepted.load(Ordering::SeqCst);
    assert!(
        tried <= 1,
        "{broken} was tried {tried} times over 23 calls after it failed"
    );
}

#[tokio::test]
async fn with_every_endpoint_down_the_error_names_each() {
    let closed: Vec<String> = (0..3)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        })
        .collect();
    let registry = registry_at(&closed, TTL).await;
    let started = Instant::now();
    let err = registry.register(&instance("a")).await.unwrap_err();
    eprintln!("all 3 down: failed after {:?}: {err}", started.elapsed());
    assert!(err.is_unavailable(), "{err}");
    let text = err.to_string();
    for url in &closed {
        assert!(text.contains(url.as_str()), "names {url}: {text}");
    }
    assert!(text.contains("is etcd running"), "{text}");
    let err = registry.watch("svc").await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
}
