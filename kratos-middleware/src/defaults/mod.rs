//! The default server chain as one service: [`server_defaults`](crate::server_defaults).
//!
//! It does what this chain does, outermost first, with the same answers,
//! metrics, spans and logs:
//!
//! ```
//! use std::time::Duration;
//! use kratos_middleware::Chain;
//! use kratos_middleware::metadata::MetadataLayer;
//! use kratos_middleware::metrics::MetricsLayer;
//! use kratos_middleware::recovery::RecoveryLayer;
//! use kratos_middleware::timeout::TimeoutLayer;
//! use kratos_middleware::tracing::TracingLayer;
//!
//! let same = Chain::new()
//!     .with(RecoveryLayer::new())
//!     .with(TracingLayer::server())
//!     .with(MetricsLayer::server())
//!     .with(MetadataLayer::server())
//!     .with(TimeoutLayer::new(Duration::from_secs(1)));
//! # let _ = same;
//! ```
//!
//! but in one service and one future instead of five: the call's kind is
//! read once, the clock once at the start (the metrics' start and the
//! timeout's deadline share it), and the handler's future is moved once
//! instead of once per layer. On each poll the handler runs inside the
//! span's context, its metadata scope and its deadline, marked as a
//! recovered call; when it is done, the outcome is recorded (metrics),
//! ends the span, and a gRPC stream still to come gets its body guarded
//! against panics. Without the `otel` or `metrics` feature that part is not
//! there, as in the chain.

mod future;

use std::fmt::Display;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Body as HttpBody;
use kratos_core::TransportInfo;
use kratos_core::transport::headers::{BAGGAGE, GRPC_TIMEOUT, TRACEPARENT};
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

pub use future::ResponseFuture;

use crate::BoxError;
use crate::body::FromBody;
use crate::metadata::MetadataLayer;
#[cfg(feature = "metrics")]
use crate::metrics::MetricsLayer;
use crate::recovery::{self, RecoveryLayer};
use crate::timeout::server_deadline;
#[cfg(feature = "otel")]
use crate::tracing::TracingLayer;
use crate::util::kind_of;
use future::Call;

/// The default server chain; see [`server_defaults`](crate::server_defaults)
/// and the [module docs](self).
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::server_defaults;
///
/// // HttpServer::builder().layer(server_defaults()), the same for GrpcServer.
/// let defaults = server_defaults().timeout(Duration::from_millis(500));
/// # let _ = defaults;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerDefaults(Arc<Parts>);

#[derive(Debug, Clone)]
struct Parts {
    recovery: RecoveryLayer,
    #[cfg(feature = "otel")]
    tracing: TracingLayer,
    #[cfg(feature = "metrics")]
    metrics: MetricsLayer,
    metadata: MetadataLayer,
    timeout: Duration,
}

impl ServerDefaults {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Parts {
            recovery: RecoveryLayer::new(),
            #[cfg(feature = "otel")]
            tracing: TracingLayer::server(),
            #[cfg(feature = "metrics")]
            metrics: MetricsLayer::server(),
            metadata: MetadataLayer::server(),
            timeout: Duration::from_secs(1),
        }))
    }

    /// Gives each call `timeout` instead of 1 s (still shortened by the
    /// caller's `grpc-timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.0).timeout = timeout;
        self
    }
}

impl<S> Layer<S> for ServerDefaults {
    type Service = Defaults<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Defaults {
            inner,
            parts: self.0.clone(),
        }
    }
}

/// The headers the chain reads besides metadata, found in one pass over the
/// request's few headers instead of a hashed lookup each: whether a W3C
/// trace field (`traceparent`, `baggage`) is there, and the caller's
/// `grpc-timeout`.
fn scan(headers: &HeaderMap) -> (bool, Option<&HeaderValue>) {
    let (mut w3c, mut timeout) = (false, None);
    for (name, value) in headers {
        if name == TRACEPARENT || name == BAGGAGE {
            w3c = true;
        } else if name == GRPC_TIMEOUT {
            timeout = Some(value);
        }
    }
    (w3c, timeout)
}

/// The service of [`ServerDefaults`].
#[derive(Debug, Clone)]
pub struct Defaults<S> {
    inner: S,
    parts: Arc<Parts>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Defaults<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Display + 'static,
    ResBody: HttpBody<Data = Bytes> + FromBody + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let parts = &*self.parts;
        let info = TransportInfo::from_request(&req).cloned();
        let kind = info
            .as_ref()
            .map_or_else(|| kind_of(&req), TransportInfo::kind);
        let now = Instant::now();
        let (w3c_seen, asked) = scan(req.headers());
        let deadline = server_deadline(parts.timeout, asked, now);
        #[cfg(not(feature = "otel"))]
        let _ = w3c_seen;
        // Read once for the span and the metrics.
        let operation = info.as_ref().map(TransportInfo::operation);
        let call = Call {
            kind,
            handler: parts.recovery.handler.clone(),
            #[cfg(feature = "otel")]
            span: parts
                .tracing
                .start_span(kind, operation, &mut req, w3c_seen),
            #[cfg(feature = "metrics")]
            measure: parts.metrics.measure(
                kind,
                operation.unwrap_or_else(|| crate::util::operation_of(&req)),
                now,
            ),
            incoming: parts.metadata.incoming(&mut req),
            info,
        };
        match recovery::call(
            &mut self.inner,
            req,
            kind,
            call.info.as_ref(),
            &call.handler,
        ) {
            Ok(fut) => ResponseFuture::running(fut, call, deadline),
            Err(res) => ResponseFuture::done(res),
        }
    }
}
