//! Discovery through blocking health queries.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kratos_net::Backoff;

use super::ConsulRegistry;
use super::client::{Client, HealthEntry};
use crate::list::{ListWatcher, Publisher};
use crate::{Discovery, RegistryError, ServiceInstance, Watcher};

/// Consul's own tagged address names, which are not kratos endpoints.
const CONSUL_TAGS: &[&str] = &["lan", "wan", "lan_ipv4", "wan_ipv4", "lan_ipv6", "wan_ipv6"];

/// Turns health entries into instances, sorted by id.
pub(super) fn instances(entries: Vec<HealthEntry>) -> Vec<ServiceInstance> {
    let mut list: Vec<ServiceInstance> = entries
        .into_iter()
        .map(|entry| {
            let s = entry.service;
            let version = s
                .tags
                .iter()
                .find_map(|t| t.strip_prefix("version="))
                .unwrap_or_default()
                .to_owned();
            let mut endpoints: Vec<String> = s
                .tagged_addresses
                .iter()
                .filter(|(name, a)| {
                    !CONSUL_TAGS.contains(&name.as_str()) && a.address.contains("://")
                })
                .map(|(_, a)| a.address.clone())
                .collect();
            if endpoints.is_empty() && !s.address.is_empty() && s.port != 0 {
                endpoints.push(format!("http://{}:{}", s.address, s.port));
            }
            ServiceInstance {
                id: s.id,
                name: s.service,
                version,
                metadata: s.meta,
                endpoints,
            }
        })
        .collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    list
}

/// The next index to ask for, after an answer carrying `answered` to a query
/// that asked for `asked` (Consul's documented reset rules).
pub(super) fn next_index(asked: u64, answered: u64) -> u64 {
    if answered == 0 {
        // A zero index would make every query return at once.
        1
    } else if answered < asked {
        // The index went backwards (agent or cluster state reset): read afresh.
        0
    } else {
        answered
    }
}

/// Follows `name` with blocking queries forever.
async fn follow(
    client: Client,
    name: String,
    mut index: u64,
    wait: Duration,
    publisher: Publisher,
    mut backoff: Backoff,
) {
    loop {
        match client.health_service(&name, index, wait).await {
            Ok((entries, answered)) => {
                backoff.reset();
                publisher.publish(instances(entries));
                let next = next_index(index, answered);
                if next == index && index != 0 {
                    // Nothing changed (a wait timeout); a real agent blocked
                    // for `wait`, so no rate limit is needed. Guard against
                    // agents that answer at once anyway.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                index = next;
            }
            Err(e) => {
                tracing::debug!(service = %name, error = %e, "Consul health query failed; retrying");
                backoff.wait().await;
            }
        }
    }
}

#[async_trait]
impl Discovery for ConsulRegistry {
    /// The passing instances now; while the agent is unreachable, the last
    /// list this registry saw for `name` (an error if it saw none).
    async fn get_service(&self, name: &str) -> Result<Vec<ServiceInstance>, RegistryError> {
        let inner = &self.inner;
        match inner.client.health_service(name, 0, inner.wait).await {
            Ok((entries, _)) => {
                let list = instances(entries);
                inner.last_known.set(name, Arc::new(list.clone()));
                Ok(list)
            }
            Err(e) => match inner.last_known.get(name) {
                Some(list) if e.is_unavailable() || e.is_timeout() => Ok(list.as_ref().clone()),
                _ => Err(e),
            },
        }
    }

    /// Reads the passing instances, then follows them with blocking
    /// queries. If the agent is unreachable now, starts from the last known
    /// list (an error if there is none).
    async fn watch(&self, name: &str) -> Result<Box<dyn Watcher>, RegistryError> {
        let inner = &self.inner;
        let (initial, index) = match inner.client.health_service(name, 0, inner.wait).await {
            Ok((entries, index)) => (instances(entries), next_index(0, index)),
            Err(e) => match inner.last_known.get(name) {
                Some(list) if e.is_unavailable() || e.is_timeout() => (list.as_ref().clone(), 0),
                _ => return Err(e),
            },
        };
        let (watcher, publisher) = ListWatcher::channel(name, initial, inner.last_known.clone());
        let task = tokio::spawn(follow(
            inner.client.clone(),
            name.to_owned(),
            index,
            inner.wait,
            publisher,
            Backoff::new(inner.backoff.0, inner.backoff.1),
        ));
        Ok(Box::new(watcher.with_task(task)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_reset_rules() {
        assert_eq!(next_index(0, 7), 7);
        assert_eq!(next_index(7, 9), 9);
        assert_eq!(next_index(7, 7), 7);
        assert_eq!(next_index(9, 3), 0, "backwards resets");
        assert_eq!(next_index(9, 0), 1, "zero never makes a busy loop");
    }

    #[test]
    fn instances_come_back_as_go_kratos_reads_them() {
        let entries: Vec<HealthEntry> = serde_json::from_str(
            r#"[{"Node":{},"Service":{"ID":"b","Service":"s","Tags":["x","version=v2"],
                  "Address":"10.0.0.2","Port":9000,"Meta":null,
                  "TaggedAddresses":{"lan_ipv4":{"Address":"10.0.0.2","Port":9000},
                                     "grpc":{"Address":"grpc://10.0.0.2:9000","Port":9000}}},
                 "Checks":[]},
                {"Node":{},"Service":{"ID":"a","Service":"s","Tags":null,
                  "Address":"10.0.0.1","Port":8080,"Meta":{"k":"v"},"TaggedAddresses":null},
                 "Checks":[]}]"#,
        )
        .unwrap();
        let list = instances(entries);
        assert_eq!(
            list,
            vec![
                ServiceInstance::new("a", "s")
                    .with_metadata("k", "v")
                    .with_endpoint("http://10.0.0.1:8080"),
                ServiceInstance::new("b", "s")
                    .with_version("v2")
                    .with_endpoint("grpc://10.0.0.2:9000"),
            ]
        );
    }
}
