//! kratos-rs transports: an HTTP/JSON server on axum and a gRPC server on
//! tonic, both [`Server`](kratos_core::Server)s an [`App`](kratos_core::App)
//! starts, registers and drains.
//!
//! Both servers bind the address you give them (port 0 picks a free one),
//! advertise the endpoint they really bound (`http://ip:port`,
//! `grpc://ip:port`, with `0.0.0.0` replaced by a routable address unless you
//! set one explicitly), put [`TransportInfo`](kratos_core::TransportInfo),
//! carrying the [`AppInfo`](kratos_core::AppInfo), on every request before
//! any middleware runs, accept tower layers, and report health tied to the App's lifecycle.
//!
//! ```
//! use axum::routing::get;
//! use kratos_core::{App, Error};
//! use kratos_transport::http::HttpServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! async fn user() -> Result<String, Error> {
//!     Err(Error::not_found("USER_NOT_FOUND", "no such user"))
//! }
//! let http = HttpServer::builder()
//!     .address(([127, 0, 0, 1], 0))
//!     .route("/v1/users/{id}", get(user))
//!     .build();
//! let app = App::builder()
//!     .name("users")
//!     .server(http)
//!     .signals([])
//!     .after_start(|info| async move {
//!         println!("listening on {:?}", info.endpoints());
//!         Ok(())
//!     })
//!     .build();
//! let stop = app.stop_handle();
//! stop.stop(); // a real service runs until SIGINT/SIGTERM
//! app.run().await
//! # }
//! ```
//!
//! # Feature Flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls` | off | `tls`: TLS (rustls with `ring`, no OpenSSL) on both servers (`.tls(ServerTls)`, mTLS, certificates re-read on change) and both clients (`.tls(ClientTls)`; `grpcs://`/`https://` nodes dialled over TLS) |
//!
//! # Structure
//!
//! - [`http`]: [`HttpServer`](http::HttpServer), the [`Json`](http::Json) codec,
//!   [`Routes`](http::Routes) (a router plus the gRPC operation of each
//!   generated route), [`HttpClient`](http::HttpClient), and
//!   [`codegen`](http::codegen), the runtime of the code `kratos-build`
//!   generates.
//! - [`grpc`]: [`GrpcServer`](grpc::GrpcServer), the built-in health service,
//!   [`GrpcChannel`](grpc::GrpcChannel).
//! - `tls` (feature `tls`): `ServerTls`, `ClientTls`, `Identity`.
//!
//! # Clients
//!
//! [`GrpcChannel`](grpc::GrpcChannel) (for any tonic-generated client) and
//! [`HttpClient`](http::HttpClient) (JSON) dial `discovery:///<service>`
//! through any [`Discovery`](kratos_registry::Discovery), or a direct
//! `grpc://host:port` / `http://host:port`. They follow the registry's
//! watcher into a [`kratos_selector::Selector`], pick a node per call with
//! the chosen balancer (smooth weighted round-robin by default, P2C-EWMA,
//! round-robin, random) and node filters, and report each call's outcome
//! back to it. No node means a 503 with reason [`NODE_NOT_FOUND`]; the
//! default timeout is [`DEFAULT_TIMEOUT`]; `block(true)` makes dialling wait
//! for a first instance.
//!
//! Failure is routed around the same way on both: a node whose connection
//! is refused or reset, or that does not answer in time, leaves rotation
//! (see [`HealthPolicy`](kratos_selector::HealthPolicy)); a call whose
//! connection failed before anything was sent goes to another node, whatever
//! its method; a retry layer's next attempt goes to a node the call has not
//! tried ([`Attempt`](kratos_core::transport::Attempt)); a call that runs out
//! of time is 504 `TIMEOUT` (gRPC `DEADLINE_EXCEEDED`), a failed connection
//! 503 `TRANSPORT`.
//!
//! Both clients' layers wrap one [`ClientService`] over
//! `http::Request<axum::body::Body>`, the body the servers' middleware sees:
//! any `kratos_middleware` layer, or your own `Middleware`, runs on both
//! servers and both clients.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod activity;
mod client_builder;
mod connection_call;
mod discovery;
mod endpoint;
pub mod grpc;
pub mod http;
mod info;
mod layers;
mod limits;
mod pick;
mod replay;
mod serve;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

pub use client_builder::{BoxError, ClientBuilder, ClientService};
pub use discovery::{DEFAULT_TIMEOUT, NODE_NOT_FOUND};
pub use limits::Limits;
