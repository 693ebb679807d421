//! The getting-started greeter hand-assembled from tonic and axum: served on
//! both transports, called over each, then stopped. No middleware, no
//! registry, no config: the floor kratos-rs's weight is compared with.

mod helloworld {
    pub mod v1 {
        tonic::include_proto!("helloworld.v1");
    }
}

use axum::Json;
use axum::body::Bytes;
use axum::routing::post;
use helloworld::v1::greeter_client::GreeterClient;
use helloworld::v1::greeter_server::{Greeter, GreeterServer};
use helloworld::v1::{HelloReply, HelloRequest};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tonic::{Request, Response, Status};

struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        let name = req.into_inner().name;
        if name.is_empty() {
            return Err(Status::invalid_argument("say who"));
        }
        Ok(Response::new(HelloReply {
            message: format!("Hello {name}"),
        }))
    }
}

#[derive(Deserialize)]
struct JsonRequest {
    name: String,
}

#[derive(Serialize)]
struct JsonReply {
    message: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let http_addr = http.local_addr()?;
    let routes = axum::Router::new().route(
        "/helloworld.v1.Greeter/SayHello",
        post(|Json(req): Json<JsonRequest>| async move {
            Json(JsonReply {
                message: format!("Hello {}", req.name),
            })
        }),
    );
    tokio::spawn(async move { axum::serve(http, routes).await });

    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let grpc_addr = grpc.local_addr()?;
    let incoming = tonic::transport::server::TcpIncoming::from(grpc);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer::new(Hello))
            .serve_with_incoming(incoming),
    );

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let req = axum::http::Request::post(format!("http://{http_addr}/helloworld.v1.Greeter/SayHello"))
        .header("content-type", "application/json")
        .body(Full::from(r#"{"name":"axum"}"#))?;
    let body = client.request(req).await?.into_body().collect().await?.to_bytes();
    println!("baseline ok: HTTP/JSON {}", String::from_utf8_lossy(&body));

    let mut grpc = GreeterClient::connect(format!("http://{grpc_addr}")).await?;
    let error = grpc.say_hello(HelloRequest::default()).await.expect_err("an empty name is refused");
    println!("baseline ok: gRPC {:?}", error.code());
    Ok(())
}
