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
//! | `etcd` | off | an etcd v3 backend (the `etcd-client` crate needs `protoc` at build time) |
//! | `consul` | off | a Consul backend over its HTTP API |
//!
//! # Structure
//!
//! - [`ServiceInstance`]: what is registered, serialised exactly as Go Kratos does.
//! - [`Registrar`], [`Discovery`], [`Watcher`]: the backend-neutral traits.
//! - [`MemoryRegistry`]: an in-process backend, the default of `kratos::App`.
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
mod memory;
mod registry;

pub use error::RegistryError;
pub use instance::ServiceInstance;
pub use memory::{MemoryRegistry, MemoryWatcher};
pub use registry::{Discovery, Registrar, Watcher};
