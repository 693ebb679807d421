//! The order_service example does real work on the in-memory registry: its
//! smoke mode places and reads orders over both transports through the user
//! and product services, and exits 0 only if every answer was right.

use std::time::Duration;

use tokio::process::Command;

use crate::common::example;

#[tokio::test]
async fn order_service_smoke_run_succeeds() {
    let run = Command::new(example("order_service"))
        .arg("--smoke")
        .env("ORDER_HTTP_PORT", "0")
        .env("ORDER_GRPC_PORT", "0")
        .env("REGISTRY", "memory")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the smoke run finishes")
        .expect("the order_service example is built by `cargo test`");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.matches("smoke ok:").count(), 8, "{stdout}");
    assert!(
        stdout.contains("order service listening on http://"),
        "{stdout}"
    );
}
