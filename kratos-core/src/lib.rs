//! The core of kratos-rs: the [`App`] lifecycle, the [`Server`] trait, the one
//! [`Error`] type shared by both transports, [`TransportInfo`] and [`Metadata`].
//!
//! An App starts its servers, waits until each one listens, registers the
//! instance with the endpoints they really bound, and on a signal (or its
//! [`StopHandle`]) deregisters, drains and stops within a deadline:
//!
//! ```
//! use kratos_core::{App, Error};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! let app = App::builder()
//!     .name("demo")
//!     .signals([]) // this example stops itself
//!     .after_start(|info| async move {
//!         println!("{} {} is up", info.name(), info.id());
//!         Ok(())
//!     })
//!     .build();
//! let stop = app.stop_handle();
//! let run = tokio::spawn(app.run());
//! stop.stop();
//! run.await.unwrap()?;
//! # Ok(())
//! # }
//! ```
//!
//! Handlers and middleware speak [`Error`]: an HTTP status as code, a reason,
//! a message and metadata; each transport encodes it as Go Kratos does (a JSON
//! body, or a gRPC status with `google.rpc.ErrorInfo`).
//!
//! # Feature Flags
//!
//! None: the core has no optional parts.
//!
//! # Structure
//!
//! - [`app`]: [`App`], [`AppBuilder`], [`AppInfo`], [`RunningApp`], [`StopHandle`], [`Signal`].
//! - [`server`]: the [`Server`] trait, [`ServerContext`], [`Health`].
//! - [`error`]: [`Error`] and the HTTP ⇄ gRPC code table.
//! - [`transport`]: [`TransportInfo`], [`Kind`] and the client-side [`Attempt`](transport::Attempt).
//! - [`metadata`]: [`Metadata`] and the `x-md-*` header prefixes.
//! - [`validate`]: the [`Validate`](validate::Validate) rules generated handlers check.
//! - [`sync`]: the poisoning policy of `std` locks ([`sync::LockExt`]).
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
pub mod error;
pub mod metadata;
pub mod server;
pub mod sync;
pub mod transport;
pub mod validate;

pub use app::{App, AppBuilder, AppInfo, RunningApp, Signal, StopHandle};
pub use error::{
    Error, Result, is_bad_request_error, is_client_closed_error, is_conflict_error,
    is_forbidden_error, is_gateway_timeout_error, is_internal_server_error, is_not_found_error,
    is_service_unavailable_error, is_too_many_requests_error, is_unauthorized_error,
};
pub use metadata::Metadata;
pub use server::{Health, HealthState, Server, ServerContext};
pub use transport::{Kind, TransportInfo};
