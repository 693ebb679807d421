//! Configuration for kratos-rs: documents from watched sources, merged in
//! order, read typed, reloaded at runtime without ever half-applying.
//!
//! A [`Config`] reads its [`Source`]s ([`FileSource`], [`EnvSource`],
//! [`MemorySource`], or your own), parses each document (json; yaml with
//! the default `yaml` feature, toml with `toml`; parsing by the `config`
//! crate) and deep-merges them, later sources winning.
//! Reads are typed through serde: [`Config::get`] for one key,
//! [`Config::scan`] for the whole tree, [`Handle`] for a hot path.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), kratos_config::ConfigError> {
//! use kratos_config::{Config, EnvSource, KeyValue, MemorySource};
//!
//! #[derive(serde::Deserialize)]
//! struct Http { addr: String, timeout_ms: u64 }
//!
//! let config = Config::builder()
//!     .source(MemorySource::new([KeyValue::new(
//!         "defaults",
//!         "server: {http: {addr: '${HOST:0.0.0.0}:8000', timeout_ms: 500}}",
//!         "yaml",
//!     )]))
//!     .source(EnvSource::new("ORDERS_")) // ORDERS_SERVER__HTTP__TIMEOUT_MS=900 overrides
//!     .build();
//! config.load().await?;
//! let http: Http = config.get("server.http")?;
//! assert!(http.addr.ends_with(":8000"));
//! # Ok(())
//! # }
//! ```
//!
//! # Placeholders
//!
//! A string value may hold `${name}` or `${name:default}`. `name` is looked
//! up first as a key of the merged configuration, then as an environment
//! variable, then the default applies; with none of them the load fails and
//! names the key. The configuration wins over the environment, so a value set
//! in a file is not silently replaced by a stray variable; use [`EnvSource`]
//! to let the environment override.
//!
//! # Hot reload
//!
//! [`Config::watch`] calls an observer when the subtree at its key changed
//! (also when the key was removed: the observer gets `None`); [`Handle`]s
//! follow their key. A change that fails to parse or to deserialize into a
//! watched type is rejected whole and logged; the last good values stay.
//!
//! # Feature Flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `etcd` | off | `remote::EtcdSource`: an etcd key or prefix, watched (needs `protoc` at build time: `apt-get install -y protobuf-compiler libprotobuf-dev`) |
//! | `consul` | off | `remote::ConsulSource`: a Consul KV prefix, blocking queries |
//! | `apollo` | off | `remote::ApolloSource`: Apollo namespaces, long-polled |
//! | `nacos` | off | `remote::NacosSource`: a Nacos config, long-polled |
//! | `tls` | off | with `consul`, `apollo` or `nacos`: `https://` addresses and each source's `.tls(ClientTls)` (CA roots, client certificate; rustls with ring) |
//!
//! File, env and memory sources are always built.
//!
//! # Structure
//!
//! - [`Config`], [`ConfigBuilder`], [`Handle`]: merged configuration and typed reads.
//! - [`source`]: the [`Source`] and [`SourceWatcher`] traits and the built-in sources.
//! - `remote`: sources backed by configuration services (features).
//! - [`KeyValue`]: a document; [`ConfigError`]: failures naming the source and key.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod key_value;
mod merge;
mod observer;
mod placeholder;
#[cfg(any(
    feature = "apollo",
    feature = "consul",
    feature = "etcd",
    feature = "nacos"
))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "apollo",
        feature = "consul",
        feature = "etcd",
        feature = "nacos"
    )))
)]
pub mod remote;
pub mod source;
mod sync;

pub use config::{Config, ConfigBuilder};
pub use error::{CONFIG_REASON, ConfigError};
pub use key_value::KeyValue;
pub use observer::Handle;
pub use source::{EnvSource, FileSource, MemorySource, Source, SourceWatcher};
