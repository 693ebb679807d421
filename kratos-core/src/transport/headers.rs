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

use http::{HeaderMap, HeaderName, HeaderValue};

/// Up to this many fields, [`find`] compares names one by one.
const SCANNED: usize = 8;

/// The first value of `name` in `headers`. A head of a few fields (a gRPC
/// reply's `content-type`, a request's handful) is scanned, comparing
/// names: cheaper than hashing a custom name such as `grpc-status` and
/// probing, which a larger map is left to.
///
/// ```
/// use kratos_core::transport::headers::{GRPC_STATUS, find};
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::CONTENT_TYPE, "application/grpc".parse().unwrap());
/// assert!(find(&headers, &GRPC_STATUS).is_none());
/// headers.insert(GRPC_STATUS, http::HeaderValue::from_static("5"));
/// assert_eq!(find(&headers, &GRPC_STATUS).unwrap(), "5");
/// ```
#[inline]
pub fn find<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    if headers.len() > SCANNED {
        return headers.get(name);
    }
    headers
        .iter()
        .find_map(|(field, value)| (field == name).then_some(value))
}

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
