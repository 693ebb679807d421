//! The generated HTTP client: same methods as the gRPC client.

use kratos_examples_api::api::order::v1::order_service_http::OrderServiceHttpClient;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, GetOrderRequest, ListOrdersRequest, OrderItem, OrderStatus,
    UpdateOrderStatusRequest, is_invalid_order, is_order_not_found,
};

use crate::common::start;

#[tokio::test]
async fn generated_client_round_trip() {
    let app = start().await;
    let client = OrderServiceHttpClient::new(app.http.clone());
    let mut grpc = app.grpc_client().await;

    let created = client
        .create_order(CreateOrderRequest {
            user_id: 9,
            items: vec![OrderItem {
                product_id: 5,
                quantity: 3,
                price_cents: 100,
            }],
        })
        .await
        .unwrap();
    assert_eq!(created.total_cents, 300);
    assert_eq!(created.status, OrderStatus::Created as i32);

    // Path variable filled from the message.
    let got = client
        .get_order(GetOrderRequest {
            id: created.id,
            user_id: 0,
        })
        .await
        .unwrap();
    assert_eq!(got, created);
    let over_grpc = grpc
        .get_order(GetOrderRequest {
            id: created.id,
            user_id: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, over_grpc);

    // The rest of the message as query parameters.
    let list = client
        .list_orders(ListOrdersRequest {
            user_id: 9,
            page: 1,
            page_size: 10,
            status: OrderStatus::Created as i32,
        })
        .await
        .unwrap();
    assert_eq!(list.orders, vec![created.clone()]);
    assert_eq!(list.total, 1);

    // A body field and a response_body.
    let updated = client
        .update_order_status(UpdateOrderStatusRequest {
            id: created.id,
            status: OrderStatus::Shipped as i32,
        })
        .await
        .unwrap();
    assert_eq!(
        updated.order.map(|o| o.status),
        Some(OrderStatus::Shipped as i32)
    );

    // Non-2xx answers become the Kratos error the server sent.
    let err = client
        .get_order(GetOrderRequest {
            id: 404,
            user_id: 0,
        })
        .await
        .unwrap_err();
    assert!(is_order_not_found(&err), "{err:?}");
    assert_eq!(err.metadata().get("id").map(String::as_str), Some("404"));
    let err = client
        .create_order(CreateOrderRequest::default())
        .await
        .unwrap_err();
    assert!(is_invalid_order(&err), "{err:?}");
    assert_eq!(err.code(), 400);
    app.stop().await;
}

#[tokio::test]
async fn generated_client_reports_an_unreachable_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = OrderServiceHttpClient::new(format!("http://{addr}"));
    let err = client
        .get_order(GetOrderRequest { id: 1, user_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), 503);
}
