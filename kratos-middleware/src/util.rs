//! Helpers shared by the built-ins: the call's kind and operation, rejections,
//! and the error a response carries.

use http::{Request, Response, header};
use kratos_core::{Error, Kind, TransportInfo};

use crate::body::FromBody;

/// The kind of `req`: from its [`TransportInfo`], else from its content type.
pub(crate) fn kind_of<B>(req: &Request<B>) -> Kind {
    match TransportInfo::from_request(req) {
        Some(info) => info.kind(),
        None => {
            let grpc = req
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
            if grpc { Kind::Grpc } else { Kind::Http }
        }
    }
}

/// The operation of `req`: from its [`TransportInfo`], else its path.
pub(crate) fn operation_of<B>(req: &Request<B>) -> &str {
    match TransportInfo::from_request(req) {
        Some(info) => info.operation(),
        None => req.uri().path(),
    }
}

/// `err` encoded the way `kind` sends errors.
pub(crate) fn reject<B: FromBody>(kind: Kind, err: &Error) -> Response<B> {
    kind.error_response(err).map(B::from_body)
}

/// The error a response carries: its typed outcome, never its body (see
/// [`kratos_core::transport::response_error`]).
pub(crate) use kratos_core::transport::response_error;
