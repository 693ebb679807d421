//! Behaviour of the etcd backend against a real `etcd` started by
//! `kratos-testing` (install it with `apt-get install -y etcd-server`).
//!
//! One test binary, one module per behaviour.
#![cfg(feature = "etcd")]

#[path = "etcd/auth.rs"]
mod auth;
#[path = "etcd/cluster.rs"]
mod cluster;
#[path = "etcd/common.rs"]
mod common;
#[path = "etcd/data_loss.rs"]
mod data_loss;
#[path = "etcd/lease.rs"]
mod lease;
#[path = "etcd/measure.rs"]
mod measure;
#[path = "etcd/outage.rs"]
mod outage;
#[cfg(feature = "etcd-tls")]
#[path = "etcd/tls.rs"]
mod tls;
#[path = "etcd/watch.rs"]
mod watch;
#[path = "shared/watching.rs"]
mod watching;
#[path = "etcd/wire.rs"]
mod wire;
