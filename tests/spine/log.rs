//! `kratos::log` with the default server chain: a line a handler writes
//! carries the trace id of the call's `traceparent`, with no tracer
//! provider installed, at WARN as at INFO.

use axum::routing::get;
use http_body_util::{BodyExt, Full};
use kratos::App;
use kratos::http::HttpServer;
use kratos::log::{LogConfig, LogFormat};
use kratos_testing::CapturedLogs;

use crate::common::start_app;

// One thread: the server's tasks run where the test's subscriber is the default.
#[tokio::test(flavor = "current_thread")]
async fn a_handler_s_log_line_carries_the_call_s_trace_id() {
    let out = CapturedLogs::default();
    let conf = LogConfig {
        level: "warn".into(),
        format: LogFormat::Json,
        ..LogConfig::default()
    };
    let (subscriber, _) = conf.subscriber(out.clone()).unwrap();
    let _default = tracing::subscriber::set_default(subscriber);

    let server = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/pay",
            get(|| async {
                tracing::warn!(card_token = "tok_123", "payment declined");
                "declined"
            }),
        )
        .layer(kratos::middleware::server_defaults())
        .build();
    let app = start_app(App::builder().name("log").server(server)).await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let req = http::Request::get(format!("{}/pay", app.endpoints()[0]))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Full::default())
        .unwrap();
    let res = client.request(req).await.expect("answered");
    assert_eq!(res.status(), 200);
    let _ = res.into_body().collect().await;
    app.stop().await.expect("a clean stop");

    let text = out.text();
    let line: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| l["msg"] == "payment declined")
        .unwrap_or_else(|| panic!("the handler's line: {text}"));
    assert_eq!(
        line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "{line}"
    );
    assert!(
        line["span_id"].as_str().is_some_and(|s| s.len() == 16),
        "{line}"
    );
    assert_eq!(line["card_token"], "***", "{line}");
}
