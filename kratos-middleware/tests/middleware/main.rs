//! The middleware, over real HTTP and gRPC servers on loopback: what a
//! client sees (status, reason, body) for each built-in, server and client
//! side, streams included.

mod circuitbreaker;
mod common;
#[cfg(all(feature = "otel", feature = "metrics"))]
mod defaults;
#[cfg(feature = "jwt")]
mod http_client;
#[cfg(feature = "jwt")]
mod jwt;
mod logging;
mod matching;
mod metadata;
#[cfg(feature = "otel")]
mod otel;
mod ratelimit;
mod recovery;
mod retry;
mod send_sync;
mod timeout;
