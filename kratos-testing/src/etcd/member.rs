//! One `etcd` process: its ports, directory and child, spawned, probed and
//! killed the same way for a single server and for each cluster member.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long a member may take to answer `/health` with `true`.
pub(super) const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How many times a start is tried with new ports: a free port found by
/// binding `:0` can be taken by someone else before etcd binds it.
pub(super) const START_ATTEMPTS: usize = 3;

/// One etcd member. Its data lives in `<dir>/data`, its log in
/// `<dir>/etcd.log`; the caller owns `dir` (a temp dir or a part of one).
#[derive(Debug)]
pub(super) struct Member {
    name: String,
    dir: PathBuf,
    scheme: &'static str,
    client_port: u16,
    peer_port: u16,
    metrics_port: u16,
    /// Flags beyond the common ones: cluster, raft timings, TLS.
    args: Vec<OsString>,
    child: Option<Child>,
}

impl Member {
    /// A member named `name` on new free loopback ports, not started.
    /// `scheme` (`http` or `https`) is what clients use.
    pub(super) fn new(name: &str, dir: PathBuf, scheme: &'static str) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            name: name.to_owned(),
            dir,
            scheme,
            client_port: free_port()?,
            peer_port: free_port()?,
            metrics_port: free_port()?,
            args: Vec::new(),
            child: None,
        })
    }

    /// Adds flags to every start of this member.
    pub(super) fn with_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn client_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.client_port)
    }

    pub(super) fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    pub(super) fn client_port(&self) -> u16 {
        self.client_port
    }

    pub(super) fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }

    pub(super) fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// SIGKILL (a crash: nothing is flushed), then reap. The data is kept.
    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then SIGKILL after 5 s; reaped either way.
    pub(super) async fn stop(&mut self) {
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

    /// Removes the data directory (the member must not be running).
    pub(super) fn wipe(&self) -> io::Result<()> {
        match std::fs::remove_dir_all(self.data_dir()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Starts the process (killing a running one first); does not wait.
    pub(super) fn spawn(&mut self) -> io::Result<()> {
        self.kill();
        let client = self.client_url();
        let peer = self.peer_url();
        let metrics = format!("http://127.0.0.1:{}", self.metrics_port);
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let child = Command::new("etcd")
            .args(&self.args)
            .args(["--name", &self.name, "--data-dir"])
            .arg(self.data_dir())
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-metrics-urls", &metrics])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
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
            })?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until `/health` says `true`; on failure kills the member and
    /// returns the error with the tail of its log.
    pub(super) async fn wait_ready(&mut self, deadline: Instant) -> io::Result<()> {
        match self.poll_ready(deadline).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.kill();
                Err(io::Error::new(
                    e.kind(),
                    format!("{e}; etcd log tail:\n{}", self.log_tail()),
                ))
            }
        }
    }

    /// [`Member::spawn`], then [`Member::wait_ready`].
    pub(super) async fn start(&mut self) -> io::Result<()> {
        self.spawn()?;
        self.wait_ready(Instant::now() + READY_TIMEOUT).await
    }

    async fn poll_ready(&mut self, deadline: Instant) -> io::Result<()> {
        let mut delay = Duration::from_millis(10);
        loop {
            match self.child.as_mut() {
                None => {
                    return Err(io::Error::other(format!(
                        "etcd {} is not running",
                        self.name
                    )));
                }
                Some(child) => {
                    if let Some(status) = child.try_wait()? {
                        self.child = None;
                        return Err(io::Error::other(format!(
                            "etcd {} exited early: {status}",
                            self.name
                        )));
                    }
                }
            }
            if health(self.metrics_port).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "etcd {} on port {} not healthy after {READY_TIMEOUT:?}",
                        self.name, self.client_port
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asks `GET /health` on etcd's plain-HTTP metrics port and checks for
/// `"health":"true"`. etcd answers so only once it has a leader and its
/// client listeners (already bound) are serving, TLS or not.
async fn health(port: u16) -> bool {
    let answer = http(
        port,
        b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
    );
    matches!(answer.await, Ok(body) if body.contains(r#""health":"true""#))
}

/// Sends one HTTP/1.0 request to a loopback port and returns the whole
/// answer (head and body); gives up after 1 s.
pub(super) async fn http(port: u16, request: Vec<u8>) -> io::Result<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(&request).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        io::Result::Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(1), exchange)
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in 1 s")))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
