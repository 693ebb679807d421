//! `--smoke`: the calls `order_service` prints, made through the gateway and
//! checked; the process exits with an error if any answer is wrong.

use serde_json::json;

use crate::support::BoxError;
use crate::support::client::Api;

fn check(ok: bool, what: &str) -> Result<(), BoxError> {
    if ok {
        println!("smoke ok: {what}");
        Ok(())
    } else {
        Err(format!("smoke failed: {what}").into())
    }
}

/// The stock of product `id`, read through the gateway.
async fn stock(api: &Api, id: u32) -> Result<i64, BoxError> {
    let product = api.get(&format!("/api/v1/products/{id}")).await?;
    product.body["stock"]
        .as_i64()
        .ok_or_else(|| format!("no stock in {}", product.text).into())
}

pub async fn run(base: &str) -> Result<(), BoxError> {
    let api = Api::new(base);

    let login = api
        .post(
            "/api/v1/login",
            json!({"username": "alice", "password": "alice-password"}),
        )
        .await?;
    let token = login.body["token"].as_str().unwrap_or_default().to_owned();
    check(
        login.status == 200 && !token.is_empty(),
        "login as the demo user alice",
    )?;
    let alice = api.with_token(&token);

    let before = stock(&api, 3).await?;
    let order = alice
        .post(
            "/api/v1/orders",
            json!({"items": [{"productId": "3", "quantity": 2}]}),
        )
        .await?;
    check(
        order.status == 200
            && order.body["totalCents"] == json!("37800")
            && order.body["status"] == json!("ORDER_STATUS_PENDING"),
        "CreateOrder: 2 monitors at the catalogue's price, pending",
    )?;
    check(
        stock(&api, 3).await? == before - 2,
        "the order took 2 monitors from stock",
    )?;

    let id = order.body["id"].as_str().unwrap_or_default().to_owned();
    let listed = alice.get("/api/v1/orders?page=1&pageSize=10").await?;
    check(
        listed.body["orders"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["id"] == json!(id))),
        "ListOrders shows the order",
    )?;

    let out = alice
        .post(
            "/api/v1/orders",
            json!({"items": [{"productId": "1", "quantity": 1}, {"productId": "4", "quantity": 1}]}),
        )
        .await?;
    check(
        out.status == 409 && out.reason() == "OUT_OF_STOCK",
        "an out-of-stock item: 409 OUT_OF_STOCK",
    )?;

    let cancelled = alice
        .post(&format!("/api/v1/orders/{id}/cancel"), json!({}))
        .await?;
    check(
        cancelled.body["status"] == json!("ORDER_STATUS_CANCELLED")
            && stock(&api, 3).await? == before,
        "CancelOrder gives the stock back",
    )?;
    let again = alice
        .post(&format!("/api/v1/orders/{id}/cancel"), json!({}))
        .await?;
    check(
        again.status == 409 && again.reason() == "INVALID_TRANSITION",
        "cancelling twice: 409 INVALID_TRANSITION",
    )?;

    let anonymous = api.get("/api/v1/orders").await?;
    check(
        anonymous.status == 401 && anonymous.reason() == "UNAUTHORIZED",
        "no token: 401 UNAUTHORIZED",
    )?;

    let metrics = api.get("/metrics").await?;
    let wanted = r#"server_requests_code_total{kind="http",operation="/api.gateway.v1.Gateway/CreateOrder",code="409",reason="OUT_OF_STOCK"} 1"#;
    let counted = metrics.text.lines().any(|l| l == wanted);
    if !counted {
        eprintln!("wanted {wanted} in:\n{}", metrics.text);
    }
    check(counted, "the gateway's metrics count the 409")?;
    Ok(())
}
