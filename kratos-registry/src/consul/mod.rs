//! A Consul backend over the agent's HTTP API, laid out as Go Kratos's
//! `contrib/registry/consul` does.
//!
//! Enabled by the `consul` feature; talks HTTP through the workspace's
//! pooled client (`kratos_net::http`). With the `tls` feature too, an
//! `https://` address is dialled over TLS, verified against the system's
//! roots or the CA given to `ConsulRegistryBuilder::tls`, which can also
//! carry a client certificate (Consul's `verify_incoming`).
//!
//! # Registration
//!
//! `PUT /v1/agent/service/register` with `ID` = instance id, `Name`,
//! `Tags = ["version=<version>"]`, `Meta` = metadata, one tagged address per
//! endpoint scheme (`{"grpc": {"Address": "grpc://10.0.0.1:9000", "Port":
//! 9000}}`), `Address`/`Port` of the first endpoint, and a TTL check
//! `service:<id>` (TTL = twice the heartbeat interval, removed by Consul after
//! `DeregisterCriticalServiceAfter`). A heartbeat task marks the check
//! passing every interval. When the agent no longer knows the check (it
//! restarted, or removed the service), the service is registered again; when
//! the agent is unreachable, the heartbeat retries with jittered backoff,
//! forever, until [`Registrar::deregister`](crate::Registrar::deregister)
//! or the registry is dropped.
//!
//! # Discovery
//!
//! Blocking queries on `GET /v1/health/service/<name>?passing` with `index`
//! and `wait`. Every answer is compared with the last list, so removals and
//! the change to an empty list are reported. Index rules, as Consul
//! documents them: an index that goes backwards resets to 0 (a fresh,
//! non-blocking read), an index of 0 is treated as 1. While the agent is
//! unreachable, the watcher keeps its last list and
//! [`Discovery::get_service`](crate::Discovery::get_service) answers with the
//! last list seen.
//!
//! Endpoints are read back from the tagged addresses whose address is a URL
//! (Consul's own `lan`/`wan`/`lan_ipv4`/... are skipped); a service with none
//! gets `http://<Address>:<Port>`, as Go Kratos does.
//!
//! ```no_run
//! use kratos_registry::consul::ConsulRegistry;
//! use kratos_registry::{Discovery, Registrar, ServiceInstance};
//!
//! # async fn demo() -> Result<(), kratos_registry::RegistryError> {
//! let registry = ConsulRegistry::builder("http://127.0.0.1:8500")
//!     .token("my-acl-token")
//!     .datacenter("dc1")
//!     .build();
//! let me = ServiceInstance::new("id-1", "greeter").with_endpoint("grpc://10.0.0.1:9000");
//! registry.register(&me).await?;
//! let mut watcher = registry.watch("greeter").await?;
//! let instances = watcher.next().await?;
//! # let _ = instances;
//! # Ok(())
//! # }
//! ```

mod client;
mod discovery;
mod registrar;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::list::LastKnown;

/// A registrar and discovery backed by a Consul agent. Cheap to clone; clones
/// share the HTTP client, the heartbeats and the last known lists.
///
/// Dropping the last clone stops every heartbeat and watch it started (the
/// services then turn critical after their TTL).
#[derive(Clone)]
pub struct ConsulRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    client: client::Client,
    heartbeat: Duration,
    deregister_critical_after: Duration,
    wait: Duration,
    backoff: (Duration, Duration),
    heartbeats: Mutex<HashMap<String, JoinHandle<()>>>,
    last_known: LastKnown,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let tasks = self.heartbeats.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, task) in tasks.drain() {
            task.abort();
        }
    }
}

impl fmt::Debug for ConsulRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsulRegistry")
            .field("address", &self.inner.client.address())
            .field("heartbeat", &self.inner.heartbeat)
            .finish_non_exhaustive()
    }
}

impl ConsulRegistry {
    /// Options for a registry talking to the agent at `address`
    /// (`http://127.0.0.1:8500`, or `https://…` with the `tls` feature; the
    /// scheme may be left out for `http`).
    pub fn builder(address: impl Into<String>) -> ConsulRegistryBuilder {
        ConsulRegistryBuilder {
            address: address.into(),
            token: None,
            datacenter: None,
            heartbeat: Duration::from_secs(10),
            deregister_critical_after: Duration::from_secs(600),
            wait: Duration::from_secs(55),
            request_timeout: Duration::from_secs(5),
            backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// A registry with default options for the agent at `address`.
    pub fn new(address: impl Into<String>) -> Self {
        Self::builder(address).build()
    }

    /// A registry for the agent the environment names, as the Consul CLI
    /// reads it: `CONSUL_HTTP_ADDR` (default `127.0.0.1:8500`),
    /// `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_SSL=true` (an address without a
    /// scheme is dialled `https://`) and, with the `tls` feature,
    /// `CONSUL_CACERT`, `CONSUL_CLIENT_CERT` + `CONSUL_CLIENT_KEY` and
    /// `CONSUL_TLS_SERVER_NAME`. A client certificate that cannot be read is
    /// logged and left out (the agent then refuses the connection, naming
    /// the reason).
    pub fn from_env() -> Self {
        builder_from(|name| std::env::var(name).ok().filter(|v| !v.is_empty())).build()
    }

    /// The id of the TTL check of an instance: `service:<id>`.
    pub fn check_id(instance_id: &str) -> String {
        format!("service:{instance_id}")
    }
}

/// The builder the Consul CLI's environment variables describe, read
/// through `var`.
fn builder_from(var: impl Fn(&str) -> Option<String>) -> ConsulRegistryBuilder {
    let mut address = var("CONSUL_HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8500".to_owned());
    let ssl = var("CONSUL_HTTP_SSL").is_some_and(|v| matches!(v.as_str(), "true" | "1"));
    if ssl && !address.contains("://") {
        address = format!("https://{address}");
    }
    let mut builder = ConsulRegistry::builder(address);
    if let Some(token) = var("CONSUL_HTTP_TOKEN") {
        builder = builder.token(token);
    }
    #[cfg(feature = "tls")]
    {
        let ca = var("CONSUL_CACERT");
        let client = var("CONSUL_CLIENT_CERT").zip(var("CONSUL_CLIENT_KEY"));
        let server_name = var("CONSUL_TLS_SERVER_NAME");
        if ca.is_some() || client.is_some() || server_name.is_some() {
            let mut tls = kratos_net::tls::ClientTls::new();
            if let Some(ca) = ca {
                tls = tls.ca_pem_file(ca);
            }
            if let Some((cert, key)) = client {
                match kratos_net::tls::Identity::from_pem_files(&cert, &key) {
                    Ok(identity) => tls = tls.identity(identity),
                    Err(err) => tracing::warn!(
                        error = %err,
                        "CONSUL_CLIENT_CERT/CONSUL_CLIENT_KEY cannot be read; dialling Consul without a client certificate"
                    ),
                }
            }
            if let Some(name) = server_name {
                tls = tls.server_name(name);
            }
            builder = builder.tls(tls);
        }
    }
    builder
}

/// Options of a [`ConsulRegistry`]; see [`ConsulRegistry::builder`].
#[must_use]
pub struct ConsulRegistryBuilder {
    address: String,
    token: Option<String>,
    datacenter: Option<String>,
    heartbeat: Duration,
    deregister_critical_after: Duration,
    wait: Duration,
    request_timeout: Duration,
    backoff: (Duration, Duration),
    #[cfg(feature = "tls")]
    tls: Option<kratos_net::tls::ClientTls>,
}

impl fmt::Debug for ConsulRegistryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsulRegistryBuilder")
            .field("address", &self.address)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("datacenter", &self.datacenter)
            .field("heartbeat", &self.heartbeat)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl ConsulRegistryBuilder {
    /// The ACL token sent as `X-Consul-Token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The datacenter queried and registered in (`?dc=`); the agent's own by default.
    pub fn datacenter(mut self, dc: impl Into<String>) -> Self {
        self.datacenter = Some(dc.into());
        self
    }

    /// How often the TTL check is marked passing (default 10 s); the check's
    /// TTL is twice this.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval.max(Duration::from_millis(10));
        self
    }

    /// How long a check may stay critical before Consul removes the service
    /// (default 600 s, as Go Kratos).
    pub fn deregister_critical_after(mut self, after: Duration) -> Self {
        self.deregister_critical_after = after;
        self
    }

    /// The `wait` of blocking queries (default 55 s; Consul caps it at 10 min).
    pub fn blocking_wait(mut self, wait: Duration) -> Self {
        self.wait = wait.min(Duration::from_secs(600));
        self
    }

    /// How long a non-blocking request may take (default 5 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry delays after a failure: from `initial`, doubling up to `max`,
    /// jittered (default 500 ms to 30 s).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = (initial, max);
        self
    }

    /// Dials an `https://` agent with `tls` (given CA roots, a client
    /// certificate) instead of the system's roots.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: kratos_net::tls::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Builds the registry; no request is made yet.
    pub fn build(self) -> ConsulRegistry {
        let http = kratos_net::http::ClientOptions::new().connect_timeout(self.request_timeout);
        #[cfg(feature = "tls")]
        let http = match self.tls {
            Some(tls) => http.tls(tls),
            None => http,
        };
        ConsulRegistry {
            inner: Arc::new(Inner {
                client: client::Client::new(
                    &self.address,
                    self.token,
                    self.datacenter,
                    self.request_timeout,
                    &http,
                ),
                heartbeat: self.heartbeat,
                deregister_critical_after: self.deregister_critical_after,
                wait: self.wait,
                backoff: self.backoff,
                heartbeats: Mutex::new(HashMap::new()),
                last_known: LastKnown::default(),
            }),
        }
    }
}

/// A duration as Consul reads it (a Go duration string).
fn go_duration(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<ConsulRegistry>();
        assert_send_sync::<ConsulRegistryBuilder>();
    }

    #[test]
    fn the_consul_cli_environment_configures_the_builder() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let default = builder_from(env(&[]));
        assert_eq!(default.address, "127.0.0.1:8500");
        assert_eq!(default.token, None);

        let ssl = builder_from(env(&[
            ("CONSUL_HTTP_ADDR", "consul.local:8501"),
            ("CONSUL_HTTP_SSL", "true"),
            ("CONSUL_HTTP_TOKEN", "secret"),
        ]));
        assert_eq!(ssl.address, "https://consul.local:8501");
        assert_eq!(ssl.token.as_deref(), Some("secret"));
        // A scheme given in the address wins.
        let explicit = builder_from(env(&[
            ("CONSUL_HTTP_ADDR", "http://127.0.0.1:8500"),
            ("CONSUL_HTTP_SSL", "true"),
        ]));
        assert_eq!(explicit.address, "http://127.0.0.1:8500");

        #[cfg(feature = "tls")]
        {
            assert!(default.tls.is_none());
            let tls = builder_from(env(&[
                ("CONSUL_CACERT", "/etc/consul/ca.pem"),
                ("CONSUL_TLS_SERVER_NAME", "server.dc1.consul"),
            ]));
            let tls = tls.tls.expect("TLS options from the environment");
            assert_eq!(tls.server_name_override(), Some("server.dc1.consul"));
        }
    }

    #[test]
    fn durations_are_sent_as_go_durations() {
        assert_eq!(go_duration(Duration::from_secs(20)), "20000ms");
        assert_eq!(go_duration(Duration::ZERO), "1ms");
    }
}
