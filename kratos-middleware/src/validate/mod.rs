//! Validation: request messages that implement [`Validate`] are checked by
//! the handlers `kratos-build` generates, on both transports, after the
//! message is decoded and before the service method runs; a failure is 400
//! `VALIDATOR` (Go Kratos's reason) with the offending field in the error
//! metadata (`field`), INVALID_ARGUMENT over gRPC.
//!
//! There is no layer to add: the `impl Validate` is the registration, one per
//! message type, and holds for the HTTP route (body, path and query fields
//! alike) and the gRPC service (`<service>_grpc::server`, whatever the
//! compression of the frame). Go Kratos's `validate.Validator()` middleware
//! needs adding to each server; here a message that has rules is always
//! checked. See [`kratos_core::validate`], re-exported here.
//!
//! ```
//! use kratos_middleware::validate::{Validate, Violation};
//!
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
//! # let _ = CreateUser { name: String::new() }.validate();
//! ```

pub use kratos_core::validate::{REASON, Validate, Violation};
