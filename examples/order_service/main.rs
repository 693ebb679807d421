//! An order system: the order service (gRPC + HTTP/JSON from one
//! implementation) calls the user and product services through the registry.
//!
//! Run with `cargo run --example order_service`. It starts all three services
//! in this process on the in-memory registry (no server to install), prints
//! the order service's endpoints and serves until Ctrl-C. Try:
//!
//! ```text
//! curl -s -XPOST localhost:8000/api/v1/orders -H 'content-type: application/json' -d '{"userId":"1","items":[{"productId":"1","quantity":2}]}'
//! curl -s localhost:8000/api/v1/orders/1
//! curl -s 'localhost:8000/api/v1/orders?userId=1&page=1'
//! curl -s -XPOST localhost:8000/api/v1/orders -H 'content-type: application/json' -d '{"userId":"9","items":[{"productId":"1","quantity":1}]}'   # 404 USER_NOT_FOUND
//! curl -s localhost:8000/metrics   # Prometheus: server_requests_code_total, client_requests_seconds, ...
//! ```
//!
//! Options: `--conf FILE` (default `examples/order_service/config.yaml`;
//! edit `order.max_items` while it runs: the next order sees it), and
//! `--smoke` (place a few orders over both transports, check the answers,
//! exit). With `registry.kind: etcd` (`REGISTRY=etcd`), the services register
//! in etcd and find each other there:
//! `REGISTRY=etcd cargo run --example order_service --features etcd`.

mod catalog;
mod orders;
mod smoke;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kratos::App;
use kratos::config::{Config, EnvSource, FileSource};
use kratos::grpc::{GrpcChannel, GrpcServer};
use kratos::http::HttpServer;
use kratos::middleware::logging::LoggingLayer;
use kratos::middleware::metrics::prometheus::Prometheus;
use kratos::registry::{Discovery, MemoryRegistry, Registrar};
use kratos_examples_api::api::order::v1::{order_service_grpc, order_service_http};
use kratos_examples_api::api::product::v1::product_service_grpc;
use kratos_examples_api::api::user::v1::user_service_grpc;
use serde::Deserialize;

/// The configuration file's shape.
#[derive(Debug, Deserialize)]
struct Bootstrap {
    registry: RegistryConf,
    order: OrderConf,
    user: GrpcConf,
    product: GrpcConf,
}

#[derive(Debug, Deserialize)]
struct RegistryConf {
    kind: String,
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    etcd: EtcdConf,
}

#[derive(Debug, Deserialize)]
struct EtcdConf {
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    endpoints: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct OrderConf {
    http: SocketAddr,
    grpc: SocketAddr,
}

#[derive(Debug, Deserialize)]
struct GrpcConf {
    grpc: SocketAddr,
}

/// The registry the services share, as both of its roles.
struct Registry {
    registrar: Arc<dyn Registrar>,
    discovery: Arc<dyn Discovery>,
}

async fn registry(conf: &RegistryConf) -> Result<Registry, Box<dyn std::error::Error>> {
    match conf.kind.as_str() {
        "memory" => {
            let registry = MemoryRegistry::global();
            Ok(Registry {
                registrar: Arc::new(registry.clone()),
                discovery: Arc::new(registry),
            })
        }
        #[cfg(feature = "etcd")]
        "etcd" => {
            let registry =
                kratos::registry::etcd::EtcdRegistry::connect(&conf.etcd.endpoints).await?;
            Ok(Registry {
                registrar: Arc::new(registry.clone()),
                discovery: Arc::new(registry),
            })
        }
        #[cfg(not(feature = "etcd"))]
        "etcd" => Err(
            "the config asks for etcd, but this build has no etcd support: run \
             `cargo run --example order_service --features etcd -- --conf <file>`"
                .into(),
        ),
        other => Err(format!("registry.kind: unknown registry `{other}` (memory or etcd)").into()),
    }
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name);
    args.next()?;
    args.next()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let smoke = std::env::args().any(|a| a == "--smoke");
    let conf_path = arg("--conf").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/order_service/config.yaml")
    });

    let config = Config::builder()
        .source(FileSource::new(&conf_path))
        .source(EnvSource::new("ORDER_SERVICE_"))
        .build();
    config.load().await?;
    let bootstrap: Bootstrap = config.scan()?;
    let registry = registry(&bootstrap.registry).await?;
    tracing::info!(registry = %bootstrap.registry.kind, conf = %conf_path.display(), "configured");

    // The services the order service depends on.
    let user = App::builder()
        .name("user")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(
            GrpcServer::builder()
                .address(bootstrap.user.grpc)
                .add_service(user_service_grpc::server(Arc::new(catalog::Users)))
                .build(),
        )
        .build()
        .spawn()
        .await?;
    let product = App::builder()
        .name("product")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(
            GrpcServer::builder()
                .address(bootstrap.product.grpc)
                .add_service(product_service_grpc::server(Arc::new(catalog::Products)))
                .build(),
        )
        .build()
        .spawn()
        .await?;

    // The order service finds them through discovery.
    let channel = |name: &str| {
        GrpcChannel::builder()
            .endpoint(format!("discovery:///{name}"))
            .discovery_arc(registry.discovery.clone())
            .layer(kratos::middleware::client_defaults())
            .block(true)
            .connect()
    };
    let orders = Arc::new(orders::Orders::new(
        channel("user").await?,
        channel("product").await?,
        config.handle::<usize>("order.max_items")?,
    ));
    let prometheus = Prometheus::install()?;
    let http = HttpServer::builder()
        .address(bootstrap.order.http)
        .merge(order_service_http::router(orders.clone()))
        // Outside the layers, as Go Kratos's `srv.Handle`: scrapes are not
        // counted as requests.
        .handle(
            "/metrics",
            axum::routing::get(move || std::future::ready(prometheus.render())),
        )
        .layer(kratos::middleware::server_defaults())
        .layer(LoggingLayer::server())
        .build();
    let grpc = GrpcServer::builder()
        .address(bootstrap.order.grpc)
        .add_service(order_service_grpc::server(orders))
        .layer(kratos::middleware::server_defaults())
        .layer(LoggingLayer::server())
        .build();
    let order = App::builder()
        .name("order")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(http)
        .server(grpc)
        .build()
        .spawn()
        .await?;
    let endpoints = order.endpoints().to_vec();
    for endpoint in &endpoints {
        println!("order service listening on {endpoint}");
    }

    let outcome = if smoke {
        let result = smoke::run(&endpoints).await;
        order.stop_handle().stop();
        result
    } else {
        Ok(())
    };
    // Each App stops on SIGINT/SIGTERM by itself; in smoke mode, once done.
    order.wait().await?;
    for app in [user, product] {
        app.stop().await?;
    }
    outcome
}
