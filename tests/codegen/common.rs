//! The order service both transports serve, and an App running it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::registry::MemoryRegistry;
use kratos::{App, Error, TransportInfo};
use kratos_examples_api::api::order::v1::order_service_client::OrderServiceClient;
use kratos_examples_api::api::order::v1::order_service_server::OrderService;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, ErrorReason, GetOrderRequest, ListOrdersReply, ListOrdersRequest, Order,
    OrderStatus, UpdateOrderStatusReply, UpdateOrderStatusRequest, order_service_grpc,
    order_service_http,
};

/// A fixed creation time, so both transports see equal data.
pub const CREATED_AT: i64 = 1_700_000_000;

/// An in-memory order store; records the `x-tag` header of each call.
#[derive(Debug, Default)]
pub struct Orders {
    next: AtomicI64,
    orders: Mutex<BTreeMap<i64, Order>>,
    pub tags: Mutex<Vec<String>>,
}

impl Orders {
    fn record_tag<T>(&self, req: &tonic::Request<T>) {
        if let Some(tag) = req.metadata().get("x-tag").and_then(|v| v.to_str().ok()) {
            self.tags.lock().unwrap().push(tag.to_owned());
        }
    }

    fn find(&self, id: i64) -> Result<Order, Error> {
        self.orders
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .ok_or_else(|| {
                ErrorReason::OrderNotFound
                    .error(format!("order {id} not found"))
                    .with_metadata("id", id.to_string())
            })
    }
}

#[tonic::async_trait]
impl OrderService for Orders {
    async fn create_order(
        &self,
        req: tonic::Request<CreateOrderRequest>,
    ) -> Result<tonic::Response<Order>, tonic::Status> {
        self.record_tag(&req);
        let req = req.into_inner();
        if req.items.is_empty() {
            return Err(ErrorReason::InvalidOrder
                .error("an order needs items")
                .into());
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let order = Order {
            id,
            user_id: req.user_id,
            total_cents: req
                .items
                .iter()
                .map(|i| i.price_cents * i64::from(i.quantity))
                .sum(),
            items: req.items,
            status: OrderStatus::Pending as i32,
            created_at: CREATED_AT,
        };
        self.orders.lock().unwrap().insert(id, order.clone());
        Ok(tonic::Response::new(order))
    }

    async fn get_order(
        &self,
        req: tonic::Request<GetOrderRequest>,
    ) -> Result<tonic::Response<Order>, tonic::Status> {
        self.record_tag(&req);
        let req = req.into_inner();
        let order = self.find(req.id)?;
        if req.user_id != 0 && req.user_id != order.user_id {
            return Err(ErrorReason::OrderNotFound
                .error(format!("user {} has no order {}", req.user_id, req.id))
                .into());
        }
        let mut reply = tonic::Response::new(order);
        reply
            .metadata_mut()
            .insert("x-order-source", "memory".parse().unwrap());
        Ok(reply)
    }

    async fn list_orders(
        &self,
        req: tonic::Request<ListOrdersRequest>,
    ) -> Result<tonic::Response<ListOrdersReply>, tonic::Status> {
        self.record_tag(&req);
        let req = req.into_inner();
        let page = req.page.max(1) as usize;
        let size = if req.page_size <= 0 {
            10
        } else {
            req.page_size as usize
        };
        let all: Vec<Order> = self
            .orders
            .lock()
            .unwrap()
            .values()
            .filter(|o| req.user_id == 0 || o.user_id == req.user_id)
            .filter(|o| req.status == 0 || o.status == req.status)
            .cloned()
            .collect();
        Ok(tonic::Response::new(ListOrdersReply {
            total: all.len() as i32,
            orders: all.into_iter().skip((page - 1) * size).take(size).collect(),
        }))
    }

    async fn update_order_status(
        &self,
        req: tonic::Request<UpdateOrderStatusRequest>,
    ) -> Result<tonic::Response<UpdateOrderStatusReply>, tonic::Status> {
        let req = req.into_inner();
        let mut orders = self.orders.lock().unwrap();
        let Some(order) = orders.get_mut(&req.id) else {
            return Err(ErrorReason::OrderNotFound.error("no such order").into());
        };
        order.status = req.status;
        Ok(tonic::Response::new(UpdateOrderStatusReply {
            order: Some(order.clone()),
        }))
    }
}

/// An App serving one [`Orders`] on HTTP and gRPC, recording the operation
/// each transport's middleware saw.
pub struct Running {
    pub http: String,
    pub grpc: String,
    pub orders: Arc<Orders>,
    pub operations: Arc<Mutex<Vec<String>>>,
    app: kratos::RunningApp,
}

impl Running {
    pub async fn stop(self) {
        self.app.stop().await.expect("a clean run");
    }

    pub async fn grpc_client(&self) -> OrderServiceClient<tonic::transport::Channel> {
        OrderServiceClient::connect(self.grpc.replacen("grpc://", "http://", 1))
            .await
            .expect("connected")
    }

    pub fn operations(&self) -> Vec<String> {
        self.operations.lock().unwrap().clone()
    }
}

/// A middleware recording `kind:operation` of each request's transport info.
pub fn recorder(
    seen: Arc<Mutex<Vec<String>>>,
) -> impl Fn(Request, Next) -> std::pin::Pin<Box<dyn Future<Output = axum::response::Response> + Send>>
+ Clone {
    move |req: Request, next: Next| {
        let op = TransportInfo::from_request(&req)
            .map(|info| format!("{}:{}", info.kind(), info.operation()))
            .unwrap_or_else(|| "none".to_owned());
        seen.lock().unwrap().push(op);
        Box::pin(next.run(req))
    }
}

pub async fn start() -> Running {
    start_in(MemoryRegistry::new()).await
}

/// Like [`start`], registering the App (`orders`) in `registry`.
pub async fn start_in(registry: MemoryRegistry) -> Running {
    let orders = Arc::new(Orders::default());
    let operations = Arc::new(Mutex::new(Vec::new()));
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(order_service_http::router(orders.clone()))
        .layer(from_fn(recorder(operations.clone())))
        .build();
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(order_service_grpc::server(orders.clone()))
        .layer(from_fn(recorder(operations.clone())))
        .build();
    let (app, http, grpc) = spawn(
        App::builder().name("orders").registrar(registry),
        http,
        grpc,
    )
    .await;
    Running {
        http,
        grpc,
        orders,
        operations,
        app,
    }
}

/// Sends one HTTP request; returns status, headers and body.
pub async fn send(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (http::StatusCode, http::HeaderMap, String) {
    let client: Client<HttpConnector, Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = client
        .request(req.body(Full::from(body.to_owned())).unwrap())
        .await
        .expect("request sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

/// Creates the order `{user 7, 2 × product 100 at 250}` over HTTP.
pub async fn create_sample(app: &Running) -> serde_json::Value {
    let (status, _, body) = send(
        http::Method::POST,
        &format!("{}/api/v1/orders", app.http),
        &[],
        r#"{"userId":"7","items":[{"productId":"100","quantity":2,"priceCents":"250"}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Starts the App of `builder` serving `http` and `grpc` (no signals: the
/// test stops it), with its HTTP and gRPC endpoints.
pub async fn spawn(
    builder: kratos::AppBuilder,
    http: HttpServer,
    grpc: GrpcServer,
) -> (kratos::RunningApp, String, String) {
    let app = builder
        .server(http)
        .server(grpc)
        .signals([])
        .build()
        .spawn()
        .await
        .expect("the app starts");
    let endpoints = app.endpoints().to_vec();
    let (http, grpc) = (endpoints[0].clone(), endpoints[1].clone());
    (app, http, grpc)
}
