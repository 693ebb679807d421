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

/// The downstream greeter: records the trace headers each call carried.
#[derive(Clone, Default)]
struct Recording(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

#[tonic::async_trait]
impl kratos_examples_api::helloworld::v1::greeter_server::Greeter for Recording {
    async fn say_hello(
        &self,
        req: tonic::Request<kratos_examples_api::helloworld::v1::HelloRequest>,
    ) -> Result<tonic::Response<kratos_examples_api::helloworld::v1::HelloReply>, tonic::Status>
    {
        let header = |name: &str| {
            req.metadata()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        self.0
            .lock()
            .unwrap()
            .push((header("traceparent"), header("baggage")));
        Ok(tonic::Response::new(
            kratos_examples_api::helloworld::v1::HelloReply {
                message: "downstream".into(),
            },
        ))
    }
}

/// The middle hop: answers by calling the downstream greeter through a
/// channel with the client tracing layer.
struct Forwarding(kratos_transport::grpc::GrpcChannel);

#[tonic::async_trait]
impl kratos_examples_api::helloworld::v1::greeter_server::Greeter for Forwarding {
    async fn say_hello(
        &self,
        req: tonic::Request<kratos_examples_api::helloworld::v1::HelloRequest>,
    ) -> Result<tonic::Response<kratos_examples_api::helloworld::v1::HelloReply>, tonic::Status>
    {
        let mut downstream =
            kratos_examples_api::helloworld::v1::greeter_client::GreeterClient::new(self.0.clone());
        downstream.say_hello(req.into_inner()).await
    }
}

#[tokio::test]
async fn trace_context_and_baggage_cross_a_hop_without_a_tracer_provider() {
    use kratos_examples_api::helloworld::v1::greeter_server::GreeterServer;
    use kratos_transport::grpc::{GrpcChannel, GrpcServer};

    let recorded = Recording::default();
    let downstream = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(recorded.clone()))
        .build();
    let downstream = start(
        kratos_core::App::builder()
            .name("downstream")
            .server(downstream),
    )
    .await;
    let channel = GrpcChannel::builder()
        .endpoint(downstream.grpc.replacen("http://", "grpc://", 1))
        .layer(TracingLayer::client())
        .connect()
        .await
        .expect("a channel");
    let middle = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(Forwarding(channel)))
        .layer(TracingLayer::server())
        .build();
    let middle = start(kratos_core::App::builder().name("middle").server(middle)).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut req =
        tonic::Request::new(kratos_examples_api::helloworld::v1::HelloRequest { name: "x".into() });
    req.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    req.metadata_mut()
        .insert("baggage", "tenant=t1,region=eu".parse().unwrap());
    let reply = greeter(&middle.grpc)
        .await
        .say_hello(req)
        .await
        .expect("the middle hop answers");
    assert_eq!(reply.get_ref().message, "downstream");

    let seen = recorded.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (traceparent, baggage) = &seen[0];
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "the downstream saw traceparent {traceparent:?}"
    );
    let mut entries: Vec<&str> = baggage.split(',').map(str::trim).collect();
    entries.sort_unstable();
    assert_eq!(entries, ["region=eu", "tenant=t1"], "baggage {baggage:?}");
    middle.stop().await;
    downstream.stop().await;
}

#[tokio::test]
async fn log_events_inside_a_call_carry_its_trace_and_span_ids() {
    let captured = kratos_testing::CapturedLogs::default();
    let _guard = captured.set_default();

    let http = kratos_transport::http::HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/work",
            axum::routing::get(|| async {
                tracing::info!(target: "app", "inside the handler");
                "done"
            }),
        )
        .layer(TracingLayer::server())
        .build();
    let s = start(kratos_core::App::builder().name("logs").server(http)).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let (status, _, _) = get_with(
        &format!("{}/work", s.http),
        &[("traceparent", &traceparent)],
    )
    .await;
    assert_eq!(status, 200);
    // Without a trace context there is nothing to correlate: no span.
    let (status, _, _) = get(&format!("{}/work", s.http)).await;
    assert_eq!(status, 200);
    s.stop().await;

    let lines = captured.lines_of("inside the handler");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].contains(&format!("trace_id={trace_id}"))
            && lines[0].contains("span_id=00f067aa0ba902b7"),
        "{}",
        lines[0]
    );
    assert!(!lines[1].contains("trace_id="), "{}", lines[1]);
}
