//! Three `etcd` members on loopback ports forming one cluster.

use std::io;

use tokio::time::Instant;

use super::member::{self, Member, READY_TIMEOUT, START_ATTEMPTS};

/// How many members an [`EtcdCluster`] has.
const MEMBERS: usize = 3;

/// A real 3-member `etcd` cluster on free loopback ports, each member with
/// its own temporary data directory; every member is killed (SIGKILL) when
/// dropped.
///
/// Members are numbered `0..3` (etcd names `n0`, `n1`, `n2`) in the order
/// of [`EtcdCluster::endpoints`]. Raft runs with a 50 ms heartbeat and a
/// 500 ms election timeout, slow enough not to flap on a loaded 2-core
/// machine and fast enough that a new leader is elected within about a
/// second after the leader is killed.
///
/// A scenario "with member `i` down" starts the whole cluster, then
/// [`kills`](EtcdCluster::kill) `i`: the other two keep a quorum.
///
/// ```no_run
/// # async fn demo() {
/// let mut cluster = kratos_testing::EtcdCluster::start().await;
/// println!("etcd cluster at {}", cluster.endpoints().join(","));
/// let leader = cluster.leader().await.expect("a leader");
/// cluster.kill(leader);
/// // ... the other two elect a new leader and keep serving ...
/// cluster.restart(leader).await; // rejoins with its data
/// # }
/// ```
#[derive(Debug)]
pub struct EtcdCluster {
    // Dropped before `dir`: the processes are killed before their files go.
    members: Vec<Member>,
    _dir: tempfile::TempDir,
}

impl EtcdCluster {
    /// Starts three members and waits until every one is healthy.
    ///
    /// # Panics
    ///
    /// If the cluster cannot be started; the message says how to install
    /// etcd when the binary is missing. Use [`EtcdCluster::try_start`] to
    /// get the error.
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(cluster) => cluster,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts three members and waits until every one is healthy, or says
    /// why it could not.
    pub async fn try_start() -> io::Result<Self> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("kratos-etcd-cluster-")
                .tempdir()?;
            let mut members = (0..MEMBERS)
                .map(|i| {
                    let name = format!("n{i}");
                    let path = dir.path().join(&name);
                    Member::new(&name, path, "http")
                })
                .collect::<io::Result<Vec<_>>>()?;
            let initial_cluster = members
                .iter()
                .map(|m| format!("{}={}", m.name(), m.peer_url()))
                .collect::<Vec<_>>()
                .join(",");
            // A token of its own, so members of two clusters started on
            // recycled ports never take each other for peers.
            let token = dir
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "kratos".to_owned());
            members = members
                .into_iter()
                .map(|m| {
                    m.with_args(["--initial-cluster", &initial_cluster])
                        .with_args(["--initial-cluster-state", "new"])
                        .with_args(["--initial-cluster-token", &token])
                        .with_args(["--heartbeat-interval", "50", "--election-timeout", "500"])
                })
                .collect();
            match start_all(&mut members).await {
                Ok(()) => return Ok(Self { members, _dir: dir }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The client URLs of the three members, e.g. `http://127.0.0.1:40123`,
    /// running or not, in member order.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(Member::client_url).collect()
    }

    /// The client URL of member `i`.
    ///
    /// # Panics
    ///
    /// If `i` is not `0`, `1` or `2`.
    pub fn endpoint(&self, i: usize) -> String {
        self.members[i].client_url()
    }

    /// Whether member `i`'s process is running.
    ///
    /// # Panics
    ///
    /// If `i` is not `0`, `1` or `2`.
    pub fn is_running(&self, i: usize) -> bool {
        self.members[i].is_running()
    }

    /// Kills member `i` with SIGKILL (a crash) and reaps it; its data
    /// directory is kept. A no-op when it is not running.
    ///
    /// # Panics
    ///
    /// If `i` is not `0`, `1` or `2`.
    pub fn kill(&mut self, i: usize) {
        self.members[i].kill();
    }

    /// Restarts member `i` on its ports and data directory (killing it first
    /// if it runs), so it rejoins the cluster, and waits until it is
    /// healthy (it has caught up with a leader).
    ///
    /// # Panics
    ///
    /// If `i` is not `0`, `1` or `2`, or the member does not become
    /// healthy (e.g. because no quorum is left for it to join).
    pub async fn restart(&mut self, i: usize) {
        if let Err(e) = self.members[i].start().await {
            panic!("restarting etcd member {i}: {e}");
        }
    }

    /// The member that is the raft leader now, as the running members see
    /// it; `None` while there is none (e.g. during an election) or no
    /// running member answers.
    ///
    /// Asks each running member `POST /v3/maintenance/status` (etcd's JSON
    /// gateway on the client port) for its own id and its leader's id.
    pub async fn leader(&self) -> Option<usize> {
        let mut ids = Vec::with_capacity(MEMBERS);
        let mut leader = None;
        for m in &self.members {
            let status = match m.is_running() {
                true => status(m.client_port()).await,
                false => None,
            };
            if let Some(s) = &status
                && s.leader != "0"
            {
                leader.get_or_insert_with(|| s.leader.clone());
            }
            ids.push(status.map(|s| s.member_id));
        }
        let leader = leader?;
        ids.iter()
            .position(|id| id.as_deref() == Some(leader.as_str()))
    }

    /// Waits (polling every 20 ms, up to `timeout`) until a running member is
    /// the leader, as after killing the old one; returns it, or `None` when
    /// no election finished in time.
    pub async fn wait_for_leader(&self, timeout: std::time::Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.leader().await
                && self.members[i].is_running()
            {
                return Some(i);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Spawns every member, then waits until all are healthy: a new cluster's
/// members become healthy together, once a quorum has joined.
async fn start_all(members: &mut [Member]) -> io::Result<()> {
    for m in members.iter_mut() {
        m.spawn()?;
    }
    let deadline = Instant::now() + READY_TIMEOUT;
    for i in 0..members.len() {
        if let Err(e) = members[i].wait_ready(deadline).await {
            members.iter_mut().for_each(Member::kill);
            return Err(e);
        }
    }
    Ok(())
}

/// What `/v3/maintenance/status` says about a member.
struct Status {
    member_id: String,
    leader: String,
}

/// Asks a member for its status; `None` if it does not answer in time.
async fn status(port: u16) -> Option<Status> {
    let body = "{}";
    let request = format!(
        "POST /v3/maintenance/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = member::http(port, request.into_bytes()).await.ok()?;
    let (_, json) = answer.split_once("\r\n\r\n")?;
    let json: serde_json::Value = serde_json::from_str(json).ok()?;
    // The gateway writes uint64 fields as strings; accept numbers too.
    let id = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Some(Status {
        member_id: id(json.get("header")?.get("member_id")?)?,
        leader: json
            .get("leader")
            .and_then(id)
            .unwrap_or_else(|| "0".into()),
    })
}
