//! One implementation, two transports: the same calls over gRPC and HTTP
//! return equal data, and middleware sees the gRPC method on both.

use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, GetOrderRequest, ListOrdersReply, ListOrdersRequest, Order, OrderItem,
    OrderStatus,
};

use crate::common::{CREATED_AT, send, start};

#[tokio::test]
async fn the_same_calls_over_grpc_and_http_return_equal_data() {
    let app = start().await;
    let mut grpc = app.grpc_client().await;

    // Created over gRPC, read over both.
    let created = grpc
        .create_order(CreateOrderRequest {
            user_id: 7,
            items: vec![OrderItem {
                product_id: 100,
                quantity: 2,
                price_cents: 250,
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.total_cents, 500);

    let reply = grpc
        .get_order(GetOrderRequest {
            id: created.id,
            user_id: 0,
        })
        .await
        .unwrap();
    // As from grpc-go (Go Kratos): no date header on gRPC replies.
    assert!(
        reply.metadata().get("date").is_none(),
        "{:?}",
        reply.metadata()
    );
    let over_grpc = reply.into_inner();
    let (status, headers, body) = send(
        http::Method::GET,
        &format!("{}/api/v1/orders/{}", app.http, created.id),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("date"), "HTTP replies are dated");
    // Reply metadata set by the service becomes HTTP headers.
    assert_eq!(headers["x-order-source"], "memory");
    let over_http: Order = serde_json::from_str(&body).unwrap();
    assert_eq!(over_http, over_grpc);
    // The proto3 JSON mapping: lowerCamelCase, int64 as strings, enums by name.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({
            "id": "1",
            "userId": "7",
            "items": [{"productId": "100", "quantity": 2, "priceCents": "250"}],
            "status": "ORDER_STATUS_PENDING",
            "totalCents": "500",
            "createdAt": CREATED_AT.to_string(),
        })
    );

    // The additional binding reaches the same method, with user_id from the path.
    let (status, _, body) = send(
        http::Method::GET,
        &format!("{}/api/v1/users/7/orders/{}", app.http, created.id),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Order>(&body).unwrap(), over_grpc);

    // Listing with query parameters, both spellings of a field name.
    let list = ListOrdersRequest {
        user_id: 7,
        page: 1,
        page_size: 5,
        status: OrderStatus::Pending as i32,
    };
    let over_grpc = grpc.list_orders(list).await.unwrap().into_inner();
    for query in [
        "user_id=7&page=1&page_size=5&status=ORDER_STATUS_PENDING",
        "userId=7&page=1&pageSize=5&status=ORDER_STATUS_PENDING",
        // An enum by number.
        "user_id=7&page=1&page_size=5&status=1",
    ] {
        let (status, _, body) = send(
            http::Method::GET,
            &format!("{}/api/v1/orders?{query}", app.http),
            &[],
            "",
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<ListOrdersReply>(&body).unwrap(),
            over_grpc
        );
    }
    assert_eq!(over_grpc.total, 1);
    app.stop().await;
}

#[tokio::test]
async fn errors_from_the_implementation_look_the_same_on_both_transports() {
    let app = start().await;
    let mut grpc = app.grpc_client().await;
    let status = grpc
        .get_order(GetOrderRequest { id: 42, user_id: 0 })
        .await
        .unwrap_err();
    let from_grpc = kratos::Error::from_status(&status);

    let (code, _, body) = send(
        http::Method::GET,
        &format!("{}/api/v1/orders/42", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(code, 404);
    let from_http = kratos::Error::from_http_response(code, body.as_bytes());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({
            "code": 404,
            "reason": "ORDER_NOT_FOUND",
            "message": "order 42 not found",
            "metadata": {"id": "42"},
        })
    );
    for err in [&from_grpc, &from_http] {
        assert_eq!(err.code(), 404);
        assert_eq!(err.reason(), "ORDER_NOT_FOUND");
        assert_eq!(err.message(), "order 42 not found");
        assert_eq!(err.metadata().get("id").map(String::as_str), Some("42"));
    }
    app.stop().await;
}

#[tokio::test]
async fn middleware_sees_the_grpc_method_and_the_service_the_headers() {
    let app = start().await;
    let mut grpc = app.grpc_client().await;
    let mut req = tonic::Request::new(GetOrderRequest { id: 1, user_id: 0 });
    req.metadata_mut()
        .insert("x-tag", "from-grpc".parse().unwrap());
    let _ = grpc.get_order(req).await;
    let (status, _, _) = send(
        http::Method::GET,
        &format!("{}/api/v1/orders/1", app.http),
        &[("x-tag", "from-http")],
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = send(
        http::Method::GET,
        &format!("{}/api/v1/users/3/orders/1", app.http),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.operations(),
        [
            "grpc:/api.order.v1.OrderService/GetOrder",
            "http:/api.order.v1.OrderService/GetOrder",
            "http:/api.order.v1.OrderService/GetOrder",
        ]
    );
    assert_eq!(*app.orders.tags.lock().unwrap(), ["from-grpc", "from-http"]);
    app.stop().await;
}
