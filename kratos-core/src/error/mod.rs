//! The one error type of kratos-rs, shared by handlers, middleware and clients.

mod codes;
mod grpc;
mod http;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use codes::{grpc_code_from_http, http_from_grpc_code};

/// The error handlers, middleware and clients exchange, as in Go Kratos.
///
/// `code` is an HTTP status (it *is* the HTTP status on the wire, and maps to a
/// gRPC code with Go Kratos's table), `reason` a stable machine-readable
/// identifier such as `USER_NOT_FOUND`, `message` a human-readable text,
/// `metadata` free-form details. Two errors are equal when their code and
/// reason are equal, whatever the message: compare with `==` or the `is_*`
/// helpers.
///
/// ```
/// use kratos_core::Error;
///
/// let err = Error::not_found("USER_NOT_FOUND", "user 42 not found").with_metadata("id", "42");
/// assert!(err.is_not_found());
/// assert_eq!(err, Error::not_found("USER_NOT_FOUND", "another message"));
/// assert_eq!(
///     err.to_json(),
///     r#"{"code":404,"reason":"USER_NOT_FOUND","message":"user 42 not found","metadata":{"id":"42"}}"#
/// );
///
/// // Over gRPC the same error travels as a Status with ErrorInfo details.
/// let back = Error::from_status(&err.to_status());
/// assert_eq!(back, err);
/// assert_eq!(back.metadata()["id"], "42");
/// ```
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    code: u16,
    reason: String,
    message: String,
    metadata: BTreeMap<String, String>,
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// A `Result` whose error is a kratos [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The reason of an error that carries none (Go Kratos's `UnknownReason`).
pub const UNKNOWN_REASON: &str = "";

macro_rules! constructors {
    ($($(#[$doc:meta])* $ctor:ident, $is:ident, $free:ident => $code:expr;)*) => {
        impl Error {
            $(
                $(#[$doc])*
                pub fn $ctor(reason: impl Into<String>, message: impl Into<String>) -> Self {
                    Self::new($code, reason, message)
                }

                #[doc = concat!("Whether the code is ", stringify!($code), ".")]
                pub fn $is(&self) -> bool {
                    self.0.code == $code
                }
            )*
        }

        $(
            #[doc = concat!("Whether `err` has code ", stringify!($code), " (Go Kratos style free function).")]
            pub fn $free(err: &Error) -> bool {
                err.$is()
            }
        )*
    };
}

constructors! {
    /// 400 Bad Request: the request is malformed.
    bad_request, is_bad_request, is_bad_request_error => 400;
    /// 401 Unauthorized: no or invalid credentials.
    unauthorized, is_unauthorized, is_unauthorized_error => 401;
    /// 403 Forbidden: authenticated but not allowed.
    forbidden, is_forbidden, is_forbidden_error => 403;
    /// 404 Not Found.
    not_found, is_not_found, is_not_found_error => 404;
    /// 409 Conflict.
    conflict, is_conflict, is_conflict_error => 409;
    /// 429 Too Many Requests: rate limited.
    too_many_requests, is_too_many_requests, is_too_many_requests_error => 429;
    /// 499 Client Closed: the caller cancelled.
    client_closed, is_client_closed, is_client_closed_error => 499;
    /// 500 Internal Server Error.
    internal_server, is_internal_server, is_internal_server_error => 500;
    /// 501 Not Implemented: gRPC's `UNIMPLEMENTED` in Go Kratos's code table
    /// (Go Kratos has no constructor for it; `kratos proto server` stubs
    /// answer it).
    not_implemented, is_not_implemented, is_not_implemented_error => 501;
    /// 503 Service Unavailable.
    service_unavailable, is_service_unavailable, is_service_unavailable_error => 503;
    /// 504 Gateway Timeout: a deadline passed.
    gateway_timeout, is_gateway_timeout, is_gateway_timeout_error => 504;
}

impl Error {
    /// An error with any code (an HTTP status, 100..=999).
    pub fn new(code: u16, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            code,
            reason: reason.into(),
            message: message.into(),
            metadata: BTreeMap::new(),
            cause: None,
        }))
    }

    /// Turns any error into a kratos [`Error`]: kept as is if it already is one
    /// (or a `tonic::Status`, decoded with [`Error::from_status`]), otherwise
    /// 500 with an empty reason and the error as message and cause.
    pub fn from_error(err: Box<dyn std::error::Error + Send + Sync>) -> Self {
        let err = match err.downcast::<Error>() {
            Ok(e) => return *e,
            Err(err) => err,
        };
        let err = match err.downcast::<tonic::Status>() {
            Ok(s) => return Self::from_status(&s),
            Err(err) => err,
        };
        Self::internal_server(UNKNOWN_REASON, err.to_string()).with_cause_arc(Arc::from(err))
    }

    /// The code (an HTTP status).
    pub fn code(&self) -> u16 {
        self.0.code
    }

    /// The machine-readable reason, e.g. `USER_NOT_FOUND`.
    pub fn reason(&self) -> &str {
        &self.0.reason
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The metadata, sorted by key.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.0.metadata
    }

    /// The underlying cause, if any.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.0.cause.as_deref()
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.metadata.insert(key.into(), value.into());
        self
    }

    /// Replaces the metadata.
    pub fn with_metadata_map(mut self, metadata: BTreeMap<String, String>) -> Self {
        self.0.metadata = metadata;
        self
    }

    /// Replaces the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }

    /// Attaches the underlying cause (kept for logs and `source()`, never sent on the wire).
    pub fn with_cause(self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.with_cause_arc(Arc::new(cause))
    }

    fn with_cause_arc(mut self, cause: Arc<dyn std::error::Error + Send + Sync>) -> Self {
        self.0.cause = Some(cause);
        self
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.0.code == other.0.code && self.0.reason == other.0.reason
    }
}

impl Eq for Error {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("code", &self.0.code)
            .field("reason", &self.0.reason)
            .field("message", &self.0.message)
            .field("metadata", &self.0.metadata);
        if let Some(cause) = &self.0.cause {
            d.field("cause", cause);
        }
        d.finish()
    }
}

/// Code, reason, message and metadata, as Go Kratos prints them. The cause is
/// not repeated: it is the error's [`source`](std::error::Error::source), so
/// error-chain reports (`anyhow`, `tracing`'s `%err` with sources) print it once.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: code = {} reason = {} message = {} metadata = {:?}",
            self.0.code, self.0.reason, self.0.message, self.0.metadata
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<kratos_registry::RegistryError> for Error {
    fn from(err: kratos_registry::RegistryError) -> Self {
        let code = if err.is_unavailable() {
            503
        } else if err.is_timeout() {
            504
        } else {
            500
        };
        Self::new(code, "REGISTRY", err.to_string()).with_cause(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_by_code_and_reason() {
        let a = Error::not_found("USER_NOT_FOUND", "a").with_metadata("k", "v");
        assert_eq!(a, Error::not_found("USER_NOT_FOUND", "b"));
        assert_ne!(a, Error::not_found("ORDER_NOT_FOUND", "a"));
        assert_ne!(a, Error::bad_request("USER_NOT_FOUND", "a"));
    }

    type Predicate = fn(&Error) -> bool;

    #[test]
    fn every_helper_matches_its_own_code_only() {
        let cases: [(Error, Predicate, u16); 10] = [
            (Error::bad_request("R", ""), is_bad_request_error, 400),
            (Error::unauthorized("R", ""), is_unauthorized_error, 401),
            (Error::forbidden("R", ""), is_forbidden_error, 403),
            (Error::not_found("R", ""), is_not_found_error, 404),
            (Error::conflict("R", ""), is_conflict_error, 409),
            (
                Error::too_many_requests("R", ""),
                is_too_many_requests_error,
                429,
            ),
            (Error::client_closed("R", ""), is_client_closed_error, 499),
            (
                Error::internal_server("R", ""),
                is_internal_server_error,
                500,
            ),
            (
                Error::service_unavailable("R", ""),
                is_service_unavailable_error,
                503,
            ),
            (
                Error::gateway_timeout("R", ""),
                is_gateway_timeout_error,
                504,
            ),
        ];
        for (i, (err, is, code)) in cases.iter().enumerate() {
            assert_eq!(err.code(), *code);
            for (j, (other, _, _)) in cases.iter().enumerate() {
                assert_eq!(is(other), i == j, "{code} helper on {}", other.code());
            }
            assert!(is(err));
        }
    }

    #[test]
    fn from_error_keeps_kratos_errors_and_wraps_others() {
        let e = Error::from_error(Box::new(Error::conflict("DUP", "x")));
        assert_eq!(e, Error::conflict("DUP", ""));
        let io = std::io::Error::other("disk on fire");
        let e = Error::from_error(Box::new(io));
        assert_eq!(e.code(), 500);
        assert_eq!(e.message(), "disk on fire");
        assert!(std::error::Error::source(&e).is_some());
        let s = Error::from_error(Box::new(tonic::Status::not_found("nope")));
        assert!(s.is_not_found());
    }

    #[test]
    fn display_leaves_the_cause_to_source() {
        let e = Error::internal_server("DB", "query failed")
            .with_cause(std::io::Error::other("disk on fire"));
        let shown = e.to_string();
        assert!(shown.contains("reason = DB"), "{shown}");
        assert!(!shown.contains("disk on fire"), "{shown}");
        let source = std::error::Error::source(&e).expect("the cause");
        assert_eq!(source.to_string(), "disk on fire");
    }

    #[test]
    fn error_stays_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
