//! logging: one structured event per call, error level on errors.

use axum::response::IntoResponse;
use kratos_middleware::logging::LoggingLayer;
use kratos_testing::{CapturedLogs, PanicBody};

use crate::common::*;

/// The logging middleware's lines.
fn log_lines(logs: &CapturedLogs) -> Vec<String> {
    logs.lines_of("kratos::middleware::logging")
}

#[tokio::test]
async fn one_event_per_call_with_kind_operation_code_and_reason() {
    let captured = CapturedLogs::default();
    let _guard = captured.set_default();

    let s = serve(LoggingLayer::server()).await;
    let (status, _, body) = get(&format!("{}/hello/ok", s.http)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Hello ok"));
    let (status, _, body) = get(&format!("{}/hello/fail", s.http)).await;
    // The error body reaches the client intact after being read for its reason.
    assert_eq!(json_error(status, &body).reason(), "BACKEND_DOWN");
    let mut client = greeter(&s.grpc).await;
    say_hello(&mut client, "ok").await.unwrap();
    say_hello(&mut client, "fail").await.unwrap_err();

    // Client side: the same layer around a channel.
    let svc = tower::ServiceBuilder::new()
        .layer(LoggingLayer::client())
        .service(channel(&s.grpc).await);
    let mut logged = kratos_examples_api::helloworld::v1::greeter_client::GreeterClient::new(svc);
    say_hello(&mut logged, "fail").await.unwrap_err();
    s.stop().await;

    let lines = log_lines(&captured);
    assert_eq!(lines.len(), 6, "{lines:#?}");
    let client: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("component=\"client\""))
        .collect();
    assert_eq!(client.len(), 1, "{lines:#?}");
    for part in [
        "ERROR",
        "kind=\"grpc\"",
        "operation=/helloworld.v1.Greeter/SayHello",
        "code=503",
        "reason=\"BACKEND_DOWN\"",
    ] {
        assert!(client[0].contains(part), "{part} not in {}", client[0]);
    }
    let lines: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("component=\"server\""))
        .collect();
    let expect = [
        (
            "INFO",
            "kind=\"http\"",
            "operation=/hello/{name}",
            "code=200",
            "reason=\"\"",
        ),
        (
            "ERROR",
            "kind=\"http\"",
            "operation=/hello/{name}",
            "code=503",
            "reason=\"BACKEND_DOWN\"",
        ),
        (
            "INFO",
            "kind=\"grpc\"",
            "operation=/helloworld.v1.Greeter/SayHello",
            "code=200",
            "reason=\"\"",
        ),
        (
            "ERROR",
            "kind=\"grpc\"",
            "operation=/helloworld.v1.Greeter/SayHello",
            "code=503",
            "reason=\"BACKEND_DOWN\"",
        ),
    ];
    for (line, (level, kind, op, code, reason)) in lines.iter().zip(expect) {
        for part in [
            level,
            kind,
            op,
            code,
            reason,
            "component=\"server\"",
            "latency=",
        ] {
            assert!(line.contains(part), "{part} not in {line}");
        }
    }
}

#[tokio::test]
async fn the_reason_comes_from_the_typed_outcome_not_the_body() {
    let captured = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let svc = tower::ServiceBuilder::new()
        .layer(LoggingLayer::client())
        .service_fn(|_req: http::Request<axum::body::Body>| async {
            let res = kratos_core::Error::forbidden("NOT_YOURS", "forbidden").into_response();
            Ok::<_, std::convert::Infallible>(res.map(|_| axum::body::Body::new(PanicBody)))
        });
    let res = tower::ServiceExt::oneshot(svc, http::Request::new(axum::body::Body::empty()))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let lines = log_lines(&captured);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    for part in ["ERROR", "code=403", "reason=\"NOT_YOURS\"", "forbidden"] {
        assert!(lines[0].contains(part), "{part} not in {}", lines[0]);
    }
}
