//! The commands that write files refuse to overwrite one, say so, and
//! change nothing (no cargo build here).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn kratos(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kratos"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Every file under `dir` and its contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn new_refuses_an_existing_directory_and_changes_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let before = snapshot(parent.path());

    let out = kratos(parent.path(), &["new", "demo"]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("already exists"), "{message}");
    assert!(message.contains("changed nothing"), "{message}");
    assert_eq!(snapshot(parent.path()), before);

    // The same through --path.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = kratos(
        elsewhere.path(),
        &["new", "demo", "--path", parent.path().to_str().unwrap()],
    );
    assert!(!out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot(parent.path()), before);
    assert!(snapshot(elsewhere.path()).is_empty());
}

#[test]
fn new_writes_the_layout() {
    let parent = tempfile::tempdir().unwrap();
    let out = kratos(parent.path(), &["new", "shop", "--registry", "etcd"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = snapshot(&parent.path().join("shop"));
    for path in [
        "Cargo.toml",
        "build.rs",
        "README.md",
        "Dockerfile",
        "api/shop/v1/greeter.proto",
        "configs/config.yaml",
        "deploy/k8s/kustomization.yaml",
        "deploy/k8s/deployment.yaml",
        "src/main.rs",
        "src/lib.rs",
        "src/api.rs",
        "src/conf.rs",
        "src/service/greeter.rs",
        "src/biz/greeter.rs",
        "src/data/greeter.rs",
        "src/server/mod.rs",
        "tests/greeter.rs",
    ] {
        assert!(files.contains_key(path), "no {path}: {:?}", files.keys());
    }
    let manifest = String::from_utf8_lossy(&files["Cargo.toml"]).into_owned();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        manifest.contains(&format!(
            "kratos-rs = {{ version = \"{version}\", features = [\"etcd\"] }}"
        )),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!("kratos-build = {{ version = \"{version}\" }}")),
        "{manifest}"
    );
}

#[test]
fn proto_add_and_server_refuse_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = kratos(dir.path(), &["proto", "add", "api/shop/v1/cart.proto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    fs::write(dir.path().join("api/shop/v1/cart.proto"), "// mine\n").unwrap();
    refuses_and_changes_nothing(dir.path(), &["proto", "add", "api/shop/v1/cart.proto"]);

    let out = kratos(dir.path(), &["proto", "add", "api/shop/v1/order.proto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    fs::create_dir_all(dir.path().join("src/service")).unwrap();
    fs::write(dir.path().join("src/service/order.rs"), "// mine\n").unwrap();
    refuses_and_changes_nothing(dir.path(), &["proto", "server", "api/shop/v1/order.proto"]);
}

/// Runs `kratos ARGS` in `dir`: it fails saying it never overwrites, and
/// every file of `dir` is as it was.
fn refuses_and_changes_nothing(dir: &Path, args: &[&str]) {
    let before = snapshot(dir);
    let out = kratos(dir, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        stderr(&out).contains("never overwrites"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(dir), before, "{args:?} changed files");
}

#[test]
fn proto_server_outside_a_project_prints_the_wiring() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        kratos(dir.path(), &["proto", "add", "api/shop/v1/cart.proto"])
            .status
            .success()
    );
    let out = kratos(
        dir.path(),
        &[
            "proto",
            "server",
            "api/shop/v1/cart.proto",
            "-t",
            "src/handlers",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("add `pub mod cart;`"), "{stdout}");
    assert!(
        stdout.contains("crate::handlers::cart::CartService::new()"),
        "{stdout}"
    );
    assert!(dir.path().join("src/handlers/cart.rs").is_file());
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = kratos(dir.path(), &["proto", "add", "protos/cart.proto"]);
    assert!(stderr(&out).contains("under api/"), "{}", stderr(&out));
    let out = kratos(dir.path(), &["proto", "server", "api/none/v1/x.proto"]);
    assert!(
        stderr(&out).contains("kratos proto add"),
        "{}",
        stderr(&out)
    );
    let out = kratos(dir.path(), &["run"]);
    assert!(
        stderr(&out).contains("no Cargo.toml here"),
        "{}",
        stderr(&out)
    );
    let out = kratos(dir.path(), &["new", "Bad Name"]);
    assert!(
        stderr(&out).contains("not a project name"),
        "{}",
        stderr(&out)
    );
    let out = kratos(dir.path(), &["new", "x", "--kratos-path", "/"]);
    assert!(
        stderr(&out).contains("not a kratos-rs checkout"),
        "{}",
        stderr(&out)
    );
    for args in [
        &["--help"][..],
        &["new", "--help"],
        &["proto", "--help"],
        &["proto", "add", "--help"],
        &["proto", "server", "--help"],
        &["run", "--help"],
    ] {
        let out = kratos(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}
