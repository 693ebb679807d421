//! Discovery: read the prefix, then watch from the read's revision.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use etcd_client::{EventType, GetOptions, KeyValue, WatchOptions};

use super::EtcdRegistry;
use super::connector::Connector;
use crate::backoff::Backoff;
use crate::list::{ListWatcher, Publisher};
use crate::{Discovery, RegistryError, ServiceInstance, Watcher};

/// The instances under one prefix, by key (so lists come out sorted by id).
type Snapshot = BTreeMap<Vec<u8>, ServiceInstance>;

fn parse(kv: &KeyValue) -> Option<ServiceInstance> {
    match ServiceInstance::from_json(kv.value()) {
        Ok(i) => Some(i),
        Err(e) => {
            tracing::warn!(key = %String::from_utf8_lossy(kv.key()), error = %e, "skipping an invalid instance record");
            None
        }
    }
}

/// Reads every instance under `prefix`; returns them and the read's revision.
async fn read(connector: &Connector, prefix: &str) -> Result<(Snapshot, i64), RegistryError> {
    let p = prefix.to_owned();
    let resp = connector
        .call("reading instances from", |mut c| async move {
            c.get(p, Some(GetOptions::new().with_prefix())).await
        })
        .await?;
    let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
    let snapshot = resp
        .kvs()
        .iter()
        .filter_map(|kv| parse(kv).map(|i| (kv.key().to_vec(), i)))
        .collect();
    Ok((snapshot, revision))
}

fn list(snapshot: &Snapshot) -> Vec<ServiceInstance> {
    snapshot.values().cloned().collect()
}

/// Follows `prefix` forever: watch from `revision + 1`; after a broken watch,
/// read again and resume from that read.
async fn follow(
    connector: Arc<Connector>,
    prefix: String,
    mut snapshot: Snapshot,
    mut revision: Option<i64>,
    publisher: Publisher,
    mut backoff: Backoff,
) {
    loop {
        let rev = match revision {
            Some(rev) => rev,
            None => match read(&connector, &prefix).await {
                Ok((fresh, rev)) => {
                    snapshot = fresh;
                    publisher.publish(list(&snapshot));
                    rev
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::debug!(%prefix, error = %e, retry_in = ?delay, "etcd read failed");
                    tokio::time::sleep(delay).await;
                    continue;
                }
            },
        };
        // Whatever happens to this watch, the next one starts from a fresh read.
        revision = None;
        let options = WatchOptions::new()
            .with_prefix()
            .with_start_revision(rev + 1);
        let p = prefix.clone();
        let mut stream = match connector
            .call("watching", |mut c| async move {
                c.watch(p, Some(options)).await
            })
            .await
        {
            Ok(stream) => stream,
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::debug!(%prefix, error = %e, retry_in = ?delay, "etcd watch failed");
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        loop {
            match stream.message().await {
                Ok(Some(resp)) => {
                    if resp.canceled() {
                        tracing::debug!(%prefix, reason = resp.cancel_reason(), compact_revision = resp.compact_revision(), "etcd canceled the watch");
                        break;
                    }
                    backoff.reset();
                    if resp.events().is_empty() {
                        continue;
                    }
                    for event in resp.events() {
                        let Some(kv) = event.kv() else { continue };
                        match event.event_type() {
                            EventType::Put => match parse(kv) {
                                Some(i) => {
                                    snapshot.insert(kv.key().to_vec(), i);
                                }
                                None => {
                                    snapshot.remove(kv.key());
                                }
                            },
                            EventType::Delete => {
                                snapshot.remove(kv.key());
                            }
                        }
                    }
                    publisher.publish(list(&snapshot));
                }
                Ok(None) => {
                    connector.reset();
                    break;
                }
                Err(e) => {
                    tracing::debug!(%prefix, error = %e, "etcd watch broke");
                    connector.reset();
                    break;
                }
            }
        }
        backoff.wait().await;
    }
}

#[async_trait]
impl Discovery for EtcdRegistry {
    /// Reads the instances now; while etcd is down, answers with the last
    /// list this registry saw for `name` (an error if it saw none).
    async fn get_service(&self, name: &str) -> Result<Vec<ServiceInstance>, RegistryError> {
        match read(&self.inner.connector, &self.prefix(name)).await {
            Ok((snapshot, _)) => {
                let list = list(&snapshot);
                self.inner.last_known.set(name, Arc::new(list.clone()));
                Ok(list)
            }
            Err(e) => match self.inner.last_known.get(name) {
                Some(list) => {
                    tracing::debug!(service = name, error = %e, "etcd unreachable; answering with the last known list");
                    Ok(list.as_ref().clone())
                }
                None => Err(e),
            },
        }
    }

    /// Reads the instances, then follows every change. If etcd is down
    /// now, starts from the last known list (an error if there is none) and
    /// catches up once etcd answers.
    async fn watch(&self, name: &str) -> Result<Box<dyn Watcher>, RegistryError> {
        let inner = &self.inner;
        let prefix = self.prefix(name);
        let (snapshot, revision, initial) = match read(&inner.connector, &prefix).await {
            Ok((snapshot, rev)) => {
                let initial = list(&snapshot);
                (snapshot, Some(rev), initial)
            }
            Err(e) => match inner.last_known.get(name) {
                Some(last) => (Snapshot::new(), None, last.as_ref().clone()),
                None => return Err(e),
            },
        };
        let (watcher, publisher) = ListWatcher::channel(name, initial, inner.last_known.clone());
        let task = tokio::spawn(follow(
            inner.connector.clone(),
            prefix,
            snapshot,
            revision,
            publisher,
            Backoff::new(inner.backoff.0, inner.backoff.1),
        ));
        Ok(Box::new(watcher.with_task(task)))
    }
}
