//! A greeter served over gRPC and HTTP/JSON from one implementation.
//!
//! Run with `cargo run --example helloworld`, then:
//!
//! ```text
//! curl -s localhost:8000/helloworld/kratos
//! curl -s -XPOST localhost:8000/v1/hello -d '{"name":"kratos"}' -H 'content-type: application/json'
//! ```
//!
//! Arguments: `--http ADDR` and `--grpc ADDR` (defaults `0.0.0.0:8000` and
//! `0.0.0.0:9000`; port 0 picks a free port). Stops on Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use kratos::grpc::GrpcServer;
use kratos::http::{HttpServer, Json};
use kratos::{App, Error};
use kratos_examples_api::helloworld::v1::greeter_grpc;
use kratos_examples_api::helloworld::v1::greeter_server::Greeter;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use tonic::{Request, Response, Status};

/// The one implementation both transports call.
#[derive(Debug, Clone, Default)]
struct GreeterService;

impl GreeterService {
    async fn say_hello(&self, req: HelloRequest) -> Result<HelloReply, Error> {
        if req.name.is_empty() {
            return Err(Error::bad_request("NAME_EMPTY", "name must not be empty"));
        }
        if req.name == "error" {
            return Err(Error::not_found("USER_NOT_FOUND", "user error not found")
                .with_metadata("name", req.name));
        }
        Ok(HelloReply {
            message: format!("Hello {}", req.name),
        })
    }
}

#[tonic::async_trait]
impl Greeter for GreeterService {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(
            GreeterService::say_hello(self, req.into_inner()).await?,
        ))
    }
}

async fn hello_path(
    State(svc): State<GreeterService>,
    Path(name): Path<String>,
) -> Result<Json<HelloReply>, Error> {
    Ok(Json(svc.say_hello(HelloRequest { name }).await?))
}

async fn hello_body(
    State(svc): State<GreeterService>,
    Json(req): Json<HelloRequest>,
) -> Result<Json<HelloReply>, Error> {
    Ok(Json(svc.say_hello(req).await?))
}

fn arg(name: &str, default: &str) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    let value = args.next().unwrap_or_else(|| default.to_owned());
    value
        .parse()
        .map_err(|err| format!("{name} {value}: {err}").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let svc = GreeterService;
    let http = HttpServer::builder()
        .address(arg("--http", "0.0.0.0:8000")?)
        .merge(
            axum::Router::new()
                .route("/helloworld/{name}", get(hello_path))
                .route("/v1/hello", post(hello_body))
                .with_state(svc.clone()),
        )
        .build();
    let grpc = GrpcServer::builder()
        .address(arg("--grpc", "0.0.0.0:9000")?)
        .add_service(greeter_grpc::server(Arc::new(svc)))
        .build();

    App::builder()
        .name("helloworld")
        .version("v1.0.0")
        .server(http)
        .server(grpc)
        .after_start(|info| async move {
            for endpoint in info.endpoints() {
                println!("listening on {endpoint}");
            }
            Ok(())
        })
        .build()
        .run()
        .await?;
    Ok(())
}
