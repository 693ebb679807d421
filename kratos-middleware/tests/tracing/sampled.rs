//! With every span sampled: client and server spans over gRPC and HTTP form
//! one trace under the caller's span, carry Go Kratos's attributes, record
//! errors, and a hand-written `traceparent` is continued.

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kratos_core::Error;
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::tracing::TracingLayer;
use kratos_middleware::tracing::otlp::Sampling;
use kratos_transport::grpc::GrpcChannel;
use opentelemetry::trace::{FutureExt, TraceContextExt, Tracer};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

use crate::collector::{int_attr, string_attr};
use crate::servers::message;

const GRPC_OP: &str = "/helloworld.v1.Greeter/SayHello";
const HTTP_OP: &str = "/hello/{name}";
const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn status(span: &Span) -> (i32, &str) {
    let s = span.status.as_ref().expect("a status");
    (s.code, s.message.as_str())
}

/// The only span named `name` of `kind` for which `pred` holds.
fn one<'a>(
    spans: &'a [Span],
    name: &str,
    kind: SpanKind,
    pred: impl Fn(&Span) -> bool,
) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name == name && s.kind == kind as i32 && pred(s))
        .collect();
    assert_eq!(found.len(), 1, "{name} {kind:?}: {spans:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_server_spans_form_one_trace_over_grpc_and_http() {
    let crate::Traced {
        guard: _globals,
        collector,
        provider,
        servers,
        channel,
        http,
    } = crate::traced(Sampling::Always).await;

    let mut greeter = GreeterClient::new(channel);

    // Three calls inside a parent span.
    let parent = opentelemetry::global::tracer("test").start("parent");
    let parent_cx = opentelemetry::Context::current_with_span(parent);
    let (grpc_reply, grpc_err, http_reply, http_err) = async {
        let ok = greeter
            .say_hello(HelloRequest { name: "ada".into() })
            .await
            .expect("hello")
            .into_inner()
            .message;
        let err = greeter
            .say_hello(HelloRequest {
                name: "missing".into(),
            })
            .await
            .expect_err("not found");
        let reply: serde_json::Value = http
            .invoke(http::Method::GET, "/hello/bob", &())
            .await
            .expect("hello over http");
        let http_err = http
            .invoke::<_, serde_json::Value>(http::Method::GET, "/hello/missing", &())
            .await
            .expect_err("not found over http");
        (ok, err, reply, http_err)
    }
    .with_context(parent_cx.clone())
    .await;
    parent_cx.span().end();
    let parent_trace = parent_cx.span().span_context().trace_id().to_string();
    let parent_span = parent_cx.span().span_context().span_id().to_string();

    // A plain HTTP request continuing a remote trace.
    let raw: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let req = http::Request::get(format!("{}/hello/raw", servers.http))
        .header("traceparent", format!("00-{REMOTE_TRACE}-{REMOTE_SPAN}-01"))
        .body(Empty::new())
        .unwrap();
    let res = raw.request(req).await.expect("raw response");
    assert_eq!(res.status(), 200);

    // A call to a port nobody listens on fails in the client's transport.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dead = GrpcChannel::builder()
        .endpoint(format!("grpc://{closed}"))
        .layer(TracingLayer::client())
        .connect()
        .await
        .expect("channel");
    let dead_err = GreeterClient::new(dead)
        .say_hello(HelloRequest { name: "ada".into() })
        .await
        .expect_err("nobody listens");

    crate::flush(&provider).await;
    // parent + 4 × (client, server) + the raw request's server span + the
    // dead call's client span
    let received = collector.wait_for(11).await;
    let grpc_target = servers.grpc.clone();
    servers.stop().await;
    crate::shutdown(provider).await;

    assert!(
        received.iter().all(|r| r.service == "tracing-test"),
        "{received:#?}"
    );
    let spans: Vec<Span> = received.into_iter().map(|r| r.span).collect();
    assert_eq!(spans.len(), 11, "{spans:#?}");

    // The handler ran inside the server span's context: same trace.
    assert!(
        grpc_reply.starts_with(&format!(
            "trace={parent_trace} sampled=true traceparent=00-{parent_trace}-"
        )),
        "{grpc_reply}"
    );
    assert!(
        message(&http_reply).starts_with(&format!("trace={parent_trace} sampled=true")),
        "{http_reply}"
    );
    let grpc_err = Error::from_status(&grpc_err);
    assert_eq!(grpc_err.reason(), "USER_NOT_FOUND");

    let is_ok = |s: &Span| status(s).0 == StatusCode::Ok as i32;
    let is_err = |s: &Span| status(s).0 == StatusCode::Error as i32;

    // gRPC, success: parent → client → server, one trace.
    let client = one(&spans, GRPC_OP, SpanKind::Client, is_ok);
    let server = one(&spans, GRPC_OP, SpanKind::Server, is_ok);
    assert_eq!(hex(&client.trace_id), parent_trace);
    assert_eq!(hex(&client.parent_span_id), parent_span);
    assert_eq!(server.trace_id, client.trace_id);
    assert_eq!(server.parent_span_id, client.span_id);
    assert_eq!(
        string_attr(&server.attributes, "rpc.system").as_deref(),
        Some("grpc")
    );
    assert_eq!(
        string_attr(&server.attributes, "rpc.service").as_deref(),
        Some("helloworld.v1.Greeter")
    );
    assert_eq!(
        string_attr(&server.attributes, "rpc.method").as_deref(),
        Some("SayHello")
    );
    assert_eq!(
        string_attr(&client.attributes, "server.address").as_deref(),
        Some(grpc_target.as_str())
    );

    // gRPC, failure: both ends record the kratos error.
    let client_err = one(&spans, GRPC_OP, SpanKind::Client, |s| {
        is_err(s) && hex(&s.trace_id) == parent_trace
    });
    let server_err = one(&spans, GRPC_OP, SpanKind::Server, is_err);
    assert_eq!(server_err.parent_span_id, client_err.span_id);
    for span in [client_err, server_err] {
        assert_eq!(status(span), (StatusCode::Error as i32, "no user missing"));
        assert_eq!(int_attr(&span.attributes, "kratos.code"), Some(404));
        assert_eq!(
            string_attr(&span.attributes, "kratos.reason").as_deref(),
            Some("USER_NOT_FOUND")
        );
    }

    // HTTP client → server under the same parent; the server span is named
    // by the route template.
    let http_client = one(&spans, "/hello/bob", SpanKind::Client, |_| true);
    let http_server = one(&spans, HTTP_OP, SpanKind::Server, |s| {
        s.parent_span_id == http_client.span_id
    });
    assert_eq!(hex(&http_client.parent_span_id), parent_span);
    assert_eq!(http_server.trace_id, http_client.trace_id);
    assert_eq!(
        string_attr(&http_server.attributes, "rpc.system").as_deref(),
        Some("http")
    );
    assert_eq!(
        string_attr(&http_server.attributes, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        string_attr(&http_server.attributes, "http.route").as_deref(),
        Some(HTTP_OP)
    );
    assert_eq!(
        int_attr(&http_server.attributes, "http.response.status_code"),
        Some(200)
    );
    assert_eq!(status(http_server).0, StatusCode::Ok as i32);

    // HTTP, failure: the typed outcome the handler's error left on the
    // response (server) and the client decoded once (client).
    assert_eq!(http_err.reason(), "USER_NOT_FOUND");
    let http_client_err = one(&spans, "/hello/missing", SpanKind::Client, |_| true);
    let http_server_err = one(&spans, HTTP_OP, SpanKind::Server, |s| {
        s.parent_span_id == http_client_err.span_id
    });
    for span in [http_client_err, http_server_err] {
        assert_eq!(status(span), (StatusCode::Error as i32, "no user missing"));
        assert_eq!(int_attr(&span.attributes, "kratos.code"), Some(404));
        assert_eq!(
            string_attr(&span.attributes, "kratos.reason").as_deref(),
            Some("USER_NOT_FOUND")
        );
        assert_eq!(
            int_attr(&span.attributes, "http.response.status_code"),
            Some(404)
        );
    }

    // A transport failure: the client span alone, with the error. The
    // client reports it as the kratos 503 `TRANSPORT` (gRPC UNAVAILABLE).
    assert!(Error::from_status(&dead_err).is_service_unavailable());
    let dead_span = one(&spans, GRPC_OP, SpanKind::Client, |s| {
        string_attr(&s.attributes, "server.address") == Some(format!("grpc://{closed}"))
    });
    let (code, message) = status(dead_span);
    assert_eq!(code, StatusCode::Error as i32, "{dead_span:#?}");
    assert!(!message.is_empty(), "{dead_span:#?}");
    assert_eq!(int_attr(&dead_span.attributes, "kratos.code"), Some(503));
    assert_eq!(hex(&dead_span.parent_span_id), "", "a root span");

    // The hand-written traceparent is continued.
    let remote = one(&spans, HTTP_OP, SpanKind::Server, |s| {
        hex(&s.trace_id) == REMOTE_TRACE
    });
    assert_eq!(hex(&remote.parent_span_id), REMOTE_SPAN);
}
