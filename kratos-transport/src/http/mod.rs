//! The HTTP/JSON server: an axum [`Router`](axum::Router) served with the App's
//! lifecycle, Kratos error bodies and a `/health` endpoint.
//!
//! Handlers return `Result<T, kratos_core::Error>`; an error becomes its status
//! code and the JSON body `{"code","reason","message","metadata"}`. Read JSON
//! bodies with [`Json`], so a malformed body is a 400 with reason `CODEC`.
//!
//! [`HttpClient`] is the discovery-aware JSON client.

mod client;
mod codec;
pub mod codegen;
mod server;

pub use client::{BoxError, HttpClient, HttpClientBuilder, HttpService};
pub use codec::{CODEC_REASON, Json};
pub use server::{HEALTH_PATH, HttpServer, HttpServerBuilder};
