//! The HTTP form of an [`Error`]: status = code, JSON body
//! `{"code","reason","message","metadata"}`, as Go Kratos's default encoder.

use std::collections::BTreeMap;

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::{Error, UNKNOWN_REASON};

#[derive(Serialize)]
struct WireRef<'a> {
    code: u16,
    reason: &'a str,
    message: &'a str,
    metadata: &'a BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    code: u16,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
}

impl Error {
    /// The HTTP status: the code, or 500 when the code is not a valid status.
    pub fn http_status(&self) -> StatusCode {
        StatusCode::from_u16(self.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body, `{"code":404,"reason":"...","message":"...","metadata":{}}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&WireRef {
            code: self.code(),
            reason: self.reason(),
            message: self.message(),
            metadata: self.metadata(),
        })
        .expect("an error body always serialises")
    }

    /// The complete HTTP response: status, `content-type: application/json`,
    /// body, and the error itself as a response extension (the typed outcome
    /// middleware reads, see [`response_error`](crate::transport::response_error)).
    pub fn to_http_response(&self) -> http::Response<Body> {
        self.clone().into_http_response()
    }

    fn into_http_response(self) -> http::Response<Body> {
        let mut res = http::Response::new(Body::from(self.to_json()));
        *res.status_mut() = self.http_status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res.extensions_mut().insert(self);
        res
    }

    /// Decodes the error of a non-2xx HTTP response, as Go Kratos's client
    /// does: the JSON body if it is a Kratos error body, otherwise the status
    /// with an empty reason and the body text as message.
    pub fn from_http_response(status: StatusCode, body: &[u8]) -> Self {
        match serde_json::from_slice::<Wire>(body) {
            Ok(wire) if wire.code != 0 => Self::new(wire.code, wire.reason, wire.message)
                .with_metadata_map(wire.metadata.unwrap_or_default()),
            _ => Self::new(
                status.as_u16(),
                UNKNOWN_REASON,
                String::from_utf8_lossy(body).into_owned(),
            ),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.into_http_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_go_kratos_json_even_without_metadata() {
        let e = Error::not_found("USER_NOT_FOUND", "gone");
        assert_eq!(
            e.to_json(),
            r#"{"code":404,"reason":"USER_NOT_FOUND","message":"gone","metadata":{}}"#
        );
        let res = e.to_http_response();
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.extensions().get::<Error>(), Some(&e));
        let res = e.clone().into_response();
        assert_eq!(res.extensions().get::<Error>(), Some(&e));
    }

    #[test]
    fn decode_accepts_kratos_bodies_and_falls_back_for_others() {
        let e = Error::conflict("DUP", "exists").with_metadata("k", "v");
        let back = Error::from_http_response(StatusCode::CONFLICT, e.to_json().as_bytes());
        assert_eq!(back, e);
        assert_eq!(back.metadata()["k"], "v");
        let plain = Error::from_http_response(StatusCode::BAD_GATEWAY, b"upstream down");
        assert_eq!(plain.code(), 502);
        assert_eq!(plain.message(), "upstream down");
    }

    #[test]
    fn invalid_code_becomes_500_status() {
        assert_eq!(Error::new(42, "X", "").http_status(), 500);
    }
}
