//! Discovery: read the prefix, then watch from the read's revision; hold
//! back an empty re-read for one TTL.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{EventType, GetOptions, KeyValue, WatchOptions, WatchStream};
use kratos_net::Backoff;
use tokio::time::Instant;

use super::EtcdRegistry;
use super::connector::{Connector, Endpoint};
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
    let resp = connector
        .call("reading instances from", |mut c| {
            let p = prefix.to_owned();
            async move { c.get(p, Some(GetOptions::new().with_prefix())).await }
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

/// The task behind one watcher: what etcd holds under the prefix, and what
/// the watcher was last shown.
struct Follower {
    connector: Arc<Connector>,
    prefix: String,
    publisher: Publisher,
    backoff: Backoff,
    /// How long an empty re-read may be held back: the lease TTL.
    hold_for: Duration,
    /// The instances etcd holds, as far as this task knows.
    snapshot: Snapshot,
    /// Whether the list the watcher was last shown is empty.
    shown_empty: bool,
    /// While an empty re-read is held back: until when.
    held_until: Option<Instant>,
}

impl Follower {
    /// Follows the prefix forever: watch from `revision + 1`; after a
    /// broken watch, read again and resume from that read.
    async fn run(mut self, mut revision: Option<i64>) {
        loop {
            let rev = match revision.take() {
                Some(rev) => rev,
                None => match read(&self.connector, &self.prefix).await {
                    Ok((fresh, rev)) => {
                        self.snapshot = fresh;
                        self.show_reread();
                        rev
                    }
                    Err(e) => {
                        let delay = self.backoff.next_delay();
                        tracing::debug!(prefix = %self.prefix, error = %e, retry_in = ?delay, "etcd read failed");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                },
            };
            let options = WatchOptions::new()
                .with_prefix()
                .with_start_revision(rev + 1);
            let opened = self
                .connector
                .open("watching", |mut c| {
                    let (p, options) = (self.prefix.clone(), options.clone());
                    async move { c.watch(p, Some(options)).await }
                })
                .await;
            match opened {
                Ok((stream, endpoint)) => self.follow(stream, endpoint).await,
                Err(e) => {
                    tracing::debug!(prefix = %self.prefix, error = %e, "etcd watch failed");
                }
            }
            // Whatever ended this watch, the next one starts from a fresh read.
            self.backoff.wait().await;
        }
    }

    /// Applies the events of one watch until it breaks or is canceled.
    async fn follow(&mut self, mut stream: WatchStream, endpoint: Endpoint) {
        loop {
            let message = match self.held_until {
                Some(deadline) => tokio::select! {
                    message = stream.message() => message,
                    () = tokio::time::sleep_until(deadline) => {
                        self.hold_expired();
                        continue;
                    }
                },
                None => stream.message().await,
            };
            match message {
                Ok(Some(resp)) => {
                    if resp.canceled() {
                        tracing::debug!(prefix = %self.prefix, reason = resp.cancel_reason(), compact_revision = resp.compact_revision(), "etcd canceled the watch");
                        return;
                    }
                    self.backoff.reset();
                    if resp.events().is_empty() {
                        continue;
                    }
                    for event in resp.events() {
                        let Some(kv) = event.kv() else { continue };
                        match event.event_type() {
                            EventType::Put => match parse(kv) {
                                Some(i) => {
                                    self.snapshot.insert(kv.key().to_vec(), i);
                                }
                                None => {
                                    self.snapshot.remove(kv.key());
                                }
                            },
                            EventType::Delete => {
                                self.snapshot.remove(kv.key());
                            }
                        }
                    }
                    self.show_event();
                }
                Ok(None) => {
                    self.connector
                        .failed(endpoint, &"etcd closed the watch stream");
                    return;
                }
                Err(e) => {
                    tracing::debug!(prefix = %self.prefix, error = %e, "etcd watch broke");
                    self.connector.failed(endpoint, &e);
                    return;
                }
            }
        }
    }

    /// After a re-read (the watch broke: etcd was down, lost its leader, or
    /// came back with its data lost), shows what etcd holds, except that an
    /// empty read does not replace a non-empty list for one TTL: the
    /// registrars of those instances may be registering again right now.
    fn show_reread(&mut self) {
        if self.snapshot.is_empty() && !self.shown_empty {
            let until = Instant::now() + self.hold_for;
            if self.held_until.is_none() {
                tracing::info!(prefix = %self.prefix, hold_for = ?self.hold_for, "etcd holds no instances after reconnecting; keeping the last list while they register again");
            }
            // Each reconnect gives the registrars a full TTL again.
            self.held_until = Some(until);
        } else {
            self.show();
        }
    }

    /// After watch events: a change is shown at once (the last instance
    /// leaving included), unless an empty re-read is being held back and
    /// etcd still holds nothing.
    fn show_event(&mut self) {
        if self.held_until.is_some() && self.snapshot.is_empty() {
            return;
        }
        self.show();
    }

    /// One TTL after an empty re-read, still nothing: the instances are gone.
    fn hold_expired(&mut self) {
        if self.snapshot.is_empty() {
            tracing::info!(prefix = %self.prefix, "no instance registered again within one TTL; they are gone");
        }
        self.show();
    }

    fn show(&mut self) {
        self.held_until = None;
        self.shown_empty = self.snapshot.is_empty();
        self.publisher.publish(list(&self.snapshot));
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
        let initial_empty = initial.is_empty();
        let (watcher, publisher) = ListWatcher::channel(name, initial, inner.last_known.clone());
        let follower = Follower {
            connector: inner.connector.clone(),
            prefix,
            publisher,
            backoff: Backoff::new(inner.backoff.0, inner.backoff.1),
            hold_for: inner.ttl,
            snapshot,
            shown_empty: initial_empty,
            held_until: None,
        };
        let task = tokio::spawn(follower.run(revision));
        Ok(Box::new(watcher.with_task(task)))
    }
}
