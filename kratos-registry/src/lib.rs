//! Service registration and discovery for kratos-rs.
//!
//! A service announces itself with a [`Registrar`] and finds its peers with a
//! [`Discovery`], whose [`Watcher`] yields the **full** current list of
//! [`ServiceInstance`]s: first at once, then on every change, including the
//! change to an empty list.
//!
//! ```
//! use kratos_registry::{Discovery, MemoryRegistry, Registrar, ServiceInstance};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), kratos_registry::RegistryError> {
//! let registry = MemoryRegistry::new();
//! let instance = ServiceInstance::new("id-1", "greeter")
//!     .with_version("v1")
//!     .with_endpoint("grpc://127.0.0.1:9000");
//! registry.register(&instance).await?;
//!
//! let mut watcher = registry.watch("greeter").await?;
//! assert_eq!(watcher.next().await?, vec![instance.clone()]);
//!
//! registry.deregister(&instance).await?;
//! assert!(watcher.next().await?.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # Feature Flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `etcd` | off | [`etcd::EtcdRegistry`], an etcd v3 backend wire-compatible with Go Kratos (the `etcd-client` crate needs `protoc` at build time: `apt-get install -y protobuf-compiler libprotobuf-dev`) |
//! | `etcd-tls` | off | TLS for the etcd backend (implies `etcd`; rustls with ring) |
//! | `consul` | off | [`consul::ConsulRegistry`], a Consul backend over the agent's HTTP API |
//! | `tls` | off | with `consul`: `https://` agents and `ConsulRegistryBuilder::tls` (CA roots, client certificate; rustls with ring) |
//!
//! # Structure
//!
//! - [`ServiceInstance`]: what is registered, serialised exactly as Go Kratos does.
//! - [`Registrar`], [`Discovery`], [`Watcher`]: the backend-neutral traits.
//! - [`RegistryError`]: an opaque error; `is_unavailable`, `is_timeout`, ... tell kinds apart.
//! - [`MemoryRegistry`]: an in-process backend, the default of `kratos::App`.
//! - `etcd` (feature `etcd`): leases kept alive and re-created forever with
//!   jittered backoff; watches that resume after an outage and serve the last
//!   known list meanwhile.
//! - `consul` (feature `consul`): TTL-checked registration with a heartbeat
//!   that re-registers when the agent forgot the service; discovery by
//!   blocking health queries.
//!
//! The remote backends share their retry policy (`kratos_net::Backoff`:
//! exponential backoff with equal jitter, capped, as the retry middleware's)
//! and their watcher: a background task per watcher
//! publishes whole lists, and a list equal to the previous one is not
//! reported again.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod instance;
#[cfg(any(feature = "etcd", feature = "consul"))]
mod list;
mod memory;
mod registry;

#[cfg(feature = "consul")]
#[cfg_attr(docsrs, doc(cfg(feature = "consul")))]
pub mod consul;
#[cfg(feature = "etcd")]
#[cfg_attr(docsrs, doc(cfg(feature = "etcd")))]
pub mod etcd;

pub use error::RegistryError;
pub use instance::ServiceInstance;
pub use memory::{MemoryRegistry, MemoryWatcher};
pub use registry::{Discovery, Registrar, Watcher};
