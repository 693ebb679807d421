//! While the agent cannot answer, the last known list is served; afterwards
//! the watcher catches up.

use std::time::Duration;

use kratos_registry::{Discovery, Registrar};

use crate::common::{Agent, instance, unique_name};
use crate::watching::{next_within, wait_for};

#[tokio::test]
async fn last_known_list_is_served_while_the_agent_is_down() {
    let agent = Agent::start().await;
    let Some(stand_in) = agent.stand_in("last_known_list_is_served_while_the_agent_is_down") else {
        return;
    };
    let registry = agent.registry();
    let name = unique_name("down");
    let (a, b) = (instance(&name, "a"), instance(&name, "b"));
    registry.register(&a).await.unwrap();
    registry.register(&b).await.unwrap();
    let mut watcher = registry.watch(&name).await.unwrap();
    assert_eq!(
        next_within(&mut watcher, Duration::from_millis(100))
            .await
            .len(),
        2
    );

    stand_in.set_down(true);
    assert_eq!(
        registry.get_service(&name).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    let change = tokio::time::timeout(Duration::from_secs(1), watcher.next()).await;
    assert!(
        change.is_err(),
        "the watcher changed while the agent was down: {change:?}"
    );
    stand_in.set_down(false);

    registry.deregister(&a).await.unwrap();
    let list = wait_for(&mut watcher, Duration::from_secs(2), |l| l.len() == 1).await;
    assert_eq!(list, vec![b.clone()]);
}
