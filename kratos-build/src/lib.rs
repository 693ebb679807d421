//! Code generation for kratos-rs services, for your `build.rs`: one `.proto`
//! gives the prost messages with proto3 JSON, the tonic server and client
//! (with request validation), an HTTP/JSON router that runs the *same* tonic
//! service implementation, an HTTP client, error helpers and an OpenAPI
//! document — like Go Kratos's
//! `protoc-gen-go`, `-go-grpc`, `-go-http`, `-go-errors` and `-openapi`
//! together. The `.proto` files are compiled by [protox](https://docs.rs/protox)
//! (pure Rust): no `protoc` is needed on the machine.
//!
//! # Getting started
//!
//! ```toml
//! [dependencies]
//! kratos-rs = "0.1"          # the facade: the runtime and what generated code names
//! tokio = { version = "1", features = ["full"] }
//!
//! [build-dependencies]
//! kratos-build = "0.1"
//! ```
//!
//! The generated code calls `::kratos::http::codegen` and reaches prost,
//! tonic, tonic-prost, pbjson, pbjson-types and serde through
//! `::kratos::__codegen`, so those need no line of their own. A crate built
//! on the sub-crates instead (kratos-transport, and prost, tonic … itself)
//! uses [`Builder::without_facade`].
//!
//! ```no_run
//! // build.rs
//! fn main() -> std::io::Result<()> {
//!     kratos_build::configure().compile(&["api/order/v1/order.proto"], &["proto"])
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! pub mod order {
//!     kratos::include_proto!("api.order.v1");
//! }
//! ```
//!
//! `google/api/annotations.proto`, `google/api/http.proto` and
//! `errors/errors.proto` ship with this crate: `import` them without
//! vendoring (a copy in your own include path wins).
//!
//! # What is generated
//!
//! Everything lands in `$OUT_DIR/<package>.rs`, so `include_proto!` gives it
//! all:
//!
//! - **Messages** (prost) with `serde::Serialize`/`Deserialize` from
//!   [pbjson](https://docs.rs/pbjson), following the proto3 JSON mapping.
//! - **gRPC**: `<service>_server` and `<service>_client` from tonic, and
//!   `<service>_grpc` (when the server is built): `server(Arc<impl Service>)`
//!   returns the tonic `<Service>Server` over `Validated<T>`, an
//!   implementation of the tonic trait that checks each request message (see
//!   [Validation](#validation)) and then calls yours; with the `gzip`
//!   feature of kratos-rs (kratos-transport) it accepts gzip-compressed
//!   requests and answers in gzip to clients that accept it.
//!   `FILE_DESCRIPTOR_SET` is the encoded descriptor set of the compiled
//!   protos with their imports (also `$OUT_DIR/kratos_file_descriptor_set.bin`);
//!   `server(..)` registers it, so a `GrpcServer`'s reflection (on by
//!   default) describes the service. Add `server(..)` to a `GrpcServer`; the
//!   raw `<Service>Server::new` still works but skips validation and
//!   reflection.
//! - **HTTP** (`<service>_http`): a `RouteSpec` per binding, `router(Arc<impl
//!   Service>) -> kratos_transport::http::Routes` (an axum router plus the
//!   gRPC method of each route) that decodes each request into the request
//!   message and calls the tonic trait method, and `<Service>HttpClient` with
//!   the same methods, sent through a discovery-aware
//!   `kratos_transport::http::HttpClient`.
//! - **Errors**: for an enum with `option (errors.default_code) = 500;`,
//!   `ErrorReason::OrderNotFound.error("…")`, `ErrorReason::code()`, and
//!   `is_order_not_found(&err)` / `error_order_not_found("…")` per value.
//! - **OpenAPI**: `OPENAPI_JSON`, an OpenAPI 3.0 document of every HTTP
//!   binding (also written as `$OUT_DIR/<package>.openapi.json`); serve it
//!   with a route of your own if you want.
//!
//! # Serving one implementation on both transports
//!
//! ```ignore
//! use std::sync::Arc;
//! use kratos::grpc::GrpcServer;
//! use kratos::http::HttpServer;
//! use my_api::order::{OPENAPI_JSON, order_service_grpc, order_service_http};
//!
//! let orders = Arc::new(MyOrders::default()); // impl OrderService (the tonic trait)
//! let http = HttpServer::builder()
//!     .merge(order_service_http::router(orders.clone()))
//!     // The OpenAPI document is only served if you mount it:
//!     .route("/openapi.json", axum::routing::get(|| async {
//!         ([(http::header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
//!     }))
//!     .build();
//! let grpc = GrpcServer::builder().add_service(order_service_grpc::server(orders)).build();
//!
//! // And from another service: over the instances discovery knows, through
//! // an `HttpClient` (balancer, filters, client middleware, timeout), whose
//! // layers see each call as `/api.order.v1.OrderService/<Method>`.
//! let http = kratos::http::HttpClient::builder()
//!     .endpoint("discovery:///orders")
//!     .discovery(registry)
//!     .connect()
//!     .await?;
//! let client = order_service_http::OrderServiceHttpClient::from_client(http);
//! let order = client.get_order(GetOrderRequest { id: 1, ..Default::default() }).await?;
//! // Or one fixed base URL (a path prefix is kept), dialled on the first call:
//! let client = order_service_http::OrderServiceHttpClient::new("http://127.0.0.1:8000");
//! ```
//!
//! # Validation
//!
//! A request message that implements
//! [`kratos_core::validate::Validate`](https://docs.rs/kratos-core) is
//! checked by the generated code of both transports after it is decoded and
//! before your method runs: the HTTP route (`router`) checks the message
//! assembled from the body, the path variables and the query, and the gRPC
//! server (`<service>_grpc::server`) the decoded message, so compression and
//! framing do not matter. A broken rule is the Kratos error 400 `VALIDATOR`
//! with the field in its metadata (`field`), INVALID_ARGUMENT with that
//! `ErrorInfo` over gRPC. One impl per message type is the one
//! registration; messages without one are not checked (the generated code
//! finds the impl by autoref specialisation, so nothing has to be declared
//! for them).
//!
//! ```ignore
//! use kratos_core::validate::{Validate, Violation};
//!
//! // Next to the `include_proto!` of the message (orphan rule).
//! impl Validate for GetOrderRequest {
//!     fn validate(&self) -> Result<(), Violation> {
//!         if self.id <= 0 {
//!             return Err(Violation::new("id", "id must be positive"));
//!         }
//!         Ok(())
//!     }
//! }
//! // GET /api/v1/orders/0 → 400 {"reason":"VALIDATOR","metadata":{"field":"id"},…}
//! // gRPC GetOrder { id: 0 } → INVALID_ARGUMENT, the same Kratos error.
//! ```
//!
//! Unary and server-streaming gRPC methods are checked. Client-streaming and
//! bidirectional ones are passed on unchecked: their messages arrive one by
//! one through `tonic::Streaming`, a type tonic's trait fixes, so check them
//! in your implementation.
//!
//! # The contract with the runtime
//!
//! The generated `<service>_http` and `<service>_grpc` modules call
//! `kratos::http::codegen`, which is `kratos_transport::http::codegen` (see
//! [`Builder::runtime_path`]), whose
//! items are a contract numbered [`CODEGEN_CONTRACT`]. Each module starts
//! with `const _: () = rt::require_contract(N);`: code generated by a
//! kratos-build of another contract fails to compile with a message saying
//! to use the same version of kratos-build and kratos-transport (or
//! kratos-rs), instead of an error deep inside a generated file.
//!
//! # JSON: what Go Kratos users trip on
//!
//! The proto3 JSON mapping, as Go's `protojson`:
//!
//! - Field names are emitted in **lowerCamelCase** (`userId`); both `userId`
//!   and `user_id` are accepted. [`Builder::preserve_proto_field_names`]
//!   emits `user_id`.
//! - **64-bit integers are strings** (`"id": "42"`); numbers are accepted too.
//! - **Enums are names** (`"status": "PAID"`); numbers are accepted too.
//! - **Zero values are emitted**, as Go Kratos's JSON codec does
//!   (`protojson` with `EmitUnpopulated`): `{"orders":[],"total":0}`; an
//!   unset `oneof` is left out.
//!   `emit_zero_values(false)` gives plain proto3 JSON (zero values
//!   omitted).
//! - **Where the JSON still differs from Go's** (pinned by a test, to be
//!   closed): an integral float is written `1.0` (Go: `1`); an unset
//!   message field is left out (Go: `null`); a set `oneof` member comes
//!   after the other fields (Go: in field order); a `Timestamp` ends in
//!   `+00:00` (Go: `Z`); an unset proto3 `optional` field is `null` (Go:
//!   absent). Decoding accepts Go's forms of all of them.
//! - **Unknown fields are ignored** when decoding, as Go Kratos's codec does
//!   ([`Builder::ignore_unknown_fields`]).
//!
//! # HTTP mapping
//!
//! As protoc-gen-go-http: each `google.api.http` rule and its
//! `additional_bindings`; path variables `{id}`, `{order.id}` (a nested
//! field) and `{name=shelves/*}` (the variable holds `shelves/<id>`; `**`
//! matches the rest of the path); `body: "*"` (the whole message) or
//! `body: "field"`; the remaining fields come from query parameters (`?page=2`,
//! `?order.user_id=7`, a repeated field by repeating the key); `response_body`
//! sends one field of the reply. A unary method without annotation is served
//! at `POST /<package.Service>/<Method>` with the message as body; streaming
//! methods have no HTTP binding. Custom verbs (`/v1/{name}:cancel`) are
//! rejected at build time.
//!
//! **Codecs**, as Go Kratos picks them: the request body by its
//! `Content-Type` — JSON (`application/json`, `…+json`; also a body with no
//! `Content-Type`, where Go answers 400) or protobuf (`application/x-protobuf`,
//! `application/protobuf`, `application/proto`; for `body: "*"` bindings)
//! or a form (`application/x-www-form-urlencoded`, as Go Kratos's form
//! codec binds it: `user_id=7` or `userId=7`, `inner.id=x`, `labels[k]=v`,
//! a repeated scalar once per value; for `body` bindings); any other
//! (`text/plain`) is 400 `CODEC` "unregister Content-Type: …", as in Go.
//! The reply by `Accept`: protobuf when it lists a protobuf type (for
//! replies without `response_body`), JSON otherwise. Error bodies are
//! always JSON.
//!
//! Over HTTP the call gets a `tonic::Request` whose metadata holds the HTTP
//! headers and whose extensions hold the request extensions; a
//! `tonic::Status` error is turned back into the Kratos error
//! (`Error::from_status`), so an HTTP client sees the same code, reason and
//! metadata as a gRPC one. A body that is not JSON, or a value of the wrong
//! type in the body, path or query (`?page=abc`), is a 400 with reason
//! `CODEC` naming the field. The operation recorded for middleware is the
//! gRPC full method (`/api.order.v1.OrderService/GetOrder`) on both
//! transports: the `Routes` carry it, and the `HttpServer` they are merged
//! into reports it for their requests (each server its own table, so two
//! servers in one process never mix them up). `router(svc).into_router()`
//! is the plain axum router, for axum's own `nest` or `serve`; its routes
//! report their route template (`/api/v1/orders/{id}`) instead.
//!
//! # Feature Flags
//!
//! This crate has no cargo features; every generator is switched on the
//! [`Builder`] (all on by default).
//!
//! # Structure
//!
//! - [`configure`] / [`Builder`] (`config.rs`): options and the compile run.
//! - `http_rule.rs`: reading `google.api.http` and parsing path templates.
//! - `model.rs`: services, methods and error enums read from the descriptors
//!   (annotations are read with prost-reflect, since prost drops extensions).
//! - `router_gen.rs`: the `<service>_http` module (route specs, router,
//!   client); the runtime it calls is `kratos_transport::http::codegen`.
//! - `rehome.rs`: roots prost, tonic, serde … paths at the facade.
//! - `grpc_gen.rs`: the `<service>_grpc` module (`Validated`, `server`).
//! - `errors_gen.rs`: error helpers. `openapi.rs`: the OpenAPI document.
//! - `tokens.rs`: the generators build `quote!` token streams, parsed as a
//!   `syn::File` and printed by `prettyplease`, so the generated code is
//!   valid Rust by construction and readable in `OUT_DIR`.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod errors_gen;
mod grpc_gen;
mod http_rule;
mod model;
pub mod names;
mod openapi;
mod rehome;
mod router_gen;
mod tokens;

pub use config::{Builder, SHIPPED_PROTOS};

/// The version of the contract between the code this crate generates and
/// the runtime it calls (`kratos_transport::http::codegen::CONTRACT`): a
/// generated file checks it at compile time, so a mismatch of the two crates'
/// versions fails with a message that says to align them.
pub const CODEGEN_CONTRACT: u32 = 3;

/// A [`Builder`] with the defaults.
pub fn configure() -> Builder {
    Builder::default()
}

/// Compiles `protos` with the defaults: `configure().compile(protos, includes)`.
pub fn compile_protos(
    protos: &[impl AsRef<std::path::Path>],
    includes: &[impl AsRef<std::path::Path>],
) -> std::io::Result<()> {
    configure().compile(protos, includes)
}
