//! The gateway: the shop's public JSON API over HTTP, each route forwarding
//! to the user, product or order service over gRPC through discovery
//! (smooth weighted round-robin, a circuit breaker and retries of the calls
//! safe to repeat on each client). Login issues an HS256 JWT; the routes
//! that need one check it (`JwtLayer` bound to those operations), and the
//! order routes act for the token's user only. CORS (tower-http) and a
//! token-bucket rate limit sit in front of everything.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kratos::config::Config;
use kratos::grpc::GrpcChannel;
use kratos::middleware::auth::jwt::{Algorithm, JwtLayer, SigningKey};
use kratos::middleware::ratelimit::RateLimitLayer;
use kratos::middleware::{Matcher, when};
use kratos::{App, AppBuilder, Error};
use kratos_examples_api::api::gateway::v1::gateway_server::Gateway;
use kratos_examples_api::api::gateway::v1::{LoginReply, LoginRequest, OrderRequest, gateway_http};
use kratos_examples_api::api::order::v1::order_service_client::OrderServiceClient;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, GetOrderRequest, ListOrdersReply, ListOrdersRequest, Order, OrderStatus,
    UpdateOrderStatusRequest,
};
use kratos_examples_api::api::product::v1::product_service_client::ProductServiceClient;
use kratos_examples_api::api::product::v1::{
    GetProductRequest, ListProductsReply, ListProductsRequest, Product,
};
use kratos_examples_api::api::user::v1::user_service_client::UserServiceClient;
use kratos_examples_api::api::user::v1::{
    CreateUserRequest, GetUserRequest, ListUsersReply, ListUsersRequest, User,
    VerifyPasswordRequest,
};
use serde::{Deserialize, Serialize};
use tonic::{Request, Response, Status};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::support::{self, BoxError, Registry};

/// The `gateway` config section.
#[derive(Debug, Deserialize)]
pub struct GatewayConf {
    /// The HTTP server's address (`:8000`).
    pub http: std::net::SocketAddr,
    /// The HS256 key of the tokens; from a secret in a deployment.
    pub jwt_secret: String,
    /// How long a token is valid, in seconds (default one hour).
    #[serde(default = "default_token_ttl")]
    pub token_ttl_seconds: u64,
    /// Requests per second admitted, after a burst of `burst`.
    pub rate_limit: RateLimitConf,
    /// The origins browsers may call from; `*` for any.
    #[serde(default)]
    pub cors_origins: Vec<String>,
}

fn default_token_ttl() -> u64 {
    3600
}

/// The gateway's token bucket.
#[derive(Debug, Deserialize)]
pub struct RateLimitConf {
    pub rate: f64,
    pub burst: u32,
}

/// The claims of a gateway token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The username, for logs.
    pub name: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// The operations that take no token.
fn public() -> Matcher {
    support::operations(
        "/api.gateway.v1.Gateway/",
        &["Register", "Login", "GetProduct", "ListProducts"],
    )
}

/// The user a validated token names (the JWT layer put its claims in the
/// request).
fn user_of<T>(req: &Request<T>) -> Result<i64, Status> {
    let claims = req
        .extensions()
        .get::<Claims>()
        .ok_or_else(|| Status::from(Error::unauthorized("UNAUTHORIZED", "a token is required")))?;
    claims.sub.parse().map_err(|_| {
        Status::from(Error::unauthorized(
            "UNAUTHORIZED",
            "the token names no user",
        ))
    })
}

/// A downstream error, passed on as the same Kratos error.
fn forward(status: Status) -> Status {
    Error::from_status(&status).into()
}

/// The gateway's clients and token key.
pub struct Shop {
    users: UserServiceClient<GrpcChannel>,
    products: ProductServiceClient<GrpcChannel>,
    orders: OrderServiceClient<GrpcChannel>,
    key: SigningKey,
    token_ttl: Duration,
}

#[tonic::async_trait]
impl Gateway for Shop {
    async fn register(&self, req: Request<CreateUserRequest>) -> Result<Response<User>, Status> {
        self.users
            .clone()
            .create_user(req.into_inner())
            .await
            .map_err(forward)
    }

    async fn login(&self, req: Request<LoginRequest>) -> Result<Response<LoginReply>, Status> {
        let req = req.into_inner();
        let user = self
            .users
            .clone()
            .verify_password(VerifyPasswordRequest {
                username: req.username,
                password: req.password,
            })
            .await
            .map_err(forward)?
            .into_inner();
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + self.token_ttl.as_secs();
        let claims = Claims {
            sub: user.id.to_string(),
            name: user.username,
            exp,
        };
        let token = self.key.sign(&claims)?;
        Ok(Response::new(LoginReply { token }))
    }

    async fn get_user(&self, req: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        self.users
            .clone()
            .get_user(req.into_inner())
            .await
            .map_err(forward)
    }

    async fn list_users(
        &self,
        req: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersReply>, Status> {
        self.users
            .clone()
            .list_users(req.into_inner())
            .await
            .map_err(forward)
    }

    async fn get_product(
        &self,
        req: Request<GetProductRequest>,
    ) -> Result<Response<Product>, Status> {
        self.products
            .clone()
            .get_product(req.into_inner())
            .await
            .map_err(forward)
    }

    async fn list_products(
        &self,
        req: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsReply>, Status> {
        self.products
            .clone()
            .list_products(req.into_inner())
            .await
            .map_err(forward)
    }

    async fn create_order(
        &self,
        req: Request<CreateOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        let user_id = user_of(&req)?;
        let order = CreateOrderRequest {
            user_id,
            ..req.into_inner()
        };
        self.orders
            .clone()
            .create_order(order)
            .await
            .map_err(forward)
    }

    async fn get_order(&self, req: Request<OrderRequest>) -> Result<Response<Order>, Status> {
        let user_id = user_of(&req)?;
        let id = req.into_inner().id;
        self.orders
            .clone()
            .get_order(GetOrderRequest { id, user_id })
            .await
            .map_err(forward)
    }

    async fn list_orders(
        &self,
        req: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersReply>, Status> {
        let user_id = user_of(&req)?;
        let list = ListOrdersRequest {
            user_id,
            ..req.into_inner()
        };
        self.orders.clone().list_orders(list).await.map_err(forward)
    }

    async fn cancel_order(&self, req: Request<OrderRequest>) -> Result<Response<Order>, Status> {
        let user_id = user_of(&req)?;
        let id = req.into_inner().id;
        let mut orders = self.orders.clone();
        // Only the owner may cancel: the same 404 as a missing order.
        orders
            .get_order(GetOrderRequest { id, user_id })
            .await
            .map_err(forward)?;
        let reply = orders
            .update_order_status(UpdateOrderStatusRequest {
                id,
                status: OrderStatus::Cancelled as i32,
            })
            .await
            .map_err(forward)?
            .into_inner();
        reply.order.map(Response::new).ok_or_else(|| {
            Status::from(Error::internal_server(
                "EMPTY_REPLY",
                "no order in the reply",
            ))
        })
    }
}

fn cors(origins: &[String]) -> Result<CorsLayer, BoxError> {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .map(|o| o.parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("gateway.cors_origins: {e}"))?,
        )
    };
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::AUTHORIZATION, http::header::CONTENT_TYPE]))
}

/// The gateway's App: HTTP only, registered as `gateway`.
pub async fn app(config: &Config, registry: &Registry) -> Result<AppBuilder, BoxError> {
    let conf: GatewayConf = support::section(config, "gateway")?;
    let shop = Arc::new(Shop {
        users: UserServiceClient::new(
            support::channel(
                registry,
                "user",
                support::operations(
                    "/api.user.v1.UserService/",
                    &["GetUser", "ListUsers", "VerifyPassword"],
                ),
            )
            .await?,
        ),
        // Every product call the gateway makes is a read.
        products: ProductServiceClient::new(
            support::channel(
                registry,
                "product",
                Matcher::prefix("/api.product.v1.ProductService/"),
            )
            .await?,
        ),
        orders: OrderServiceClient::new(
            support::channel(
                registry,
                "order",
                support::operations("/api.order.v1.OrderService/", &["GetOrder", "ListOrders"]),
            )
            .await?,
        ),
        key: SigningKey::secret(Algorithm::HS256, conf.jwt_secret.as_bytes())?,
        token_ttl: Duration::from_secs(conf.token_ttl_seconds),
    });
    let http = support::http_server(conf.http)
        .merge(gateway_http::router(shop))
        .layer(when(
            public().not(),
            JwtLayer::<Claims>::hs256(conf.jwt_secret.as_bytes()),
        ))
        .layer(RateLimitLayer::token_bucket(
            conf.rate_limit.rate,
            conf.rate_limit.burst,
        ))
        .layer(cors(&conf.cors_origins)?)
        .build();
    Ok(App::builder()
        .name("gateway")
        .version("v1.0.0")
        .registrar_arc(Some(registry.registrar.clone()))
        .server(http))
}
