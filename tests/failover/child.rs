//! The greeter server processes: this test binary, run again with
//! [`SERVER_ENV`] set, serves one instance; [`Servers`] starts and kills them.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use kratos::App;
use kratos::grpc::GrpcServer;
use kratos::http::HttpServer;
use kratos::registry::etcd::EtcdRegistry;
use kratos_examples_api::helloworld::v1::greeter_server::Greeter;
use kratos_examples_api::helloworld::v1::{HelloReply, HelloRequest};
use kratos_examples_api::helloworld::v1::{greeter_grpc, greeter_http};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

/// The etcd endpoint a server process registers in; set only for children.
pub(crate) const SERVER_ENV: &str = "KRATOS_FAILOVER_SERVER";
/// The service name a server process registers as.
const SERVICE_ENV: &str = "KRATOS_FAILOVER_SERVICE";
/// The instance id of a server process (also what its greeter answers).
const ID_ENV: &str = "KRATOS_FAILOVER_ID";
/// The line a server prints once it is registered:
/// `KRATOS_FAILOVER_READY <id> <endpoint>...`.
const READY: &str = "KRATOS_FAILOVER_READY";
/// This file's test that serves, as the test harness names it.
const SERVE_TEST: &str = "child::serve_when_asked";
/// The lease TTL of the servers' registrations: a killed server leaves
/// discovery within about this long.
pub(crate) const TTL: Duration = Duration::from_secs(2);

/// In a server process (`SERVER_ENV` set): serves until killed, never
/// returns. In the test run itself: returns at once.
#[test]
fn serve_when_asked() {
    let Ok(etcd) = std::env::var(SERVER_ENV) else {
        return;
    };
    let service = std::env::var(SERVICE_ENV).expect("the service name");
    let id = std::env::var(ID_ENV).expect("the instance id");
    // The parent holds our stdin: when it is gone, so are we.
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(serve(etcd, service, id));
    eprintln!("failover server stopped: {result:?}");
    std::process::exit(1);
}

/// Answers with the instance id, so the caller sees who served it.
#[derive(Debug)]
struct Named(Arc<str>);

#[tonic::async_trait]
impl Greeter for Named {
    async fn say_hello(&self, _req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply {
            message: self.0.to_string(),
        }))
    }
}

async fn serve(etcd: String, service: String, id: String) -> Result<(), kratos::Error> {
    let registry = EtcdRegistry::builder([etcd])
        .ttl(TTL)
        .connect()
        .await
        .map_err(|e| kratos::Error::service_unavailable("ETCD", e.to_string()))?;
    let greeter = Arc::new(Named(id.as_str().into()));
    let grpc = GrpcServer::builder()
        .address(([127, 0, 0, 1], 0))
        .add_service(greeter_grpc::server(greeter.clone()))
        .build();
    let http = HttpServer::builder()
        .address(([127, 0, 0, 1], 0))
        .merge(greeter_http::router(greeter))
        .build();
    App::builder()
        .id(id)
        .name(service)
        .registrar(registry)
        .server(grpc)
        .server(http)
        .after_start(|info| async move {
            println!("{READY} {} {}", info.id(), info.endpoints().join(" "));
            Ok(())
        })
        .build()
        .run()
        .await
}

/// One server process: killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    /// The instance id, which is what it answers.
    pub(crate) id: String,
    /// Its gRPC address, `127.0.0.1:port`.
    pub(crate) grpc: String,
    /// Its HTTP address, `127.0.0.1:port`.
    pub(crate) http: String,
    pid: u32,
    child: Option<Child>,
}

impl Server {
    /// Kills it with SIGKILL and waits until it is gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`"STOP"`, `"CONT"`) with `kill(1)`.
    pub(crate) fn signal(&self, signal: &str) {
        assert!(self.child.is_some(), "{} is not running", self.id);
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid.to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{signal} {}: {status}", self.pid);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `count` server processes of `service` registered in `etcd`, and
/// waits until each has registered. Every process started is killed if this
/// panics.
pub(crate) async fn start(etcd: &str, service: &str, count: usize) -> Vec<Server> {
    let exe = std::env::current_exe().expect("the test binary");
    let mut servers = Vec::with_capacity(count);
    let mut ready = Vec::with_capacity(count);
    for n in 1..=count {
        let id = format!("{service}-{n}");
        let mut child = Command::new(&exe)
            .args([SERVE_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(SERVER_ENV, etcd)
            .env(SERVICE_ENV, service)
            .env(ID_ENV, &id)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the test binary runs again");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = oneshot::channel();
        // Reads the ready line, then drains stdout until the process ends.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The harness's `test … ... ` may precede it on the line.
                if let Some((_, rest)) = line.split_once(READY)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim().to_owned());
                }
            }
        });
        ready.push(rx);
        servers.push(Server {
            id,
            grpc: String::new(),
            http: String::new(),
            pid: child.id(),
            child: Some(child),
        });
    }
    for (server, rx) in servers.iter_mut().zip(ready) {
        let line = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("{} not registered within 30 s", server.id))
            .unwrap_or_else(|_| panic!("{} exited before it registered", server.id));
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some(server.id.as_str()), "{line}");
        for endpoint in words {
            if let Some(address) = endpoint.strip_prefix("grpc://") {
                server.grpc = address.to_owned();
            } else if let Some(address) = endpoint.strip_prefix("http://") {
                server.http = address.to_owned();
            }
        }
        assert!(
            !server.grpc.is_empty() && !server.http.is_empty(),
            "endpoints of {}: {line}",
            server.id
        );
    }
    servers
}
