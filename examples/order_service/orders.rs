//! The order service: validates the user and prices each item by calling the
//! user and product services through discovery, then keeps orders in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use kratos::Error;
use kratos::config::Handle;
use kratos::grpc::GrpcChannel;
use kratos_examples_api::api::order::v1::order_service_server::OrderService;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, ErrorReason, GetOrderRequest, ListOrdersReply, ListOrdersRequest, Order,
    OrderStatus, UpdateOrderStatusReply, UpdateOrderStatusRequest,
};
use kratos_examples_api::api::product::v1::GetProductRequest;
use kratos_examples_api::api::product::v1::product_service_client::ProductServiceClient;
use kratos_examples_api::api::user::v1::GetUserRequest;
use kratos_examples_api::api::user::v1::user_service_client::UserServiceClient;
use tonic::{Request, Response, Status};

/// Orders, with clients of the services they depend on.
#[derive(Debug)]
pub struct Orders {
    users: UserServiceClient<GrpcChannel>,
    products: ProductServiceClient<GrpcChannel>,
    /// `order.max_items`, hot-reloaded from the config file.
    max_items: Handle<usize>,
    next_id: AtomicI64,
    orders: Mutex<BTreeMap<i64, Order>>,
}

impl Orders {
    pub fn new(users: GrpcChannel, products: GrpcChannel, max_items: Handle<usize>) -> Self {
        Self {
            users: UserServiceClient::new(users),
            products: ProductServiceClient::new(products),
            max_items,
            next_id: AtomicI64::new(0),
            orders: Mutex::new(BTreeMap::new()),
        }
    }

    fn find(&self, id: i64) -> Result<Order, Error> {
        self.orders
            .lock()
            .expect("orders lock")
            .get(&id)
            .cloned()
            .ok_or_else(|| {
                ErrorReason::OrderNotFound
                    .error(format!("order {id} not found"))
                    .with_metadata("id", id.to_string())
            })
    }

    async fn create(&self, req: CreateOrderRequest) -> Result<Order, Error> {
        let max_items = *self.max_items.get();
        if req.items.is_empty() || req.items.len() > max_items {
            return Err(ErrorReason::InvalidOrder
                .error(format!("an order has 1 to {max_items} items"))
                .with_metadata("items", req.items.len().to_string()));
        }
        // The user must exist: their service's error comes back as a Kratos
        // error (404 USER_NOT_FOUND) and is passed on as is.
        self.users
            .clone()
            .get_user(GetUserRequest { id: req.user_id })
            .await
            .map_err(|status| Error::from_status(&status))?;
        let mut items = req.items;
        for item in &mut items {
            let product = self
                .products
                .clone()
                .get_product(GetProductRequest {
                    id: item.product_id,
                })
                .await
                .map_err(|status| Error::from_status(&status))?
                .into_inner();
            if item.quantity <= 0 || item.quantity > product.stock {
                return Err(ErrorReason::InvalidOrder
                    .error(format!(
                        "{} × {} is not available ({} in stock)",
                        item.quantity, product.name, product.stock
                    ))
                    .with_metadata("product_id", product.id.to_string()));
            }
            item.price_cents = product.price_cents;
        }
        let order = Order {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            user_id: req.user_id,
            total_cents: items
                .iter()
                .map(|i| i.price_cents * i64::from(i.quantity))
                .sum(),
            items,
            status: OrderStatus::Created as i32,
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        };
        self.orders
            .lock()
            .expect("orders lock")
            .insert(order.id, order.clone());
        tracing::info!(
            id = order.id,
            user = order.user_id,
            total_cents = order.total_cents,
            "order created"
        );
        Ok(order)
    }
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
        let order = self.find(req.id)?;
        if req.user_id != 0 && req.user_id != order.user_id {
            return Err(ErrorReason::OrderNotFound
                .error(format!("user {} has no order {}", req.user_id, req.id))
                .into());
        }
        Ok(Response::new(order))
    }

    async fn list_orders(
        &self,
        req: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersReply>, Status> {
        let req = req.into_inner();
        let page = req.page.max(1) as usize;
        let size = if req.page_size <= 0 {
            10
        } else {
            req.page_size as usize
        };
        let matching: Vec<Order> = self
            .orders
            .lock()
            .expect("orders lock")
            .values()
            .filter(|o| req.user_id == 0 || o.user_id == req.user_id)
            .filter(|o| req.status == 0 || o.status == req.status)
            .cloned()
            .collect();
        Ok(Response::new(ListOrdersReply {
            total: matching.len() as i32,
            orders: matching
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect(),
        }))
    }

    async fn update_order_status(
        &self,
        req: Request<UpdateOrderStatusRequest>,
    ) -> Result<Response<UpdateOrderStatusReply>, Status> {
        let req = req.into_inner();
        let mut orders = self.orders.lock().expect("orders lock");
        let order = orders.get_mut(&req.id).ok_or_else(|| {
            Status::from(ErrorReason::OrderNotFound.error(format!("order {} not found", req.id)))
        })?;
        order.status = req.status;
        Ok(Response::new(UpdateOrderStatusReply {
            order: Some(order.clone()),
        }))
    }
}
