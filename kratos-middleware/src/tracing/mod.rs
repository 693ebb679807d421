//! Tracing: one OpenTelemetry span per call, as Go Kratos's
//! `middleware/tracing`, on both transports, server and client side.
//!
//! [`TracingLayer::server()`] extracts the caller's span context from the
//! request headers with the global text-map propagator
//! ([`opentelemetry::global::set_text_map_propagator`]) and starts a
//! [`SpanKind::Server`](opentelemetry::trace::SpanKind::Server) span under
//! it. [`TracingLayer::client()`] starts a
//! [`SpanKind::Client`](opentelemetry::trace::SpanKind::Client) span under
//! [`Context::current()`](opentelemetry::Context::current) and injects it
//! into the outgoing headers with the same propagator, so a W3C
//! `traceparent` travels over HTTP and gRPC alike. The span is named by the
//! operation (`/helloworld.v1.Greeter/SayHello`, or the HTTP route template
//! `/v1/users/{id}`) and the inner service runs inside its
//! [`Context`](opentelemetry::Context): a handler, and any client call it
//! makes, sees it as `Context::current()`.
//!
//! The tracer is `opentelemetry::global::tracer("kratos")`, looked up per
//! call, so a provider installed after the layer was built is used from the
//! next call on. Without a provider (or propagator) the layer is a no-op
//! that still carries an incoming span context through to client calls.
//!
//! # Attributes and status
//!
//! Only spans that record (are sampled) get attributes, so with sampling
//! off the layer builds no attribute strings:
//!
//! | attribute | when |
//! |---|---|
//! | `rpc.system` | always: `grpc` or `http` |
//! | `rpc.service`, `rpc.method` | gRPC: `helloworld.v1.Greeter`, `SayHello` |
//! | `http.request.method`, `http.route` | HTTP: `GET`, the operation |
//! | `http.response.status_code` | HTTP, when the response arrives |
//! | `server.address` | client: the transport's target, else the URI authority |
//! | `kratos.code`, `kratos.reason` | on error: the kratos code and reason (if any) |
//!
//! A call fails when the inner service returns `Err`, when a gRPC response
//! carries a `grpc-status` other than OK, or when an HTTP response has a
//! status of 400 and above. Its span gets status `Error` with the kratos
//! message (the gRPC `grpc-message`; for HTTP, whose message lives in the
//! body and is not read, the status line). Other calls end with status `Ok`,
//! as in Go Kratos.
//!
//! The span ends when the response head arrives: for a stream, that is when
//! it starts, not when it ends (as [`logging`](crate::logging) does). A call
//! dropped before its response ends its span unfinished (no status).
//!
//! # Example
//!
//! ```
//! use kratos_middleware::tracing::TracingLayer;
//!
//! # async fn run() {
//! // Server side: HttpServer::builder().layer(TracingLayer::server()),
//! // GrpcServer::builder().layer(TracingLayer::server()).
//! let server = TracingLayer::server();
//! // Client side: GrpcChannel::builder().layer(TracingLayer::client()).
//! let client = TracingLayer::client();
//! # let _ = (server, client);
//! # }
//! ```
//!
//! Spans go wherever the global tracer provider sends them; with the `otlp`
//! feature, `tracing::otlp` installs one exporting over OTLP/gRPC.

mod carrier;
mod future;
mod layer;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
mod span;

use std::task::{Context, Poll};

use http::{Request, Response};
use opentelemetry::global;
use opentelemetry::trace::{FutureExt, TraceContextExt};
use tower_service::Service;

pub use carrier::{HeaderExtractor, HeaderInjector};
pub use future::ResponseFuture;
pub use layer::TracingLayer;

use crate::util::kind_of;

/// Which end of a call a [`TracingLayer`] traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

/// The service of a [`TracingLayer`].
#[derive(Debug, Clone)]
pub struct Tracing<S> {
    inner: S,
    side: Side,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Tracing<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: std::fmt::Display + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let kind = kind_of(&req);
        let parent = match self.side {
            Side::Server => global::get_text_map_propagator(|propagator| {
                propagator.extract(&HeaderExtractor(req.headers()))
            }),
            Side::Client => opentelemetry::Context::current(),
        };
        let span = span::start(self.side, kind, &req, &parent);
        let otel_cx = parent.with_span(span);
        if self.side == Side::Client {
            global::get_text_map_propagator(|propagator| {
                propagator.inject_context(&otel_cx, &mut HeaderInjector(req.headers_mut()))
            });
        }
        let fut = self.inner.call(req).with_context(otel_cx.clone());
        ResponseFuture::new(fut, otel_cx, kind)
    }
}
