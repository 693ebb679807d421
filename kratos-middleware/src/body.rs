//! Bodies a middleware can build a rejection (or a replayed request) from.

use axum_core::body::Body;

/// A body type a middleware can create from an [`axum_core::body::Body`].
///
/// A rejection is built as an `http::Response<Body>` by
/// [`Kind::error_response`](kratos_core::Kind::error_response); this trait turns
/// its body into the body type of the service the layer wraps: axum's `Body`
/// on both servers, tonic's `Body` around a tonic `Channel`. Retry uses it to
/// replay a buffered request body.
pub trait FromBody: Sized {
    /// Wraps `body`.
    fn from_body(body: Body) -> Self;
}

impl FromBody for Body {
    fn from_body(body: Body) -> Self {
        body
    }
}

impl FromBody for tonic::body::Body {
    fn from_body(body: Body) -> Self {
        tonic::body::Body::new(body)
    }
}
