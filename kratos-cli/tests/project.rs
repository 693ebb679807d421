//! One generated project, several checks: `kratos new demo` (on this
//! checkout), its own `cargo test`, then `kratos proto add` and `kratos proto
//! server` for two new services, fmt and clippy on the result, and
//! `kratos run`: `/health`, the greeter and the stubs over HTTP and gRPC,
//! then SIGTERM and exit 0.
//!
//! The project builds with this workspace's lock file and target directory,
//! so only its own crate is compiled.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tonic::codegen::http::uri::PathAndQuery;

/// How long the service may take to print its endpoints once built: a
/// bound on a hang, not a measurement.
const READY_BOUND: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// `program args…` in `dir` with the shared target dir, offline; panics
/// with its output unless it succeeds. Returns its stdout.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} in {} failed:\n{stdout}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn kratos() -> &'static str {
    env!("CARGO_BIN_EXE_kratos")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A GET or POST over HTTP/1.1: the status and the body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let body = if method == "GET" { "" } else { "{}" };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The greeter's messages, as the project's proto defines them.
#[derive(Clone, PartialEq, prost::Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

/// An empty message: what the stubs' requests and replies are to the wire
/// (their `id` fields are left unset).
#[derive(Clone, PartialEq, prost::Message)]
struct Empty {}

/// A unary gRPC call of `path` on `addr` (`host:port`).
async fn grpc<Q, R>(addr: &str, path: &'static str, request: Q) -> Result<R, tonic::Status>
where
    Q: prost::Message + Send + Sync + 'static,
    R: prost::Message + Default + Send + Sync + 'static,
{
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<Q, R>::default();
    client
        .unary(
            tonic::Request::new(request),
            PathAndQuery::from_static(path),
            codec,
        )
        .await
        .map(tonic::Response::into_inner)
}

/// Asserts `status` is the stubs' Kratos error, not tonic's answer for a
/// method nobody serves (also UNIMPLEMENTED).
fn assert_not_implemented(status: &tonic::Status) {
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    let error = kratos_core::Error::from_status(status);
    assert_eq!(error.reason(), "NOT_IMPLEMENTED", "{status:?}");
    assert_eq!(error.code(), 501);
}

/// The running service: its endpoints, and its stderr for failures.
struct Service {
    child: Child,
    http: String,
    grpc: String,
}

/// A failing test does not leave the service running.
impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `kratos run` on free ports, ready when it has printed both endpoints.
fn start(dir: &Path) -> Service {
    let mut child = Command::new(kratos())
        .arg("run")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("BIND_HOST", "127.0.0.1")
        .env("HTTP_PORT", "0")
        .env("GRPC_PORT", "0")
        // The lifecycle's warnings only, not a line per call (the 501s are
        // logged as errors).
        .env("RUST_LOG", "kratos_core=warn,kratos_transport=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut http, mut grpc) = (None, None);
    while http.is_none() || grpc.is_none() {
        let line = rx
            .recv_timeout(READY_BOUND)
            .unwrap_or_else(|e| panic!("no `listening on` lines from kratos run: {e}"));
        if let Some(endpoint) = line.strip_prefix("demo listening on ") {
            if let Some(addr) = endpoint.strip_prefix("http://") {
                http = Some(addr.to_owned());
            } else if let Some(addr) = endpoint.strip_prefix("grpc://") {
                grpc = Some(addr.to_owned());
            }
        }
    }
    Service {
        child,
        http: http.unwrap(),
        grpc: grpc.unwrap(),
    }
}

#[test]
fn a_new_project_builds_tests_grows_and_serves() {
    let parent = tempfile::tempdir().unwrap();
    let workspace = workspace();
    let new = run(
        parent.path(),
        kratos(),
        &["new", "demo", "--kratos-path", workspace.to_str().unwrap()],
    );
    assert!(new.contains("created"), "{new}");
    let dir = parent.path().join("demo");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("path = \"{}\"", workspace.display())),
        "{manifest}"
    );
    // The workspace's lock: no new versions, nothing to download.
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    // The project as generated: its own test calls the greeter over both
    // transports.
    let tests = run(&dir, &cargo(), &["test", "--quiet"]);
    assert!(tests.contains("1 passed"), "{tests}");

    // A service in a new package (its module goes into src/api.rs) and one
    // in the greeter's package (nothing to add there), each with a stub.
    let added = run(&dir, kratos(), &["proto", "add", "api/shop/v1/cart.proto"]);
    assert!(
        added.contains("added module shop::v1 to src/api.rs"),
        "{added}"
    );
    run(&dir, kratos(), &["proto", "add", "api/demo/v1/todo.proto"]);
    for proto in ["api/shop/v1/cart.proto", "api/demo/v1/todo.proto"] {
        let server = run(&dir, kratos(), &["proto", "server", proto]);
        assert!(server.contains("registered"), "{server}");
    }
    let cart = std::fs::read_to_string(dir.join("src/service/cart.rs")).unwrap();
    assert!(
        cart.contains("Err(not_implemented(\"CreateCart\"))"),
        "{cart}"
    );
    assert!(!cart.contains("unimplemented!"), "{cart}");

    run(&dir, &cargo(), &["fmt", "--check"]);
    run(
        &dir,
        &cargo(),
        &["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"],
    );
    run(&dir, &cargo(), &["build", "--quiet"]);

    let mut service = start(&dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let (status, body) = http(&service.http, "GET", "/health");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"SERVING"}"#));
    let (status, body) = http(&service.http, "GET", "/helloworld/kratos");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"message":"Hello kratos"}"#)
    );
    let (status, body) = http(&service.http, "GET", "/helloworld/error");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains(r#""reason":"USER_NOT_FOUND""#), "{body}");

    let reply: HelloReply = runtime
        .block_on(grpc(
            &service.grpc,
            "/api.demo.v1.Greeter/SayHello",
            HelloRequest {
                name: "kratos".into(),
            },
        ))
        .unwrap();
    assert_eq!(reply.message, "Hello kratos");

    // The stubs, over both transports, until someone writes them.
    for (method, path) in [
        ("POST", "/shop/v1/cart"),
        ("GET", "/shop/v1/cart/7"),
        ("DELETE", "/demo/v1/todo/7"),
    ] {
        let (status, body) = http(&service.http, method, path);
        assert_eq!(status, 501, "{method} {path}: {body}");
        assert!(body.contains(r#""reason":"NOT_IMPLEMENTED""#), "{body}");
    }
    for path in ["/api.shop.v1.Cart/CreateCart", "/api.demo.v1.Todo/ListTodo"] {
        let status = runtime
            .block_on(grpc::<Empty, Empty>(&service.grpc, path, Empty {}))
            .unwrap_err();
        assert_not_implemented(&status);
    }

    // Our clients' connections close with their runtime, so the drain has
    // nothing to wait for.
    drop(runtime);
    // SIGTERM, by PID: `kratos run` became cargo, which became the service.
    let pid = service.child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    let exit = service.child.wait().unwrap();
    assert!(
        exit.success(),
        "the service exits 0 after SIGTERM: {exit:?}"
    );
}
