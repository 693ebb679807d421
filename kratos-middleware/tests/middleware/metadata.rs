//! metadata: global entries travel across hops, local ones one hop.

use axum::extract::Request;
use axum::routing::get;
use kratos_core::{App, Metadata};
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::metadata::MetadataLayer;
use kratos_transport::http::HttpServer;
use tower::ServiceBuilder;

use crate::common::*;

#[tokio::test]
async fn global_metadata_crosses_hops_local_stops_after_one() {
    // B: the gRPC greeter answering "md" with the metadata it received.
    let b = serve(MetadataLayer::server().constant("x-md-local-self", "b")).await;

    // A: an HTTP route that calls B through a client metadata layer.
    let channel = channel(&b.grpc).await;
    let client = ServiceBuilder::new()
        .layer(MetadataLayer::client().constant("x-md-local-caller", "a"))
        .service(channel);
    let relay = move |req: Request| {
        let mut client = GreeterClient::new(client.clone());
        async move {
            let seen_by_a = req.extensions().get::<Metadata>().cloned().unwrap();
            let reply = say_hello(&mut client, "md").await.unwrap();
            format!(
                "a:{} b:{reply}",
                seen_by_a.get("x-md-local-hop").unwrap_or("-")
            )
        }
    };
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .route("/relay", get(relay))
        .layer(MetadataLayer::server())
        .build();
    let a = start(App::builder().name("a").server(http)).await;

    let (status, _, body) = get_with(
        &format!("{}/relay", a.http),
        &[
            ("x-md-global-tenant", "acme"),
            ("x-md-local-hop", "1"),
            ("x-other", "no"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "a:1 b:x-md-global-tenant=acme;x-md-local-caller=a;x-md-local-self=b"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn client_sends_outgoing_metadata_from_request_extensions() {
    let b = serve(MetadataLayer::server()).await;
    let svc = ServiceBuilder::new()
        .layer(MetadataLayer::client())
        .service(channel(&b.grpc).await);
    let mut client = GreeterClient::new(svc);
    let mut md = Metadata::new();
    md.set("x-md-global-trace", "t1");
    let mut req = tonic::Request::new(kratos_examples_api::helloworld::v1::HelloRequest {
        name: "md".into(),
    });
    req.extensions_mut().insert(md);
    let reply = client.say_hello(req).await.unwrap().into_inner().message;
    assert_eq!(reply, "x-md-global-trace=t1");
    b.stop().await;
}
