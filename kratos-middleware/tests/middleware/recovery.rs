//! recovery: a panic becomes 500 UNKNOWN, the server lives on, streams too.

use kratos_examples_api::echo::v1::EchoRequest;
use kratos_examples_api::echo::v1::echo_client::EchoClient;
use kratos_middleware::recovery::RecoveryLayer;

use crate::common::*;

#[tokio::test]
async fn panic_in_handler_is_500_unknown_on_both_transports_and_server_lives_on() {
    let s = serve(RecoveryLayer::new()).await;

    let (status, headers, body) = get(&format!("{}/hello/panic", s.http)).await;
    assert_eq!(status, 500);
    assert_eq!(headers["content-type"], "application/json");
    let err = json_error(status, &body);
    assert_eq!((err.code(), err.reason()), (500, "UNKNOWN"));
    assert_eq!(err.message(), "unknown request error");
    let (status, _, body) = get(&format!("{}/hello/ok", s.http)).await;
    assert_eq!((status, body.as_str()), (200, r#"{"message":"Hello ok"}"#));

    let mut client = greeter(&s.grpc).await;
    let err = say_hello(&mut client, "panic").await.unwrap_err();
    assert_eq!((err.code(), err.reason()), (500, "UNKNOWN"));
    assert_eq!(
        say_hello(&mut client, "again").await.unwrap(),
        "Hello again"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_unary_reply_is_known_to_be_one_message() {
    let s = serve(RecoveryLayer::new()).await;
    let mut client = greeter(&s.grpc).await;
    // The server read it from the registered descriptors: its reply body
    // needs no guard (a streamed one keeps it: the next test).
    let reply = say_hello(&mut client, "single-reply").await.unwrap();
    assert_eq!(reply, "single_reply=true");
    let (_, _, body) = get(&format!("{}/hello/single-reply", s.http)).await;
    assert!(body.contains("single_reply=false"), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn panicking_streaming_handler_is_recovered() {
    let s = serve(RecoveryLayer::new()).await;
    let mut echo = EchoClient::new(channel(&s.grpc).await);
    let status = echo
        .server_streaming_echo(EchoRequest {
            message: "panic".into(),
        })
        .await
        .unwrap_err();
    // 500 maps to INTERNAL, as in Go Kratos; the reason says UNKNOWN.
    assert_eq!(status.code(), tonic::Code::Internal);
    let err = kratos_core::Error::from_status(&status);
    assert_eq!(err.reason(), "UNKNOWN");

    // The same connection still streams.
    let mut stream = echo
        .server_streaming_echo(EchoRequest {
            message: "hi".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(m) = stream.message().await.unwrap() {
        got.push(m.message);
    }
    assert_eq!(got, ["hi 0", "hi 1", "hi 2"]);

    // A stream that panics mid-way ends with the error in its trailers.
    let mut stream = echo
        .server_streaming_echo(EchoRequest {
            message: "panic-later".into(),
        })
        .await
        .unwrap()
        .into_inner();
    // Items encoded before the panic may share its frame (tonic batches),
    // so the client sees at most "item 0", then the error.
    let mut got = Vec::new();
    let status = loop {
        match stream.message().await {
            Ok(Some(m)) => got.push(m.message),
            Ok(None) => panic!("stream ended without the error"),
            Err(status) => break status,
        }
    };
    assert!(
        got.len() <= 1 && got.iter().all(|m| m == "item 0"),
        "{got:?}"
    );
    assert_eq!(status.code(), tonic::Code::Internal);
    assert_eq!(kratos_core::Error::from_status(&status).reason(), "UNKNOWN");
    s.stop().await;
}

#[tokio::test]
async fn custom_handler_builds_the_error() {
    let layer = RecoveryLayer::new()
        .handler(|panic| kratos_core::Error::internal_server("PANIC", panic.to_owned()));
    let s = serve(layer).await;
    let (status, _, body) = get(&format!("{}/hello/panic", s.http)).await;
    let err = json_error(status, &body);
    assert_eq!((err.code(), err.reason()), (500, "PANIC"));
    assert_eq!(err.message(), "boom in handler");
    s.stop().await;
}
