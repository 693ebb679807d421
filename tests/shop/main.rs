//! The shop system end to end (issue 16): the example programs as separate
//! processes on a test-started etcd, called only from outside, as a user
//! would, through the gateway's JSON API and the chat's gRPC stream.
//!
//! Run with
//! `cargo test -p kratos-rs --all-features --test shop -- --nocapture`
//! (needs `etcd`: `bash scripts/deps.sh`); each test prints what it
//! measured (failed calls under a kill or a drain, chat delivery latency).
//!
//! - [`system`]: two user instances, product, order and the gateway;
//!   register, log in, order, run out of stock, 50 concurrent orders of a
//!   stock of 20, pages; reads while a user instance is SIGKILLed.
//! - [`drain`]: SIGTERM to the all-in-one `order_service` under load.
//! - [`chat`]: three members of a room receive everything in order; a
//!   fourth that never reads is cut off without delaying them.
#![cfg(feature = "etcd")]

mod chat;
#[path = "../../examples/support/client.rs"]
mod client;
mod drain;
mod program;
mod system;
