//! The shop's API gateway as its own program: a JSON API on `:8000`
//! forwarding to `discovery:///user`, `discovery:///product` and
//! `discovery:///order` over gRPC, with JWT auth, CORS and rate limiting.
//!
//! ```text
//! cargo run --example gateway --features etcd -- --conf examples/configs/gateway.yaml
//! ```

#[allow(clippy::module_inception)]
mod gateway;
#[path = "../support/mod.rs"]
mod support;

const USAGE: &str = "\
gateway: the shop's JSON API (HTTP), forwarding to the user, product and order services

Usage: gateway [--conf FILE]

Options:
  --conf FILE  the config file (default examples/configs/gateway.yaml)
  -h, --help   this text";

#[tokio::main]
async fn main() -> Result<(), support::BoxError> {
    let boot = support::Boot::new(USAGE, "configs/gateway.yaml", "gateway").await?;
    support::serve(gateway::app(&boot.config, &boot.registry).await?, "gateway").await
}
