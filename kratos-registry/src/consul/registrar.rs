//! Registration with a TTL check kept passing by a heartbeat.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use kratos_net::Backoff;
use serde_json::{Value, json};

use super::client::{CheckUpdate, Client};
use super::{ConsulRegistry, go_duration};
use crate::{Registrar, RegistryError, ServiceInstance};

/// Host and port of an endpoint URL such as `grpc://10.0.0.1:9000`.
fn host_port(endpoint: &str) -> Option<(String, String, u16)> {
    let uri: http::Uri = endpoint.parse().ok()?;
    let scheme = uri.scheme_str()?.to_owned();
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    Some((scheme, host.to_owned(), uri.port_u16().unwrap_or(0)))
}

/// The body of `PUT /v1/agent/service/register` for `instance`.
pub(super) fn registration(
    instance: &ServiceInstance,
    ttl: Duration,
    deregister_after: Duration,
) -> Value {
    let mut tagged = BTreeMap::new();
    let mut first = None;
    for endpoint in &instance.endpoints {
        if let Some((scheme, host, port)) = host_port(endpoint) {
            tagged.insert(scheme, json!({"Address": endpoint, "Port": port}));
            first.get_or_insert((host, port));
        }
    }
    let (address, port) = first.unwrap_or_default();
    json!({
        "ID": instance.id,
        "Name": instance.name,
        "Tags": [format!("version={}", instance.version)],
        "Meta": instance.metadata,
        "Address": address,
        "Port": port,
        "TaggedAddresses": tagged,
        "Checks": [{
            "CheckID": ConsulRegistry::check_id(&instance.id),
            "Name": format!("Service '{}' TTL check", instance.name),
            "TTL": go_duration(ttl),
            "DeregisterCriticalServiceAfter": go_duration(deregister_after),
        }],
    })
}

/// Registers and marks the check passing at once.
async fn register_once(client: &Client, body: &Value, check_id: &str) -> Result<(), RegistryError> {
    client.register(body).await?;
    client.update_check(check_id, "passing").await?;
    Ok(())
}

/// Marks the check passing every `interval`; registers again when the
/// agent forgot the service; retries forever with backoff while the agent
/// is unreachable.
async fn heartbeat(
    client: Client,
    body: Value,
    check_id: String,
    interval: Duration,
    mut backoff: Backoff,
) {
    let mut delay = interval;
    loop {
        tokio::time::sleep(delay).await;
        let result = match client.update_check(&check_id, "passing").await {
            Ok(CheckUpdate::Updated) => Ok(()),
            Ok(CheckUpdate::Unknown) => {
                tracing::warn!(check = %check_id, "the Consul agent forgot the service; registering again");
                register_once(&client, &body, &check_id).await
            }
            Err(e) => Err(e),
        };
        delay = match result {
            Ok(()) => {
                backoff.reset();
                interval
            }
            Err(e) => {
                let d = backoff.next_delay().min(interval);
                tracing::warn!(check = %check_id, error = %e, retry_in = ?d, "Consul heartbeat failed");
                d
            }
        };
    }
}

#[async_trait]
impl Registrar for ConsulRegistry {
    /// Registers the instance and starts its heartbeat; fails if the agent
    /// does not answer now.
    async fn register(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        if instance.name.is_empty() || instance.id.is_empty() {
            return Err(RegistryError::invalid_instance(
                "a service instance needs a name and an id",
            ));
        }
        let inner = &self.inner;
        let body = registration(
            instance,
            inner.heartbeat * 2,
            inner.deregister_critical_after,
        );
        let check_id = Self::check_id(&instance.id);
        if let Some(old) = inner
            .heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&instance.id)
        {
            old.abort();
        }
        register_once(&inner.client, &body, &check_id).await?;
        let task = tokio::spawn(heartbeat(
            inner.client.clone(),
            body,
            check_id,
            inner.heartbeat,
            Backoff::new(inner.backoff.0, inner.backoff.1),
        ));
        if let Some(replaced) = inner
            .heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(instance.id.clone(), task)
        {
            replaced.abort();
        }
        Ok(())
    }

    /// Stops the heartbeat and deregisters the service (an id the agent does
    /// not know is not an error).
    async fn deregister(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        let task = self
            .inner
            .heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&instance.id);
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        self.inner.client.deregister(&instance.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_body_follows_go_kratos() {
        let i = ServiceInstance::new("id1", "greeter")
            .with_version("v1.2.0")
            .with_metadata("zone", "a")
            .with_endpoint("grpc://10.0.0.1:9000")
            .with_endpoint("http://10.0.0.1:8000");
        let body = registration(&i, Duration::from_secs(20), Duration::from_secs(600));
        assert_eq!(
            body,
            json!({
                "ID": "id1", "Name": "greeter", "Tags": ["version=v1.2.0"],
                "Meta": {"zone": "a"}, "Address": "10.0.0.1", "Port": 9000,
                "TaggedAddresses": {
                    "grpc": {"Address": "grpc://10.0.0.1:9000", "Port": 9000},
                    "http": {"Address": "http://10.0.0.1:8000", "Port": 8000},
                },
                "Checks": [{"CheckID": "service:id1", "Name": "Service 'greeter' TTL check",
                            "TTL": "20000ms", "DeregisterCriticalServiceAfter": "600000ms"}],
            })
        );
    }
}
