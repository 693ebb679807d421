//! Each HTTP server reports the gRPC operations of the routes merged into it:
//! two servers in one process serving the same method and route template as
//! different operations each name their own, and a generated router merged
//! as a plain axum router names its route template.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::middleware::from_fn;
use axum::routing::get;
use kratos::App;
use kratos::http::{HttpServer, Routes};
use kratos_examples_api::api::order::v1::order_service_http;

use crate::common::{Orders, recorder, send};

const TEMPLATE: &str = "/api/v1/orders/{id}";

/// A server merging `routes`, recording the operations its middleware sees.
fn server(routes: impl Into<Routes>, seen: &Arc<Mutex<Vec<String>>>) -> HttpServer {
    HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(routes)
        .layer(from_fn(recorder(seen.clone())))
        .build()
}

/// Hand-written routes serving `GET /api/v1/orders/{id}` as `operation`.
fn hand_written(operation: &str) -> Routes {
    Routes::new(Router::new().route(TEMPLATE, get(|| async { "{}" })))
        .operation("GET", TEMPLATE, operation)
}

#[tokio::test]
async fn each_server_reports_the_operations_of_its_own_routes() {
    let orders = Arc::new(Orders::default());
    let seen: Vec<Arc<Mutex<Vec<String>>>> = (0..4).map(|_| Arc::default()).collect();
    // All the routes are built before any server serves, so a table shared
    // by the process would hold the last one for every server.
    let servers = [
        server(order_service_http::router(orders.clone()), &seen[0]),
        server(hand_written("/other.v1.Orders/Fetch"), &seen[1]),
        server(hand_written("/third.v1.Orders/Read"), &seen[2]),
        server(order_service_http::router(orders).into_router(), &seen[3]),
    ];
    let mut app = App::builder().name("operations").signals([]);
    for server in servers {
        app = app.server(server);
    }
    let app = app.build().spawn().await.expect("the app starts");

    for endpoint in app.endpoints() {
        send(
            http::Method::GET,
            &format!("{endpoint}/api/v1/orders/1"),
            &[],
            "",
        )
        .await;
        send(
            http::Method::HEAD,
            &format!("{endpoint}/api/v1/orders/1"),
            &[],
            "",
        )
        .await;
    }
    let seen: Vec<Vec<String>> = seen.iter().map(|s| s.lock().unwrap().clone()).collect();
    assert_eq!(
        seen,
        [
            ["http:/api.order.v1.OrderService/GetOrder"; 2],
            ["http:/other.v1.Orders/Fetch"; 2],
            ["http:/third.v1.Orders/Read"; 2],
            // Merged as a plain axum router: the route template.
            ["http:/api/v1/orders/{id}"; 2],
        ]
    );
    app.stop().await.expect("a clean run");
}
