//! Behaviour of the Consul backend, against the stand-in agent of
//! `kratos-testing`, or against a real agent when `CONSUL_HTTP_ADDR` is set
//! (tests that need to restart or stop the agent are skipped then).
//!
//! One test binary, one module per behaviour.
#![cfg(feature = "consul")]

#[path = "consul/common.rs"]
mod common;
#[path = "consul/heartbeat.rs"]
mod heartbeat;
#[path = "consul/options.rs"]
mod options;
#[path = "consul/outage.rs"]
mod outage;
#[path = "consul/watch.rs"]
mod watch;
#[path = "shared/watching.rs"]
mod watching;
