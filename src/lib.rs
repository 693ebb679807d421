//! **kratos-rs**: the Kratos microservice framework for Rust. One service
//! definition served over gRPC (tonic) and HTTP/JSON (axum), registered in a
//! registry, with one error model, lifecycle hooks and graceful stop.
//!
//! This crate re-exports the workspace crates; depend on it alone. It is
//! published as `kratos-rs` (`cargo add kratos-rs`) and imported as
//! `kratos`.
//!
//! ```
//! use kratos::http::HttpServer;
//! use kratos::{App, Error};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! async fn find_user() -> Result<String, Error> {
//!     Err(Error::not_found("USER_NOT_FOUND", "no such user"))
//! }
//! let http = HttpServer::builder()
//!     .address(([127, 0, 0, 1], 0))
//!     .route("/v1/users/{id}", axum::routing::get(find_user))
//!     .build();
//! let app = App::builder().name("users").server(http).signals([]).build();
//! app.stop_handle().stop(); // a real service runs until SIGINT/SIGTERM
//! app.run().await
//! # }
//! ```
//!
//! # Feature Flags
//!
//! By default everything builds on a bare machine: both transports, the
//! in-memory registry, file/env/memory config, the middleware (request
//! metrics through the `metrics` facade and OpenTelemetry spans through the
//! global tracer provider included; JWT is opt-in). Backends are opt-in:
//!
//! | feature | enables |
//! |---|---|
//! | `metrics` (default) | `middleware::metrics`: request counters and latency histograms under Go Kratos's names |
//! | `otel` (default) | `middleware::tracing`: OpenTelemetry spans, W3C trace-context and baggage propagation |
//! | `log` (default) | [`log`]: logging setup — text or JSON lines, the level from config and changed at runtime, trace ids on a call's lines, masked secrets |
//! | `jwt` | `middleware::auth::jwt` (its RSA/ECDSA/EdDSA crypto is about 60 crates) |
//! | `etcd` | etcd registry and config source (`etcd-client` runs `protoc` at build time) |
//! | `etcd-tls` | TLS to etcd (rustls with ring) |
//! | `consul` | Consul registry and KV config source |
//! | `apollo` | Apollo config source |
//! | `nacos` | Nacos config source |
//! | `prometheus` | `middleware::metrics::prometheus`, a recorder rendered for a `/metrics` route |
//! | `otlp` | `middleware::tracing::otlp`, span export to an OpenTelemetry collector over OTLP/gRPC |
//! | `tls` | `kratos::tls`: TLS with rustls (ring, no OpenSSL) on both servers and clients (mTLS, certificates re-read when their files change, `grpcs://`/`https://` nodes), and for the Consul, Apollo and Nacos clients |
//!
//! # Structure
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`core`] | `kratos-core` | [`App`], [`Server`], [`Error`], [`TransportInfo`], [`Metadata`] |
//! | [`http`], [`grpc`], [`Limits`] | `kratos-transport` | the HTTP and gRPC servers and clients, server timeouts and caps |
//! | `tls` (feature `tls`) | `kratos-transport` | `ServerTls`, `ClientTls`, `Identity` |
//! | [`registry`] | `kratos-registry` | `Registrar`, `Discovery`, `ServiceInstance`, backends |
//! | [`selector`] | `kratos-selector` | balancers for discovery-aware clients |
//! | [`config`] | `kratos-config` | watched configuration sources |
//! | [`middleware`] | `kratos-middleware` | tower layers for both transports |
//! | [`log`] (feature `log`) | `kratos-log` | logging setup from config |
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

pub use kratos_config as config;
pub use kratos_core as core;
pub use kratos_core::{
    App, AppBuilder, AppInfo, Error, Health, Kind, Metadata, Result, RunningApp, Server,
    ServerContext, Signal, StopHandle, TransportInfo,
};
#[cfg(feature = "log")]
pub use kratos_log as log;
pub use kratos_middleware as middleware;
pub use kratos_registry as registry;
pub use kratos_selector as selector;
#[cfg(feature = "tls")]
pub use kratos_transport::tls;
pub use kratos_transport::{Limits, grpc, http};
