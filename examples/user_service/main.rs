//! The shop's user service as its own program: registration, lookup and
//! password checks over gRPC and HTTP/JSON, registered as `user`.
//!
//! ```text
//! cargo run --example user_service --features etcd -- --conf examples/configs/user.yaml
//! ```

mod store;
#[path = "../support/mod.rs"]
mod support;
mod users;

const USAGE: &str = "\
user_service: the shop's users (gRPC + HTTP), registered as `user`

Usage: user_service [--conf FILE]

Options:
  --conf FILE  the config file (default examples/configs/user.yaml)
  -h, --help   this text";

#[tokio::main]
async fn main() -> Result<(), support::BoxError> {
    let boot = support::Boot::new(USAGE, "configs/user.yaml", "user").await?;
    support::serve(
        users::app(&boot.config, &boot.registry).await?,
        "user service",
    )
    .await
}
