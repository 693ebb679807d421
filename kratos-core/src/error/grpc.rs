//! The gRPC form of an [`Error`]: a `tonic::Status` with `google.rpc.ErrorInfo`
//! details, exactly as Go Kratos writes and reads it.

use std::collections::HashMap;
use std::sync::Arc;

use axum_core::body::Body;
use tonic_types::{ErrorDetails, StatusExt};

use super::{Error, UNKNOWN_REASON, codes};

impl Error {
    /// The gRPC status: code from Go Kratos's table, the message, and
    /// `google.rpc.ErrorInfo {reason, metadata}` in the details. The error
    /// itself is the status's [`source`](std::error::Error::source), so the
    /// server that sends it (tonic puts the status in the response's
    /// extensions) and [`Error::from_status`] get it back without decoding.
    pub fn to_status(&self) -> tonic::Status {
        self.clone().into_status()
    }

    fn into_status(self) -> tonic::Status {
        let metadata: HashMap<String, String> = self
            .metadata()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut status = tonic::Status::with_error_details(
            codes::grpc_code_from_http(self.code()),
            self.message(),
            ErrorDetails::with_error_info(self.reason(), "", metadata),
        );
        status.set_source(Arc::new(self));
        status
    }

    /// Decodes a gRPC status back into the [`Error`] that produced it:
    /// code from Go Kratos's table, reason and metadata from its ErrorInfo
    /// (an empty reason when the status carries none).
    pub fn from_status(status: &tonic::Status) -> Self {
        if let Some(err) = std::error::Error::source(status).and_then(|e| e.downcast_ref::<Error>())
        {
            return err.clone();
        }
        let code = codes::http_from_grpc_code(status.code());
        match status.get_error_details().error_info() {
            Some(info) => Self::new(code, info.reason.clone(), status.message())
                .with_metadata_map(info.metadata.clone().into_iter().collect()),
            None => Self::new(code, UNKNOWN_REASON, status.message()),
        }
    }

    /// The complete gRPC response for this error (trailers-only: HTTP 200 with
    /// `grpc-status`, `grpc-message` and `grpc-status-details-bin` headers), for
    /// middleware that rejects a gRPC call before it reaches the handler.
    /// The error is also a response extension, as on HTTP.
    pub fn to_grpc_response(&self) -> http::Response<Body> {
        let mut res = self.to_status().into_http::<Body>();
        res.extensions_mut().insert(self.clone());
        res
    }
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        err.into_status()
    }
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        Error::from_status(&status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip_keeps_reason_message_and_metadata() {
        let err = Error::not_found("USER_NOT_FOUND", "no user 7").with_metadata("id", "7");
        let status = err.to_status();
        assert_eq!(status.code(), tonic::Code::NotFound);
        assert_eq!(status.message(), "no user 7");
        let back = Error::from_status(&status);
        assert_eq!(back, err);
        assert_eq!(back.message(), "no user 7");
        assert_eq!(back.metadata(), err.metadata());
    }

    #[test]
    fn a_status_made_from_an_error_carries_it() {
        let err = Error::conflict("DUP", "exists").with_metadata("k", "v");
        let status = tonic::Status::from(err.clone());
        let source = std::error::Error::source(&status).expect("the error");
        assert_eq!(source.downcast_ref::<Error>(), Some(&err));
        // A status that crossed the wire has no source: decoded from details.
        let wire = tonic::Status::from_header_map(&status.into_http::<()>().headers().clone())
            .expect("a status");
        assert!(std::error::Error::source(&wire).is_none());
        assert_eq!(Error::from_status(&wire).metadata()["k"], "v");
    }

    #[test]
    fn plain_status_has_empty_reason() {
        let back = Error::from(tonic::Status::already_exists("dup"));
        assert_eq!(back.code(), 409);
        assert_eq!(back.reason(), "");
        assert_eq!(back.message(), "dup");
    }

    #[test]
    fn grpc_response_is_trailers_only() {
        let res = Error::too_many_requests("RATELIMIT", "slow down").to_grpc_response();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["grpc-status"], "8");
        assert!(res.headers().contains_key("grpc-status-details-bin"));
        assert_eq!(
            res.extensions().get::<Error>().map(Error::reason),
            Some("RATELIMIT")
        );
    }
}
