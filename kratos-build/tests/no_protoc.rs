//! kratos-build needs no `protoc`: the generator runs in a child process whose
//! `PATH` is empty and whose `PROTOC` points nowhere.

use std::path::PathBuf;
use std::process::Command;

const CHILD: &str = "KRATOS_BUILD_NO_PROTOC_CHILD";

#[test]
fn compiles_without_protoc_on_path() {
    if std::env::var_os(CHILD).is_some() {
        assert!(
            Command::new("protoc").arg("--version").output().is_err(),
            "protoc must not be reachable in the child"
        );
        let out = tempfile::tempdir().unwrap();
        let protos = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/api/proto");
        kratos_build::configure()
            .out_dir(out.path())
            .emit_rerun_if_changed(false)
            .compile(
                &[
                    "api/order/v1/order.proto",
                    "helloworld/v1/greeter.proto",
                    "echo/v1/echo.proto",
                ],
                &[protos],
            )
            .unwrap();
        assert!(out.path().join("api.order.v1.rs").exists());
        return;
    }
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "compiles_without_protoc_on_path", "--nocapture"])
        .env(CHILD, "1")
        .env("PATH", "")
        .env("PROTOC", "/nonexistent/protoc")
        .status()
        .unwrap();
    assert!(status.success(), "the child failed: {status}");
}
