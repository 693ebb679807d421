//! Real `etcd` child processes for tests: one server, or a 3-member cluster.

mod cluster;
mod member;

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

use crate::TestCa;
pub use cluster::EtcdCluster;
use member::{Member, START_ATTEMPTS};

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
    // Dropped before `dir`: the process is killed before its files go.
    member: Member,
    tls: Option<ServerTls>,
    _dir: tempfile::TempDir,
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
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new().prefix("kratos-etcd-").tempdir()?;
            let tls = if tls {
                Some(ServerTls::generate(dir.path())?)
            } else {
                None
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let mut member = Member::new("n0", dir.path().to_owned(), scheme)?;
            if let Some(tls) = &tls {
                member = member
                    .with_args([OsStr::new("--cert-file"), tls.cert.as_os_str()])
                    .with_args([OsStr::new("--key-file"), tls.key.as_os_str()])
                    .with_args(["--client-cert-auth=false"]);
            }
            let initial_cluster = format!("n0={}", member.peer_url());
            let mut member = member
                .with_args(["--initial-cluster", &initial_cluster])
                .with_args(["--initial-cluster-state", "new"])
                .with_args(["--heartbeat-interval", "10", "--election-timeout", "100"]);
            match member.start().await {
                Ok(()) => {
                    return Ok(Self {
                        member,
                        tls,
                        _dir: dir,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The client URL, e.g. `http://127.0.0.1:40123`, or
    /// `https://127.0.0.1:40123` in TLS mode.
    pub fn endpoint(&self) -> String {
        self.member.client_url()
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
        self.member.client_port()
    }

    /// The current data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.member.data_dir()
    }

    /// Whether the etcd process is running.
    pub fn is_running(&self) -> bool {
        self.member.is_running()
    }

    /// Kills etcd with SIGKILL (a crash: nothing is flushed) and reaps it.
    /// The data directory is kept. A no-op when it is not running.
    pub fn kill(&mut self) {
        self.member.kill();
    }

    /// Stops etcd gracefully (SIGTERM, then SIGKILL after 5 s) and reaps it.
    pub async fn stop(&mut self) {
        self.member.stop().await;
    }

    /// Restarts etcd on the same data directory and the same ports (killing
    /// it first if it runs), and waits until it is healthy.
    ///
    /// # Panics
    ///
    /// If etcd does not become healthy.
    pub async fn restart(&mut self) {
        if let Err(e) = self.member.start().await {
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
        self.member.kill();
        if let Err(e) = self.member.wipe() {
            panic!("removing etcd's data dir: {e}");
        }
        if let Err(e) = self.member.start().await {
            panic!("restarting etcd with a fresh data dir: {e}");
        }
    }
}
