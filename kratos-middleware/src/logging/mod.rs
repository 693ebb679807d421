//! Logging: one structured `tracing` event per call, with the fields of Go
//! Kratos's logging middleware: `kind`, `component` (`server` or `client`),
//! `operation`, `code`, `reason` and `latency` (seconds). Successful calls
//! log at `INFO`, failed ones at `ERROR` with the error `message`.
//!
//! The target is `kratos::middleware::logging`. Code, reason and message
//! come from the call's typed outcome (the [`Error`](kratos_core::Error) the
//! transport attached to the response, see
//! [`kratos_core::transport::response_error`]); no body is
//! read. For a stream the event is written when the response head arrives.

mod layer;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tokio::time::Instant;
use tower_service::Service;

pub use layer::LoggingLayer;

use crate::util::{kind_of, operation_of, response_error};

/// The service of a [`LoggingLayer`].
#[derive(Debug, Clone)]
pub struct Logging<S> {
    inner: S,
    component: &'static str,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Logging<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let kind = kind_of(&req);
        let operation = operation_of(&req).to_owned();
        let component = self.component;
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = fut.await;
            let latency = start.elapsed().as_secs_f64();
            match result {
                Ok(res) => {
                    match response_error(&res) {
                        None => tracing::info!(
                            target: "kratos::middleware::logging",
                            kind = kind.as_str(),
                            component,
                            operation = %operation,
                            code = res.status().as_u16(),
                            reason = "",
                            latency,
                        ),
                        Some(err) => tracing::error!(
                            target: "kratos::middleware::logging",
                            kind = kind.as_str(),
                            component,
                            operation = %operation,
                            code = err.code(),
                            reason = err.reason(),
                            message = err.message(),
                            latency,
                        ),
                    }
                    Ok(res)
                }
                Err(err) => {
                    tracing::error!(
                        target: "kratos::middleware::logging",
                        kind = kind.as_str(),
                        component,
                        operation = %operation,
                        code = 500u16,
                        reason = "",
                        message = %err,
                        latency,
                    );
                    Err(err)
                }
            }
        })
    }
}
