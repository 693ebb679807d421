//! Retry (client side): failed calls are tried again, with exponential
//! backoff and equal jitter (`kratos_net::Backoff`, the registry backends'
//! policy), only when they are safe to repeat, and only
//! within a [`RetryBudget`] so retries cannot multiply an outage.
//!
//! A call is retried when its response carries a retryable code (502 and 503
//! by default; the HTTP status, or the kratos code of a `grpc-status` in the
//! response head) or the wrapped service fails (a connection error), and it
//! is idempotent: an HTTP `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT` or
//! `DELETE`, or an operation opted in with [`RetryLayer::idempotent`] (every
//! gRPC call is a POST, so gRPC calls are retried only when opted in). The
//! body of such a call is buffered to be replayed; other calls pass through
//! untouched, streams included. Each attempt carries an [`Attempt`]
//! extension whose clones share the nodes tried so far: the discovery-aware
//! clients of kratos-transport read it, so a retry goes to a node this call
//! has not tried while one exists.
//!
//! A call whose connection failed before anything was sent (connection
//! refused) needs no retry layer: the clients send it to another node
//! themselves, whatever its method (gRPC's "transparent retry").

mod budget;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Method, Request, Response};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use kratos_core::{Error, Kind};
use kratos_net::Backoff;
use tower::ServiceExt;
use tower_service::Service;

pub use budget::RetryBudget;
pub use layer::RetryLayer;

use crate::body::FromBody;
use crate::util::{kind_of, operation_of, reject, response_error};
use crate::{BoxError, Matcher};

pub use kratos_core::transport::Attempt;

#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) attempts: u32,
    pub(crate) backoff: Backoff,
    pub(crate) codes: Arc<[u16]>,
    pub(crate) idempotent: Option<Matcher>,
    pub(crate) budget: RetryBudget,
}

impl Policy {
    fn applies<B>(&self, req: &Request<B>) -> bool {
        if self.attempts < 2 {
            return false;
        }
        if self
            .idempotent
            .as_ref()
            .is_some_and(|m| m.matches(operation_of(req)))
        {
            return true;
        }
        kind_of(req) == Kind::Http
            && matches!(
                *req.method(),
                Method::GET
                    | Method::HEAD
                    | Method::OPTIONS
                    | Method::TRACE
                    | Method::PUT
                    | Method::DELETE
            )
    }
}

/// The service of a [`RetryLayer`].
#[derive(Debug, Clone)]
pub struct Retry<S> {
    inner: S,
    policy: Policy,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Retry<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
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
        let policy = self.policy.clone();
        policy.budget.deposit();
        if !policy.applies(&req) {
            return Box::pin(self.inner.call(req));
        }
        // The inner service is ready: use it for the first attempt, clones
        // (driven to readiness) for the retries.
        let retries = self.inner.clone();
        let first = std::mem::replace(&mut self.inner, retries.clone());
        let kind = kind_of(&req);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => {
                    let e: BoxError = e.into();
                    let err =
                        Error::bad_request("RETRY_BODY", format!("request body unreadable: {e}"));
                    return Ok(reject(kind, &err));
                }
            };
            let mut first = Some(first);
            let mut attempt = Attempt::first();
            loop {
                let mut req = Request::from_parts(
                    parts.clone(),
                    ReqBody::from_body(Body::from(bytes.clone())),
                );
                req.extensions_mut().insert(attempt.clone());
                let out = match first.take() {
                    Some(mut ready) => ready.call(req).await,
                    None => retries.clone().oneshot(req).await,
                };
                let retryable = match &out {
                    Ok(res) => {
                        response_error(res).is_some_and(|e| policy.codes.contains(&e.code()))
                    }
                    Err(_) => true,
                };
                if !retryable || attempt.number() >= policy.attempts || !policy.budget.withdraw() {
                    return out;
                }
                tokio::time::sleep(policy.backoff.delay(attempt.number() - 1)).await;
                attempt = attempt.next();
            }
        })
    }
}
