//! TLS on both transports (feature `tls`): a discovery client reaching a
//! `grpcs://` and an `https://` instance, mTLS refusing a client without a
//! certificate, a certificate replaced on disk reaching new connections
//! while open ones carry on, and the Consul registry over `https://`.
//!
//! Run with `cargo test --features tls,consul --test tls`.

mod common;
#[cfg(feature = "consul")]
mod consul;
mod mtls;
mod reload;
mod transports;
