//! Validation: request messages that implement [`Validate`] are checked
//! before the handler runs; a failure is 400 `VALIDATOR` (Go Kratos's
//! reason) with the offending field in the error metadata (`field`).
//!
//! The layer sees HTTP bodies, so it is told which message each operation
//! takes: [`ValidateLayer::grpc`] decodes a unary gRPC request as protobuf,
//! [`ValidateLayer::json`] an HTTP JSON body. Only those operations have
//! their body buffered (and handed on unchanged); a body that does not decode
//! passes through, for the handler's codec to report.
//!
//! ```
//! use kratos_middleware::validate::{Validate, ValidateLayer, Violation};
//!
//! #[derive(Clone, PartialEq, prost::Message, serde::Deserialize)]
//! struct CreateUser {
//!     #[prost(string, tag = "1")]
//!     name: String,
//! }
//!
//! impl Validate for CreateUser {
//!     fn validate(&self) -> Result<(), Violation> {
//!         if self.name.is_empty() {
//!             return Err(Violation::new("name", "name is required"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let layer = ValidateLayer::new()
//!     .grpc::<CreateUser>("/users.v1.Users/Create")
//!     .json::<CreateUser>("/v1/users");
//! # let _ = layer;
//! ```

mod layer;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use kratos_core::{Error, Kind};
use tower::ServiceExt;
use tower_service::Service;

pub use layer::ValidateLayer;

use crate::BoxError;
use crate::body::FromBody;
use crate::util::{kind_of, operation_of, reject};

/// The reason of a validation failure (Go Kratos's).
pub const REASON: &str = "VALIDATOR";

/// A request message that can check itself.
pub trait Validate {
    /// `Ok(())`, or the first rule broken.
    fn validate(&self) -> Result<(), Violation>;
}

/// A broken validation rule: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    field: String,
    message: String,
}

impl Violation {
    /// `field` breaks a rule, explained by `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The offending field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.field, self.message)
    }
}

impl std::error::Error for Violation {}

impl From<Violation> for Error {
    fn from(v: Violation) -> Self {
        Error::bad_request(REASON, v.message.clone()).with_metadata("field", v.field.clone())
    }
}

/// Checks a buffered body; `Ok` when valid or not decodable.
pub(crate) type Checker = Arc<dyn Fn(Kind, &Bytes) -> Result<(), Error> + Send + Sync>;

/// The service of a [`ValidateLayer`].
#[derive(Clone)]
pub struct ValidateService<S> {
    inner: S,
    checkers: Arc<HashMap<Box<str>, Checker>>,
}

impl<S: fmt::Debug> fmt::Debug for ValidateService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidateService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ValidateService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    ReqBody::Error: Into<BoxError>,
    ResBody: FromBody + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Some(checker) = self.checkers.get(operation_of(&req)).cloned() else {
            return Box::pin(self.inner.call(req));
        };
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let kind = kind_of(&req);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => {
                    let e: BoxError = e.into();
                    let err = Error::bad_request(REASON, format!("request body unreadable: {e}"));
                    return Ok(reject(kind, &err));
                }
            };
            if let Err(err) = checker(kind, &bytes) {
                return Ok(reject(kind, &err));
            }
            let req = Request::from_parts(parts, ReqBody::from_body(Body::from(bytes)));
            inner.oneshot(req).await
        })
    }
}

/// The message of a unary gRPC request body: one uncompressed frame.
pub(crate) fn grpc_message(bytes: &Bytes) -> Option<Bytes> {
    if bytes.len() < 5 || bytes[0] != 0 {
        return None;
    }
    let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
    (bytes.len() == 5 + len).then(|| bytes.slice(5..))
}
