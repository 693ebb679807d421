//! One example program of the shop as a child process: started with its
//! config and loopback-only, free ports, ready once it has printed its
//! endpoints, and stopped by signal.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The port variables of every shop config, all set to 0 (a free port).
const PORTS: [&str; 9] = [
    "USER_HTTP_PORT",
    "USER_GRPC_PORT",
    "PRODUCT_HTTP_PORT",
    "PRODUCT_GRPC_PORT",
    "ORDER_HTTP_PORT",
    "ORDER_GRPC_PORT",
    "GATEWAY_PORT",
    "CHAT_HTTP_PORT",
    "CHAT_GRPC_PORT",
];

/// Taken by each test for its whole run: the tests start several programs
/// and load them, and on 2 cores running them at once would measure the
/// machine, not the shop.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// A running example program; killed when dropped.
pub struct Program {
    name: String,
    child: Child,
    /// What it printed as `{service} listening on {endpoint}`.
    listening: Vec<(String, String)>,
}

impl Program {
    /// Starts example `name` with `args` and `env` (on 127.0.0.1, free
    /// ports, warnings only) and waits until it printed `endpoints`
    /// `listening on` lines.
    pub async fn start(name: &str, args: &[&str], env: &[(&str, &str)], endpoints: usize) -> Self {
        let mut child = Command::new(kratos_testing::example_binary(name))
            .args(args)
            .env("RUST_LOG", "warn")
            .env("BIND_HOST", "127.0.0.1")
            .envs(PORTS.map(|p| (p, "0")))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("the {name} example is built by `cargo test`: {e}"));
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let mut found = Vec::new();
        let ready = async {
            while found.len() < endpoints {
                match lines.next_line().await.expect("its stdout") {
                    Some(line) => {
                        if let Some((service, endpoint)) = line.split_once(" listening on ") {
                            found.push((service.to_owned(), endpoint.to_owned()));
                        }
                    }
                    None => panic!(
                        "{name} exited before it was ready: {:?}",
                        child.wait().await
                    ),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .unwrap_or_else(|_| panic!("{name} printed its endpoints within a minute"));
        // Keep reading, so the program never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            name: name.to_owned(),
            child,
            listening: found,
        }
    }

    fn endpoint(&self, service: Option<&str>, scheme: &str) -> String {
        self.listening
            .iter()
            .find(|(s, e)| service.is_none_or(|want| want == s) && e.starts_with(scheme))
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| {
                panic!(
                    "{} has a {scheme} endpoint: {:?}",
                    self.name, self.listening
                )
            })
    }

    /// Its (first) HTTP endpoint, `http://127.0.0.1:port`.
    pub fn http(&self) -> String {
        self.endpoint(None, "http://")
    }

    /// The HTTP endpoint of `service` (`gateway`) in a program of several.
    pub fn http_of(&self, service: &str) -> String {
        self.endpoint(Some(service), "http://")
    }

    /// Its gRPC endpoint as tonic dials it, `http://127.0.0.1:port`.
    pub fn grpc(&self) -> String {
        self.endpoint(None, "grpc://")
            .replacen("grpc://", "http://", 1)
    }

    /// SIGKILL, then waits until it is gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("killed");
    }

    /// SIGTERM: the program drains and exits by itself.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill(1)");
        assert!(sent.success(), "SIGTERM sent to {}", self.name);
    }

    /// Waits (at most a minute) for it to exit.
    pub async fn exit(&mut self) -> ExitStatus {
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} exits within a minute", self.name))
            .expect("its exit status")
    }
}
