//! A server's own encoding of replies, errors and request bodies, as Go
//! Kratos's `http.ResponseEncoder`, `http.ErrorEncoder` and
//! `http.RequestDecoder` server options: for a team that wraps every reply
//! in its envelope (`{"code":0,"data":…}`).
//!
//! The hooks apply to the replies of generated routes and of [`Json`]
//! handlers alike (both mark their JSON replies), to every Kratos error a
//! route, a layer or the 404/405 answers return, and to every request body
//! a route reads. A server without hooks does not pay for them.
//!
//! [`Json`]: super::Json

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use kratos_core::Error;
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

/// Encodes a JSON reply: the request's headers and the reply as JSON; the
/// response to send.
pub type ResponseEncoder = Arc<dyn Fn(&HeaderMap, Value) -> Response + Send + Sync>;
/// Encodes an error: the request's headers and the error; the response to
/// send (the error stays attached to it, for the metrics and logs layers).
pub type ErrorEncoder = Arc<dyn Fn(&HeaderMap, &Error) -> Response + Send + Sync>;
/// Decodes a request body: the request's headers and its body; the JSON
/// body the route reads, or the error to answer with.
pub type RequestDecoder = Arc<dyn Fn(&HeaderMap, Bytes) -> Result<Bytes, Error> + Send + Sync>;

/// The mark of a JSON reply a [`ResponseEncoder`] may re-encode, set by
/// generated routes and by [`Json`](super::Json) through [`mark_reply`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonReply;

/// Whether a server of this process was given a response encoder: until
/// one is, nothing reads [`JsonReply`], and replies are not marked (the
/// mark is a response extension: a map allocated per reply).
static RESPONSE_ENCODERS: AtomicBool = AtomicBool::new(false);

/// Records that a server has a response encoder (when its routes are
/// wrapped in the hooks, before it serves a reply).
fn response_encoders_used() {
    RESPONSE_ENCODERS.store(true, Ordering::Relaxed);
}

/// Marks `response` as a JSON reply a response encoder may re-encode, when
/// any server has one.
pub(crate) fn mark_reply(response: &mut Response) {
    if RESPONSE_ENCODERS.load(Ordering::Relaxed) {
        response.extensions_mut().insert(JsonReply);
    }
}

/// The hooks a server was given.
#[derive(Clone, Default)]
pub(crate) struct Encoders {
    pub(crate) response: Option<ResponseEncoder>,
    pub(crate) error: Option<ErrorEncoder>,
    pub(crate) request: Option<RequestDecoder>,
    /// The body limit of the server, for the bodies a decoder reads.
    pub(crate) body_limit: usize,
}

impl std::fmt::Debug for Encoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoders")
            .field("response", &self.response.is_some())
            .field("error", &self.error.is_some())
            .field("request", &self.request.is_some())
            .finish()
    }
}

impl Encoders {
    /// Whether any hook is set (else the layer is not added).
    pub(crate) fn any(&self) -> bool {
        self.response.is_some() || self.error.is_some() || self.request.is_some()
    }
}

impl<S> Layer<S> for Encoders {
    type Service = Encoding<S>;

    fn layer(&self, inner: S) -> Self::Service {
        if self.response.is_some() {
            response_encoders_used();
        }
        Encoding {
            inner,
            encoders: Arc::new(self.clone()),
        }
    }
}

/// A route with a server's hooks around it.
#[derive(Debug, Clone)]
pub(crate) struct Encoding<S> {
    inner: S,
    encoders: Arc<Encoders>,
}

impl<S> Service<Request> for Encoding<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let encoders = self.encoders.clone();
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        Box::pin(async move {
            let headers = req.headers().clone();
            let req = match decode(&encoders, req).await {
                Ok(req) => req,
                Err(error) => return Ok(encode(&encoders, &headers, error.into_response()).await),
            };
            let response = inner.call(req).await?;
            Ok(encode(&encoders, &headers, response).await)
        })
    }
}

/// The request with its body through the decoder, if there is one.
async fn decode(encoders: &Encoders, req: Request) -> Result<Request, Error> {
    let Some(decoder) = &encoders.request else {
        return Ok(req);
    };
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, encoders.body_limit)
        .await
        .map_err(|e| super::body::read_error(&e, e.to_string()))?;
    let decoded = decoder(&parts.headers, bytes)?;
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(Request::from_parts(parts, Body::from(decoded)))
}

/// The response through the error or the response encoder, when it is an
/// error or a JSON reply and that hook is set.
async fn encode(encoders: &Encoders, headers: &HeaderMap, response: Response) -> Response {
    if let Some(error) = response.extensions().get::<Error>() {
        let Some(encode_error) = &encoders.error else {
            return response;
        };
        let error = error.clone();
        let mut encoded = encode_error(headers, &error);
        encoded.extensions_mut().insert(error);
        return encoded;
    }
    let Some(encode_reply) = &encoders.response else {
        return response;
    };
    if response.extensions().get::<JsonReply>().is_none() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let reply = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes),
        Err(e) => {
            return Error::internal_server(super::CODEC_REASON, e.to_string()).into_response();
        }
    };
    match reply {
        Ok(value) => {
            let mut encoded = encode_reply(headers, value);
            // What the handler set besides the body stays (reply metadata).
            for (name, value) in &parts.headers {
                if name != CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
                    encoded.headers_mut().entry(name).or_insert(value.clone());
                }
            }
            encoded
        }
        Err(e) => Error::internal_server(super::CODEC_REASON, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    fn envelope() -> Encoders {
        Encoders {
            response: Some(Arc::new(|_: &HeaderMap, reply: Value| {
                axum::Json(serde_json::json!({"data": reply})).into_response()
            })),
            error: Some(Arc::new(|_: &HeaderMap, error: &Error| {
                (error.http_status(), format!("failed: {}", error.reason())).into_response()
            })),
            request: None,
            body_limit: 1024,
        }
    }

    async fn call(router: axum::Router, path: &str) -> (u16, Option<String>, String) {
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let reason = res
            .extensions()
            .get::<Error>()
            .map(|e| e.reason().to_owned());
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        (status, reason, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn replies_and_errors_are_encoded_and_the_error_stays_attached() {
        let router = axum::Router::new()
            .route(
                "/reply",
                get(|| async { super::super::Json(serde_json::json!(1)) }),
            )
            .route("/text", get(|| async { "plain" }))
            .route("/error", get(|| async { Error::not_found("GONE", "gone") }))
            .layer(envelope());
        assert_eq!(
            call(router.clone(), "/reply").await,
            (200, None, r#"{"data":1}"#.into())
        );
        // Not a marked JSON reply: as it is.
        assert_eq!(
            call(router.clone(), "/text").await,
            (200, None, "plain".into())
        );
        assert_eq!(
            call(router, "/error").await,
            (404, Some("GONE".into()), "failed: GONE".into())
        );
    }
}
