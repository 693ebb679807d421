//! metrics: a Prometheus scrape of servers and a client carrying the metrics
//! layer shows Go Kratos's metric names with the calls' kind, operation, code
//! and reason. Its own test binary: it owns the process-wide recorder.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use kratos_core::{App, Error};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_middleware::metrics::MetricsLayer;
use kratos_middleware::metrics::prometheus::Prometheus;
use kratos_middleware::server_defaults;
use kratos_transport::grpc::{GrpcChannel, GrpcServer};
use kratos_transport::http::HttpServer;

/// Greets, except `nobody`, who is not found.
fn greet(name: &str) -> Result<String, Error> {
    match name {
        "nobody" => Err(Error::not_found("USER_NOT_FOUND", "no such user")),
        _ => Ok(format!("Hello {name}")),
    }
}

struct TestGreeter;

#[tonic::async_trait]
impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = greet(&req.get_ref().name)?;
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

/// `hello`, except `slow`, which never answers.
async fn fused(Path(name): Path<String>) -> Response {
    if name == "slow" {
        std::future::pending::<()>().await;
    }
    hello(Path(name)).await
}

async fn hello(Path(name): Path<String>) -> Response {
    match greet(&name) {
        Ok(message) => message.into_response(),
        Err(err) => err.into_response(),
    }
}

/// The metric samples of a scrape: `name{labels}` (labels sorted) → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let key = match series.split_once('{') {
                None => series.to_owned(),
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}')?;
                    let mut pairs: Vec<&str> = split_labels(labels);
                    pairs.sort();
                    format!("{name}{{{}}}", pairs.join(","))
                }
            };
            Some((key, value.parse().ok()?))
        })
        .collect()
}

/// `k="v",k2="v2"` split at the commas outside quotes.
fn split_labels(labels: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&labels[start..]);
    out
}

#[tokio::test]
async fn prometheus_scrape_counts_calls_by_kind_operation_code_and_reason() {
    let prometheus = Prometheus::install().expect("the only recorder in this binary");
    let scrape = prometheus.clone();
    // A layer wraps every route and service, whether it is added before
    // or after them.
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .layer(MetricsLayer::server())
        .route("/hello/{name}", get(hello))
        // Outside the layers: scrapes are not counted (Go's `srv.Handle`).
        .handle("/metrics", get(move || std::future::ready(scrape.render())))
        // The default chain (one fused service) on a route of its own.
        .handle(
            "/fused/{name}",
            get(fused).layer(server_defaults().timeout(Duration::from_millis(50))),
        )
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .layer(MetricsLayer::server())
        .add_service(GreeterServer::new(TestGreeter))
        .build();
    let app = App::builder()
        .name("metrics-test")
        .signals([])
        .server(http)
        .server(grpc)
        .build()
        .spawn()
        .await
        .expect("the app starts");
    let endpoint = |scheme: &str| {
        let e = app.endpoints().iter().find(|e| e.starts_with(scheme));
        e.expect("an endpoint").clone()
    };
    let (http_url, grpc_url) = (endpoint("http://"), endpoint("grpc://"));

    let channel = GrpcChannel::builder()
        .endpoint(grpc_url)
        .layer(MetricsLayer::client())
        .connect()
        .await
        .expect("a channel");
    let mut client = GreeterClient::new(channel);
    for name in ["a", "b", "nobody"] {
        let _ = client.say_hello(HelloRequest { name: name.into() }).await;
    }
    let http_client = Client::builder(TokioExecutor::new()).build_http::<String>();
    let get = |path: &str| {
        let uri: http::Uri = format!("{http_url}{path}").parse().unwrap();
        let http_client = http_client.clone();
        async move {
            let res = http_client.get(uri).await.expect("an HTTP reply");
            let status = res.status().as_u16();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    assert_eq!(get("/hello/a").await.0, 200);
    assert_eq!(get("/hello/nobody").await.0, 404);
    assert_eq!(get("/no/such/route").await.0, 404);
    assert_eq!(get("/no/such/route/either").await.0, 404);
    assert_eq!(get("/fused/a").await.0, 200);
    assert_eq!(get("/fused/nobody").await.0, 404);
    assert_eq!(get("/fused/slow").await.0, 504);

    let (status, text) = get("/metrics").await;
    assert_eq!(status, 200);
    let post = http_client
        .request(
            http::Request::post(format!("{http_url}/metrics"))
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(post.status(), 405, "a wrong method on an unlayered route");
    let body = post.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("METHOD_NOT_ALLOWED"));
    let samples = samples(&text);
    let value = |key: &str| {
        *samples
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key} in\n{text}"))
    };
    let op = r#"operation="/helloworld.v1.Greeter/SayHello""#;
    for side in ["server", "client"] {
        assert_eq!(
            value(&format!(
                r#"{side}_requests_code_total{{code="200",kind="grpc",{op},reason=""}}"#
            )),
            2.0
        );
        assert_eq!(
            value(&format!(
                r#"{side}_requests_code_total{{code="404",kind="grpc",{op},reason="USER_NOT_FOUND"}}"#
            )),
            1.0
        );
        assert_eq!(
            value(&format!(
                r#"{side}_requests_seconds_count{{kind="grpc",{op}}}"#
            )),
            3.0
        );
        // A histogram with Go Kratos's buckets, not a summary.
        assert_eq!(
            value(&format!(
                r#"{side}_requests_seconds_bucket{{kind="grpc",le="+Inf",{op}}}"#
            )),
            3.0
        );
    }
    let route = r#"operation="/hello/{name}""#;
    assert_eq!(
        value(&format!(
            r#"server_requests_code_total{{code="200",kind="http",{route},reason=""}}"#
        )),
        1.0
    );
    // The reason of an HTTP error is the typed outcome of its handler.
    assert_eq!(
        value(&format!(
            r#"server_requests_code_total{{code="404",kind="http",{route},reason="USER_NOT_FOUND"}}"#
        )),
        1.0
    );
    // An unknown route's 404 goes through the user layers too, under one
    // empty operation whatever the path (a bounded label).
    assert_eq!(
        value(
            r#"server_requests_code_total{code="404",kind="http",operation="",reason="NOT_FOUND"}"#
        ),
        2.0
    );
    // The fused default chain records the same series, its timeout's 504
    // included (the metrics see the answer the timeout made).
    let fused = r#"operation="/fused/{name}""#;
    for (code, reason) in [("200", ""), ("404", "USER_NOT_FOUND"), ("504", "TIMEOUT")] {
        assert_eq!(
            value(&format!(
                r#"server_requests_code_total{{code="{code}",kind="http",{fused},reason="{reason}"}}"#
            )),
            1.0
        );
    }
    assert_eq!(
        value(&format!(
            r#"server_requests_seconds_count{{kind="http",{fused}}}"#
        )),
        3.0
    );
    assert!(text.contains("# HELP server_requests_code_total"), "{text}");
    assert!(
        !text.contains(r#"operation="/metrics""#),
        "scrapes counted:\n{text}"
    );
    // No zero-valued counter series: the unknown route only failed, so it
    // has no `code="200"` series (Go Kratos registers none either).
    let zeros: Vec<_> = samples
        .iter()
        .filter(|(key, value)| key.contains("_requests_code_total") && **value == 0.0)
        .collect();
    assert!(zeros.is_empty(), "zero-valued series: {zeros:?}");
    assert!(
        !samples.contains_key(
            r#"server_requests_code_total{code="200",kind="http",operation="",reason=""}"#
        ),
        "{text}"
    );

    // The reason comes from the typed outcome the response carries, never
    // from its body: this body panics if anything polls it.
    let mut svc = tower::ServiceBuilder::new()
        .layer(MetricsLayer::server())
        .service_fn(|_req: http::Request<axum::body::Body>| async {
            let res = Error::unauthorized("TOKEN_EXPIRED", "expired").into_response();
            Ok::<_, std::convert::Infallible>(
                res.map(|_| axum::body::Body::new(kratos_testing::PanicBody)),
            )
        });
    let mut req = http::Request::new(axum::body::Body::empty());
    req.extensions_mut().insert(kratos_core::TransportInfo::new(
        kratos_core::Kind::Http,
        "/v1/untouched",
        "",
    ));
    let res = tower::ServiceExt::ready(&mut svc).await.unwrap();
    let res = tower::Service::call(res, req).await.unwrap();
    assert_eq!(res.status(), 401);
    let text = prometheus.render();
    assert_eq!(
        self::samples(&text).get(
            r#"server_requests_code_total{code="401",kind="http",operation="/v1/untouched",reason="TOKEN_EXPIRED"}"#
        ),
        Some(&1.0),
        "{text}"
    );

    app.stop().await.expect("a clean stop");
}
