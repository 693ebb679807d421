//! SIGTERM makes the helloworld example exit 0 within its stop timeout.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn sigterm_stops_helloworld_with_exit_0() {
    let mut child = Command::new(kratos_testing::example_binary("helloworld"))
        .args(["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the helloworld example is built by `cargo test`");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut endpoints = Vec::new();
    while endpoints.len() < 2 {
        let line = lines.next_line().await.unwrap().expect("example output");
        if let Some(endpoint) = line.strip_prefix("listening on ") {
            endpoints.push(endpoint.to_owned());
        }
    }
    let (status, body) = crate::common::fetch(&format!("{}/helloworld/kratos", endpoints[0])).await;
    assert_eq!(
        (status.as_u16(), body.as_str()),
        (200, r#"{"message":"Hello kratos"}"#)
    );

    let pid = child.id().unwrap();
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    // The default stop timeout is 10 s; allow that plus process teardown.
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("exited within the stop timeout")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}
