//! Register, watch, remove one, remove the last.

use std::time::Duration;

use kratos_registry::{Discovery, Registrar};

use crate::common::{Agent, ids, instance, unique_name};
use crate::watching::{next_within, wait_for};

#[tokio::test]
async fn watcher_sees_two_then_one_then_none() {
    let agent = Agent::start().await;
    let registry = agent.registry();
    let name = unique_name("watch");
    let (a, b) = (instance(&name, "a"), instance(&name, "b"));

    let mut watcher = registry.watch(&name).await.unwrap();
    assert!(
        next_within(&mut watcher, Duration::from_millis(100))
            .await
            .is_empty()
    );

    registry.register(&a).await.unwrap();
    registry.register(&b).await.unwrap();
    let both = wait_for(&mut watcher, Duration::from_secs(2), |l| l.len() == 2).await;
    assert_eq!(
        both,
        vec![a.clone(), b.clone()],
        "read back exactly as registered"
    );

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
async fn get_service_answers_passing_instances_and_first_list_is_immediate() {
    let agent = Agent::start().await;
    let registry = agent.registry();
    let name = unique_name("get");
    for id in ["a", "b"] {
        registry.register(&instance(&name, id)).await.unwrap();
    }
    let list = registry.get_service(&name).await.unwrap();
    assert_eq!(ids(&list), [format!("{name}-a"), format!("{name}-b")]);
    let mut watcher = registry.watch(&name).await.unwrap();
    assert_eq!(
        next_within(&mut watcher, Duration::from_millis(50)).await,
        list
    );
    for id in ["a", "b"] {
        registry.deregister(&instance(&name, id)).await.unwrap();
    }
    // Deregistering an unknown instance is not an error.
    registry.deregister(&instance(&name, "zz")).await.unwrap();
}
