//! Reading a watcher in tests, shared by the etcd and Consul test binaries.

use std::time::Duration;

use kratos_registry::{ServiceInstance, Watcher};

/// The watcher's next list, failing the test if none comes within `within`.
pub(crate) async fn next_within(
    watcher: &mut Box<dyn Watcher>,
    within: Duration,
) -> Vec<ServiceInstance> {
    tokio::time::timeout(within, watcher.next())
        .await
        .unwrap_or_else(|_| panic!("the watcher yielded no list within {within:?}"))
        .expect("watcher next")
}

/// Reads lists until one satisfies `pred`; fails after `within`.
pub(crate) async fn wait_for(
    watcher: &mut Box<dyn Watcher>,
    within: Duration,
    mut pred: impl FnMut(&[ServiceInstance]) -> bool,
) -> Vec<ServiceInstance> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let list = tokio::time::timeout(left, watcher.next())
            .await
            .unwrap_or_else(|_| panic!("no list matching the condition within {within:?}"))
            .expect("watcher next");
        if pred(&list) {
            return list;
        }
    }
}
