//! A greeter served over gRPC and HTTP with `TracingLayer::server()`; its
//! replies say what the handler saw: the current trace and the
//! `traceparent` header.

use axum::response::{IntoResponse, Response};
use axum::routing::any;
use kratos_core::{App, Error, RunningApp};
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_middleware::tracing::TracingLayer;
use kratos_transport::grpc::GrpcServer;
use kratos_transport::http::HttpServer;
use opentelemetry::trace::TraceContextExt;

/// `trace=<current trace id> sampled=<bool> traceparent=<header or ->`, or
/// 404 `USER_NOT_FOUND` for `missing`.
fn greet(name: &str, headers: &http::HeaderMap) -> Result<String, Error> {
    if name == "missing" {
        return Err(Error::not_found("USER_NOT_FOUND", "no user missing"));
    }
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    let traceparent = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    Ok(format!(
        "trace={} sampled={} traceparent={traceparent}",
        sc.trace_id(),
        sc.is_sampled()
    ))
}

struct TestGreeter;

#[tonic::async_trait]
impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let headers = req.metadata().clone().into_headers();
        let message = greet(&req.get_ref().name, &headers)?;
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

async fn http_hello(req: axum::extract::Request) -> Response {
    let name = req.uri().path().rsplit('/').next().unwrap_or("");
    match greet(name, req.headers()) {
        Ok(message) => axum::Json(serde_json::json!({ "message": message })).into_response(),
        Err(err) => err.into_response(),
    }
}

/// A running App with both servers traced.
pub struct Servers {
    /// `http://127.0.0.1:port`.
    pub http: String,
    /// `grpc://127.0.0.1:port`.
    pub grpc: String,
    app: RunningApp,
}

impl Servers {
    /// Serves the greeter on loopback: over HTTP behind the fused default
    /// chain (whose span must be the tracing layer's), over gRPC behind the
    /// tracing layer alone.
    pub async fn start() -> Servers {
        let http = HttpServer::builder()
            .address(([127, 0, 0, 1], 0))
            .route("/hello/{name}", any(http_hello))
            .layer(kratos_middleware::server_defaults())
            .build();
        let grpc = GrpcServer::builder()
            .address(([127, 0, 0, 1], 0))
            .add_service(GreeterServer::new(TestGreeter))
            .layer(TracingLayer::server())
            .build();
        let app = App::builder()
            .name("tracing-test")
            .server(http)
            .server(grpc)
            .signals([])
            .build()
            .spawn()
            .await
            .expect("the app starts");
        let find = |scheme: &str| {
            app.endpoints()
                .iter()
                .find(|e| e.starts_with(scheme))
                .cloned()
                .expect("endpoint")
        };
        Servers {
            http: find("http://"),
            grpc: find("grpc://"),
            app,
        }
    }

    /// Stops the App.
    pub async fn stop(self) {
        let _ = self.app.stop().await;
    }
}

/// The message of a `{"message": ...}` reply.
pub fn message(reply: &serde_json::Value) -> &str {
    reply["message"].as_str().expect("a message")
}
