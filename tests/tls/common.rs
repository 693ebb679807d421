//! An App serving HTTP and gRPC over TLS, registered in an in-memory
//! registry, and the clients that reach it.

use axum::routing::get;
use kratos::grpc::{GrpcChannel, GrpcServer};
use kratos::http::{HttpClient, HttpServer};
use kratos::registry::MemoryRegistry;
use kratos::tls::{ClientTls, Identity, ServerTls};
use kratos::{App, RunningApp};
use kratos_testing::TestPki;
use kratos_transport::ClientBuilder;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// The service name the App registers.
pub const SERVICE: &str = "tls-demo";

/// A server TLS configuration presenting the PKI's server certificate, read
/// from its files (so a reissue is picked up).
pub fn server_tls(pki: &TestPki) -> ServerTls {
    let identity = Identity::from_pem_files(pki.server_cert_path(), pki.server_key_path())
        .expect("the server identity");
    ServerTls::new(identity)
}

/// A client trusting the PKI's CA only.
pub fn client_tls(pki: &TestPki) -> ClientTls {
    ClientTls::new().ca_pem_file(pki.ca_path())
}

/// The PKI's client certificate.
pub fn client_identity(pki: &TestPki) -> Identity {
    Identity::from_pem_files(pki.client_cert_path(), pki.client_key_path())
        .expect("the client identity")
}

/// Starts an App serving `GET /hello` over HTTPS and gRPC health over TLS on
/// loopback, both with `tls`, registered in `registry`.
pub async fn start(tls: ServerTls, registry: &MemoryRegistry) -> RunningApp {
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route(
            "/hello",
            get(|| async { axum::Json(serde_json::json!({"hello": "tls"})) }),
        )
        .tls(tls.clone())
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .tls(tls)
        .build();
    App::builder()
        .name(SERVICE)
        .server(http)
        .server(grpc)
        .registrar(registry.clone())
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the App starts")
}

/// `builder` dialling the service through `registry` with `tls`, waiting
/// for a first instance.
fn to_service<C>(
    builder: ClientBuilder<C>,
    registry: &MemoryRegistry,
    tls: ClientTls,
) -> ClientBuilder<C> {
    builder
        .endpoint(format!("discovery:///{SERVICE}"))
        .discovery(registry.clone())
        .tls(tls)
        .block(true)
}

/// A gRPC channel to the service through `registry`, with `tls`.
pub async fn grpc_channel(registry: &MemoryRegistry, tls: ClientTls) -> GrpcChannel {
    to_service(GrpcChannel::builder(), registry, tls)
        .connect()
        .await
        .expect("the channel resolves")
}

/// An HTTP client to the service through `registry`, with `tls`.
pub async fn http_client(registry: &MemoryRegistry, tls: ClientTls) -> HttpClient {
    to_service(HttpClient::builder(), registry, tls)
        .connect()
        .await
        .expect("the client resolves")
}

/// A gRPC health check through `channel`: the built-in health service.
pub async fn health_check(channel: GrpcChannel) -> Result<i32, tonic::Status> {
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(reply.into_inner().status)
}

/// `GET /hello` through `client`.
pub async fn hello(client: &HttpClient) -> Result<serde_json::Value, kratos::Error> {
    client.invoke(http::Method::GET, "/hello", &()).await
}
