//! A real `etcd` child process for tests.

use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::TestCa;

/// How long [`EtcdServer`] waits for `/health` to say `true`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A real single-member `etcd` on free loopback ports with a temporary data
/// directory; killed (SIGKILL) when dropped.
///
/// Started with fast raft timings (`--heartbeat-interval 10
/// --election-timeout 100`) so it is ready in about 0.1 s.
///
/// [`EtcdServer::start`] serves clients over plain HTTP;
/// [`EtcdServer::start_tls`] serves them over TLS (`https://`) with a
/// server certificate for `127.0.0.1` signed by a throwaway [`TestCa`], whose
/// certificate a client must trust ([`EtcdServer::ca_pem`]). Both modes
/// also serve `/health` and `/metrics` on a plain-HTTP loopback port
/// (`--listen-metrics-urls`), which is what readiness is checked on, so one
/// probe works for both.
#[derive(Debug)]
pub struct EtcdServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    metrics_port: u16,
    tls: Option<ServerTls>,
}

/// The certificate files of a TLS-mode [`EtcdServer`], in its temp dir.
#[derive(Debug)]
struct ServerTls {
    ca: TestCa,
    cert: PathBuf,
    key: PathBuf,
}

impl ServerTls {
    fn generate(dir: &Path) -> io::Result<Self> {
        let ca = TestCa::generate_in(dir)?;
        let (cert, key) = ca.issue_server_cert(dir, "server")?;
        Ok(Self { ca, cert, key })
    }
}

impl EtcdServer {
    /// Starts etcd and waits until it is healthy.
    ///
    /// # Panics
    ///
    /// If etcd cannot be started; the message says how to install it when
    /// the binary is missing. Use [`EtcdServer::try_start`] to get the error.
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts etcd and waits until it is healthy, or says why it could not.
    pub async fn try_start() -> io::Result<Self> {
        Self::try_start_with(false).await
    }

    /// Starts etcd serving clients over TLS at `https://127.0.0.1:<port>`
    /// and waits until it is healthy.
    ///
    /// A throwaway CA and a server certificate for `127.0.0.1`
    /// (subjectAltName `IP:127.0.0.1`, `DNS:localhost`) are made with the
    /// `openssl` CLI in etcd's temp dir; clients are not asked for a
    /// certificate (`--client-cert-auth=false`). Trust [`EtcdServer::ca_pem`]
    /// to connect.
    ///
    /// # Panics
    ///
    /// If etcd cannot be started or the certificates cannot be made; the
    /// message says what to install when `etcd` or `openssl` is missing. Use
    /// [`EtcdServer::try_start_tls`] to get the error.
    pub async fn start_tls() -> Self {
        match Self::try_start_tls().await {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`EtcdServer::start_tls`], but says why it could not start.
    pub async fn try_start_tls() -> io::Result<Self> {
        Self::try_start_with(true).await
    }

    async fn try_start_with(tls: bool) -> io::Result<Self> {
        let mut last = None;
        // A free port found by binding :0 can be taken by someone else before
        // etcd binds it; try a few times with new ports.
        for _ in 0..3 {
            let dir = tempfile::Builder::new().prefix("kratos-etcd-").tempdir()?;
            let tls = if tls {
                Some(ServerTls::generate(dir.path())?)
            } else {
                None
            };
            let mut server = Self {
                child: None,
                dir,
                client_port: free_port()?,
                peer_port: free_port()?,
                metrics_port: free_port()?,
                tls,
            };
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The client URL, e.g. `http://127.0.0.1:40123`, or
    /// `https://127.0.0.1:40123` in TLS mode.
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }

    /// Whether clients are served over TLS ([`EtcdServer::start_tls`]).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The PEM certificate of the CA that signed the server certificate, in
    /// TLS mode; what a client must trust. `None` in plain mode.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|t| t.ca.cert_pem())
    }

    /// The path of that CA certificate (PEM file) in TLS mode, e.g. for
    /// `etcdctl --cacert`. `None` in plain mode.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca.cert_path())
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.client_port
    }

    /// The current data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Whether the etcd process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills etcd with SIGKILL (a crash: nothing is flushed) and reaps it.
    /// The data directory is kept. A no-op when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops etcd gracefully (SIGTERM, then SIGKILL after 5 s) and reaps it.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let terminated = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if terminated {
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Restarts etcd on the same data directory and the same ports (killing
    /// it first if it runs), and waits until it is healthy.
    ///
    /// # Panics
    ///
    /// If etcd does not become healthy.
    pub async fn restart(&mut self) {
        self.kill();
        if let Err(e) = self.spawn_and_wait().await {
            panic!("restarting etcd: {e}");
        }
    }

    /// Restarts etcd on the same ports with a **new, empty** data directory
    /// (all state lost), and waits until it is healthy. In TLS mode the
    /// certificates (and so the CA clients trust) stay the same.
    ///
    /// # Panics
    ///
    /// If etcd does not become healthy.
    pub async fn restart_fresh(&mut self) {
        self.kill();
        match std::fs::remove_dir_all(self.data_dir()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => panic!("removing etcd's data dir: {e}"),
        }
        if let Err(e) = self.spawn_and_wait().await {
            panic!("restarting etcd with a fresh data dir: {e}");
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    async fn spawn_and_wait(&mut self) -> io::Result<()> {
        let child = self.spawn()?;
        self.child = Some(child);
        match self.wait_ready().await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.kill();
                let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
                let tail: String = log
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                Err(io::Error::other(format!("{e}; etcd log tail:\n{tail}")))
            }
        }
    }

    fn spawn(&self) -> io::Result<Child> {
        let client = self.endpoint();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let metrics = format!("http://127.0.0.1:{}", self.metrics_port);
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let data = self.data_dir();
        let mut cmd = Command::new("etcd");
        if let Some(tls) = &self.tls {
            cmd.arg("--cert-file")
                .arg(&tls.cert)
                .arg("--key-file")
                .arg(&tls.key)
                .arg("--client-cert-auth=false");
        }
        cmd.args(["--name", "n0", "--data-dir"])
            .arg(&data)
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-metrics-urls", &metrics])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("n0={peer}")])
            .args(["--initial-cluster-state", "new"])
            .args(["--heartbeat-interval", "10", "--election-timeout", "100"])
            .args(["--log-level", "error", "--logger", "zap"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "the `etcd` binary is not on PATH: install it with \
                         `apt-get install -y etcd-server` (Debian), or run \
                         `bash scripts/test.sh`, which installs what the tests need",
                    )
                } else {
                    e
                }
            })
    }

    async fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let mut delay = Duration::from_millis(10);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Err(io::Error::other(format!("etcd exited early: {status}")));
            }
            if health(self.metrics_port).await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "etcd on port {} not healthy after {READY_TIMEOUT:?}",
                        self.client_port
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asks `GET /health` on etcd's plain-HTTP metrics port and checks for
/// `"health":"true"`. etcd answers so only once it has a leader and its
/// client listeners (already bound) are serving, TLS or not.
async fn health(port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut body = Vec::new();
        stream.read_to_end(&mut body).await?;
        io::Result::Ok(String::from_utf8_lossy(&body).contains(r#""health":"true""#))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), probe).await,
        Ok(Ok(true))
    )
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
