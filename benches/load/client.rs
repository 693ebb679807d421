//! The closed-loop load client: `concurrency` tasks, each sending the next
//! request as soon as the previous reply arrived, checking every reply.
//! gRPC and HTTP targets are driven by the light h2 client by default
//! (`--client stack` uses the tonic/hyper client instead, as a cross-check);
//! the discovery and TLS pairs always use the kratos/tonic clients
//! ([`Target::needs_stack_client`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kratos::grpc::GrpcChannel;
use kratos::registry::{MemoryRegistry, Registrar, ServiceInstance};
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use tonic::transport::Channel;

use crate::h2_client::{Call, H2};
use crate::servers::Target;

/// What one measured window produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: u64,
    pub errors: u64,
    /// Latency of every successful call, in microseconds.
    pub latencies_us: Vec<u32>,
}

#[derive(Clone)]
enum Connection {
    Grpc(GreeterClient<Channel>),
    Discovery(GreeterClient<GrpcChannel>),
    Http(Client<HttpConnector, Full<Bytes>>, Arc<str>),
    H2(H2),
}

pub struct Load {
    connection: Connection,
    concurrency: usize,
}

impl Load {
    pub async fn connect(target: Target, ports: &[u16], concurrency: usize, light: bool) -> Self {
        let port = ports[0];
        let connection = if light && !target.needs_stack_client() {
            let call = if target.is_grpc() {
                Call::grpc(port)
            } else {
                Call::http(port)
            };
            Connection::H2(H2::connect(port, call).await)
        } else if target == Target::DiscoveryWrr {
            let registry = MemoryRegistry::new();
            for (i, port) in ports.iter().enumerate() {
                let instance = ServiceInstance::new(format!("greeter-{i}"), "greeter")
                    .with_endpoint(format!("grpc://127.0.0.1:{port}"));
                registry.register(&instance).await.expect("registered");
            }
            let channel = GrpcChannel::builder()
                .endpoint("discovery:///greeter")
                .discovery(registry)
                .block(true)
                .connect()
                .await
                .expect("dialled");
            Connection::Discovery(GreeterClient::new(channel))
        } else if target.is_tls() {
            Connection::Discovery(GreeterClient::new(tls_channel(port).await))
        } else if target.is_grpc() {
            let channel =
                tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                    .unwrap()
                    .tcp_nodelay(true)
                    .connect()
                    .await
                    .expect("connected");
            Connection::Grpc(GreeterClient::new(channel))
        } else {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client = Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(concurrency)
                .build(connector);
            Connection::Http(client, format!("http://127.0.0.1:{port}/hello").into())
        };
        Self {
            connection,
            concurrency,
        }
    }

    /// Drives the server for `duration`.
    pub async fn run(&self, duration: Duration) -> Outcome {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..self.concurrency)
            .map(|_| tokio::spawn(worker(self.connection.clone(), stop.clone())))
            .collect();
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut total = Outcome::default();
        for task in tasks {
            let outcome = task.await.expect("a worker");
            total.ok += outcome.ok;
            total.errors += outcome.errors;
            total.latencies_us.extend(outcome.latencies_us);
        }
        total
    }
}

/// One kratos `GrpcChannel` to `grpcs://127.0.0.1:port`, trusting the
/// harness's CA: the same client for raw tonic and kratos over TLS.
#[cfg(feature = "tls")]
async fn tls_channel(port: u16) -> GrpcChannel {
    let dir = crate::servers::TLS_DIR
        .get()
        .expect("the harness made certificates");
    GrpcChannel::builder()
        .endpoint(format!("grpcs://127.0.0.1:{port}"))
        .tls(
            kratos::tls::ClientTls::new()
                .ca_pem_file(dir.join("ca.pem"))
                .server_name("localhost"),
        )
        .connect()
        .await
        .expect("dialled")
}

#[cfg(not(feature = "tls"))]
async fn tls_channel(_port: u16) -> GrpcChannel {
    unreachable!("TLS targets need --features tls")
}

async fn worker(mut connection: Connection, stop: Arc<AtomicBool>) -> Outcome {
    let mut outcome = Outcome::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = match &mut connection {
            Connection::Grpc(client) => {
                let reply = client
                    .say_hello(HelloRequest {
                        name: "load".into(),
                    })
                    .await;
                matches!(reply, Ok(r) if r.get_ref().message == "Hello load")
            }
            Connection::Discovery(client) => {
                let reply = client
                    .say_hello(HelloRequest {
                        name: "load".into(),
                    })
                    .await;
                matches!(reply, Ok(r) if r.get_ref().message == "Hello load")
            }
            Connection::H2(h2) => h2.call().await,
            Connection::Http(client, url) => {
                let req = http::Request::post(&**url)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(br#"{"name":"load"}"#)))
                    .expect("a request");
                match client.request(req).await {
                    Ok(resp) if resp.status().is_success() => resp
                        .into_body()
                        .collect()
                        .await
                        .is_ok_and(|b| b.to_bytes().as_ref() == br#"{"message":"Hello load"}"#),
                    _ => false,
                }
            }
        };
        if ok {
            outcome.ok += 1;
            outcome
                .latencies_us
                .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            outcome.errors += 1;
        }
    }
    outcome
}
