//! The custom_middleware example: one user-written `Middleware` type runs on
//! the HTTP server, the gRPC server, a `GrpcChannel` and an `HttpClient`.

use std::time::Duration;

use tokio::process::Command;

use crate::common::example;

#[tokio::test]
async fn one_user_middleware_runs_on_all_four_sides() {
    let run = Command::new(example("custom_middleware"))
        .arg("--smoke")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the smoke run finishes")
        .expect("the custom_middleware example is built by `cargo test`");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for call in [
        "client grpc /helloworld.v1.Greeter/SayHello",
        "server grpc /helloworld.v1.Greeter/SayHello",
        "client http /hello/http",
        "server http /hello/{name}",
    ] {
        assert!(stdout.contains(call), "{call} not audited:\n{stdout}");
    }
    assert!(
        stdout.contains("HTTP without a key: 401 API_KEY_MISSING"),
        "{stdout}"
    );
    assert!(stdout.contains("smoke ok:"), "{stdout}");
}
