//! The 3-member etcd cluster harness: starts healthy, names its leader,
//! elects a new one when the leader is killed, and takes a member back.

use std::time::{Duration, Instant};

use kratos_testing::EtcdCluster;

/// Polls [`EtcdCluster::leader`] until it names a running member.
async fn leader_within(cluster: &EtcdCluster, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        if let Some(i) = cluster.leader().await
            && cluster.is_running(i)
        {
            return i;
        }
        assert!(Instant::now() < deadline, "no leader within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_killed_leader_is_replaced_and_rejoins() {
    let started = Instant::now();
    let mut cluster = EtcdCluster::start().await;
    eprintln!("cluster healthy after {:?}", started.elapsed());
    let endpoints = cluster.endpoints();
    assert_eq!(endpoints.len(), 3);
    assert!((0..3).all(|i| cluster.is_running(i)));

    let first = leader_within(&cluster, Duration::from_secs(5)).await;
    let killed = Instant::now();
    cluster.kill(first);
    assert!(!cluster.is_running(first));
    let second = leader_within(&cluster, Duration::from_secs(10)).await;
    assert_ne!(first, second);
    eprintln!(
        "new leader {second} {:?} after killing {first}",
        killed.elapsed()
    );

    let restarted = Instant::now();
    cluster.restart(first).await;
    assert!(cluster.is_running(first));
    eprintln!("member {first} rejoined in {:?}", restarted.elapsed());
    let now = leader_within(&cluster, Duration::from_secs(5)).await;
    assert!(cluster.is_running(now));
}
