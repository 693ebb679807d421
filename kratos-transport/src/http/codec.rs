//! The JSON codec: axum's `Json`, with decode errors as Kratos errors.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use kratos_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The reason of the 400 error returned for a body that cannot be decoded
/// (the same as Go Kratos's codec errors).
pub const CODEC_REASON: &str = "CODEC";

/// A JSON request body or response.
///
/// As an extractor it rejects a malformed body, a body of the wrong shape or a
/// missing `content-type: application/json` with a Kratos 400 error, reason
/// [`CODEC_REASON`]; a body over the server's
/// [`body_limit`](crate::Limits::with_body_limit) with 413
/// [`PAYLOAD_TOO_LARGE`](super::PAYLOAD_TOO_LARGE), and one that stops
/// arriving with 408 [`REQUEST_TIMEOUT`](super::REQUEST_TIMEOUT). As a response it serializes `T` with
/// `content-type: application/json`.
///
/// ```
/// use kratos_transport::http::Json;
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Hello { name: String }
///
/// async fn hello(Json(req): Json<Hello>) -> Result<Json<Hello>, kratos_core::Error> {
///     Ok(Json(Hello { name: format!("hello {}", req.name) }))
/// }
/// let _router: axum::Router = axum::Router::new().route("/hello", axum::routing::post(hello));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            // axum reports its own length limit by status, not by source.
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(super::body::too_large())
            }
            Err(rejection) => Err(super::body::read_error(&rejection, rejection.body_text())),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.0).into_response();
        if response.status().is_success() {
            // A reply the server's response encoder may re-encode.
            super::encoders::mark_reply(&mut response);
        }
        response
    }
}
