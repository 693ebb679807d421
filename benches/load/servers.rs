//! The servers under test, each started in its own process by `--serve NAME`.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::routing::post;
use axum::serve::ListenerExt;
use kratos::grpc::GrpcServer;
use kratos::http::{HttpServer, Json};
use kratos::middleware::metrics::prometheus::Prometheus;
use kratos::middleware::{ServerDefaults, server_defaults};
use kratos::{AppInfo, Server, ServerContext};
use kratos_examples_api::helloworld::v1::greeter_server::{Greeter, GreeterServer};
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tonic::{Request, Response, Status};
use tower::layer::util::Identity;
use tower::util::{Either, option_layer};

/// What a load run targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// `tonic::transport::Server` with the greeter, nothing else.
    RawTonic,
    /// The same greeter on a kratos `GrpcServer`.
    KratosGrpc,
    /// `axum::serve` with a JSON handler.
    RawAxum,
    /// The same handler on a kratos `HttpServer`.
    KratosHttp,
    /// A grpc-go greeter (`benches/go-greeter`), when Go is installed.
    GoGreeter,
    /// `tonic::transport::Server` with its own rustls TLS (`ServerTlsConfig`).
    RawTonicTls,
    /// The kratos `GrpcServer` with `.tls(..)` (certificate files watched).
    KratosGrpcTls,
    /// Three kratos gRPC greeters in one process (served for the two below).
    KratosGrpc3,
    /// A tonic `Channel` straight to one of the three.
    DirectChannel,
    /// A `GrpcChannel` dialling `discovery:///greeter`, WRR over the three.
    DiscoveryWrr,
}

impl Target {
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::RawTonic,
            Self::KratosGrpc,
            Self::RawAxum,
            Self::KratosHttp,
            Self::GoGreeter,
            Self::RawTonicTls,
            Self::KratosGrpcTls,
            Self::KratosGrpc3,
            Self::DirectChannel,
            Self::DiscoveryWrr,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RawTonic => "raw-tonic",
            Self::KratosGrpc => "kratos-grpc",
            Self::RawAxum => "raw-axum",
            Self::KratosHttp => "kratos-http",
            Self::GoGreeter => "grpc-go",
            Self::RawTonicTls => "raw-tonic-tls",
            Self::KratosGrpcTls => "kratos-grpc-tls",
            Self::KratosGrpc3 => "kratos-grpc-x3",
            Self::DirectChannel => "direct-channel",
            Self::DiscoveryWrr => "discovery-wrr",
        }
    }

    /// The server process a run against this target starts.
    pub fn server(self) -> Self {
        match self {
            Self::DirectChannel | Self::DiscoveryWrr => Self::KratosGrpc3,
            other => other,
        }
    }

    pub fn is_grpc(self) -> bool {
        !matches!(self, Self::RawAxum | Self::KratosHttp)
    }

    /// Whether runs against this target need the kratos/tonic clients, not
    /// the h2 one: the discovery pair compares those clients, and the h2
    /// client speaks no TLS.
    pub fn needs_stack_client(self) -> bool {
        self.is_tls() || matches!(self, Self::DirectChannel | Self::DiscoveryWrr)
    }

    /// Served over TLS (dialled `grpcs://` with the test CA).
    pub fn is_tls(self) -> bool {
        matches!(self, Self::RawTonicTls | Self::KratosGrpcTls)
    }

    /// The grpc-go greeter binary, built by `benches/go-greeter/build.sh`.
    pub fn go_binary(self) -> Option<PathBuf> {
        (self == Self::GoGreeter)
            .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/go-greeter/greeter"))
    }

    pub fn available(self) -> bool {
        match self.go_binary() {
            Some(path) => {
                let found = path.exists();
                if !found {
                    eprintln!(
                        "grpc-go greeter not built ({}): run `bash benches/go-greeter/build.sh`",
                        path.display()
                    );
                }
                found
            }
            None if self.is_tls() && !cfg!(feature = "tls") => {
                eprintln!("TLS targets need `--features tls`");
                false
            }
            None => true,
        }
    }
}

/// The variable naming the directory of the test certificates
/// (`server.pem`, `server.key`, `ca.pem`) in a server process.
pub const TLS_DIR_ENV: &str = "LOAD_TLS_DIR";

/// That directory in the harness, which made it for the TLS targets.
pub static TLS_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The server certificate and key files the harness made.
#[cfg(feature = "tls")]
fn tls_files() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(std::env::var(TLS_DIR_ENV).expect("the harness sets LOAD_TLS_DIR"));
    (dir.join("server.pem"), dir.join("server.key"))
}

#[derive(Debug, Clone, Default)]
struct Hello;

impl Hello {
    fn reply(name: String) -> HelloReply {
        HelloReply {
            message: format!("Hello {name}"),
        }
    }
}

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(Hello::reply(req.into_inner().name)))
    }
}

async fn raw_hello(axum::Json(req): axum::Json<HelloRequest>) -> axum::Json<HelloReply> {
    axum::Json(Hello::reply(req.name))
}

async fn kratos_hello(Json(req): Json<HelloRequest>) -> Result<Json<HelloReply>, kratos::Error> {
    Ok(Json(Hello::reply(req.name)))
}

/// Serves `target` on free loopback ports until killed; prints `PORT <n>...`.
pub fn serve(target: Target) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        match target {
            Target::RawTonic => {
                // TCP_NODELAY on, as `Server::serve(addr)` and kratos set it
                // (an incoming stream of our own would leave Nagle on).
                let incoming = tonic::transport::server::TcpIncoming::bind(any_port)
                    .unwrap()
                    .with_nodelay(Some(true));
                println!("PORT {}", incoming.local_addr().unwrap().port());
                tonic::transport::Server::builder()
                    .add_service(GreeterServer::new(Hello))
                    .serve_with_incoming(incoming)
                    .await
                    .unwrap();
            }
            #[cfg(feature = "tls")]
            Target::RawTonicTls => {
                let (cert, key) = tls_files();
                let identity = tonic::transport::Identity::from_pem(
                    std::fs::read(cert).unwrap(),
                    std::fs::read(key).unwrap(),
                );
                let incoming = tonic::transport::server::TcpIncoming::bind(any_port)
                    .unwrap()
                    .with_nodelay(Some(true));
                println!("PORT {}", incoming.local_addr().unwrap().port());
                tonic::transport::Server::builder()
                    .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                    .unwrap()
                    .add_service(GreeterServer::new(Hello))
                    .serve_with_incoming(incoming)
                    .await
                    .unwrap();
            }
            Target::RawAxum => {
                let listener = tokio::net::TcpListener::bind(any_port).await.unwrap();
                println!("PORT {}", listener.local_addr().unwrap().port());
                let router = axum::Router::new().route("/hello", post(raw_hello));
                // TCP_NODELAY on, as kratos sets it (axum::serve leaves Nagle on).
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, router).await.unwrap();
            }
            Target::KratosGrpc
            | Target::KratosHttp
            | Target::KratosGrpc3
            | Target::KratosGrpcTls => {
                // The chain's metrics are recorded for real, as in production,
                // and its spans go to an SDK tracer provider sampling nothing;
                // LOAD_OBSERVE=metrics or =traces installs only one of the two.
                let observe = std::env::var("LOAD_OBSERVE").unwrap_or_default();
                let observed = |what: &str| chain_enabled() && observe != "off" && observe != what;
                let _prometheus = observed("traces").then(|| Prometheus::install().unwrap());
                let _provider = observed("metrics").then(|| {
                    let provider = SdkTracerProvider::builder()
                        .with_sampler(Sampler::AlwaysOff)
                        .build();
                    opentelemetry::global::set_tracer_provider(provider.clone());
                    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
                    provider
                });
                let servers: Vec<Box<dyn Server>> = match target {
                    Target::KratosHttp => vec![Box::new(
                        HttpServer::builder()
                            .address(any_port)
                            .route("/hello", post(kratos_hello))
                            .layer(chain())
                            .build(),
                    )],
                    Target::KratosGrpc => vec![Box::new(grpc_server(any_port).build())],
                    #[cfg(feature = "tls")]
                    Target::KratosGrpcTls => {
                        let (cert, key) = tls_files();
                        let identity = kratos::tls::Identity::from_pem_files(cert, key).unwrap();
                        vec![Box::new(
                            grpc_server(any_port)
                                .tls(kratos::tls::ServerTls::new(identity))
                                .build(),
                        )]
                    }
                    _ => (0..3)
                        .map(|_| Box::new(grpc_server(any_port).build()) as Box<dyn Server>)
                        .collect(),
                };
                let mut ports = Vec::new();
                for server in &servers {
                    ports.push(start_kratos(server.as_ref()).await.to_string());
                }
                println!("PORT {}", ports.join(" "));
                std::future::pending::<()>().await;
            }
            Target::GoGreeter | Target::DirectChannel | Target::DiscoveryWrr => {
                unreachable!("no server process of its own")
            }
            #[cfg(not(feature = "tls"))]
            Target::RawTonicTls => unreachable!("needs --features tls"),
        }
    });
}

/// The middleware chain of the kratos servers: the default server chain, or
/// none with `LOAD_CHAIN=none` (to split framework cost from middleware cost).
fn chain() -> Either<ServerDefaults, Identity> {
    option_layer(chain_enabled().then(server_defaults))
}

/// Whether the kratos servers carry their middleware chain.
fn chain_enabled() -> bool {
    std::env::var("LOAD_CHAIN").as_deref() != Ok("none")
}

/// A kratos gRPC greeter with the server chain. Its descriptors are
/// registered as the generated `greeter_grpc::server` registers them (the
/// plain tonic server is served, as by raw tonic, to leave validation out):
/// the server then knows `SayHello` replies with one message.
fn grpc_server(address: SocketAddr) -> kratos::grpc::GrpcServerBuilder {
    GrpcServer::builder()
        .address(address)
        .add_service(GreeterServer::new(Hello))
        .file_descriptor_set(kratos_examples_api::helloworld::v1::greeter_grpc::FILE_DESCRIPTOR_SET)
        .layer(chain())
}

/// Starts `server` (it serves in the background); returns its port.
async fn start_kratos(server: &dyn Server) -> u16 {
    let info = AppInfo::new("bench", "load", "v1", Default::default());
    server
        .start(ServerContext::standalone(info))
        .await
        .expect("the server starts");
    server
        .endpoint()
        .and_then(|e| e.rsplit(':').next()?.parse().ok())
        .expect("a port")
}
