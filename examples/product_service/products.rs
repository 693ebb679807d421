//! The product service: the catalogue from the config file, and stock
//! reservations that are atomic per product (stock never goes negative,
//! whatever the concurrency) and idempotent per reservation id (a retried
//! reserve or release takes or returns the stock once).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kratos::config::Config;
use kratos::{App, AppBuilder, Error};
use kratos_examples_api::api::product::v1::product_service_server::ProductService;
use kratos_examples_api::api::product::v1::{
    ErrorReason, GetProductRequest, ListProductsReply, ListProductsRequest, Product, StockRequest,
    product_service_grpc, product_service_http,
};
use serde::Deserialize;
use tonic::{Request, Response, Status};

use crate::support::{self, BoxError, Registry};

/// The `product` config section.
#[derive(Debug, Deserialize)]
pub struct ProductConf {
    /// The HTTP server's address.
    pub http: std::net::SocketAddr,
    /// The gRPC server's address.
    pub grpc: std::net::SocketAddr,
}

/// The `catalog` config section: what a deployment sells.
#[derive(Debug, Deserialize)]
pub struct Catalog {
    pub products: Vec<CatalogEntry>,
}

/// One product of the catalogue, as the config file spells it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEntry {
    pub id: i64,
    pub name: String,
    pub price_cents: i64,
    pub stock: i32,
}

#[derive(Debug)]
struct Item {
    product: Product,
    /// The open reservations: reservation id → quantity taken.
    reservations: HashMap<String, i32>,
}

/// The catalogue and its stock.
#[derive(Debug)]
pub struct Products {
    items: Mutex<BTreeMap<i64, Item>>,
}

fn not_found(id: i64) -> Error {
    ErrorReason::ProductNotFound
        .error(format!("product {id} not found"))
        .with_metadata("id", id.to_string())
}

fn check(req: &StockRequest) -> Result<(), Error> {
    if req.quantity <= 0 || req.reservation_id.is_empty() {
        return Err(ErrorReason::InvalidReservation
            .error("a reservation takes a positive quantity and a reservation id"));
    }
    Ok(())
}

impl Products {
    /// The catalogue `catalog` describes, in full stock.
    pub fn new(catalog: Catalog) -> Self {
        let items = catalog
            .products
            .into_iter()
            .map(|p| {
                let product = Product {
                    id: p.id,
                    name: p.name,
                    price_cents: p.price_cents,
                    stock: p.stock.max(0),
                };
                (
                    p.id,
                    Item {
                        product,
                        reservations: HashMap::new(),
                    },
                )
            })
            .collect();
        Self {
            items: Mutex::new(items),
        }
    }

    /// Takes stock under the catalogue's lock: the check and the decrement
    /// are one step.
    fn reserve(&self, req: &StockRequest) -> Result<Product, Error> {
        check(req)?;
        let mut items = self.items.lock().expect("catalogue lock");
        let item = items
            .get_mut(&req.product_id)
            .ok_or_else(|| not_found(req.product_id))?;
        if item.reservations.contains_key(&req.reservation_id) {
            return Ok(item.product.clone()); // a retry of a reservation that was made
        }
        if item.product.stock < req.quantity {
            return Err(ErrorReason::OutOfStock
                .error(format!(
                    "{} × {} wanted, {} in stock",
                    req.quantity, item.product.name, item.product.stock
                ))
                .with_metadata("product_id", req.product_id.to_string())
                .with_metadata("stock", item.product.stock.to_string()));
        }
        item.product.stock -= req.quantity;
        item.reservations
            .insert(req.reservation_id.clone(), req.quantity);
        tracing::debug!(
            product = req.product_id,
            quantity = req.quantity,
            stock = item.product.stock,
            "stock reserved"
        );
        Ok(item.product.clone())
    }

    fn release(&self, req: &StockRequest) -> Result<Product, Error> {
        check(req)?;
        let mut items = self.items.lock().expect("catalogue lock");
        let item = items
            .get_mut(&req.product_id)
            .ok_or_else(|| not_found(req.product_id))?;
        if let Some(quantity) = item.reservations.remove(&req.reservation_id) {
            item.product.stock += quantity;
            tracing::debug!(
                product = req.product_id,
                quantity,
                stock = item.product.stock,
                "stock released"
            );
        }
        Ok(item.product.clone())
    }
}

#[tonic::async_trait]
impl ProductService for Products {
    async fn get_product(
        &self,
        req: Request<GetProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let id = req.into_inner().id;
        let items = self.items.lock().expect("catalogue lock");
        Ok(Response::new(
            items
                .get(&id)
                .map(|i| i.product.clone())
                .ok_or_else(|| not_found(id))?,
        ))
    }

    async fn list_products(
        &self,
        req: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsReply>, Status> {
        let req = req.into_inner();
        let items = self.items.lock().expect("catalogue lock");
        Ok(Response::new(ListProductsReply {
            total: items.len() as i32,
            products: support::Page::new(req.page, req.page_size)
                .of(items.values().map(|i| i.product.clone())),
        }))
    }

    async fn reserve_stock(&self, req: Request<StockRequest>) -> Result<Response<Product>, Status> {
        Ok(Response::new(self.reserve(req.get_ref())?))
    }

    async fn release_stock(&self, req: Request<StockRequest>) -> Result<Response<Product>, Status> {
        Ok(Response::new(self.release(req.get_ref())?))
    }
}

/// The product service's App with the `catalog` of the config: gRPC and
/// HTTP/JSON, registered as `product`.
pub fn app(config: &Config, registry: &Registry) -> Result<AppBuilder, BoxError> {
    let conf: ProductConf = support::section(config, "product")?;
    let products = Arc::new(Products::new(support::section(config, "catalog")?));
    Ok(App::builder()
        .name("product")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(
            support::http_server(conf.http)
                .merge(product_service_http::router(products.clone()))
                .build(),
        )
        .server(
            support::grpc_server(conf.grpc)
                .add_service(product_service_grpc::server(products))
                .build(),
        ))
}
