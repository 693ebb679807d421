//! The heartbeat keeps the TTL check passing; without it the instance
//! leaves; an agent that forgot the service gets it registered again.

use std::time::{Duration, Instant};

use kratos_registry::consul::ConsulRegistry;
use kratos_registry::{Discovery, Registrar};

use crate::common::{Agent, HEARTBEAT, ids, instance, unique_name};
use crate::watching::{next_within, wait_for};

#[tokio::test]
async fn heartbeat_keeps_the_check_passing() {
    let agent = Agent::start().await;
    let registry = agent.registry();
    let name = unique_name("heartbeat");
    let a = instance(&name, "a");
    registry.register(&a).await.unwrap();
    let mut watcher = registry.watch(&name).await.unwrap();
    assert_eq!(
        next_within(&mut watcher, Duration::from_millis(100)).await,
        vec![a.clone()]
    );
    // Four TTLs without a change: the check never went critical.
    let change = tokio::time::timeout(HEARTBEAT * 8, watcher.next()).await;
    assert!(change.is_err(), "unexpected change: {change:?}");
    if let Some(stand_in) = agent.stand_in("heartbeat_keeps_the_check_passing") {
        assert_eq!(
            stand_in
                .check_status(&ConsulRegistry::check_id(&a.id))
                .as_deref(),
            Some("passing")
        );
    }
    registry.deregister(&a).await.unwrap();
}

#[tokio::test]
async fn a_registrar_gone_without_deregister_leaves_after_the_ttl() {
    let agent = Agent::start().await;
    let discovery = agent.registry();
    let doomed = agent.registry();
    let name = unique_name("gone");
    let a = instance(&name, "a");
    doomed.register(&a).await.unwrap();
    let mut watcher = discovery.watch(&name).await.unwrap();
    let first = next_within(&mut watcher, Duration::from_millis(100)).await;
    assert_eq!(ids(&first), [a.id.as_str()]);

    let killed_at = Instant::now();
    drop(doomed);
    let list = next_within(&mut watcher, HEARTBEAT * 2 + Duration::from_secs(2)).await;
    assert!(
        list.is_empty(),
        "a critical instance is not passing: {list:?}"
    );
    eprintln!(
        "instance of a gone registrar left after {:?}",
        killed_at.elapsed()
    );
    // Clean up a real agent.
    discovery.deregister(&a).await.unwrap();
}

#[tokio::test]
async fn agent_restart_leads_to_a_new_registration() {
    let agent = Agent::start().await;
    let Some(stand_in) = agent.stand_in("agent_restart_leads_to_a_new_registration") else {
        return;
    };
    let registry = agent.registry();
    let name = unique_name("restart");
    let a = instance(&name, "a");
    registry.register(&a).await.unwrap();
    let mut watcher = registry.watch(&name).await.unwrap();
    assert_eq!(
        next_within(&mut watcher, Duration::from_millis(100)).await,
        vec![a.clone()]
    );

    stand_in.restart();
    let restarted = Instant::now();
    assert!(stand_in.service_ids().is_empty());
    assert!(
        next_within(&mut watcher, Duration::from_secs(1))
            .await
            .is_empty()
    );
    let back = wait_for(&mut watcher, HEARTBEAT * 2 + Duration::from_secs(1), |l| {
        !l.is_empty()
    })
    .await;
    assert_eq!(back, vec![a.clone()]);
    eprintln!(
        "re-registered {:?} after the agent restart",
        restarted.elapsed()
    );
    assert_eq!(
        stand_in
            .check_status(&ConsulRegistry::check_id(&a.id))
            .as_deref(),
        Some("passing")
    );
}
