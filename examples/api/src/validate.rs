//! Hand-written [`Validate`] rules of request messages. One impl per message
//! is the one registration: the generated HTTP routes
//! (`<service>_http::router`) and gRPC servers (`<service>_grpc::server`)
//! both check it after decoding, before the service runs, so a broken rule
//! is 400 `VALIDATOR` over HTTP and INVALID_ARGUMENT over gRPC.

use kratos_core::validate::{Validate, Violation};

use crate::api::user::v1::GetUserRequest;

/// A user id is positive; `GET /api/v1/users/{id}` binds it from the path.
impl Validate for GetUserRequest {
    fn validate(&self) -> Result<(), Violation> {
        if self.id <= 0 {
            return Err(Violation::new(
                "id",
                format!("id must be positive, got {}", self.id),
            ));
        }
        Ok(())
    }
}
