//! The reply of a generated binding as JSON (or protobuf when `Accept`
//! asks for it), with the reply metadata as headers.

use axum::response::Response;
use http::{HeaderValue, header};
use kratos_core::Error;
use serde::Serialize;
use serde_json::Value;

use super::RouteSpec;
use super::media::{Media, PROTOBUF};
use crate::http::CODEC_REASON;

/// The HTTP response of `reply`: its message (or its `response_body` field)
/// as JSON, or the whole message as protobuf when `media` says so (a
/// `response_body` field is always JSON); its metadata as headers.
pub(super) fn encode_reply<Reply: Serialize + prost::Message>(
    spec: &RouteSpec,
    reply: tonic::Response<Reply>,
    media: Media,
) -> Result<Response, Error> {
    let (metadata, message, _) = reply.into_parts();
    let protobuf = media == Media::Proto && spec.response_body.is_none();
    let encoded = match spec.response_body {
        None if protobuf => Ok(message.encode_to_vec()),
        None => serde_json::to_vec(&message),
        Some(field) => serde_json::to_value(&message).and_then(|mut value| {
            let part = value
                .as_object_mut()
                .and_then(|map| map.remove(field))
                .unwrap_or(Value::Null);
            serde_json::to_vec(&part)
        }),
    };
    let body = encoded
        .map_err(|err| Error::new(500, CODEC_REASON, format!("cannot encode the reply: {err}")))?;
    let mut response = Response::new(axum::body::Body::from(body));
    if !protobuf {
        // A reply the server's response encoder may re-encode.
        crate::http::encoders::mark_reply(&mut response);
    }
    let headers = response.headers_mut();
    for (name, value) in metadata.into_headers().iter() {
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if protobuf {
            PROTOBUF
        } else {
            "application/json"
        }),
    );
    Ok(response)
}
