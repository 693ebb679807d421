//! Run with `cargo run --example custom_middleware`, then:
//!
//! ```text
//! curl -i localhost:8000/hello/kratos                      # 401 API_KEY_MISSING
//! curl -i localhost:8000/hello/kratos -H 'x-api-key: demo' # 200, x-checked-by header
//! grpcurl -plaintext -H 'x-api-key: demo' -d '{"name":"kratos"}' \
//!   localhost:9000 helloworld.v1.Greeter/SayHello        # needs reflection; or any gRPC client
//! ```
//!
//! A middleware written as a user would in their own crate: only the public
//! API of `kratos::middleware`, one implementation for HTTP and gRPC. It
//! checks an API key and stamps the response; a rejection is a
//! `kratos::Error`, which each transport encodes its own way (a JSON body, or
//! a gRPC status with ErrorInfo).

use axum::extract::Path;
use axum::routing::get;
use http::HeaderValue;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::middleware::{Middleware, Next, Request, Response, layer};
use kratos::{App, Error, TransportInfo};
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};

// ---- the middleware: everything a user writes (under 40 lines) ----
/// Requires `x-api-key` to be one of the known keys.
#[derive(Clone)]
struct ApiKey {
    keys: Vec<String>,
}

impl Middleware for ApiKey {
    async fn handle(&self, req: Request, next: Next) -> Result<Response, Error> {
        let operation = TransportInfo::from_request(&req)
            .map(|info| format!("{} {}", info.kind(), info.operation()))
            .unwrap_or_default();
        let key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
        match key {
            None => return Err(Error::unauthorized("API_KEY_MISSING", "send x-api-key")),
            Some(k) if !self.keys.iter().any(|known| known == k) => {
                return Err(Error::forbidden(
                    "API_KEY_UNKNOWN",
                    format!("{operation}: unknown key"),
                ));
            }
            Some(_) => {}
        }
        let mut res = next.run(req).await?;
        if let Ok(v) = HeaderValue::from_str(&operation) {
            res.headers_mut().insert("x-checked-by", v);
        }
        Ok(res)
    }
}
// ---- end of the middleware ----

#[derive(Clone)]
struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = format!("Hello {}", req.into_inner().name);
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api_key = layer(ApiKey {
        keys: vec!["demo".into()],
    });
    let http = HttpServer::builder()
        .address(([0, 0, 0, 0], 8000))
        .route(
            "/hello/{name}",
            get(|Path(name): Path<String>| async move { format!("Hello {name}") }),
        )
        .layer(api_key.clone())
        .build();
    let grpc = GrpcServer::builder()
        .address(([0, 0, 0, 0], 9000))
        .add_service(GreeterServer::new(Hello))
        .layer(api_key)
        .build();
    App::builder()
        .name("custom-middleware")
        .server(http)
        .server(grpc)
        .after_start(|info| async move {
            println!("listening on {:?}", info.endpoints());
            Ok(())
        })
        .build()
        .run()
        .await
}
