//! Middleware for kratos-rs: one model for HTTP and gRPC, server and client,
//! streams included.
//!
//! # The model
//!
//! A middleware is a tower [`Layer`](tower_layer::Layer) over
//! `http::Request`/`http::Response`. Both transports speak HTTP underneath
//! (gRPC is HTTP/2), and both servers put a
//! [`TransportInfo`](kratos_core::TransportInfo) (kind, operation, endpoint)
//! in each request before any middleware runs, so one layer serves the HTTP
//! server, the gRPC server, and clients. A middleware rejects a call with a
//! [`kratos_core::Error`]; it is encoded the way the call's transport sends
//! errors: an HTTP status with the Kratos JSON body, or a gRPC status with
//! `google.rpc.ErrorInfo`. For gRPC streams a layer wraps the whole call (not
//! each message, as Go Kratos does), so auth rejects a stream before it
//! starts and recovery answers a handler that panicked.
//!
//! # Writing one
//!
//! Implement [`Middleware`] (an async `handle(req, next)`) and turn it into a
//! layer with [`layer`], or write an async closure with [`from_fn`]:
//!
//! ```
//! use kratos_core::{Error, TransportInfo};
//! use kratos_middleware::{Next, Request, from_fn};
//!
//! let audit = from_fn(|req: Request, next: Next| async move {
//!     let op = TransportInfo::from_request(&req).map(|i| i.operation().to_owned());
//!     let res = next.run(req).await?;
//!     tracing::info!(?op, status = res.status().as_u16(), "audited");
//!     Ok::<_, Error>(res)
//! });
//! // HttpServer::builder().layer(audit.clone()) and GrpcServer::builder().layer(audit)
//! # let _ = audit;
//! ```
//!
//! # Chains and matching
//!
//! [`Chain`] lists layers outermost first; [`server_defaults`] is recovery,
//! tracing, request metrics, metadata and a 1 s timeout, fused into one
//! service (see [`defaults`]); [`client_defaults`]
//! is tracing, request metrics and metadata. [`when`] binds a layer to the operations a
//! [`Matcher`] selects: exact, prefix, regex (compiled once), a predicate,
//! and their negation and combinations.
//!
//! # Built-ins
//!
//! | module | side | does | rejects with |
//! |---|---|---|---|
//! | [`recovery`] | server | catches panics, logs them with the stack | 500 `UNKNOWN` |
//! | [`logging`] | both | one `tracing` event per call | — |
//! | `tracing` | both | one OpenTelemetry span per call, W3C `traceparent` propagation | — |
//! | [`metadata`] | both | propagates `x-md-global-*` / `x-md-local-*` | — |
//! | `metrics` | both | request counter and latency histogram (Go Kratos names) | — |
//! | [`timeout`] | both | deadlines, `grpc-timeout` propagation | 504 `TIMEOUT` |
//! | [`ratelimit`] | server | BBR adaptive limiter or token bucket | 429 `RATELIMIT` |
//! | [`circuitbreaker`] | client | Google SRE adaptive throttling per operation | 503 `CIRCUITBREAKER` |
//! | [`retry`] | client | backoff with jitter, idempotent calls only, retry budget | — |
//! | `auth::jwt` | both | validates (server) or signs (client) bearer tokens | 401 `UNAUTHORIZED` |
//! | `validate` | server | the `Validate` rules generated handlers check (no layer) | 400 `VALIDATOR` |
//!
//! Stateful built-ins (limiters, breakers, retry budget) keep their state
//! behind an `Arc`: every clone of a layer, and every service it builds,
//! shares it, so one limit holds across both servers.
//!
//! On a client, wrap the transport's service (a tonic `Channel`, a hyper
//! client whose response body is mapped to axum's `Body`) with the same
//! layers; see [`FromBody`] for the body types a layer can answer with.
//!
//! # Feature Flags
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `jwt` | yes | `auth::jwt`, with `jsonwebtoken` and its pure-Rust crypto |
//! | `metrics` | yes | `metrics`, recording through the `metrics` facade |
//! | `prometheus` | no | `metrics::prometheus`, a Prometheus recorder for a `/metrics` route |
//! | `otel` | yes | `tracing`, spans through `opentelemetry`'s global tracer provider, W3C propagators of our own (the API crate only, no SDK) |
//! | `otlp` | no | `tracing::otlp`: the OpenTelemetry SDK exporting over OTLP/gRPC (`opentelemetry-otlp`, tonic) |
//!
//! # Structure
//!
//! - [`Middleware`], [`Next`], [`from_fn`], [`layer`]: writing a middleware.
//! - [`Chain`], [`client_defaults`]: lists of layers; [`server_defaults`]
//!   ([`defaults`]): the default server chain as one service.
//! - [`Matcher`], [`when`]: binding a layer to operations.
//! - [`FromBody`]: the body types a layer can answer with.
//! - [`context`]: the call's metadata and deadline, carried into spawned tasks.
//! - one module per built-in, each with its layer, service and future, as in
//!   tower; the algorithms (`ratelimit::Bbr`, `ratelimit::TokenBucket`,
//!   `circuitbreaker::Sre`, `retry::RetryBudget`) in files of their own that
//!   know nothing of HTTP.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod chain;
mod matcher;
mod middleware;
mod util;
mod window;

pub mod auth;
pub mod circuitbreaker;
pub mod context;
pub mod defaults;
pub mod future;
pub mod logging;
pub mod metadata;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
pub mod ratelimit;
pub mod recovery;
pub mod retry;
pub mod timeout;
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub mod tracing;
pub mod validate;

pub use body::FromBody;
pub use chain::{Chain, ClientDefaults, client_defaults, server_defaults};
pub use defaults::ServerDefaults;
pub use matcher::{MatchFuture, MatchLayer, MatchService, Matcher, when};
pub use middleware::{
    FromFn, Middleware, MiddlewareLayer, MiddlewareService, Next, from_fn, layer,
};

pub use kratos_net::BoxError;

/// The request type both servers hand to middleware.
pub type Request<B = axum_core::body::Body> = http::Request<B>;

/// The response type both servers expect from middleware.
pub type Response<B = axum_core::body::Body> = http::Response<B>;
