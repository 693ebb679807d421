//! The HTTP/JSON server: an axum [`Router`](axum::Router) served with the App's
//! lifecycle, Kratos error bodies and a `/health` endpoint.
//!
//! Handlers return `Result<T, kratos_core::Error>`; an error becomes its status
//! code and the JSON body `{"code","reason","message","metadata"}`. Read JSON
//! bodies with [`Json`], so a malformed body is a 400 with reason `CODEC`.
//!
//! [`Routes`] is a router plus the gRPC operation each route serves: what
//! the routers `kratos-build` generates return, so that the server reports
//! `/pkg.Service/Method` as the operation of their requests.
//!
//! [`HttpClient`] is the discovery-aware JSON client.

mod body;
mod client;
mod codec;
pub mod codegen;
mod encoders;
pub(crate) mod operations;
mod routes;
mod server;

pub use body::{PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT};
pub use client::{BoxError, HttpClient, HttpClientBuilder, HttpService, REPLY_TOO_LARGE};
pub use codec::{CODEC_REASON, Json};
pub use encoders::{ErrorEncoder, RequestDecoder, ResponseEncoder};
pub use routes::Routes;
pub use server::{HEALTH_PATH, HttpServer, HttpServerBuilder};
