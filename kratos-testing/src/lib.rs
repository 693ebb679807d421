//! Test harness shared by the kratos-rs crates' tests (dev-only, not published).
//!
//! - [`EtcdServer`] starts the **real** `etcd` binary on free loopback ports
//!   with a temporary data directory, waits until it is healthy, and can stop,
//!   kill (SIGKILL) and restart it on the same data directory (or a fresh one).
//!   It is killed when dropped. [`EtcdServer::start_tls`] serves clients
//!   over TLS with a certificate from a throwaway [`TestCa`].
//! - [`EtcdCluster`] starts three real `etcd` members on loopback ports as
//!   one cluster; each member can be killed and restarted (it rejoins with
//!   its data), and the cluster says which member leads.
//! - [`ConsulAgent`] is an in-process stand-in for a Consul agent that follows
//!   the documented HTTP API: service registration with TTL checks, health
//!   queries with blocking (`index` + `wait`) semantics, and the KV store.
//!
//! ```no_run
//! # async fn demo() {
//! let etcd = kratos_testing::EtcdServer::start().await;
//! println!("etcd at {}", etcd.endpoint());
//! let consul = kratos_testing::ConsulAgent::start().await;
//! println!("consul at {}", consul.address());
//! # }
//! ```
//!
//! # Feature Flags
//!
//! None: this crate is always built whole, for tests only.
//!
//! # Structure
//!
//! - [`EtcdServer`]: a child `etcd` process (needs `apt-get install -y etcd-server`).
//! - [`EtcdCluster`]: three such processes forming one cluster.
//! - [`TestCa`]: a throwaway CA and server certificates for `127.0.0.1`, made
//!   with the `openssl` CLI (package `openssl`), for the etcd TLS tests.
//! - [`TestPki`]: a throwaway CA, a server certificate for
//!   `localhost`/`127.0.0.1` and a client certificate, made in-process with
//!   rcgen and written as PEM files; the server's can be reissued in place.
//! - [`ConsulAgent`]: the stand-in agent; see its docs for the endpoints it serves.
//! - [`CapturedLogs`]: a `tracing` writer keeping log lines for a test to read.
//! - [`PanicBody`]: a body that panics if read, to prove nothing reads it.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]

mod body;
mod consul;
mod etcd;
mod examples;
mod logs;
mod pki;
mod tls;

pub use body::PanicBody;
pub use consul::{ConsulAgent, ConsulAgentBuilder};
pub use etcd::{EtcdCluster, EtcdServer};
pub use examples::example_binary;
pub use logs::CapturedLogs;
pub use pki::TestPki;
pub use tls::TestCa;
