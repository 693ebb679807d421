//! Request validation: a message type that implements [`Validate`] is
//! checked by the generated handlers of both transports after it is decoded
//! and before the service method runs. A broken rule is 400 `VALIDATOR` (Go
//! Kratos's reason) with the offending field in the error metadata
//! (`field`); over gRPC, INVALID_ARGUMENT with that ErrorInfo.
//!
//! The impl is the one registration: the HTTP route decoding the message
//! from its body, path and query, and the gRPC service decoding it from a
//! (possibly compressed) frame, both run it.
//!
//! ```
//! use kratos_core::validate::{Validate, Violation};
//!
//! #[derive(Default)]
//! struct CreateUser {
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
//! let err = kratos_core::Error::from(CreateUser::default().validate().unwrap_err());
//! assert_eq!((err.code(), err.reason()), (400, "VALIDATOR"));
//! assert_eq!(err.metadata()["field"], "name");
//! ```

use std::fmt;

use crate::Error;

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
        Error::bad_request(REASON, v.message).with_metadata("field", v.field)
    }
}
