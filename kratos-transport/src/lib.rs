//! kratos-rs transports: an HTTP/JSON server on axum and a gRPC server on
//! tonic, both [`Server`](kratos_core::Server)s an [`App`](kratos_core::App)
//! starts, registers and drains.
//!
//! Both servers bind the address you give them (port 0 picks a free one),
//! advertise the endpoint they really bound (`http://ip:port`,
//! `grpc://ip:port`, with `0.0.0.0` replaced by a routable address unless you
//! set one explicitly), put [`TransportInfo`](kratos_core::TransportInfo) and
//! [`AppInfo`](kratos_core::AppInfo) on every request before any middleware
//! runs, accept tower layers, and report health tied to the App's lifecycle.
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
//! None yet: both servers are always built.
//!
//! # Structure
//!
//! - [`http`]: [`HttpServer`](http::HttpServer), the [`Json`](http::Json) codec.
//! - [`grpc`]: [`GrpcServer`](grpc::GrpcServer), the built-in health service.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod endpoint;
pub mod grpc;
pub mod http;
mod info;
mod serve;
