//! The shop's product service as its own program: the catalogue of its
//! config file and atomic stock reservations over gRPC (reads over HTTP/JSON
//! too), registered as `product`.
//!
//! ```text
//! cargo run --example product_service --features etcd -- --conf examples/configs/product.yaml
//! ```

mod products;
#[path = "../support/mod.rs"]
mod support;

const USAGE: &str = "\
product_service: the shop's catalogue and stock (gRPC + HTTP), registered as `product`

Usage: product_service [--conf FILE]

Options:
  --conf FILE  the config file (default examples/configs/product.yaml);
               its `catalog.products` is what the service sells
  -h, --help   this text";

#[tokio::main]
async fn main() -> Result<(), support::BoxError> {
    let boot = support::Boot::new(USAGE, "configs/product.yaml", "product").await?;
    support::serve(
        products::app(&boot.config, &boot.registry)?,
        "product service",
    )
    .await
}
