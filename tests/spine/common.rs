//! Helpers shared by the spine tests: a plain HTTP client, a recorder, and the
//! greeter both transports serve.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kratos::Error;
use kratos_examples_api::helloworld::v1::greeter_server::Greeter;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};

/// Sends one HTTP/1.1 request and returns status and body.
pub async fn http(
    method: http::Method,
    url: &str,
    body: &str,
) -> Result<(http::StatusCode, String), hyper_util::client::legacy::Error> {
    let client: Client<HttpConnector, Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let req = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::from(body.to_owned()))
        .expect("valid request");
    let resp = client.request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Ok((
        status,
        String::from_utf8(body.to_vec()).expect("utf-8 body"),
    ))
}

/// `GET url`, panicking on a transport error.
pub async fn fetch(url: &str) -> (http::StatusCode, String) {
    http(http::Method::GET, url, "")
        .await
        .expect("request sent")
}

/// `http://ip:port` → `http://ip:port`; `grpc://ip:port` → `http://ip:port`
/// (what tonic and hyper clients dial).
pub fn dial(endpoint: &str) -> String {
    endpoint.replacen("grpc://", "http://", 1)
}

/// A shared list of events, in the order they happened.
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }

    pub fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A greeter whose answers the tests choose by name.
#[derive(Debug, Clone, Default)]
pub struct TestGreeter;

impl TestGreeter {
    pub async fn greet(&self, name: &str) -> Result<HelloReply, Error> {
        match name {
            "missing" => Err(Error::not_found("USER_NOT_FOUND", "user missing not found")
                .with_metadata("name", "missing")
                .with_metadata("tenant", "t1")),
            _ => Ok(HelloReply {
                message: format!("Hello {name}"),
            }),
        }
    }
}

#[tonic::async_trait]
impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Ok(tonic::Response::new(
            self.greet(&req.into_inner().name).await?,
        ))
    }
}

/// Builds the App (no signal handling) and runs it in the background,
/// returning once it started.
pub async fn start_app(builder: kratos::AppBuilder) -> kratos::RunningApp {
    builder
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the app starts")
}

/// A tonic channel to a `grpc://` endpoint.
pub async fn channel(endpoint: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(dial(endpoint))
        .expect("a valid endpoint")
        .connect()
        .await
        .expect("connected")
}

/// Runs the example `name` with `--smoke` and `env` (quiet logs), within a
/// minute; returns its stdout after asserting it exited 0.
pub async fn smoke_run(name: &str, env: &[(&str, &str)]) -> String {
    let run = tokio::process::Command::new(kratos_testing::example_binary(name))
        .arg("--smoke")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the smoke run finishes")
        .unwrap_or_else(|e| panic!("the {name} example is built by `cargo test`: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
