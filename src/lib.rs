//! **kratos-rs**: the [Kratos](https://go-kratos.dev) microservice framework
//! for Rust. Write a service's API once in a `.proto`, implement the
//! generated trait once, and serve it over **gRPC** (tonic) and
//! **HTTP/JSON** (axum) with one error model; register it in etcd or Consul
//! and call others through discovery with balancing, breakers and retries;
//! read config that changes at runtime; observe it with Prometheus metrics,
//! OpenTelemetry traces and structured logs — on the same wire as Go Kratos.
//!
//! Published as `kratos-rs` (`cargo add kratos-rs`), imported as `kratos`;
//! the code generator is `kratos-build`, a build-dependency. A service
//! needs nothing else besides tokio: generated code reaches prost, tonic,
//! serde and pbjson through this crate, and [`tonic`], [`axum`] and
//! [`prost`] are re-exported for your code.
//!
//! # From a `.proto` to a running service
//!
//! `build.rs` runs `kratos_build::configure().compile(&["proto/…/greeter.proto"], &["proto"])`;
//! the generated module gives the tonic trait, `greeter_grpc::server`,
//! `greeter_http::router` and `GreeterHttpClient`. Then:
//!
//! ```
//! # use kratos_examples_api::helloworld; // in your crate: mod helloworld { pub mod v1 { kratos::include_proto!("helloworld.v1"); } }
//! use std::sync::Arc;
//!
//! use helloworld::v1::greeter_server::Greeter;
//! use helloworld::v1::{HelloReply, HelloRequest, greeter_grpc, greeter_http};
//! use kratos::grpc::GrpcServer;
//! use kratos::http::HttpServer;
//! use kratos::{App, Error};
//!
//! struct Hello;
//!
//! #[kratos::tonic::async_trait]
//! impl Greeter for Hello {
//!     async fn say_hello(
//!         &self,
//!         req: kratos::tonic::Request<HelloRequest>,
//!     ) -> Result<kratos::tonic::Response<HelloReply>, kratos::tonic::Status> {
//!         let name = req.into_inner().name;
//!         if name.is_empty() {
//!             // 400 NAME_EMPTY over HTTP, INVALID_ARGUMENT + ErrorInfo over gRPC.
//!             return Err(Error::bad_request("NAME_EMPTY", "say who").into());
//!         }
//!         Ok(kratos::tonic::Response::new(HelloReply { message: format!("Hello {name}") }))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! let hello = Arc::new(Hello);
//! let http = HttpServer::builder()
//!     .address(([127, 0, 0, 1], 0)) // 0.0.0.0:8000 in a service
//!     .merge(greeter_http::router(hello.clone())) // POST /helloworld.v1.Greeter/SayHello
//!     .layer(kratos::middleware::server_defaults())
//!     .build();
//! let grpc = GrpcServer::builder()
//!     .address(([127, 0, 0, 1], 0))
//!     .add_service(greeter_grpc::server(hello))
//!     .layer(kratos::middleware::server_defaults())
//!     .build();
//! let app = App::builder().name("greeter").server(http).server(grpc).signals([]).build();
//! app.stop_handle().stop(); // a real service runs until SIGINT/SIGTERM, then drains
//! app.run().await
//! # }
//! ```
//!
//! # Guides
//!
//! - [`guide::getting_started`]: `cargo new` to a call over both transports.
//! - [`guide::lifecycle_and_errors`]: start, register, drain, stop, hooks;
//!   one error model over both transports, reasons from the `.proto`.
//! - [`guide::config`]: sources, placeholders, typed sections, watching.
//! - [`guide::discovery`]: registries and clients that route around failure.
//! - [`guide::middleware`]: the layers, the default chains, binding a layer
//!   to operations, writing your own.
//! - [`guide::middleware_crate`]: a middleware as a crate of its own,
//!   tested on both ends.
//! - [`guide::observability`]: metrics, traces and logs.
//! - `guide::tls` (feature `tls`): TLS and mTLS on both transports.
//! - [`guide::from_go_kratos`]: Go Kratos's packages and options here, and
//!   the deliberate differences.
//!
//! Runnable programs are in `examples/`: `helloworld`, `custom_middleware`,
//! `envelope`, and the shop (`cargo run --example order_service`: user,
//! product and order services and a gateway, also each its own program,
//! plus `chat_service`).
//!
//! # Feature Flags
//!
//! By default everything builds on a bare machine: both transports, the
//! in-memory registry, file/env/memory config (JSON and YAML), the
//! middleware (request metrics through the `metrics` facade and
//! OpenTelemetry spans through the global tracer provider included; JWT is
//! opt-in), logging setup. Backends and the rest are opt-in:
//!
//! | feature | enables |
//! |---|---|
//! | `metrics` (default) | `middleware::metrics`: request counters and latency histograms under Go Kratos's names |
//! | `otel` (default) | `middleware::tracing`: OpenTelemetry spans, W3C trace-context and baggage propagation |
//! | `log` (default) | [`log`]: logging setup — text or JSON lines, the level from config and changed at runtime, trace ids on a call's lines, masked secrets |
//! | `yaml` (default) | YAML config documents (JSON is always read) |
//! | `toml` | TOML config documents |
//! | `gzip` | gzip-compressed gRPC messages on generated servers (grpc-go needs its gzip codec imported for the same) |
//! | `regex` | `middleware::Matcher::regex` |
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
//! # Dependency types in the API
//!
//! Some crates' types are part of this API on purpose, and their major
//! versions are ours (a new major of one is a new major of kratos-rs):
//! `http` (requests, responses and headers in every layer), `tower`'s
//! `Layer` and `Service` (every middleware), [`tonic`] (generated services,
//! `Status`, channels), [`axum`] (routes and handlers), [`prost`]
//! (messages), `opentelemetry`'s API (propagators and carriers in
//! `middleware::tracing`: the instrumentation interface, not the SDK), and
//! etcd-client in exactly two places that hand a client over
//! (`EtcdRegistry::client`, `EtcdSource::new`). Everything else a feature
//! uses — jsonwebtoken, the OpenTelemetry SDK and OTLP exporter,
//! metrics-exporter-prometheus, rustls, hyper-util — is behind this
//! crate's own types (`VerifyKey`/`SigningKey`, `Sampling`/`OtlpProvider`,
//! `PrometheusError`, `ServerTls`/`ClientTls`, `EtcdTls`), so their
//! releases are not breaking changes here.
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

pub mod guide;

/// Crates whose types are part of this API on purpose, re-exported so a
/// service needs no dependency of its own on them: tonic (the generated
/// services' traits, `Request`, `Status`, `async_trait`), axum (routes and
/// handlers of `HttpServer`) and prost (messages). Their major versions are
/// part of this crate's: a new major of one is a new major of kratos-rs.
pub use {axum, prost, tonic};

/// What code generated by `kratos-build` names; not an API.
#[doc(hidden)]
pub mod __codegen {
    pub use {axum, http, pbjson, pbjson_types, prost, serde, serde_json, tonic, tonic_prost};
}

/// Includes the Rust code kratos-build generated for a proto package, as
/// `tonic::include_proto!` does: `kratos::include_proto!("helloworld.v1")`
/// inside the module the package lives in.
#[macro_export]
macro_rules! include_proto {
    ($package:literal) => {
        include!(concat!(env!("OUT_DIR"), concat!("/", $package, ".rs")));
    };
}

#[doc(inline)]
pub use kratos_config as config;
#[doc(inline)]
pub use kratos_core as core;
pub use kratos_core::{
    App, AppBuilder, AppInfo, Error, Health, Kind, Metadata, Result, RunningApp, Server,
    ServerContext, Signal, StopHandle, TransportInfo,
};
#[cfg(feature = "log")]
#[doc(inline)]
pub use kratos_log as log;
#[doc(inline)]
pub use kratos_middleware as middleware;
#[doc(inline)]
pub use kratos_registry as registry;
#[doc(inline)]
pub use kratos_selector as selector;
#[cfg(feature = "tls")]
pub use kratos_transport::tls;
pub use kratos_transport::{Limits, grpc, http};
