//! The server side of a generated binding: the axum handler that decodes the
//! request message, validates it, calls the tonic trait method and encodes
//! its reply or error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::{RequestExt, Router};
use http::Method;
use kratos_core::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::decode::decode_message;
use super::media::{Media, reply_media, request_media};
use super::reply::encode_reply;
use super::{RouteSpec, Routes};
use crate::http::CODEC_REASON;
use crate::http::body::read_error;

/// Checks a decoded request message: `Ok`, or the error to answer with
/// (400 `VALIDATOR` for a broken rule). Generated code passes the message's
/// [`Validate`](kratos_core::validate::Validate) rules, or none.
pub type Check<Req> = fn(&Req) -> Result<(), Error>;

/// The [`Routes`] of a generated router: `router` (its routes already bound
/// to the service) with the gRPC operation of every binding in `specs`, so
/// that the server merging them names the gRPC method in the transport info.
pub fn routes(router: Router, specs: &[&RouteSpec]) -> Routes {
    specs.iter().fold(Routes::new(router), |routes, spec| {
        routes.operation(spec.method, spec.path, spec.operation)
    })
}

/// The axum method router of one generated binding: decodes the request
/// message (path, query and body), checks it with `check`, calls `call` (the
/// tonic trait method) and encodes its reply.
pub fn on<T, Req, Reply, F, Fut>(
    spec: &'static RouteSpec,
    check: Check<Req>,
    call: F,
) -> MethodRouter<Arc<T>>
where
    T: Send + Sync + 'static,
    Req: DeserializeOwned + Serialize + prost::Message + Default + Send + 'static,
    Reply: Serialize + prost::Message + Send + 'static,
    F: Fn(Arc<T>, tonic::Request<Req>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<tonic::Response<Reply>, tonic::Status>> + Send + 'static,
{
    let handler = move |State(service): State<Arc<T>>, req: Request| {
        let call = call.clone();
        async move {
            match handle(service, req, spec, check, call).await {
                Ok(response) => response,
                Err(err) => err.into_response(),
            }
        }
    };
    match Method::from_bytes(spec.method.as_bytes())
        .ok()
        .and_then(|m| MethodFilter::try_from(m).ok())
    {
        Some(filter) => axum::routing::on(filter, handler),
        None => axum::routing::any(handler),
    }
}

async fn handle<T, Req, Reply, F, Fut>(
    service: Arc<T>,
    req: Request,
    spec: &'static RouteSpec,
    check: Check<Req>,
    call: F,
) -> Result<Response, Error>
where
    Req: DeserializeOwned + Serialize + prost::Message + Default,
    Reply: Serialize + prost::Message,
    F: Fn(Arc<T>, tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Reply>, tonic::Status>>,
{
    // The body limit is the server's (`Limits::with_body_limit`, counted by
    // its body guard, axum's own limit disabled), a route's
    // `DefaultBodyLimit`, or axum's 2 MB default outside a server.
    let (mut parts, body) = req.with_limited_body().into_parts();
    let params = match Path::<HashMap<String, String>>::from_request_parts(&mut parts, &()).await {
        Ok(Path(params)) => params,
        Err(_) if spec.vars.is_empty() => HashMap::new(),
        Err(rejection) => return Err(Error::bad_request(CODEC_REASON, rejection.body_text())),
    };
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|err| read_error(&err, format!("cannot read the request body: {err}")))?;
    // The Content-Type matters only for a body (a GET's is ignored).
    let media = if bytes.is_empty() {
        Media::Json
    } else {
        request_media(&parts.headers)?
    };
    let reply = reply_media(&parts.headers);
    let message: Req = decode_message(spec, &params, parts.uri.query(), &bytes, media)?;
    check(&message)?;
    // The operation is the server's (its table of generated routes put it in
    // the transport info before any middleware ran): one source of truth.
    let request = tonic::Request::from_http(http::Request::from_parts(parts, message));
    match call(service, request).await {
        Ok(message) => encode_reply(spec, message, reply),
        Err(status) => Err(Error::from_status(&status)),
    }
}
