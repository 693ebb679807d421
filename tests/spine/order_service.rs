//! The order_service example does real work on the in-memory registry: with
//! no `--conf` it runs the whole shop (user, product, order, gateway) in one
//! process, and its smoke mode logs in, orders, runs out of stock, cancels
//! and reads the gateway's metrics over HTTP, exiting 0 only if every
//! answer was right.

use crate::common::smoke_run;

#[tokio::test]
async fn order_service_smoke_run_succeeds() {
    let stdout = smoke_run("order_service", &[("GATEWAY_PORT", "0")]).await;
    assert_eq!(stdout.matches("smoke ok:").count(), 9, "{stdout}");
    for service in [
        "user service",
        "product service",
        "order service",
        "gateway",
    ] {
        assert!(
            stdout.contains(&format!("{service} listening on http://")),
            "{stdout}"
        );
    }
}
