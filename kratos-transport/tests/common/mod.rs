//! Helpers shared by the client tests: greeter Apps registered in a memory
//! registry, and instances that are registered but dead.

#![allow(dead_code)]

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use kratos_core::{App, Error, RunningApp};
use kratos_examples_api::echo::v1::echo_server::{Echo, EchoServer};
use kratos_examples_api::echo::v1::{EchoRequest, EchoResponse};
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_registry::{MemoryRegistry, Registrar, ServiceInstance};
use kratos_transport::grpc::GrpcServer;
use kratos_transport::http::{HttpServer, Json};
use tokio_stream::{Stream, StreamExt};

/// The service name every test instance registers under.
pub const SERVICE: &str = "greeter";

/// A greeter that says which instance answered, after an adjustable delay.
#[derive(Debug, Clone)]
pub struct NamedGreeter {
    pub id: String,
    pub delay_ms: Arc<AtomicU64>,
}

impl NamedGreeter {
    pub async fn greet(&self, name: &str) -> Result<HelloReply, Error> {
        let delay = self.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            // Simulated server work, not synchronisation.
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        match name {
            "missing" => Err(Error::not_found("USER_NOT_FOUND", "user missing not found")),
            "overloaded" => Err(Error::service_unavailable("OVERLOADED", "try later")),
            _ => Ok(HelloReply {
                message: format!("Hello {name} from {}", self.id),
            }),
        }
    }
}

#[tonic::async_trait]
impl Greeter for NamedGreeter {
    async fn say_hello(
        &self,
        req: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Ok(tonic::Response::new(
            self.greet(&req.into_inner().name).await?,
        ))
    }
}

type EchoStream = Pin<Box<dyn Stream<Item = Result<EchoResponse, tonic::Status>> + Send>>;

/// Echoes every kind of call.
#[derive(Debug, Clone, Default)]
pub struct Echoer;

#[tonic::async_trait]
impl Echo for Echoer {
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
        let out = (0..3).map(move |i| {
            Ok(EchoResponse {
                message: format!("{message} {i}"),
            })
        });
        Ok(tonic::Response::new(Box::pin(tokio_stream::iter(out))))
    }

    async fn client_streaming_echo(
        &self,
        req: tonic::Request<tonic::Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        let mut stream = req.into_inner();
        let mut all = Vec::new();
        while let Some(msg) = stream.next().await {
            all.push(msg?.message);
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
        let out = req.into_inner().map(|msg| {
            msg.map(|m| EchoResponse {
                message: m.message.to_uppercase(),
            })
        });
        Ok(tonic::Response::new(Box::pin(out)))
    }
}

/// A running greeter App: gRPC and HTTP, registered in the test's registry.
pub struct Instance {
    pub id: String,
    pub endpoints: Vec<String>,
    pub delay_ms: Arc<AtomicU64>,
    app: RunningApp,
}

impl Instance {
    /// Stops the App (it deregisters first) and waits until it is down.
    pub async fn stop(self) {
        self.app.stop().await.expect("a clean run");
    }

    /// The `scheme://` endpoint.
    pub fn endpoint(&self, scheme: &str) -> String {
        self.endpoints
            .iter()
            .find(|e| e.starts_with(&format!("{scheme}://")))
            .cloned()
            .expect("endpoint")
    }
}

/// Starts a greeter App `id` with `version`, registered in `registry`.
pub async fn start(registry: &MemoryRegistry, id: &str, version: &str) -> Instance {
    let greeter = NamedGreeter {
        id: id.to_owned(),
        delay_ms: Arc::default(),
    };
    let delay_ms = greeter.delay_ms.clone();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(GreeterServer::new(greeter.clone()))
        .add_service(EchoServer::new(Echoer))
        .build();
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/hello/{name}",
            get(move |Path(name): Path<String>| {
                let greeter = greeter.clone();
                async move { greeter.greet(&name).await.map(Json) }
            }),
        )
        .build();
    let app = App::builder()
        .id(id)
        .name(SERVICE)
        .version(version)
        .registrar(registry.clone())
        .server(grpc)
        .server(http)
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the app starts");
    Instance {
        id: id.to_owned(),
        endpoints: app.endpoints().to_vec(),
        delay_ms,
        app,
    }
}

/// Registers an instance whose ports refuse connections: a process that was
/// killed without deregistering.
pub async fn register_dead(registry: &MemoryRegistry, id: &str) -> ServiceInstance {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let instance = ServiceInstance::new(id, SERVICE)
        .with_version("v1")
        .with_endpoint(format!("grpc://127.0.0.1:{port}"))
        .with_endpoint(format!("http://127.0.0.1:{port}"));
    registry.register(&instance).await.unwrap();
    instance
}

/// The instance id in a greeting `Hello x from <id>`.
pub fn answered_by(message: &str) -> &str {
    message.rsplit(' ').next().unwrap_or_default()
}

/// The node of instance `id` in `selector`'s current node list.
pub fn node(selector: &kratos_selector::Selector, id: &str) -> kratos_selector::WeightedNode {
    selector
        .nodes()
        .iter()
        .find(|w| w.node().instance_id() == id)
        .unwrap_or_else(|| panic!("no node {id}"))
        .clone()
}
