//! One error model over both transports: what a handler returns is what the
//! client sees, exactly.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use http::Method;
use kratos::grpc::GrpcServer;
use kratos::http::{HttpServer, Json};
use kratos::registry::MemoryRegistry;
use kratos::{App, Error};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest, greeter_grpc};
use tonic_types::StatusExt;

use kratos::RunningApp;

use crate::common::{TestGreeter, channel, fetch, http, start_app};

async fn greet(
    State(greeter): State<TestGreeter>,
    Path(name): Path<String>,
) -> Result<Json<HelloReply>, Error> {
    Ok(Json(greeter.greet(&name).await?))
}

async fn greet_body(
    State(greeter): State<TestGreeter>,
    Json(req): Json<HelloRequest>,
) -> Result<Json<HelloReply>, Error> {
    Ok(Json(greeter.greet(&req.name).await?))
}

async fn start() -> RunningApp {
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(
            axum::Router::new()
                .route("/v1/greet/{name}", get(greet))
                .route("/v1/greet", post(greet_body))
                .with_state(TestGreeter),
        )
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(greeter_grpc::server(std::sync::Arc::new(TestGreeter)))
        .build();
    start_app(
        App::builder()
            .name("errors")
            .registrar(MemoryRegistry::new())
            .server(http)
            .server(grpc),
    )
    .await
}

const NOT_FOUND_BODY: &str = r#"{"code":404,"reason":"USER_NOT_FOUND","message":"user missing not found","metadata":{"name":"missing","tenant":"t1"}}"#;

#[tokio::test]
async fn http_client_sees_the_status_and_exact_json_body() {
    let app = start().await;
    let base = &app.endpoints()[0];

    let (status, body) = fetch(&format!("{base}/v1/greet/missing")).await;
    assert_eq!(status, 404);
    assert_eq!(body, NOT_FOUND_BODY);
    let decoded = Error::from_http_response(status, body.as_bytes());
    assert_eq!(decoded, Error::not_found("USER_NOT_FOUND", ""));
    assert_eq!(decoded.metadata()["tenant"], "t1");

    let (status, body) = fetch(&format!("{base}/v1/greet/kratos")).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (200, r#"{"message":"Hello kratos"}"#)
    );
    app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn grpc_client_sees_not_found_with_error_info() {
    let app = start().await;
    let mut client = GreeterClient::new(channel(&app.endpoints()[1]).await);

    let status = client
        .say_hello(HelloRequest {
            name: "missing".into(),
        })
        .await
        .expect_err("the user is missing");
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert_eq!(status.message(), "user missing not found");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo in the details");
    assert_eq!(info.reason, "USER_NOT_FOUND");
    assert_eq!(info.metadata["tenant"], "t1");

    let err = Error::from_status(&status);
    assert_eq!(
        err,
        Error::not_found("USER_NOT_FOUND", "user missing not found")
    );
    assert_eq!(err.message(), "user missing not found");
    assert_eq!(
        err.metadata().iter().collect::<Vec<_>>(),
        [
            (&"name".to_owned(), &"missing".to_owned()),
            (&"tenant".to_owned(), &"t1".to_owned())
        ]
    );

    let reply = client
        .say_hello(HelloRequest {
            name: "kratos".into(),
        })
        .await
        .unwrap();
    assert_eq!(reply.into_inner().message, "Hello kratos");
    app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn http_bad_input_and_unknown_routes_get_kratos_error_bodies() {
    let app = start().await;
    let base = &app.endpoints()[0];

    let (status, body) = http(Method::POST, &format!("{base}/v1/greet"), "{not json")
        .await
        .unwrap();
    assert_eq!(status, 400);
    let err = Error::from_http_response(status, body.as_bytes());
    assert_eq!(err.reason(), "CODEC", "{body}");

    let (status, body) = fetch(&format!("{base}/no/such/route")).await;
    assert_eq!(status, 404);
    assert_eq!(
        Error::from_http_response(status, body.as_bytes()).reason(),
        "NOT_FOUND"
    );

    let (status, body) = http(Method::DELETE, &format!("{base}/v1/greet"), "")
        .await
        .unwrap();
    assert_eq!(status, 405);
    assert_eq!(
        Error::from_http_response(status, body.as_bytes()).reason(),
        "METHOD_NOT_ALLOWED"
    );
    app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn grpc_health_knows_the_hosted_services() {
    let app = start().await;
    let mut health =
        tonic_health::pb::health_client::HealthClient::new(channel(&app.endpoints()[1]).await);
    let reply = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "helloworld.v1.Greeter".into(),
        })
        .await
        .unwrap();
    assert_eq!(reply.into_inner().status, 1, "SERVING");
    let unknown = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "no.Such".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    app.stop().await.expect("a clean run");
}
