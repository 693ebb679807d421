//! An etcd v3 backend, wire-compatible with Go Kratos's `contrib/registry/etcd`.
//!
//! Enabled by the `etcd` feature. The `etcd-client` crate runs `protoc` at
//! build time: install one with
//! `apt-get install -y protobuf-compiler libprotobuf-dev` (Debian), or point
//! `PROTOC` at a `protox` binary.
//!
//! # Layout
//!
//! Each instance is one key, `<namespace>/<name>/<id>` (namespace default
//! `/microservices`), whose value is the [`ServiceInstance`] JSON exactly as
//! Go Kratos writes it, attached to a lease (TTL 15 s by default) that is kept
//! alive while the instance is registered. A Go Kratos service and a Rust one
//! can share one etcd.
//!
//! # Failure behaviour
//!
//! - **Several endpoints** (the members of one cluster): every request goes
//!   to one endpoint at a time, the one that last answered. When it fails
//!   there for a reason another member might not share (unreachable,
//!   connection lost, no answer within the request timeout, the member has
//!   no leader, ...), it is tried on the next endpoint, and so on; it fails
//!   only once every endpoint failed, with an error naming each endpoint
//!   and what it answered. The endpoint that answered is tried first from
//!   then on, so a dead member costs one refused connection (or at most the
//!   connect timeout, default 1 s) once, not every first try. A refusal of
//!   the request itself (bad password, permission denied, ...) is returned
//!   at once. A switch is logged: a warning when an endpoint fails, info
//!   when etcd answers again. Register, `get_service`, `watch`, and
//!   [`EtcdRegistryBuilder::connect`] all work with any minority of the
//!   members down. Long-lived streams (a watch, a lease keep-alive) stay on
//!   the endpoint they were opened on; when it breaks they are opened
//!   again, on the next endpoint.
//! - **Registrar**: when the keep-alive fails (connection lost, etcd
//!   restarted, lease expired or revoked), the instance is registered again
//!   with a new lease, retried **forever** with jittered exponential backoff
//!   (500 ms doubling up to 30 s by default, but never more than half the
//!   TTL, so the instance is back within one TTL of etcd answering) until
//!   [`Registrar::deregister`](crate::Registrar::deregister) is called or the
//!   [`EtcdRegistry`] is dropped. Dropping the registry without deregistering
//!   stops the keep-alive, so the instance leaves after its TTL, as a killed
//!   process would.
//! - **Discovery**: a watch reads the prefix, then watches from the read's
//!   revision + 1, so no change between the read and the watch is lost.
//!   When the watch breaks (etcd down, compaction, leader loss), the prefix is
//!   read again once etcd answers (this also covers an etcd that came back
//!   with its data lost, whose revisions restart at 1) and the watch resumes
//!   from that read. Meanwhile the watcher keeps its last list and
//!   [`Discovery::get_service`](crate::Discovery::get_service) answers with
//!   the last list it (or any watcher of the same registry) saw.
//! - **An empty re-read is held back for one TTL.** If the read after a
//!   broken watch finds no instance while the watcher's last list had
//!   some, the watcher keeps that list for up to one lease TTL (the
//!   registry's [`ttl`](EtcdRegistryBuilder::ttl)) from that read: an etcd
//!   that lost its data (or was replaced by an empty one) holds nothing
//!   until the registrars, which retry within half a TTL, have registered
//!   again, and an empty list would make every client fail with "no
//!   instance" meanwhile. The first instance that registers ends the hold
//!   (the list is shown at once); if none does within the TTL, the empty
//!   list is shown then, so a service that is really gone still reaches it,
//!   one TTL late. Each further reconnect that finds nothing restarts the
//!   hold. Only re-reads are held: a deletion (deregistration, lease
//!   expiry) seen by a live watch is a real removal and is shown at once,
//!   the last instance included, and so is a re-read that finds some but
//!   not all of the instances. `get_service` always answers with what etcd
//!   holds now.
//!
//! # Example
//!
//! ```no_run
//! use kratos_registry::etcd::EtcdRegistry;
//! use kratos_registry::{Discovery, Registrar, ServiceInstance};
//!
//! # async fn demo() -> Result<(), kratos_registry::RegistryError> {
//! let registry = EtcdRegistry::builder(["http://127.0.0.1:2379"])
//!     .namespace("/microservices")
//!     .ttl(std::time::Duration::from_secs(15))
//!     .connect()
//!     .await?;
//! let me = ServiceInstance::new("id-1", "greeter").with_endpoint("grpc://10.0.0.1:9000");
//! registry.register(&me).await?;
//! let mut watcher = registry.watch("greeter").await?;
//! let instances = watcher.next().await?;
//! # let _ = instances;
//! # Ok(())
//! # }
//! ```

mod connector;
mod discovery;
mod registrar;
#[cfg(feature = "etcd-tls")]
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::list::LastKnown;
use crate::{RegistryError, ServiceInstance};

use connector::Connector;
/// The `etcd-client` crate this backend uses, for direct access through
/// [`EtcdRegistry::client`]. Public on purpose, and the only place it is:
/// the rest of this module's API is this crate's own types, so only code
/// that calls [`EtcdRegistry::client`] sees an etcd-client upgrade (which
/// is then a breaking release of this crate, said in the changelog).
pub use etcd_client;
use etcd_client::ConnectOptions;
#[cfg(feature = "etcd-tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "etcd-tls")))]
pub use tls::EtcdTls;

/// The namespace Go Kratos uses by default.
pub const DEFAULT_NAMESPACE: &str = "/microservices";
/// The lease TTL Go Kratos uses by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15);

/// A registrar and discovery backed by etcd v3. Cheap to clone; clones share
/// the connection, the registrations and the last known lists.
///
/// Dropping the last clone stops every keep-alive and watch it started.
#[derive(Clone)]
pub struct EtcdRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Arc<Connector>,
    namespace: String,
    ttl: Duration,
    backoff: (Duration, Duration),
    registrations: Mutex<HashMap<String, registrar::Registration>>,
    last_known: LastKnown,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let registrations = self
            .registrations
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        for (_, r) in registrations.drain() {
            r.task.abort();
        }
    }
}

impl fmt::Debug for EtcdRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdRegistry")
            .field("endpoints", &self.inner.connector.endpoints())
            .field("namespace", &self.inner.namespace)
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl EtcdRegistry {
    /// Options for a registry talking to `endpoints` (`http://host:2379`),
    /// the members of one etcd cluster: each request goes to one of them
    /// and fails over to the others (see
    /// [Failure behaviour](self#failure-behaviour)).
    pub fn builder<E, S>(endpoints: S) -> EtcdRegistryBuilder
    where
        E: AsRef<str>,
        S: AsRef<[E]>,
    {
        EtcdRegistryBuilder {
            endpoints: endpoints
                .as_ref()
                .iter()
                .map(|e| e.as_ref().to_owned())
                .collect(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            ttl: DEFAULT_TTL,
            user: None,
            #[cfg(feature = "etcd-tls")]
            tls: None,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            keep_alive: (Duration::from_secs(10), Duration::from_secs(5)),
        }
    }

    /// A registry with default options talking to `endpoints`.
    pub async fn connect<E, S>(endpoints: S) -> Result<Self, RegistryError>
    where
        E: AsRef<str>,
        S: AsRef<[E]>,
    {
        Self::builder(endpoints).connect().await
    }

    /// The key an instance is stored under: `<namespace>/<name>/<id>`.
    pub fn key(&self, instance: &ServiceInstance) -> String {
        format!("{}/{}/{}", self.inner.namespace, instance.name, instance.id)
    }

    /// The prefix the instances of `name` live under: `<namespace>/<name>/`.
    pub fn prefix(&self, name: &str) -> String {
        format!("{}/{}/", self.inner.namespace, name)
    }

    /// A client of the endpoint that last answered, for operations this
    /// crate does not cover. It talks to that one member only and does not
    /// fail over.
    pub async fn client(&self) -> Result<etcd_client::Client, RegistryError> {
        self.inner.connector.client().await
    }
}

/// Options of an [`EtcdRegistry`]; see [`EtcdRegistry::builder`].
#[must_use]
pub struct EtcdRegistryBuilder {
    endpoints: Vec<String>,
    namespace: String,
    ttl: Duration,
    user: Option<(String, String)>,
    #[cfg(feature = "etcd-tls")]
    tls: Option<EtcdTls>,
    connect_timeout: Duration,
    request_timeout: Duration,
    backoff: (Duration, Duration),
    keep_alive: (Duration, Duration),
}

impl fmt::Debug for EtcdRegistryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdRegistryBuilder")
            .field("endpoints", &self.endpoints)
            .field("namespace", &self.namespace)
            .field("ttl", &self.ttl)
            .field("user", &self.user.as_ref().map(|(u, _)| u))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl EtcdRegistryBuilder {
    /// The key prefix (default `/microservices`); a trailing `/` is ignored.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        let ns: String = namespace.into();
        self.namespace = ns.trim_end_matches('/').to_owned();
        self
    }

    /// The lease TTL (default 15 s; rounded up to whole seconds, at least 1 s).
    /// The keep-alive is sent every third of it.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Authenticates as `user` with `password`.
    pub fn user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.user = Some((user.into(), password.into()));
        self
    }

    /// Connects over TLS (use `https://` endpoints).
    ///
    /// No system or Mozilla roots are loaded (the `etcd-tls` feature enables
    /// only rustls with ring), so give the CA that signed etcd's certificate;
    /// the certificate must name the endpoint's host (e.g. subjectAltName
    /// `IP:127.0.0.1` for `https://127.0.0.1:2379`). Add a client
    /// certificate with [`EtcdTls::identity_pem_files`] when etcd runs with
    /// `--client-cert-auth`. A server that is not trusted fails every call
    /// with an unavailable error saying the TLS handshake failed.
    ///
    /// ```no_run
    /// use kratos_registry::etcd::{EtcdRegistry, EtcdTls};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let registry = EtcdRegistry::builder(["https://127.0.0.1:2379"])
    ///     .tls(EtcdTls::new().ca_pem_file("/etc/etcd/ca.pem")?)
    ///     .connect()
    ///     .await?;
    /// # let _ = registry;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "etcd-tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "etcd-tls")))]
    pub fn tls(mut self, tls: EtcdTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long to wait for a TCP connection to one endpoint (default 1 s).
    ///
    /// Keep it short: when a member is unreachable (a host that drops
    /// packets rather than refusing), this is what trying it costs before
    /// the next endpoint is tried, within the request timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take on one endpoint before it counts as
    /// failed there and the next endpoint is tried (default 5 s). A call
    /// that every endpoint fails takes at most this times the number of
    /// endpoints (far less when they refuse connections).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The retry delays after a failure: from `initial`, doubling up to `max`,
    /// jittered (default 500 ms to 30 s). Re-registration caps them further
    /// at half the TTL.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = (initial, max);
        self
    }

    /// HTTP/2 keep-alive ping interval and timeout that detect a dead
    /// connection (default 10 s and 5 s).
    pub fn keep_alive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keep_alive = (interval, timeout);
        self
    }

    fn connect_options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new()
            .with_connect_timeout(self.connect_timeout)
            .with_keep_alive(self.keep_alive.0, self.keep_alive.1)
            .with_require_leader(true);
        if let Some((user, password)) = &self.user {
            options = options.with_user(user.clone(), password.clone());
        }
        #[cfg(feature = "etcd-tls")]
        if let Some(tls) = &self.tls {
            options = options.with_tls(tls.options());
        }
        options
    }

    /// Builds the registry. The connection is made lazily, so this succeeds
    /// while etcd is down unless a user is set (authenticating needs etcd).
    pub async fn connect(self) -> Result<EtcdRegistry, RegistryError> {
        if self.endpoints.is_empty() {
            return Err(RegistryError::other("no etcd endpoints given"));
        }
        let connector = Arc::new(Connector::new(
            self.endpoints.clone(),
            self.connect_options(),
            self.request_timeout,
        ));
        if self.user.is_some() {
            connector.client().await?;
        }
        Ok(EtcdRegistry {
            inner: Arc::new(Inner {
                connector,
                namespace: self.namespace,
                ttl: self.ttl,
                backoff: self.backoff,
                registrations: Mutex::new(HashMap::new()),
                last_known: LastKnown::default(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<EtcdRegistry>();
        assert_send_sync::<EtcdRegistryBuilder>();
    }

    #[tokio::test]
    async fn namespace_key_and_prefix() {
        let r = EtcdRegistry::builder(["http://127.0.0.1:1"])
            .namespace("/ns/")
            .connect()
            .await
            .unwrap();
        assert_eq!(r.key(&ServiceInstance::new("i", "s")), "/ns/s/i");
        assert_eq!(r.prefix("s"), "/ns/s/");
        let none: [&str; 0] = [];
        assert!(EtcdRegistry::connect(none).await.is_err());
    }
}
