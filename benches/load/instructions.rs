//! `LOAD_COUNT=instructions`: the Rust servers run under callgrind and the
//! harness counts the instructions each one executes in the measured window
//! (counters zeroed when the window opens, dumped when it closes), so the
//! report shows instructions per request. A count does not move with what
//! else the machine is doing, where a CPU time on a shared 2-core VM moves by
//! ±0.1 between rounds; it leaves out the kernel's share (syscalls, the
//! network stack), which is the same code for both servers of a pair.
//! The servers run ≈ 50× slower under callgrind: RPS and latency are then
//! not the servers' own. grpc-go is not counted (Go's runtime and valgrind
//! do not mix); its rows keep CPU time.

use std::path::PathBuf;

use tokio::process::Command;

/// Whether `LOAD_COUNT=instructions` is set.
pub fn enabled() -> bool {
    std::env::var("LOAD_COUNT").as_deref() == Ok("instructions")
}

/// Where callgrind writes: one directory per harness run.
fn dir() -> PathBuf {
    std::env::temp_dir().join(format!("kratos-load-callgrind-{}", std::process::id()))
}

/// The command prefix that runs a server under callgrind.
pub fn wrapper() -> Vec<String> {
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("a directory for callgrind's output");
    vec![
        "valgrind".into(),
        "--tool=callgrind".into(),
        "--dump-line=no".into(),
        format!("--callgrind-out-file={}/cg.%p", dir.display()),
    ]
}

async fn control(pid: u32, what: &str) {
    let status = Command::new("callgrind_control")
        .args([what, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .expect("callgrind_control runs (valgrind installed)");
    assert!(status.success(), "callgrind_control {what} {pid} failed");
}

/// Opens the window: the server's counters start from zero.
pub async fn zero(pid: u32) {
    control(pid, "--zero").await;
}

/// Closes the window: the instructions the server executed since [`zero`].
pub async fn dumped(pid: u32) -> u64 {
    control(pid, "--dump").await;
    let file = dir().join(format!("cg.{pid}.1"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("callgrind's dump {}: {e}", file.display()));
    let _ = std::fs::remove_file(&file);
    // Empty again (a killed server writes no final dump): leave nothing behind.
    let _ = std::fs::remove_dir(dir());
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("a total in callgrind's dump")
}
