//! The header names the framework reads and writes on every call, parsed
//! once: a lookup by [`HeaderName`] hashes and compares, where one by `&str`
//! first validates and lower-cases the name.
//!
//! ```
//! use kratos_core::transport::headers::GRPC_STATUS;
//!
//! let mut res = http::Response::new(());
//! res.headers_mut().insert(GRPC_STATUS, http::HeaderValue::from_static("0"));
//! assert_eq!(res.headers()["grpc-status"], "0");
//! ```

use http::HeaderName;

/// `grpc-status`: the gRPC status code of a response (headers or trailers).
pub const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");

/// `grpc-timeout`: the time a gRPC caller gives the call (`100m`, `5S`).
pub const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// `traceparent`: the W3C Trace Context of the caller's span.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// `tracestate`: W3C Trace Context's vendor-specific trace data.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// `baggage`: W3C Baggage, the caller's key-value pairs.
pub const BAGGAGE: HeaderName = HeaderName::from_static("baggage");
