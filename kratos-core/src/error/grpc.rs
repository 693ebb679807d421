//! The gRPC form of an [`Error`]: a `tonic::Status` with `google.rpc.ErrorInfo`
//! details, exactly as Go Kratos writes and reads it.

use std::collections::HashMap;

use axum_core::body::Body;
use tonic_types::{ErrorDetails, StatusExt};

use super::{Error, UNKNOWN_REASON, codes};

impl Error {
    /// The gRPC status: code from Go Kratos's table, the message, and
    /// `google.rpc.ErrorInfo {reason, metadata}` in the details.
    pub fn to_status(&self) -> tonic::Status {
        let metadata: HashMap<String, String> = self
            .metadata()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        tonic::Status::with_error_details(
            codes::grpc_code_from_http(self.code()),
            self.message(),
            ErrorDetails::with_error_info(self.reason(), "", metadata),
        )
    }

    /// Decodes a gRPC status back into the [`Error`] that produced it:
    /// code from Go Kratos's table, reason and metadata from its ErrorInfo
    /// (an empty reason when the status carries none).
    pub fn from_status(status: &tonic::Status) -> Self {
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
    pub fn to_grpc_response(&self) -> http::Response<Body> {
        self.to_status().into_http::<Body>()
    }
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        err.to_status()
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
    }
}
