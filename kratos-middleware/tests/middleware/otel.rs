//! The `tracing` middleware without a tracer provider or propagator (this binary installs
//! none): the layers are transparent on both transports, both sides.

use kratos_middleware::tracing::TracingLayer;

use crate::common::*;

#[tokio::test]
async fn without_a_provider_calls_pass_through_unchanged() {
    let s = serve(TracingLayer::server()).await;

    let (status, _, body) = get(&format!("{}/hello/ok", s.http)).await;
    assert_eq!((status, body.contains("Hello ok")), (200, true), "{body}");
    let (status, _, body) = get(&format!("{}/hello/fail", s.http)).await;
    assert_eq!(json_error(status, &body).reason(), "BACKEND_DOWN");

    // Client side: the layer around a channel.
    let svc = tower::ServiceBuilder::new()
        .layer(TracingLayer::client())
        .service(channel(&s.grpc).await);
    let mut client = kratos_examples_api::helloworld::v1::greeter_client::GreeterClient::new(svc);
    assert_eq!(say_hello(&mut client, "ok").await.unwrap(), "Hello ok");
    let err = say_hello(&mut client, "fail").await.unwrap_err();
    assert_eq!(err.reason(), "BACKEND_DOWN");
    s.stop().await;
}
