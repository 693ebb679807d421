//! The load harness: raw tonic vs kratos gRPC, raw axum vs kratos HTTP (and a
//! grpc-go greeter when built), same closed-loop client, same machine, one run.
//!
//! Run with `cargo bench --bench load` (about 4 minutes), or quicker:
//! `cargo bench --bench load -- --quick`. Options: `--duration SECS`
//! (measured window, default 5), `--warmup SECS` (default 1), `--rounds N`
//! (default 3), `--concurrency 1,16,64`, `--only grpc|http|go|discovery|startup`,
//! `--client h2|stack` (default h2: HTTP/2 frames written straight, see
//! `h2_client.rs`; `stack`: the tonic channel and hyper HTTP/1 client).
//! Last, it times the release `helloworld` example from exec to ready and
//! reads its idle memory (build it first: `cargo build --release --example
//! helloworld`).
//!
//! Each server runs in its own process pinned to CPU 0 (`taskset -c 0`); the
//! load client runs here, pinned to CPU 1. Runs alternate raw, kratos, raw,
//! kratos... so machine drift hits both. Every reply's status is checked.
//! The kratos servers run the default chain with a Prometheus recorder and a
//! tracer provider sampling nothing installed; `LOAD_OBSERVE=off` installs
//! neither (metrics and tracing layers idle), `LOAD_OBSERVE=metrics` or
//! `=traces` only the one named, `LOAD_CHAIN=none` runs the
//! kratos servers without their middleware chain;
//! `LOAD_WRAP="valgrind --tool=callgrind"` runs each server under a profiler;
//! `LOAD_COUNT=instructions` counts each Rust server's instructions per
//! request under callgrind instead of its CPU time (see `instructions.rs`).
//! `--only tls` (with `--features tls`) compares raw tonic over TLS with the
//! kratos gRPC server over TLS, one kratos `GrpcChannel` dialling both;
//! `--only grpc,tls` adds the plaintext pair in the same run.

mod client;
mod h2_client;
mod instructions;
mod proc_stats;
mod report;
mod servers;
mod startup;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use report::{Measurement, Report};
use servers::Target;

#[derive(Debug, Clone)]
struct Options {
    duration: Duration,
    warmup: Duration,
    rounds: usize,
    concurrency: Vec<usize>,
    only: Option<String>,
    /// The light h2 client (default) or the tonic/hyper one (`--client stack`).
    light: bool,
}

impl Options {
    /// Whether `--only` (a comma-separated list) selects the group `name`.
    fn selected(&self, name: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| only.split(',').any(|o| o.trim() == name))
    }

    fn parse(args: &[String]) -> Self {
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1).cloned())
        };
        let quick = args.iter().any(|a| a == "--quick");
        let secs = |name: &str, default: f64| {
            Duration::from_secs_f64(value(name).and_then(|v| v.parse().ok()).unwrap_or(default))
        };
        Self {
            duration: secs("--duration", if quick { 2.0 } else { 5.0 }),
            warmup: secs("--warmup", if quick { 0.5 } else { 1.0 }),
            rounds: value("--rounds")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if quick { 1 } else { 3 }),
            concurrency: value("--concurrency")
                .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
                .unwrap_or_else(|| vec![1, 16, 64]),
            only: value("--only"),
            light: value("--client").is_none_or(|c| c != "stack"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let target = Target::parse(&args[i + 1]).expect("a known target");
        servers::serve(target);
        return;
    }
    let options = Options::parse(&args);
    pin_self_to(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(options));
}

/// Pins this process (the load client) to one CPU, when `taskset` exists.
fn pin_self_to(cpu: usize) {
    let pid = std::process::id().to_string();
    let pinned = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid])
        .stdout(Stdio::null())
        .status();
    if !matches!(pinned, Ok(s) if s.success()) {
        eprintln!("warning: taskset unavailable; client and server share CPUs");
    }
}

async fn run(options: Options) {
    let pairs: Vec<(Target, Target)> = [
        ("grpc", Target::RawTonic, Target::KratosGrpc),
        ("http", Target::RawAxum, Target::KratosHttp),
        ("go", Target::GoGreeter, Target::KratosGrpc),
        ("discovery", Target::DirectChannel, Target::DiscoveryWrr),
        ("tls", Target::RawTonicTls, Target::KratosGrpcTls),
    ]
    .into_iter()
    .filter(|(name, ..)| options.selected(name))
    .filter(|(_, raw, _)| raw.available())
    .map(|(_, raw, kratos)| (raw, kratos))
    .collect();
    eprintln!(
        "load: {} s measured after {} s warm-up, {} round(s), concurrency {:?}, {} client",
        options.duration.as_secs_f64(),
        options.warmup.as_secs_f64(),
        options.rounds,
        options.concurrency,
        if options.light { "h2" } else { "tonic/hyper" }
    );
    // The TLS targets' certificates: made once, removed at the end.
    #[cfg(feature = "tls")]
    let _pki = pairs.iter().any(|(raw, _)| raw.is_tls()).then(|| {
        let pki = kratos_testing::TestPki::new();
        servers::TLS_DIR
            .set(pki.dir().to_path_buf())
            .expect("set once");
        pki
    });
    let mut report = Report::default();
    for &concurrency in &options.concurrency {
        for round in 1..=options.rounds {
            for &(raw, kratos) in &pairs {
                let mut round_pair = Vec::with_capacity(2);
                for target in [raw, kratos] {
                    let m = measure(target, concurrency, &options).await;
                    let counted = m
                        .server_instructions
                        .map(|_| format!("  {:>7.0} instructions/req", m.server_cost_per_req()))
                        .unwrap_or_default();
                    eprintln!(
                        "round {round} c={concurrency:<3} {:<12} {:>9.0} rps  p50 {:>7.1} µs  p99 {:>7.1} µs  {:>5.2} µs cpu/req  client cpu {:>3.0}%{counted}",
                        target.name(),
                        m.rps(),
                        m.p50_us,
                        m.p99_us,
                        m.server_cpu_us_per_req(),
                        m.client_cpu_percent
                    );
                    round_pair.push(m.clone());
                    report.add(target, concurrency, m);
                }
                report.add_round(concurrency, (raw, kratos), &round_pair[0], &round_pair[1]);
            }
        }
    }
    if !pairs.is_empty() {
        println!("{}", report.render(&pairs));
    }
    if options.selected("startup")
        && let Some(s) = startup::measure(5).await
    {
        println!(
            "helloworld (release), {} runs: ready {:.1} ms after exec (min {:.1}, max {:.1}); \
             idle RSS {:.1} MiB (min {:.1}, max {:.1})",
            s.runs,
            s.ready_ms.0,
            s.ready_ms.1,
            s.ready_ms.2,
            s.idle_rss_mib.0,
            s.idle_rss_mib.1,
            s.idle_rss_mib.2
        );
    }
}

async fn measure(target: Target, concurrency: usize, options: &Options) -> Measurement {
    let (mut child, ports) = spawn_server(target).await;
    let pid = child.id().expect("a running server");
    let load = client::Load::connect(target, &ports, concurrency, options.light).await;
    load.run(options.warmup).await;
    let counted = instructions::enabled() && target.go_binary().is_none();
    if counted {
        instructions::zero(pid).await;
    }
    let server_before = proc_stats::cpu_ticks(pid);
    let client_before = proc_stats::cpu_ticks(std::process::id());
    let started = std::time::Instant::now();
    let outcome = load.run(options.duration).await;
    let elapsed = started.elapsed();
    let server_cpu = proc_stats::cpu_ticks(pid) - server_before;
    let client_cpu = proc_stats::cpu_ticks(std::process::id()) - client_before;
    let peak_rss_kib = proc_stats::peak_rss_kib(pid);
    let server_instructions = if counted {
        Some(instructions::dumped(pid).await)
    } else {
        None
    };
    if std::env::var_os("LOAD_WRAP").is_some() {
        // Let a profiler write its output: interrupt, then wait.
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await;
        let _ = child.wait().await;
    }
    let _ = child.kill().await;
    Measurement::new(outcome, elapsed, server_cpu, client_cpu, peak_rss_kib)
        .with_instructions(server_instructions)
}

/// Starts `target` in its own process on CPU 0 and reads the ports it bound.
async fn spawn_server(target: Target) -> (Child, Vec<u16>) {
    let exe = std::env::current_exe().expect("own path");
    let mut command = match target.go_binary() {
        Some(go) => {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(go);
            c
        }
        None => {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]);
            // e.g. LOAD_WRAP="valgrind --tool=callgrind" to profile the server.
            if let Ok(wrap) = std::env::var("LOAD_WRAP") {
                c.args(wrap.split_whitespace());
            } else if instructions::enabled() {
                c.args(instructions::wrapper());
            }
            c.arg(exe).args(["--serve", target.server().name()]);
            c
        }
    };
    if let Some(dir) = servers::TLS_DIR.get() {
        command.env(servers::TLS_DIR_ENV, dir);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stdin(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    while let Some(line) = lines.next_line().await.expect("server output") {
        if let Some(ports) = line.strip_prefix("PORT ") {
            let ports = ports
                .split_whitespace()
                .map(|p| p.parse().expect("a port"))
                .collect();
            return (child, ports);
        }
    }
    panic!("{} exited before printing its port", target.name());
}
