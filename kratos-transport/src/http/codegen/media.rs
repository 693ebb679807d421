//! The codec of a generated binding: the request body's from its
//! `Content-Type`, the reply's from `Accept`, as Go Kratos picks them
//! (`CodecForRequest`): JSON, protobuf or (requests only) a form.

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};
use kratos_core::Error;

use crate::http::CODEC_REASON;

/// The `Content-Type` of protobuf replies.
pub(super) const PROTOBUF: &str = "application/x-protobuf";

/// How a message is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    /// proto3 JSON: `application/json` (and `…+json`).
    Json,
    /// protobuf binary: `application/x-protobuf`, `application/protobuf`,
    /// `application/proto` (Go Kratos's codec name).
    Proto,
    /// `application/x-www-form-urlencoded`, as Go Kratos's form codec
    /// binds it (`a.b=1`, `m[k]=v`, a repeated field once per value);
    /// requests only.
    Form,
}

impl Media {
    /// The codec of a media type (`application/json; charset=utf-8`), if
    /// one is known.
    fn of(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        let subtype = essence.rsplit('/').next().unwrap_or_default();
        let subtype = subtype.rsplit('+').next().unwrap_or_default();
        match subtype.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "x-protobuf" | "protobuf" | "proto" => Some(Self::Proto),
            "x-www-form-urlencoded" => Some(Self::Form),
            _ => None,
        }
    }
}

/// The codec of a request body: JSON without a `Content-Type` (lenient
/// where Go Kratos answers 400), 400 `CODEC` naming one it does not know
/// (`text/plain`), as Go Kratos answers.
pub(super) fn request_media(headers: &HeaderMap) -> Result<Media, Error> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(Media::Json);
    };
    let text = value.to_str().unwrap_or_default();
    Media::of(text)
        .ok_or_else(|| Error::bad_request(CODEC_REASON, format!("unregister Content-Type: {text}")))
}

/// The codec of a reply: the first known one `Accept` lists (a form is not
/// a reply codec), else JSON.
pub(super) fn reply_media(headers: &HeaderMap) -> Media {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(Media::of)
        .find(|media| *media != Media::Form)
        .unwrap_or(Media::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        headers
    }

    #[test]
    fn content_types_pick_the_codec_and_unknown_ones_are_400_codec() {
        assert_eq!(request_media(&HeaderMap::new()).unwrap(), Media::Json);
        for (value, media) in [
            ("application/json; charset=utf-8", Media::Json),
            ("application/vnd.api+json", Media::Json),
            ("application/x-protobuf", Media::Proto),
            ("application/proto", Media::Proto),
            ("application/x-www-form-urlencoded", Media::Form),
        ] {
            assert_eq!(
                request_media(&headers(CONTENT_TYPE, value)).unwrap(),
                media,
                "{value}"
            );
        }
        for value in ["text/plain", "application/xml"] {
            let err = request_media(&headers(CONTENT_TYPE, value)).unwrap_err();
            assert_eq!((err.code(), err.reason()), (400, CODEC_REASON));
            assert!(err.message().contains(value), "{}", err.message());
        }
    }

    #[test]
    fn accept_picks_the_reply_codec_json_by_default() {
        assert_eq!(reply_media(&HeaderMap::new()), Media::Json);
        assert_eq!(reply_media(&headers(ACCEPT, "*/*")), Media::Json);
        assert_eq!(
            reply_media(&headers(ACCEPT, "application/x-www-form-urlencoded")),
            Media::Json
        );
        assert_eq!(
            reply_media(&headers(ACCEPT, "text/html, application/x-protobuf;q=0.9")),
            Media::Proto
        );
    }
}
