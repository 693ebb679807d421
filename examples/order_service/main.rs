//! The shop's order service, and with no `--conf`, the whole shop in one
//! process.
//!
//! `cargo run --example order_service` starts the user, product and order
//! services and the gateway in this process on the in-memory registry (no
//! server to install), seeds demo users and products, prints the gateway's
//! address and `curl`s to try, and serves until Ctrl-C; on stop it drains
//! the gateway, then the order service, then their dependencies, so no
//! accepted call fails. `--smoke` runs the printed calls, checks the
//! answers and exits.
//!
//! `cargo run --example order_service --features etcd -- --conf
//! examples/configs/order.yaml` runs the order service alone, registered in
//! the registry of that file, calling `discovery:///user` and
//! `discovery:///product`.

#[path = "../gateway/gateway.rs"]
mod gateway;
mod orders;
#[path = "../product_service/products.rs"]
mod products;
mod smoke;
#[path = "../user_service/store.rs"]
mod store;
#[path = "../support/mod.rs"]
mod support;
#[path = "../user_service/users.rs"]
mod users;

use kratos::RunningApp;

use support::{Boot, BoxError};

const USAGE: &str = "\
order_service: the shop's orders; with no --conf, the whole shop in one process

Usage: order_service [--conf FILE] [--smoke]

Options:
  --conf FILE  run the order service alone with this config file
               (such as examples/configs/order.yaml)
  --smoke      (whole shop) run the printed calls, check the answers, exit
  -h, --help   this text

With no --conf: user, product, order and the gateway in this process on the
in-memory registry, configured by examples/order_service/config.yaml.";

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let boot = Boot::new(USAGE, "order_service/config.yaml", "order").await?;
    if boot.cli.conf.is_some() {
        return support::serve(
            orders::app(&boot.config, &boot.registry).await?,
            "order service",
        )
        .await;
    }
    whole_shop(&boot).await
}

/// The four services in this process. The gateway alone listens for
/// SIGINT/SIGTERM; once it has drained, the others stop in dependency order.
async fn whole_shop(boot: &Boot) -> Result<(), BoxError> {
    let (config, registry) = (&boot.config, &boot.registry);
    let user = support::start(
        users::app(config, registry).await?.signals([]),
        "user service",
    )
    .await?;
    let product = support::start(
        products::app(config, registry)?.signals([]),
        "product service",
    )
    .await?;
    let order = support::start(
        orders::app(config, registry).await?.signals([]),
        "order service",
    )
    .await?;
    let gateway = support::start(gateway::app(config, registry).await?, "gateway").await?;
    let base = local_base(&gateway)?;
    if boot.cli.smoke {
        let outcome = smoke::run(&base).await;
        gateway.stop_handle().stop();
        stop_in_order(gateway, order, product, user).await?;
        return outcome;
    }
    println!("{}", try_it(&base));
    stop_in_order(gateway, order, product, user).await
}

/// Waits for the gateway to stop (a signal, or `stop_handle`), then stops
/// what it calls, callers first.
async fn stop_in_order(
    gateway: RunningApp,
    order: RunningApp,
    product: RunningApp,
    user: RunningApp,
) -> Result<(), BoxError> {
    gateway.wait().await?;
    tracing::info!("gateway stopped; stopping the order service");
    order.stop().await?;
    tracing::info!("order service stopped; stopping the product and user services");
    product.stop().await?;
    user.stop().await?;
    Ok(())
}

/// `http://127.0.0.1:PORT` of the gateway's HTTP endpoint.
fn local_base(gateway: &RunningApp) -> Result<String, BoxError> {
    let endpoint = gateway
        .endpoints()
        .iter()
        .find(|e| e.starts_with("http://"))
        .ok_or("the gateway has no HTTP endpoint")?;
    let port = endpoint.rsplit(':').next().unwrap_or("8000");
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The calls to paste into a shell.
fn try_it(base: &str) -> String {
    format!(
        r#"
The shop is up; its gateway is {base}. Try:

  curl -s {base}/api/v1/products
  TOKEN=$(curl -s -XPOST {base}/api/v1/login -H 'content-type: application/json' -d '{{"username":"alice","password":"alice-password"}}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  curl -s -XPOST {base}/api/v1/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{{"items":[{{"productId":"3","quantity":2}}]}}'
  curl -s '{base}/api/v1/orders?page=1&pageSize=10' -H "authorization: Bearer $TOKEN"
  curl -s {base}/api/v1/products/3   # the monitor: 20 in stock, 2 fewer per order
  curl -s {base}/metrics

Ctrl-C stops it (the gateway drains first)."#
    )
}
