//! The getting-started service, built from a crate that depends on
//! `kratos-rs`, `tokio` and `kratos-build` only: it serves the greeter on
//! both transports, calls it over each, and exits.

mod helloworld {
    pub mod v1 {
        kratos::include_proto!("helloworld.v1");
    }
}

use std::sync::Arc;

use helloworld::v1::greeter_client::GreeterClient;
use helloworld::v1::greeter_http::GreeterHttpClient;
use helloworld::v1::greeter_server::Greeter;
use helloworld::v1::{HelloReply, HelloRequest, greeter_grpc, greeter_http};
use kratos::grpc::{GrpcChannel, GrpcServer};
use kratos::http::HttpServer;
use kratos::tonic::{self, Request, Response, Status};
use kratos::{App, Error};

struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        let name = req.into_inner().name;
        if name.is_empty() {
            return Err(Error::bad_request("NAME_EMPTY", "say who").into());
        }
        Ok(Response::new(HelloReply {
            message: format!("Hello {name}"),
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hello = Arc::new(Hello);
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(greeter_http::router(hello.clone()))
        .layer(kratos::middleware::server_defaults())
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(greeter_grpc::server(hello))
        .build();
    let app = App::builder().name("greeter").server(http).server(grpc).build().spawn().await?;
    let endpoint = |scheme: &str| {
        app.endpoints()
            .iter()
            .find(|e| e.starts_with(scheme))
            .cloned()
            .expect("an endpoint")
    };

    let reply = GreeterHttpClient::new(endpoint("http://"))
        .say_hello(HelloRequest { name: "kratos".into() })
        .await?;
    assert_eq!(reply.message, "Hello kratos");
    println!("scratch ok: HTTP/JSON {}", reply.message);

    let channel = GrpcChannel::builder().endpoint(endpoint("grpc://")).connect().await?;
    let error = GreeterClient::new(channel)
        .say_hello(HelloRequest::default())
        .await
        .expect_err("an empty name is refused");
    assert_eq!(Error::from_status(&error).reason(), "NAME_EMPTY");
    println!("scratch ok: gRPC {}", Error::from_status(&error).reason());

    app.stop().await?;
    Ok(())
}
