//! server_defaults: the fused default chain answers every case as the
//! chain of the five layers it fuses does, on both transports.

use std::time::Duration;

use kratos_examples_api::echo::v1::EchoRequest;
use kratos_examples_api::echo::v1::echo_client::EchoClient;
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_middleware::metadata::MetadataLayer;
use kratos_middleware::recovery::RecoveryLayer;
use kratos_middleware::timeout::TimeoutLayer;
use kratos_middleware::{Chain, server_defaults};

use crate::common::*;

const TIMEOUT: Duration = Duration::from_millis(200);

/// What a client sees of each case: the code and reason of an error, or the
/// reply.
async fn observe(s: &Servers) -> Vec<String> {
    let mut seen = Vec::new();
    let md = [("x-md-global-tenant", "acme"), ("x-md-local-k", "v")];
    for name in ["ana", "panic", "slow", "fail", "md", "deadline"] {
        let (status, _, body) = get_with(&format!("{}/hello/{name}", s.http), &md).await;
        seen.push(match status {
            200 => {
                let reply: serde_json::Value = serde_json::from_str(&body).expect("a JSON reply");
                format!(
                    "http {name}: {}",
                    reply["message"].as_str().unwrap_or(&body)
                )
            }
            _ => {
                let err = json_error(status, &body);
                format!("http {name}: {status} {}", err.reason())
            }
        });
        let mut client = greeter(&s.grpc).await;
        let mut req = tonic::Request::new(HelloRequest { name: name.into() });
        for (k, v) in md {
            req.metadata_mut().insert(k, v.parse().unwrap());
        }
        seen.push(match client.say_hello(req).await {
            Ok(reply) => format!("grpc {name}: {}", reply.into_inner().message),
            Err(status) => {
                let err = kratos_core::Error::from_status(&status);
                format!("grpc {name}: {} {}", err.code(), err.reason())
            }
        });
    }
    // A stream that panics mid-way ends with the error in its trailers.
    let mut echo = EchoClient::new(channel(&s.grpc).await);
    let mut stream = echo
        .server_streaming_echo(EchoRequest {
            message: "panic-later".into(),
        })
        .await
        .expect("the stream starts")
        .into_inner();
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => break "ended without an error".to_owned(),
            Err(status) => {
                let err = kratos_core::Error::from_status(&status);
                break format!("{} {}", err.code(), err.reason());
            }
        }
    };
    seen.push(format!("grpc stream panic-later: {status}"));
    seen
}

#[tokio::test]
async fn fused_defaults_answer_as_the_layered_chain() {
    let layered = serve(
        Chain::new()
            .with(RecoveryLayer::new())
            .with(kratos_middleware::tracing::TracingLayer::server())
            .with(kratos_middleware::metrics::MetricsLayer::server())
            .with(MetadataLayer::server())
            .with(TimeoutLayer::new(TIMEOUT)),
    )
    .await;
    let expected = observe(&layered).await;
    layered.stop().await;

    let fused = serve(server_defaults().timeout(TIMEOUT)).await;
    let seen = observe(&fused).await;
    fused.stop().await;
    assert_eq!(seen, expected);

    // And what they both answer is what each layer promises.
    for line in [
        "http ana: Hello ana",
        "grpc ana: Hello ana",
        "http panic: 500 UNKNOWN",
        "grpc panic: 500 UNKNOWN",
        "http slow: 504 TIMEOUT",
        "grpc slow: 504 TIMEOUT",
        "http fail: 503 BACKEND_DOWN",
        "grpc fail: 503 BACKEND_DOWN",
        "http md: x-md-global-tenant=acme;x-md-local-k=v",
        "grpc md: x-md-global-tenant=acme;x-md-local-k=v",
        "http deadline: within2s=true",
        "grpc deadline: within2s=true",
        "grpc stream panic-later: 500 UNKNOWN",
    ] {
        assert!(seen.iter().any(|s| s == line), "no {line:?} in {seen:#?}");
    }
}

#[tokio::test]
async fn fused_defaults_honour_a_shorter_grpc_timeout_from_the_caller() {
    let s = serve(server_defaults().timeout(Duration::from_secs(600))).await;
    // Raw HTTP/2 with the caller's deadline and a trace context: the headers
    // the chain finds in one pass. Bounded: a deadline not honoured would
    // wait for the server's 600 s.
    let slow = HelloRequest {
        name: "slow".into(),
    };
    let call = grpc_raw(
        &s.grpc,
        "/helloworld.v1.Greeter/SayHello",
        &[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("grpc-timeout", "50m"),
        ],
        &slow,
    );
    let headers = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the caller's 50 ms deadline, not the server's 600 s");
    let status = tonic::Status::from_header_map(&headers).expect("a status");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    assert_eq!(kratos_core::Error::from_status(&status).reason(), "TIMEOUT");
    s.stop().await;
}
