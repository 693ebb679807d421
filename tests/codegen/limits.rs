//! A generated route's request body is bounded by the server's limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::start;

#[tokio::test]
async fn a_100_mb_body_to_a_generated_route_is_413_without_being_read() {
    let app = start().await;
    let url = format!("{}/api/v1/orders", app.http);
    let chunk = Bytes::from(vec![b' '; 1 << 20]);
    let body =
        StreamBody::new(tokio_stream::iter((0..100).map(move |_| {
            Ok::<_, std::io::Error>(http_body::Frame::data(chunk.clone()))
        })));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let req = http::Request::post(&url)
        .header("content-type", "application/json")
        .header("content-length", (100usize << 20).to_string())
        .body(body)
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(60), client.request(req))
        .await
        .expect("an answer")
        .expect("an answer before the body is sent");
    assert_eq!(res.status(), 413);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (body["code"].as_u64(), body["reason"].as_str()),
        (Some(413), Some("PAYLOAD_TOO_LARGE")),
        "{body}"
    );
    app.stop().await;
}

/// A CreateOrder request of about 5.1 MiB (600,000 items of 9 bytes).
fn big_order() -> kratos_examples_api::api::order::v1::CreateOrderRequest {
    use kratos_examples_api::api::order::v1::{CreateOrderRequest, OrderItem};
    let item = OrderItem {
        product_id: 100,
        quantity: 1,
        price_cents: 250,
    };
    CreateOrderRequest {
        user_id: 7,
        items: vec![item; 600_000],
    }
}

#[tokio::test]
async fn a_grpc_message_over_4_mib_is_refused_unless_the_limit_is_raised() {
    use kratos::App;
    use kratos::grpc::GrpcServer;
    use kratos::http::HttpServer;
    use kratos_examples_api::api::order::v1::order_service_client::OrderServiceClient;
    use kratos_examples_api::api::order::v1::order_service_grpc;
    use prost::Message;

    assert!(big_order().encoded_len() > 4 << 20);
    let app = start().await;
    let status = app
        .grpc_client()
        .await
        .create_order(big_order())
        .await
        .expect_err("over the 4 MiB default");
    // tonic's code for it; grpc-go answers RESOURCE_EXHAUSTED (a wire
    // difference documented on GrpcServer).
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("too large"), "{status:?}");
    app.stop().await;

    // The limit is tonic's, on the generated server.
    let orders = std::sync::Arc::new(crate::common::Orders::default());
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(order_service_grpc::server(orders).max_decoding_message_size(16 << 20))
        .build();
    let http = HttpServer::builder().address(([127, 0, 0, 1], 0)).build();
    let (app, _, grpc) = crate::common::spawn(App::builder().name("big"), http, grpc).await;
    // The reply is as big: the client's limit is raised too.
    let mut client = OrderServiceClient::connect(grpc.replacen("grpc://", "http://", 1))
        .await
        .unwrap()
        .max_decoding_message_size(16 << 20);
    let order = client
        .create_order(big_order())
        .await
        .expect("within the raised limit")
        .into_inner();
    assert_eq!(order.items.len(), 600_000);
    app.stop().await.expect("a clean stop");
}
