//! The small networking pieces every kratos-rs crate shares, so that there
//! is one of each in the workspace.
//!
//! kratos-rs's leaf crates (`kratos-registry`, `kratos-config`) and the ones
//! built on them (`kratos-selector`, `kratos-middleware`, `kratos-transport`)
//! all need the same few things: a boxed error type, a retry backoff and a
//! pooled HTTP client. This crate holds them, depends on no other kratos
//! crate, and stays small. Users rarely name it: the other crates re-export
//! what they hand out (`kratos_middleware::BoxError`, ...).
//!
//! ```
//! use std::time::Duration;
//! use kratos_net::Backoff;
//!
//! // 100 ms doubling to at most 2 s; each delay is jittered into [ceiling/2, ceiling].
//! let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
//! let first = backoff.next_delay();
//! assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
//! for _ in 0..10 {
//!     assert!(backoff.next_delay() <= Duration::from_secs(2));
//! }
//! backoff.reset(); // after a success
//! assert!(backoff.next_delay() <= Duration::from_millis(100));
//! ```
//!
//! # Feature Flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `http` | off | `http::client`, the pooled hyper-util client every kratos-rs HTTP client is built with, and `http::send`, a request with a timeout and a bounded body |
//! | `tls` | off | implies `http`; `tls::{Identity, ServerTls, ClientTls}` (rustls with `ring`, no OpenSSL), and `http::Client` dialling `https://` too |
//!
//! # Structure
//!
//! - [`BoxError`]: a boxed, thread-safe error, the same type as
//!   `tower::BoxError`.
//! - [`Backoff`]: capped exponential backoff with equal jitter, the one retry
//!   delay policy of the registry backends and the retry middleware.
//! - `http` (feature `http`): `Client`, `ClientOptions`, `client` and
//!   `send`, used by config's remote sources, the Consul registry and the
//!   transport's HTTP client. With `tls`, its connector dials `https://` as
//!   well: the one TLS client construction of the workspace.
//! - `tls` (feature `tls`): `Identity` (a certificate chain and key, re-read
//!   when its files change), `ServerTls` (optionally requiring client
//!   certificates) and `ClientTls` (roots, client certificate, server name).
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

pub use backoff::Backoff;

/// A boxed, thread-safe error: the same type as `tower::BoxError`, so the
/// two mix freely.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
