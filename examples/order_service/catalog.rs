//! The user and product services the order service calls: small in-memory
//! catalogues, each served over gRPC and HTTP from one implementation.

use kratos::Error;
use kratos_examples_api::api::product::v1::product_service_server::ProductService;
use kratos_examples_api::api::product::v1::{
    ErrorReason as ProductError, GetProductRequest, Product,
};
use kratos_examples_api::api::user::v1::user_service_server::UserService;
use kratos_examples_api::api::user::v1::{ErrorReason as UserError, GetUserRequest, User};
use tonic::{Request, Response, Status};

/// Users 1–3.
#[derive(Debug, Default)]
pub struct Users;

#[tonic::async_trait]
impl UserService for Users {
    async fn get_user(&self, req: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        let id = req.into_inner().id;
        let (name, email) = match id {
            1 => ("Ada", "ada@example.com"),
            2 => ("Grace", "grace@example.com"),
            3 => ("Linus", "linus@example.com"),
            _ => {
                let err: Error = UserError::UserNotFound
                    .error(format!("user {id} not found"))
                    .with_metadata("id", id.to_string());
                return Err(err.into());
            }
        };
        Ok(Response::new(User {
            id,
            name: name.into(),
            email: email.into(),
        }))
    }
}

/// Products 1–4 with their prices; product 4 is out of stock.
#[derive(Debug, Default)]
pub struct Products;

#[tonic::async_trait]
impl ProductService for Products {
    async fn get_product(
        &self,
        req: Request<GetProductRequest>,
    ) -> Result<Response<Product>, Status> {
        let id = req.into_inner().id;
        let (name, price_cents, stock) = match id {
            1 => ("keyboard", 4_999, 12),
            2 => ("mouse", 1_999, 40),
            3 => ("monitor", 18_900, 3),
            4 => ("webcam", 5_900, 0),
            _ => {
                let err: Error = ProductError::ProductNotFound
                    .error(format!("product {id} not found"))
                    .with_metadata("id", id.to_string());
                return Err(err.into());
            }
        };
        Ok(Response::new(Product {
            id,
            name: name.into(),
            price_cents,
            stock,
        }))
    }
}
