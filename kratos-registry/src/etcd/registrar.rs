//! Registration: a key per instance on a lease, kept alive, re-created forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::PutOptions;
use kratos_net::Backoff;
use tokio::task::JoinHandle;

use super::EtcdRegistry;
use super::connector::Connector;
use crate::{Registrar, RegistryError, ServiceInstance};

/// One registered instance: its keep-alive task and current lease.
pub(super) struct Registration {
    pub(super) task: JoinHandle<()>,
    lease: Arc<AtomicI64>,
}

/// What a registration needs to (re-)create its key.
#[derive(Clone)]
struct Record {
    connector: Arc<Connector>,
    key: String,
    value: String,
    ttl_secs: i64,
}

impl Record {
    /// Grants a lease and puts the key on it; returns the lease id.
    async fn put(&self) -> Result<i64, RegistryError> {
        let ttl = self.ttl_secs;
        let lease = self
            .connector
            .call("granting a lease from", |mut c| async move {
                c.lease_grant(ttl, None).await
            })
            .await?
            .id();
        self.connector
            .call("putting a key into", |mut c| {
                let (key, value) = (self.key.clone(), self.value.clone());
                async move {
                    c.put(key, value, Some(PutOptions::new().with_lease(lease)))
                        .await
                }
            })
            .await?;
        Ok(lease)
    }

    /// Keeps `lease` alive until it is lost (connection gone, lease expired).
    async fn keep_alive(&self, lease: i64) -> RegistryError {
        let interval = Duration::from_secs(self.ttl_secs as u64) / 3;
        let opened = self
            .connector
            .open("keeping a lease alive in", |mut c| async move {
                c.lease_keep_alive(lease).await
            })
            .await;
        let ((mut keeper, mut stream), endpoint) = match opened {
            Ok(opened) => opened,
            Err(e) => return e,
        };
        let connector = &self.connector;
        let timeout = connector.request_timeout();
        let broken = |why: &str| {
            format!(
                "keeping the lease of {} alive in etcd at {} failed: {why}",
                self.key,
                connector.url(endpoint)
            )
        };
        loop {
            tokio::time::sleep(interval).await;
            let step = async {
                keeper.keep_alive().await?;
                stream.message().await
            };
            match tokio::time::timeout(timeout, step).await {
                Ok(Ok(Some(resp))) if resp.ttl() > 0 => {}
                Ok(Ok(Some(_))) => {
                    return RegistryError::unavailable(format!(
                        "the lease of {} expired or was revoked",
                        self.key
                    ));
                }
                Ok(Ok(None)) => {
                    let why = "etcd closed the keep-alive stream";
                    connector.failed(endpoint, &why);
                    return RegistryError::unavailable(broken(why));
                }
                Ok(Err(e)) => {
                    connector.failed(endpoint, &e);
                    return RegistryError::unavailable(broken("the stream broke")).with_source(e);
                }
                Err(_) => {
                    let why = format!("no answer within {timeout:?}");
                    connector.failed(endpoint, &why);
                    return RegistryError::timeout(broken(&why));
                }
            }
        }
    }
}

/// Keeps the registration alive; re-registers forever when it is lost.
async fn maintain(record: Record, lease: Arc<AtomicI64>, mut backoff: Backoff) {
    loop {
        let current = lease.load(Ordering::SeqCst);
        let lost = record.keep_alive(current).await;
        tracing::warn!(key = %record.key, error = %lost, "etcd registration lost; registering again");
        loop {
            match record.put().await {
                Ok(new_lease) => {
                    lease.store(new_lease, Ordering::SeqCst);
                    backoff.reset();
                    tracing::info!(key = %record.key, "registered in etcd again");
                    // The old lease holds no key now; revoke it so it does not linger.
                    let connector = record.connector.clone();
                    tokio::spawn(async move {
                        let _ = connector
                            .call("revoking a lease in", |mut c| async move {
                                c.lease_revoke(current).await
                            })
                            .await;
                    });
                    break;
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(key = %record.key, error = %e, retry_in = ?delay, "registering in etcd failed");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[async_trait]
impl Registrar for EtcdRegistry {
    /// Puts the instance under a new lease and keeps it alive; fails if etcd
    /// does not answer now. After that, a lost registration is re-created
    /// in the background until [`Registrar::deregister`].
    async fn register(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        if instance.name.is_empty() || instance.id.is_empty() {
            return Err(RegistryError::invalid_instance(
                "a service instance needs a name and an id",
            ));
        }
        let inner = &self.inner;
        let key = self.key(instance);
        let record = Record {
            connector: inner.connector.clone(),
            key: key.clone(),
            value: instance.to_json(),
            ttl_secs: inner.ttl.as_secs_f64().ceil().max(1.0) as i64,
        };
        let old = inner
            .registrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        if let Some(old) = old {
            old.task.abort();
        }
        let lease = Arc::new(AtomicI64::new(record.put().await?));
        // Never wait longer than half a TTL between tries: once etcd is back,
        // the instance must be present again within one TTL.
        let cap = inner.backoff.1.min(inner.ttl / 2).max(inner.backoff.0);
        let backoff = Backoff::new(inner.backoff.0, cap);
        let task = tokio::spawn(maintain(record, lease.clone(), backoff));
        let replaced = inner
            .registrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Registration { task, lease });
        if let Some(replaced) = replaced {
            replaced.task.abort();
        }
        Ok(())
    }

    /// Stops the keep-alive, deletes the key and revokes the lease. If etcd
    /// is down the error is returned and the key leaves when its lease
    /// expires.
    async fn deregister(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        let key = self.key(instance);
        let registration = self
            .inner
            .registrations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let lease = match registration {
            Some(r) => {
                r.task.abort();
                let _ = r.task.await;
                Some(r.lease.load(Ordering::SeqCst))
            }
            None => None,
        };
        let connector = &self.inner.connector;
        connector
            .call("deleting a key from", |mut c| {
                let key = key.clone();
                async move { c.delete(key, None).await }
            })
            .await?;
        if let Some(lease) = lease {
            let _ = connector
                .call("revoking a lease in", |mut c| async move {
                    c.lease_revoke(lease).await
                })
                .await;
        }
        Ok(())
    }
}
