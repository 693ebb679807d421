//! The typed outcome of a call, as middleware reads it from a response.

use std::borrow::Cow;

use crate::Error;

/// The [`Error`] a call's response carries, or `None` for a success.
///
/// The transports attach the typed outcome where they hold it, so that no
/// middleware decodes a body to learn what happened:
/// - an [`Error`] returned by an HTTP handler, a [`Kind::error_response`]
///   rejection or a client's answer to an HTTP error is the response's
///   `Error` extension;
/// - a gRPC handler's `tonic::Status` is the response's extension (tonic puts
///   it there); made from an [`Error`], it carries that error as its source;
/// - otherwise the head speaks: a `grpc-status` other than OK (a
///   trailers-only gRPC answer) is decoded from its headers, an HTTP status
///   of 400 and above is an error with that code and an empty reason.
///
/// A success costs one status comparison and one header lookup: nothing is
/// allocated and no extension is read.
///
/// ```
/// use kratos_core::Error;
/// use kratos_core::transport::response_error;
///
/// let res = Error::not_found("USER_NOT_FOUND", "no user 7").to_http_response();
/// let err = response_error(&res).expect("an error");
/// assert_eq!((err.code(), err.reason()), (404, "USER_NOT_FOUND"));
///
/// let ok = http::Response::new(());
/// assert!(response_error(&ok).is_none());
/// ```
///
/// [`Kind::error_response`]: super::Kind::error_response
pub fn response_error<B>(res: &http::Response<B>) -> Option<Cow<'_, Error>> {
    let grpc_status = super::headers::find(res.headers(), &super::headers::GRPC_STATUS);
    if res.status().as_u16() < 400 && grpc_status.is_none_or(|status| status == "0") {
        return None;
    }
    if let Some(err) = res.extensions().get::<Error>() {
        return Some(Cow::Borrowed(err));
    }
    if let Some(status) = res.extensions().get::<tonic::Status>() {
        let source = std::error::Error::source(status).and_then(|e| e.downcast_ref::<Error>());
        return Some(match source {
            Some(err) => Cow::Borrowed(err),
            None => Cow::Owned(Error::from_status(status)),
        });
    }
    if grpc_status.is_some()
        && let Some(status) = tonic::Status::from_header_map(res.headers())
    {
        return Some(Cow::Owned(Error::from_status(&status)));
    }
    if res.status().as_u16() >= 400 {
        return Some(Cow::Owned(Error::new(
            res.status().as_u16(),
            crate::error::UNKNOWN_REASON,
            "",
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grpc_rejection_reads_from_its_extension() {
        let res = Error::too_many_requests("RATELIMIT", "slow").to_grpc_response();
        let err = response_error(&res).expect("an error");
        assert!(matches!(err, Cow::Borrowed(_)));
        assert_eq!(err.reason(), "RATELIMIT");
    }

    #[test]
    fn a_status_in_the_extensions_gives_its_source() {
        let status = tonic::Status::from(Error::conflict("DUP", "exists"));
        let res = status.into_http::<()>();
        let err = response_error(&res).expect("an error");
        assert!(matches!(err, Cow::Borrowed(_)));
        assert_eq!((err.code(), err.reason()), (409, "DUP"));
    }

    #[test]
    fn a_bare_head_is_decoded() {
        let wire = Error::not_found("GONE", "no").to_grpc_response();
        let mut res = http::Response::new(());
        *res.headers_mut() = wire.headers().clone();
        assert_eq!(response_error(&res).expect("an error").reason(), "GONE");

        let mut res = http::Response::new(());
        *res.status_mut() = http::StatusCode::BAD_GATEWAY;
        let err = response_error(&res).expect("an error");
        assert_eq!((err.code(), err.reason()), (502, ""));

        let mut ok = http::Response::new(());
        ok.headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("0"));
        assert!(response_error(&ok).is_none());
    }
}
