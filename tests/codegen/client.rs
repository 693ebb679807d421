//! The generated HTTP client: same methods as the gRPC client, over a fixed
//! base URL or a discovery-aware `HttpClient` whose layers see the gRPC
//! method as the operation of each call.

use std::sync::{Arc, Mutex};

use axum::Router;
use kratos::App;
use kratos::http::{HttpClient, HttpServer};
use kratos::middleware::{Next, Request, from_fn};
use kratos::registry::MemoryRegistry;
use kratos::{Error, TransportInfo};
use kratos_examples_api::api::order::v1::order_service_http::{self, OrderServiceHttpClient};
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, GetOrderRequest, ListOrdersRequest, OrderItem, OrderStatus,
    UpdateOrderStatusRequest, is_invalid_order, is_order_not_found,
};

use crate::common::{Orders, Running, start, start_in};

fn sample_order() -> CreateOrderRequest {
    CreateOrderRequest {
        user_id: 9,
        items: vec![OrderItem {
            product_id: 5,
            quantity: 3,
            price_cents: 100,
        }],
    }
}

fn get_request(id: i64) -> GetOrderRequest {
    GetOrderRequest { id, user_id: 0 }
}

fn list_request() -> ListOrdersRequest {
    ListOrdersRequest {
        user_id: 9,
        page: 1,
        page_size: 10,
        status: OrderStatus::Pending as i32,
    }
}

/// Every kind of binding through `client`, checked against gRPC.
async fn round_trip(app: &Running, client: &OrderServiceHttpClient) {
    let mut grpc = app.grpc_client().await;
    let created = client.create_order(sample_order()).await.unwrap();
    assert_eq!(created.total_cents, 300);
    assert_eq!(created.status, OrderStatus::Pending as i32);

    // Path variable filled from the message.
    let got = client.get_order(get_request(created.id)).await.unwrap();
    assert_eq!(got, created);
    let over_grpc = grpc
        .get_order(get_request(created.id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, over_grpc);

    // The rest of the message as query parameters.
    let list = client.list_orders(list_request()).await.unwrap();
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
    let err = client.get_order(get_request(404)).await.unwrap_err();
    assert!(is_order_not_found(&err), "{err:?}");
    assert_eq!(err.metadata().get("id").map(String::as_str), Some("404"));
    let err = client
        .create_order(CreateOrderRequest::default())
        .await
        .unwrap_err();
    assert!(is_invalid_order(&err), "{err:?}");
    assert_eq!(err.code(), 400);
}

#[tokio::test]
async fn generated_client_round_trip_over_a_base_url() {
    let app = start().await;
    round_trip(&app, &OrderServiceHttpClient::new(app.http.clone())).await;
    app.stop().await;
}

#[tokio::test]
async fn generated_client_round_trip_over_an_http_client() {
    let app = start().await;
    let http = HttpClient::builder()
        .endpoint(app.http.clone())
        .connect()
        .await
        .unwrap();
    round_trip(&app, &OrderServiceHttpClient::from_client(http)).await;
    app.stop().await;
}

#[tokio::test]
async fn generated_client_keeps_the_path_prefix_of_its_base_url() {
    // The generated routes under `/gateway`, as behind a gateway.
    let orders = Arc::new(Orders::default());
    let gateway = Router::new().nest("/gateway", order_service_http::router(orders).into_router());
    let app = App::builder()
        .name("gateway")
        .registrar(MemoryRegistry::new())
        .server(
            HttpServer::builder()
                .address(([127, 0, 0, 1], 0))
                .merge(gateway)
                .build(),
        )
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the app starts");
    let client = OrderServiceHttpClient::new(format!("{}/gateway/", app.endpoints()[0]));
    let created = client.create_order(sample_order()).await.unwrap();
    let got = client.get_order(get_request(created.id)).await.unwrap();
    assert_eq!(got, created);
    app.stop().await.expect("a clean run");
}

#[tokio::test]
async fn generated_client_balances_over_discovered_instances() {
    let registry = MemoryRegistry::new();
    let apps = [
        start_in(registry.clone()).await,
        start_in(registry.clone()).await,
    ];
    let http = HttpClient::builder()
        .endpoint("discovery:///orders")
        .discovery(registry)
        .connect()
        .await
        .unwrap();
    let client = OrderServiceHttpClient::from_client(http);
    for _ in 0..6 {
        let list = client.list_orders(list_request()).await.unwrap();
        assert_eq!(list.total, 0);
    }
    for app in &apps {
        let ops = app.operations();
        assert!(!ops.is_empty(), "an instance got no call");
        assert!(
            ops.iter()
                .all(|op| op == "http:/api.order.v1.OrderService/ListOrders"),
            "{ops:?}"
        );
    }
    let calls: usize = apps.iter().map(|app| app.operations().len()).sum();
    assert_eq!(calls, 6);
    for app in apps {
        app.stop().await;
    }
}

#[tokio::test]
async fn client_layers_see_the_generated_operation() {
    let app = start().await;
    // (operation, endpoint, path) of each call, as a client middleware sees it.
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let record = seen.clone();
    let http = HttpClient::builder()
        .endpoint(app.http.clone())
        .layer(from_fn(move |req: Request, next: Next| {
            let info = TransportInfo::from_request(&req).expect("transport info");
            record.lock().unwrap().push((
                info.operation().to_owned(),
                info.endpoint().to_owned(),
                req.uri().path().to_owned(),
            ));
            async move { next.run(req).await }
        }))
        .connect()
        .await
        .unwrap();
    let client = OrderServiceHttpClient::from_client(http);
    let created = client.create_order(sample_order()).await.unwrap();
    let err: Error = client.get_order(get_request(404)).await.unwrap_err();
    assert!(is_order_not_found(&err), "{err:?}");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (
                "/api.order.v1.OrderService/CreateOrder".to_owned(),
                app.http.clone(),
                "/api/v1/orders".to_owned(),
            ),
            (
                "/api.order.v1.OrderService/GetOrder".to_owned(),
                app.http.clone(),
                "/api/v1/orders/404".to_owned(),
            ),
        ]
    );
    assert!(created.id > 0);
    app.stop().await;
}

#[tokio::test]
async fn generated_client_reports_an_unreachable_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = OrderServiceHttpClient::new(format!("http://{addr}"));
    let err = client.get_order(get_request(1)).await.unwrap_err();
    assert_eq!(err.code(), 503);
}

#[tokio::test]
async fn generated_client_reports_a_base_url_it_cannot_dial() {
    let client = OrderServiceHttpClient::new("ftp://127.0.0.1:1");
    let err = client.get_order(get_request(1)).await.unwrap_err();
    assert_eq!(
        (err.code(), err.reason()),
        (400, "INVALID_TARGET"),
        "{err:?}"
    );
    // `https://` needs the `tls` feature; with it, it is dialled.
    let client = OrderServiceHttpClient::new("https://127.0.0.1:1");
    let err = client.get_order(get_request(1)).await.unwrap_err();
    if cfg!(feature = "tls") {
        assert_eq!((err.code(), err.reason()), (503, "TRANSPORT"), "{err:?}");
    } else {
        assert_eq!(
            (err.code(), err.reason()),
            (400, "INVALID_TARGET"),
            "{err:?}"
        );
        assert!(err.message().contains("`tls` feature"), "{err:?}");
    }
}
