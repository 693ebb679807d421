//! Port 0: the registered instance carries the ports the servers really bound.

use std::sync::Arc;

use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::registry::{Discovery, MemoryRegistry};
use kratos::{App, Server};
use kratos_examples_api::helloworld::v1::greeter_grpc;

use crate::common::TestGreeter;

#[tokio::test]
async fn registered_endpoints_carry_the_bound_ports() {
    let registry = MemoryRegistry::new();
    let http = Arc::new(HttpServer::builder().address(([127, 0, 0, 1], 0)).build());
    let grpc = Arc::new(
        GrpcServer::builder()
            .address(([127, 0, 0, 1], 0))
            .add_service(greeter_grpc::server(Arc::new(TestGreeter)))
            .build(),
    );
    let app = App::builder()
        .name("ports")
        .signals([])
        .registrar(registry.clone())
        .server_arc(http.clone())
        .server_arc(grpc.clone())
        .build();
    let stop = app.stop_handle();
    let mut watcher = registry.watch("ports").await.unwrap();
    let run = tokio::spawn(app.run());

    let instances = loop {
        let instances = watcher.next().await.unwrap();
        if !instances.is_empty() {
            break instances;
        }
    };
    let http_addr = http.local_addr().unwrap();
    let grpc_addr = grpc.local_addr().unwrap();
    assert_ne!(http_addr.port(), 0);
    assert_ne!(grpc_addr.port(), 0);
    assert_eq!(
        instances[0].endpoints,
        [format!("http://{http_addr}"), format!("grpc://{grpc_addr}")]
    );
    assert_eq!(http.endpoint().unwrap(), format!("http://{http_addr}"));

    stop.stop();
    run.await.unwrap().unwrap();
    assert!(registry.get_service("ports").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_explicit_endpoint_is_advertised_as_given() {
    let registry = MemoryRegistry::new();
    let app = App::builder()
        .name("advertised")
        .signals([])
        .registrar(registry.clone())
        .server(
            HttpServer::builder()
                .address(([0, 0, 0, 0], 0))
                .endpoint("http://orders.internal:8000")
                .build(),
        )
        .build();
    let stop = app.stop_handle();
    let mut watcher = registry.watch("advertised").await.unwrap();
    let run = tokio::spawn(app.run());

    let instances = loop {
        let instances = watcher.next().await.unwrap();
        if !instances.is_empty() {
            break instances;
        }
    };
    assert_eq!(instances[0].endpoints, ["http://orders.internal:8000"]);
    stop.stop();
    run.await.unwrap().unwrap();
}
