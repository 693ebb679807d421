//! `--smoke`: real calls over both transports, checked; the process exits
//! with an error if any answer is wrong.

use kratos::Error;
use kratos_examples_api::api::order::v1::order_service_client::OrderServiceClient;
use kratos_examples_api::api::order::v1::order_service_http::OrderServiceHttpClient;
use kratos_examples_api::api::order::v1::{
    CreateOrderRequest, GetOrderRequest, ListOrdersRequest, OrderItem,
};

fn check(ok: bool, what: &str) -> Result<(), Box<dyn std::error::Error>> {
    if ok {
        println!("smoke ok: {what}");
        Ok(())
    } else {
        Err(format!("smoke failed: {what}").into())
    }
}

pub async fn run(endpoints: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let http_base = endpoints
        .iter()
        .find(|e| e.starts_with("http://"))
        .ok_or("no HTTP endpoint")?;
    let grpc_base = endpoints
        .iter()
        .find(|e| e.starts_with("grpc://"))
        .ok_or("no gRPC endpoint")?
        .replacen("grpc://", "http://", 1);
    let http = OrderServiceHttpClient::new(http_base.clone());
    let mut grpc = OrderServiceClient::connect(grpc_base).await?;

    // Over HTTP: 2 keyboards at the catalogue's price.
    let order = http
        .create_order(CreateOrderRequest {
            user_id: 1,
            items: vec![OrderItem {
                product_id: 1,
                quantity: 2,
                price_cents: 0,
            }],
        })
        .await?;
    check(
        order.total_cents == 2 * 4_999,
        "HTTP CreateOrder priced by the product service",
    )?;

    // Over gRPC: the same order.
    let fetched = grpc
        .get_order(GetOrderRequest {
            id: order.id,
            user_id: 0,
        })
        .await?
        .into_inner();
    check(
        fetched == order,
        "gRPC GetOrder returns the order created over HTTP",
    )?;

    // An unknown user: the user service's 404 reaches the HTTP client.
    let err = http
        .create_order(CreateOrderRequest {
            user_id: 99,
            items: vec![OrderItem {
                product_id: 1,
                quantity: 1,
                price_cents: 0,
            }],
        })
        .await
        .expect_err("user 99 does not exist");
    check(
        err == Error::not_found("USER_NOT_FOUND", ""),
        "unknown user → 404 USER_NOT_FOUND",
    )?;

    let list = http
        .list_orders(ListOrdersRequest {
            user_id: 1,
            ..Default::default()
        })
        .await?;
    check(list.total == 1, "HTTP ListOrders by user")?;

    // The calls above, counted: by the order service and by its clients.
    let metrics = scrape(&format!("{http_base}/metrics")).await?;
    for series in [
        r#"server_requests_code_total{kind="http",operation="/api.order.v1.OrderService/CreateOrder",code="200",reason=""} 1"#,
        r#"server_requests_code_total{kind="http",operation="/api.order.v1.OrderService/CreateOrder",code="404",reason="USER_NOT_FOUND"} 1"#,
        r#"server_requests_code_total{kind="grpc",operation="/api.order.v1.OrderService/GetOrder",code="200",reason=""} 1"#,
        r#"client_requests_code_total{kind="grpc",operation="/api.user.v1.UserService/GetUser",code="404",reason="USER_NOT_FOUND"} 1"#,
    ] {
        check(metrics.lines().any(|l| l == series), series)?;
    }
    Ok(())
}

/// The body of a GET of `url`.
async fn scrape(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<String>();
    let res = client.get(url.parse()?).await?;
    let body = res.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec())?)
}
