//! The order service: `CreateOrder` checks the user with the user service,
//! reserves each item's stock with the product service and, when a step
//! fails, releases what it already reserved (the compensation of a saga);
//! an order's status follows a state machine. Orders are kept in memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use kratos::config::{Config, Handle};
use kratos::grpc::GrpcChannel;
use kratos::middleware::Matcher;
use kratos::{App, AppBuilder, Error};
use kratos_examples_api::api::order::v1::order_service_server::OrderService;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, ErrorReason, GetOrderRequest, ListOrdersReply, ListOrdersRequest, Order,
    OrderStatus, UpdateOrderStatusReply, UpdateOrderStatusRequest, order_service_grpc,
    order_service_http,
};
use kratos_examples_api::api::product::v1::product_service_client::ProductServiceClient;
use kratos_examples_api::api::product::v1::{StockRequest, is_out_of_stock};
use kratos_examples_api::api::user::v1::GetUserRequest;
use kratos_examples_api::api::user::v1::user_service_client::UserServiceClient;
use serde::Deserialize;
use tonic::{Request, Response, Status};

use crate::support::{self, BoxError, Registry};

/// The `order` config section.
#[derive(Debug, Deserialize)]
pub struct OrderConf {
    /// The HTTP server's address.
    pub http: std::net::SocketAddr,
    /// The gRPC server's address.
    pub grpc: std::net::SocketAddr,
}

/// An order and the stock reservations it holds.
#[derive(Debug, Clone)]
struct Placed {
    order: Order,
    reservations: Vec<StockRequest>,
}

/// Orders, with clients of the services they depend on.
#[derive(Debug)]
pub struct Orders {
    users: UserServiceClient<GrpcChannel>,
    products: ProductServiceClient<GrpcChannel>,
    /// `order.max_items`, hot-reloaded from the config file.
    max_items: Handle<usize>,
    next_id: AtomicI64,
    orders: Mutex<BTreeMap<i64, Placed>>,
}

fn status_of(value: i32) -> OrderStatus {
    OrderStatus::try_from(value).unwrap_or(OrderStatus::Unspecified)
}

/// Whether an order may go from `from` to `to`.
fn allowed(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::{Cancelled, Paid, Pending, Shipped};
    matches!(
        (from, to),
        (Pending, Paid) | (Paid, Shipped) | (Pending, Cancelled)
    )
}

impl Orders {
    /// Orders calling the user and product services over `users` and `products`.
    pub fn new(users: GrpcChannel, products: GrpcChannel, max_items: Handle<usize>) -> Self {
        Self {
            users: UserServiceClient::new(users),
            products: ProductServiceClient::new(products),
            max_items,
            next_id: AtomicI64::new(0),
            orders: Mutex::new(BTreeMap::new()),
        }
    }

    fn find(&self, id: i64) -> Result<Placed, Error> {
        self.orders
            .lock()
            .expect("orders lock")
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// Gives back the stock of `reservations`; a failure is logged (the
    /// reservations stay in the product service, to be released by hand):
    /// the caller already has its answer.
    async fn release(&self, reservations: &[StockRequest]) {
        for reservation in reservations {
            if let Err(status) = self
                .products
                .clone()
                .release_stock(reservation.clone())
                .await
            {
                tracing::error!(
                    reservation = %reservation.reservation_id,
                    product = reservation.product_id,
                    error = %Error::from_status(&status),
                    "stock not released"
                );
            }
        }
    }

    async fn create(&self, req: CreateOrderRequest) -> Result<Order, Error> {
        let max_items = *self.max_items.get();
        if req.items.is_empty() || req.items.len() > max_items {
            return Err(ErrorReason::InvalidOrder
                .error(format!("an order has 1 to {max_items} items"))
                .with_metadata("items", req.items.len().to_string()));
        }
        if let Some(item) = req.items.iter().find(|i| i.quantity <= 0) {
            return Err(ErrorReason::InvalidOrder
                .error(format!(
                    "product {}: quantity must be positive",
                    item.product_id
                ))
                .with_metadata("product_id", item.product_id.to_string()));
        }
        // The user must exist: their service's error (404 USER_NOT_FOUND)
        // is passed on as is.
        self.users
            .clone()
            .get_user(GetUserRequest { id: req.user_id })
            .await
            .map_err(|status| Error::from_status(&status))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        // One reservation id per line, unique across restarts of this
        // service: a retried reserve is a no-op in the product service.
        let order_ref = uuid::Uuid::new_v4();
        let mut items = req.items;
        let mut reservations = Vec::with_capacity(items.len());
        for (line, item) in items.iter_mut().enumerate() {
            let reservation = StockRequest {
                product_id: item.product_id,
                quantity: item.quantity,
                reservation_id: format!("{order_ref}/{line}"),
            };
            match self
                .products
                .clone()
                .reserve_stock(reservation.clone())
                .await
            {
                Ok(product) => {
                    item.price_cents = product.into_inner().price_cents;
                    reservations.push(reservation);
                }
                Err(status) => {
                    // Compensate: give back what this order already took.
                    self.release(&reservations).await;
                    let err = Error::from_status(&status);
                    if !is_out_of_stock(&err) {
                        return Err(err);
                    }
                    return Err(ErrorReason::OutOfStock
                        .error(err.message().to_owned())
                        .with_metadata("product_id", item.product_id.to_string()));
                }
            }
        }
        let order = Order {
            id,
            user_id: req.user_id,
            total_cents: items
                .iter()
                .map(|i| i.price_cents * i64::from(i.quantity))
                .sum(),
            items,
            status: OrderStatus::Pending as i32,
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        };
        self.orders.lock().expect("orders lock").insert(
            id,
            Placed {
                order: order.clone(),
                reservations,
            },
        );
        tracing::info!(
            id,
            user = order.user_id,
            total_cents = order.total_cents,
            "order created"
        );
        Ok(order)
    }

    /// Moves order `id` to `to` if the state machine allows it; cancelling
    /// gives the stock back.
    async fn transition(&self, id: i64, to: i32) -> Result<Order, Error> {
        let to = status_of(to);
        let (order, released) = {
            let mut orders = self.orders.lock().expect("orders lock");
            let placed = orders.get_mut(&id).ok_or_else(|| not_found(id))?;
            let from = status_of(placed.order.status);
            if !allowed(from, to) {
                return Err(ErrorReason::InvalidTransition
                    .error(format!(
                        "order {id} cannot go from {} to {}",
                        from.as_str_name(),
                        to.as_str_name()
                    ))
                    .with_metadata("from", from.as_str_name())
                    .with_metadata("to", to.as_str_name()));
            }
            placed.order.status = to as i32;
            let released = if to == OrderStatus::Cancelled {
                std::mem::take(&mut placed.reservations)
            } else {
                Vec::new()
            };
            (placed.order.clone(), released)
        };
        self.release(&released).await;
        tracing::info!(id, status = to.as_str_name(), "order status changed");
        Ok(order)
    }
}

fn not_found(id: i64) -> Error {
    ErrorReason::OrderNotFound
        .error(format!("order {id} not found"))
        .with_metadata("id", id.to_string())
}

#[tonic::async_trait]
impl OrderService for Orders {
    async fn create_order(
        &self,
        req: Request<CreateOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        Ok(Response::new(self.create(req.into_inner()).await?))
    }

    async fn get_order(&self, req: Request<GetOrderRequest>) -> Result<Response<Order>, Status> {
        let req = req.into_inner();
        let order = self.find(req.id)?.order;
        // Another user's order is as absent as a missing one.
        if req.user_id != 0 && req.user_id != order.user_id {
            return Err(not_found(req.id).into());
        }
        Ok(Response::new(order))
    }

    async fn list_orders(
        &self,
        req: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersReply>, Status> {
        let req = req.into_inner();
        let orders = self.orders.lock().expect("orders lock");
        let matching = || {
            orders
                .values()
                .map(|p| &p.order)
                .filter(|o| req.user_id == 0 || o.user_id == req.user_id)
                .filter(|o| req.status == 0 || o.status == req.status)
        };
        Ok(Response::new(ListOrdersReply {
            total: matching().count() as i32,
            orders: support::Page::new(req.page, req.page_size).of(matching().cloned()),
        }))
    }

    async fn update_order_status(
        &self,
        req: Request<UpdateOrderStatusRequest>,
    ) -> Result<Response<UpdateOrderStatusReply>, Status> {
        let req = req.into_inner();
        Ok(Response::new(UpdateOrderStatusReply {
            order: Some(self.transition(req.id, req.status).await?),
        }))
    }
}

/// The order service's App: gRPC and HTTP/JSON, registered as `order`,
/// calling `discovery:///user` and `discovery:///product`.
pub async fn app(config: &Config, registry: &Registry) -> Result<AppBuilder, BoxError> {
    let conf: OrderConf = support::section(config, "order")?;
    // Every call of the two services is safe to repeat: reads, and stock
    // reservations keyed by their reservation id.
    let users = support::channel(
        registry,
        "user",
        Matcher::prefix("/api.user.v1.UserService/"),
    )
    .await?;
    let products = support::channel(
        registry,
        "product",
        Matcher::prefix("/api.product.v1.ProductService/"),
    )
    .await?;
    let orders = Arc::new(Orders::new(
        users,
        products,
        config.handle("order.max_items")?,
    ));
    Ok(App::builder()
        .name("order")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(
            support::http_server(conf.http)
                .merge(order_service_http::router(orders.clone()))
                .build(),
        )
        .server(
            support::grpc_server(conf.grpc)
                .add_service(order_service_grpc::server(orders))
                .build(),
        ))
}
