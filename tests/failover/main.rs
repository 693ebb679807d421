//! Failover across real processes (issue 13): three greeter servers, each its
//! own process registered in a real etcd, under paced load from 16 workers,
//! while one of them is killed (SIGKILL) or frozen (SIGSTOP).
//!
//! Run with
//! `cargo test -p kratos-rs --all-features --test failover -- --nocapture`
//! (needs `etcd` and `protoc`: `bash scripts/deps.sh`); each scenario prints
//! its numbers (failures by code, the dead node's last pick, throughput).
//!
//! - [`kill`]: SIGKILL one of three after ~1 s of load, for every balancer
//!   over gRPC and for WRR and P2C over HTTP; with retry no call fails,
//!   without retry at most the calls in flight (16) do.
//! - [`freeze`]: SIGSTOP one of three; the calls it holds fail as 504
//!   `TIMEOUT` / `DEADLINE_EXCEEDED`, never as cancelled.
//!
//! The servers are this test binary run again: [`child`] holds the one test
//! that, given [`child::SERVER_ENV`], serves and never returns. Scenarios run
//! one at a time ([`scenario::serial`]) so their load does not overlap.
#![cfg(feature = "etcd")]

mod child;
mod freeze;
mod kill;
mod load;
mod scenario;
