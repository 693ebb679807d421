//! An in-process OTLP/gRPC trace receiver built from the official protos:
//! it keeps every span it receives and wakes whoever waits for them.

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;

/// A received span with the `service.name` of its resource.
#[derive(Debug, Clone)]
pub struct Received {
    pub service: String,
    pub span: Span,
}

/// The receiver's store; clones share it.
#[derive(Clone)]
pub struct Collector {
    spans: watch::Sender<Vec<Received>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        req: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for rs in req.into_inner().resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| string_attr(&r.attributes, "service.name"))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    received.push(Received {
                        service: service.clone(),
                        span,
                    });
                }
            }
        }
        self.spans.send_modify(|all| all.extend(received));
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Collector {
    /// Starts a receiver on a free loopback port; returns it and its
    /// `http://` endpoint.
    pub async fn start() -> (Collector, String) {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let collector = Collector {
            spans: watch::channel(Vec::new()).0,
        };
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(TcpListenerStream::new(listener));
        tokio::spawn(server);
        (collector, format!("http://{addr}"))
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<Received> {
        self.spans.borrow().clone()
    }

    /// Waits (at most 10 s) until `n` spans have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut rx = self.spans.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|s| s.len() >= n));
        match waited.await {
            Ok(spans) => spans.expect("collector alive").clone(),
            Err(_) => panic!("{n} spans never arrived: {:#?}", self.spans()),
        }
    }
}

/// The string value of attribute `key`.
pub fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// The integer value of attribute `key`.
pub fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}
