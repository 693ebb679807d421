//! Startup time to ready and idle memory of the release `helloworld` example.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How long the example idles before its memory is read.
const IDLE: Duration = Duration::from_millis(500);

/// What the runs measured: medians, then (min, max).
#[derive(Debug)]
pub struct Startup {
    pub runs: usize,
    pub ready_ms: (f64, f64, f64),
    pub idle_rss_mib: (f64, f64, f64),
}

/// `target/release/examples/helloworld`, next to this bench's own binary.
fn helloworld() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let release = exe.parent()?.parent()?;
    let path = release.join("examples/helloworld");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "startup: {} not built: run `cargo build --release --example helloworld`",
            path.display()
        );
        None
    }
}

/// Starts the example `runs` times: time from exec until it printed both
/// endpoints (servers listening, instance registered), then its resident
/// memory after idling.
pub async fn measure(runs: usize) -> Option<Startup> {
    let exe = helloworld()?;
    let mut ready = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(&exe)
            .args(["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ok()?;
        let mut lines = BufReader::new(child.stdout.take()?).lines();
        let mut listening = 0;
        while listening < 2 {
            let line = lines.next_line().await.ok()??;
            if line.starts_with("listening on") {
                listening += 1;
            }
        }
        ready.push(started.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(IDLE).await;
        rss.push(resident_kib(child.id()?)? as f64 / 1024.0);
        let _ = child.kill().await;
    }
    Some(Startup {
        runs,
        ready_ms: spread(&mut ready),
        idle_rss_mib: spread(&mut rss),
    })
}

fn resident_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// (median, min, max) of `values`.
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}
