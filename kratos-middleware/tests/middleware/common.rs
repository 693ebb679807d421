//! Shared test scaffolding: an App serving a test greeter and echo service
//! over HTTP and gRPC with a layer under test, and clients for both.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{Route, any};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kratos_core::{App, AppBuilder, Error, Metadata, RunningApp};
use kratos_examples_api::echo::v1::echo_server::{Echo, EchoServer};
use kratos_examples_api::echo::v1::{EchoRequest, EchoResponse};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_transport::grpc::GrpcServer;
use kratos_transport::http::HttpServer;
use tokio_stream::Stream;
use tower_layer::Layer;
use tower_service::Service;

/// What a greeting does, by name: `panic`, `slow` (never answers), `fail`
/// (503), `md` (lists the metadata it received), `deadline` (says whether
/// the deadline is at most 2 s away), `claims` (the JWT subject),
/// `single-reply` (whether the transport knows the reply is one message),
/// else hello.
pub async fn greet(name: &str, ext: &http::Extensions) -> Result<String, Error> {
    match name {
        "panic" => panic!("boom in handler"),
        "slow" => std::future::pending().await,
        "fail" => Err(Error::service_unavailable("BACKEND_DOWN", "backend down")),
        "md" => {
            let md = ext.get::<Metadata>().cloned().unwrap_or_default();
            let mut out: Vec<String> = md
                .iter()
                .map(|(k, v)| format!("{k}={}", v.join(",")))
                .collect();
            out.sort();
            Ok(out.join(";"))
        }
        "deadline" => {
            let d = kratos_middleware::timeout::deadline().expect("a deadline");
            let left = d.saturating_duration_since(tokio::time::Instant::now());
            Ok(format!("within2s={}", left <= Duration::from_secs(2)))
        }
        "single-reply" => Ok(format!(
            "single_reply={}",
            ext.get::<kratos_core::TransportInfo>()
                .is_some_and(kratos_core::TransportInfo::single_reply)
        )),
        #[cfg(feature = "jwt")]
        "claims" => Ok(ext
            .get::<crate::jwt::Claims>()
            .map(|c| c.sub.clone())
            .unwrap_or_else(|| "no claims".into())),
        _ => Ok(format!("Hello {name}")),
    }
}

/// The greeter both transports serve.
#[derive(Debug, Clone, Default)]
pub struct TestGreeter;

#[tonic::async_trait]
impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = greet(&req.get_ref().name, req.extensions()).await?;
        Ok(tonic::Response::new(HelloReply { message }))
    }
}

type EchoStream = std::pin::Pin<Box<dyn Stream<Item = Result<EchoResponse, tonic::Status>> + Send>>;

/// An echo service with streams; `panic` panics before the stream starts.
#[derive(Debug, Clone, Default)]
pub struct TestEcho;

#[tonic::async_trait]
impl Echo for TestEcho {
    async fn unary_echo(
        &self,
        req: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        Ok(tonic::Response::new(EchoResponse {
            message: req.into_inner().message,
        }))
    }

    type ServerStreamingEchoStream = EchoStream;

    async fn server_streaming_echo(
        &self,
        req: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoStream>, tonic::Status> {
        let message = req.into_inner().message;
        if message == "panic" {
            panic!("boom in stream handler");
        }
        if message == "panic-later" {
            use tokio_stream::StreamExt;
            let items = tokio_stream::iter(0..3).map(|i| {
                if i == 1 {
                    panic!("boom mid-stream");
                }
                Ok(EchoResponse {
                    message: format!("item {i}"),
                })
            });
            return Ok(tonic::Response::new(Box::pin(items)));
        }
        let items = (0..3).map(move |i| {
            Ok(EchoResponse {
                message: format!("{message} {i}"),
            })
        });
        Ok(tonic::Response::new(Box::pin(tokio_stream::iter(items))))
    }

    async fn client_streaming_echo(
        &self,
        req: tonic::Request<tonic::Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        let mut stream = req.into_inner();
        let mut all = Vec::new();
        while let Some(m) = stream.message().await? {
            all.push(m.message);
        }
        Ok(tonic::Response::new(EchoResponse {
            message: all.join(","),
        }))
    }

    type BidirectionalStreamingEchoStream = EchoStream;

    async fn bidirectional_streaming_echo(
        &self,
        req: tonic::Request<tonic::Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoStream>, tonic::Status> {
        let mut stream = req.into_inner();
        let out = async_stream(move |tx| async move {
            while let Ok(Some(m)) = stream.message().await {
                if tx
                    .send(Ok(EchoResponse { message: m.message }))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        Ok(tonic::Response::new(out))
    }
}

fn async_stream<F, Fut>(f: F) -> EchoStream
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<EchoResponse, tonic::Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(f(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// The HTTP handler: `/hello/{name}` greets, `/other/{name}` too.
async fn http_hello(req: Request) -> Response {
    let name = req.uri().path().rsplit('/').next().unwrap_or("").to_owned();
    // Panics must happen inside the handler future, as in a real handler.
    match std::panic::AssertUnwindSafe(greet(&name, req.extensions())).await {
        Ok(message) => axum::Json(serde_json::json!({ "message": message })).into_response(),
        Err(err) => err.into_response(),
    }
}

/// A running App with both servers.
pub struct Servers {
    /// `http://127.0.0.1:port` of the HTTP server.
    pub http: String,
    /// `http://127.0.0.1:port` of the gRPC server.
    pub grpc: String,
    app: RunningApp,
}

impl Servers {
    /// Stops the App.
    pub async fn stop(self) {
        let _ = self.app.stop().await;
    }
}

/// Serves the greeter (and echo) over HTTP and gRPC with `layer` on both.
pub async fn serve<L>(layer: L) -> Servers
where
    L: Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: Service<Request> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
{
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/hello/{name}", any(http_hello))
        .route("/other/{name}", any(http_hello))
        .layer(layer.clone())
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(TestGreeter))
        .add_service(EchoServer::new(TestEcho))
        // Both services' descriptors (one set for every example proto): the
        // server then knows which replies are one message.
        .file_descriptor_set(kratos_examples_api::echo::v1::echo_grpc::FILE_DESCRIPTOR_SET)
        .layer(layer)
        .build();
    start(App::builder().name("mw-test").server(http).server(grpc)).await
}

/// Starts an App, returning once it serves.
pub async fn start(builder: AppBuilder) -> Servers {
    let app = builder
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the app starts");
    let endpoints = app.endpoints().to_vec();
    let find = |scheme: &str| {
        endpoints
            .iter()
            .find(|e| e.starts_with(scheme))
            .map(|e| e.replacen("grpc://", "http://", 1))
            .unwrap_or_default()
    };
    Servers {
        http: find("http://"),
        grpc: find("grpc://"),
        app,
    }
}

/// A plain HTTP client whose bodies are axum `Body`s, as a tower service.
pub fn http_client() -> impl Service<
    http::Request<Body>,
    Response = http::Response<Body>,
    Error = hyper_util::client::legacy::Error,
    Future = impl Send,
> + Clone
+ Send
+ Sync
+ 'static {
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    tower::service_fn(move |req: http::Request<Body>| {
        client.request(req).map(|r| r.map(|res| res.map(Body::new)))
    })
}

/// Sends `req` through `svc`, returning status, headers and body text.
pub async fn send<S>(svc: S, req: http::Request<Body>) -> (u16, http::HeaderMap, String)
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: std::fmt::Debug,
{
    use tower::ServiceExt;
    let res = svc.oneshot(req).await.expect("response");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// `GET url` with a plain client.
pub async fn get(url: &str) -> (u16, http::HeaderMap, String) {
    get_with(url, &[]).await
}

/// `GET url` with headers.
pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> (u16, http::HeaderMap, String) {
    let mut req = http::Request::get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(http_client(), req.body(Body::empty()).unwrap()).await
}

/// A tonic channel to `url`.
pub async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .expect("connected")
}

/// A greeter client on a plain channel.
pub async fn greeter(url: &str) -> GreeterClient<tonic::transport::Channel> {
    GreeterClient::new(channel(url).await)
}

/// Says hello over gRPC; the reply message or the decoded kratos error.
pub async fn say_hello<T>(client: &mut GreeterClient<T>, name: &str) -> Result<String, Error>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    client
        .say_hello(HelloRequest { name: name.into() })
        .await
        .map(|r| r.into_inner().message)
        .map_err(|s| Error::from_status(&s))
}

/// Decodes a Kratos JSON error body.
pub fn json_error(status: u16, body: &str) -> Error {
    Error::from_http_response(http::StatusCode::from_u16(status).unwrap(), body.as_bytes())
}

/// One gRPC call over a raw HTTP/2 client; the response head (a rejection
/// or error is trailers-only, so its status is there).
pub async fn grpc_raw<M: prost::Message>(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    msg: &M,
) -> http::HeaderMap {
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let payload = msg.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    let mut req = http::Request::post(format!("{url}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client
        .request(req.body(Body::from(frame)).unwrap())
        .await
        .expect("response");
    res.headers().clone()
}

/// A backend middleware that counts the calls reaching it and fails them
/// with 503 `BACKEND_DOWN` while `failing`, or for the first `fail_first`.
#[derive(Debug, Clone, Default)]
pub struct Backend {
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
    pub failing: Arc<std::sync::atomic::AtomicBool>,
    pub fail_first: Arc<std::sync::atomic::AtomicUsize>,
}

impl Backend {
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl kratos_middleware::Middleware for Backend {
    async fn handle(
        &self,
        req: kratos_middleware::Request,
        next: kratos_middleware::Next,
    ) -> Result<kratos_middleware::Response, Error> {
        use std::sync::atomic::Ordering::SeqCst;
        self.hits.fetch_add(1, SeqCst);
        let first = self
            .fail_first
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if self.failing.load(SeqCst) || first {
            return Err(Error::service_unavailable("BACKEND_DOWN", "backend down"));
        }
        next.run(req).await
    }
}
