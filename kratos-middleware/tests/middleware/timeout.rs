//! timeout: 504 TIMEOUT on both transports; grpc-timeout propagation.

use std::time::Duration;

use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::timeout::TimeoutLayer;
use tower::ServiceBuilder;

use crate::common::*;

#[tokio::test]
async fn slow_handler_gets_504_timeout_on_both_transports() {
    let s = serve(TimeoutLayer::new(Duration::from_millis(50))).await;
    let (status, _, body) = get(&format!("{}/hello/slow", s.http)).await;
    let err = json_error(status, &body);
    assert_eq!((status, err.reason()), (504, "TIMEOUT"));

    let mut client = greeter(&s.grpc).await;
    let status = client
        .say_hello(HelloRequest {
            name: "slow".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    assert_eq!(kratos_core::Error::from_status(&status).reason(), "TIMEOUT");
    assert_eq!(say_hello(&mut client, "fast").await.unwrap(), "Hello fast");
    s.stop().await;
}

#[tokio::test]
async fn server_honours_a_shorter_grpc_timeout_from_the_caller() {
    let s = serve(TimeoutLayer::new(Duration::from_secs(600))).await;
    // A raw HTTP/2 call, so no client-side timer races the server's.
    let headers = grpc_raw(
        &s.grpc,
        "/helloworld.v1.Greeter/SayHello",
        &[("grpc-timeout", "50m")],
        &HelloRequest {
            name: "slow".into(),
        },
    )
    .await;
    let status = tonic::Status::from_header_map(&headers).unwrap();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    assert_eq!(kratos_core::Error::from_status(&status).reason(), "TIMEOUT");
    s.stop().await;
}

#[tokio::test]
async fn client_timeout_propagates_as_grpc_timeout_and_fires_locally() {
    let s = serve(TimeoutLayer::new(Duration::from_secs(600))).await;
    let svc = ServiceBuilder::new()
        .layer(TimeoutLayer::client(Duration::from_secs(2)))
        .service(channel(&s.grpc).await);
    let mut client = GreeterClient::new(svc);
    // The server's deadline is the client's 2 s, not its own 600 s.
    assert_eq!(
        say_hello(&mut client, "deadline").await.unwrap(),
        "within2s=true"
    );

    let svc = ServiceBuilder::new()
        .layer(TimeoutLayer::client(Duration::from_millis(30)))
        .service(channel(&s.grpc).await);
    let err = say_hello(&mut GreeterClient::new(svc), "slow")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (504, "TIMEOUT"));
    s.stop().await;
}

#[tokio::test]
async fn http_client_timeout_answers_504() {
    let s = serve(tower_layer::Identity::new()).await;
    let svc = ServiceBuilder::new()
        .layer(TimeoutLayer::client(Duration::from_millis(30)))
        .service(http_client());
    let req = http::Request::get(format!("{}/hello/slow", s.http))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, _, body) = send(svc, req).await;
    assert_eq!(
        (status, json_error(status, &body).reason().to_owned()),
        (504, "TIMEOUT".into())
    );
    s.stop().await;
}
