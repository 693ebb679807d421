//! The order_service example does real work on the in-memory registry: its
//! smoke mode places and reads orders over both transports through the user
//! and product services, and exits 0 only if every answer was right.

use crate::common::smoke_run;

#[tokio::test]
async fn order_service_smoke_run_succeeds() {
    let stdout = smoke_run(
        "order_service",
        &[
            ("ORDER_HTTP_PORT", "0"),
            ("ORDER_GRPC_PORT", "0"),
            ("REGISTRY", "memory"),
        ],
    )
    .await;
    assert_eq!(stdout.matches("smoke ok:").count(), 8, "{stdout}");
    assert!(
        stdout.contains("order service listening on http://"),
        "{stdout}"
    );
}
