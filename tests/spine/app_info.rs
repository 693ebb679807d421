//! Every request a server serves carries the App serving it, in its
//! transport info: an HTTP handler and a gRPC service both read it.

use axum::extract::Request;
use axum::routing::get;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::{App, AppInfo, TransportInfo};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};

use crate::common::{channel, fetch, start_app};

/// Answers with the name and version of the App serving the call.
struct WhoServes;

#[tonic::async_trait]
impl Greeter for WhoServes {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let app = req
            .extensions()
            .get::<TransportInfo>()
            .and_then(TransportInfo::app)
            .ok_or_else(|| tonic::Status::internal("no app"))?;
        Ok(tonic::Response::new(HelloReply {
            message: format!("{} {}", app.name(), app.version()),
        }))
    }
}

#[tokio::test]
async fn handlers_on_both_servers_see_the_app_serving_them() {
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/who",
            get(|req: Request| async move {
                AppInfo::from_request(&req)
                    .map(|app| format!("{} {}", app.name(), app.version()))
                    .unwrap_or_else(|| "no app".into())
            }),
        )
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(WhoServes))
        .build();
    let app = start_app(
        App::builder()
            .name("who")
            .version("v7")
            .server(http)
            .server(grpc),
    )
    .await;
    let endpoints = app.info().endpoints().to_vec();
    let (http_endpoint, grpc_endpoint) = (
        endpoints.iter().find(|e| e.starts_with("http://")).unwrap(),
        endpoints.iter().find(|e| e.starts_with("grpc://")).unwrap(),
    );

    assert_eq!(
        fetch(&format!("{http_endpoint}/who")).await,
        (http::StatusCode::OK, "who v7".into())
    );
    let reply = GreeterClient::new(channel(grpc_endpoint).await)
        .say_hello(HelloRequest::default())
        .await
        .expect("an answer")
        .into_inner();
    assert_eq!(reply.message, "who v7");
    app.stop().await.expect("a clean stop");
}
