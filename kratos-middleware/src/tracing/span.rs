//! Starting and finishing a call's span: name, kind, attributes, status.

use std::any::Any;
use std::fmt::Display;

use http::{Request, Response};
use kratos_core::{Error, Kind, TransportInfo};
use opentelemetry::global::BoxedSpan;
use opentelemetry::trace::{Span as _, SpanBuilder, SpanKind, SpanRef, Status};
use opentelemetry::{Context, KeyValue};

use super::Side;
use super::tracer::LayerTracer;
use crate::BoxError;
use crate::util::{operation_of, response_error};

/// Starts the span of `req` under `parent` with `tracer`, with attributes
/// only if it records; `operation` is the request's (read from it if
/// `None`).
pub(super) fn start<B>(
    tracer: &LayerTracer,
    side: Side,
    kind: Kind,
    operation: Option<&str>,
    req: &Request<B>,
    parent: &Context,
) -> BoxedSpan {
    let operation = operation.unwrap_or_else(|| operation_of(req));
    let span_kind = match side {
        Side::Server => SpanKind::Server,
        Side::Client => SpanKind::Client,
    };
    let builder = SpanBuilder::from_name(operation.to_owned()).with_kind(span_kind);
    let mut span = tracer.start(builder, parent);
    if span.is_recording() {
        span.set_attributes(request_attributes(side, kind, operation, req));
    }
    span
}

/// Go Kratos's request attributes.
fn request_attributes<B>(
    side: Side,
    kind: Kind,
    operation: &str,
    req: &Request<B>,
) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(4);
    attrs.push(KeyValue::new("rpc.system", kind.as_str()));
    match kind {
        Kind::Grpc => {
            let (service, method) = split_method(operation);
            attrs.push(KeyValue::new("rpc.service", service.to_owned()));
            attrs.push(KeyValue::new("rpc.method", method.to_owned()));
        }
        _ => {
            attrs.push(KeyValue::new(
                "http.request.method",
                req.method().as_str().to_owned(),
            ));
            attrs.push(KeyValue::new("http.route", operation.to_owned()));
        }
    }
    if side == Side::Client {
        let peer = match TransportInfo::from_request(req) {
            Some(info) if !info.endpoint().is_empty() => Some(info.endpoint()),
            _ => req.uri().authority().map(|a| a.as_str()),
        };
        if let Some(peer) = peer {
            attrs.push(KeyValue::new("server.address", peer.to_owned()));
        }
    }
    attrs
}

/// `/pkg.Service/Method` as (`pkg.Service`, `Method`); an operation of
/// another shape is all service.
fn split_method(operation: &str) -> (&str, &str) {
    let trimmed = operation.strip_prefix('/').unwrap_or(operation);
    trimmed.split_once('/').unwrap_or((trimmed, ""))
}

/// Records the outcome a response head shows and ends the span.
pub(super) fn end_with_response<B>(span: SpanRef<'_>, kind: Kind, res: &Response<B>) {
    if span.is_recording() {
        if kind == Kind::Http {
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(res.status().as_u16()),
            ));
        }
        match response_error(res) {
            None => span.set_status(Status::Ok),
            Some(err) => {
                let message = if err.message().is_empty() {
                    res.status().to_string()
                } else {
                    err.message().to_owned()
                };
                record_error(&span, err.code(), err.reason(), message);
            }
        }
    }
    span.end();
}

/// Records a service error and ends the span.
pub(super) fn end_with_error<E: Display + 'static>(span: SpanRef<'_>, err: &E) {
    if span.is_recording() {
        match kratos_error(err) {
            Some(e) => {
                let message = if e.message().is_empty() {
                    e.to_string()
                } else {
                    e.message().to_owned()
                };
                record_error(&span, e.code(), e.reason(), message);
            }
            None => record_error(&span, 500, "", err.to_string()),
        }
    }
    span.end();
}

/// The kratos error `err` is or boxes (a `tonic::Status` decoded), if any.
fn kratos_error<E: 'static>(err: &E) -> Option<Error> {
    let any = err as &dyn Any;
    if let Some(e) = any.downcast_ref::<Error>() {
        return Some(e.clone());
    }
    if let Some(s) = any.downcast_ref::<tonic::Status>() {
        return Some(Error::from_status(s));
    }
    let boxed = any.downcast_ref::<BoxError>()?;
    if let Some(e) = boxed.downcast_ref::<Error>() {
        return Some(e.clone());
    }
    boxed
        .downcast_ref::<tonic::Status>()
        .map(Error::from_status)
}

fn record_error(span: &SpanRef<'_>, code: u16, reason: &str, message: String) {
    let mut attrs = Vec::with_capacity(2);
    attrs.push(KeyValue::new("kratos.code", i64::from(code)));
    if !reason.is_empty() {
        attrs.push(KeyValue::new("kratos.reason", reason.to_owned()));
    }
    span.set_attributes(attrs);
    span.set_status(Status::error(message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_operations_split_into_service_and_method() {
        assert_eq!(
            split_method("/helloworld.v1.Greeter/SayHello"),
            ("helloworld.v1.Greeter", "SayHello")
        );
        assert_eq!(split_method("/odd"), ("odd", ""));
    }

    #[test]
    fn service_errors_are_read_as_kratos_errors() {
        let boxed: BoxError = Box::new(Error::not_found("USER_NOT_FOUND", "no such user"));
        let e = kratos_error(&boxed).unwrap();
        assert_eq!((e.code(), e.reason()), (404, "USER_NOT_FOUND"));
        let status = tonic::Status::unavailable("down");
        assert_eq!(kratos_error(&status).unwrap().code(), 503);
        let boxed: BoxError = Box::new(tonic::Status::unavailable("down"));
        assert_eq!(kratos_error(&boxed).unwrap().message(), "down");
        assert!(kratos_error(&std::io::Error::other("x")).is_none());
    }
}
