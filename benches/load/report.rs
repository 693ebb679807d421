//! Per-run measurements, their median over rounds, and the printed tables:
//! each target's medians, then each pair's kratos/raw ratios as the median
//! and min–max of the per-round ratios (round i of kratos against round i of
//! its raw peer, measured back to back), with the number of rounds.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::client::Outcome;
use crate::proc_stats::CpuTime;
use crate::servers::Target;

/// One measured window against one server.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50_us: f64,
    pub p99_us: f64,
    pub server_cpu: Duration,
    pub client_cpu_percent: f64,
    pub peak_rss_kib: u64,
    /// The server's instructions in the window (`LOAD_COUNT=instructions`).
    pub server_instructions: Option<u64>,
}

impl Measurement {
    pub fn new(
        mut outcome: Outcome,
        elapsed: Duration,
        server_cpu: CpuTime,
        client_cpu: CpuTime,
        peak_rss_kib: u64,
    ) -> Self {
        outcome.latencies_us.sort_unstable();
        let percentile = |p: f64| {
            let l = &outcome.latencies_us;
            if l.is_empty() {
                return f64::NAN;
            }
            l[((l.len() - 1) as f64 * p).round() as usize] as f64
        };
        Self {
            ok: outcome.ok,
            errors: outcome.errors,
            elapsed,
            p50_us: percentile(0.50),
            p99_us: percentile(0.99),
            server_cpu: server_cpu.as_duration(),
            client_cpu_percent: client_cpu.as_duration().as_secs_f64() / elapsed.as_secs_f64()
                * 100.0,
            peak_rss_kib,
            server_instructions: None,
        }
    }

    pub fn with_instructions(mut self, instructions: Option<u64>) -> Self {
        self.server_instructions = instructions;
        self
    }

    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn server_cpu_us_per_req(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.ok.max(1) as f64
    }

    /// What one request cost the server: its instructions when counted, else
    /// its CPU µs.
    pub fn server_cost_per_req(&self) -> f64 {
        match self.server_instructions {
            Some(instructions) => instructions as f64 / self.ok.max(1) as f64,
            None => self.server_cpu_us_per_req(),
        }
    }
}

/// Every measurement, by target and concurrency, and the per-round ratios of
/// each pair.
#[derive(Debug, Default)]
pub struct Report {
    runs: BTreeMap<(usize, Target), Vec<Measurement>>,
    ratios: BTreeMap<(usize, Target, Target), Vec<Ratios>>,
}

/// kratos / raw in one round.
#[derive(Debug, Clone, Copy)]
struct Ratios {
    rps: f64,
    cpu: f64,
    p99: f64,
}

/// `median [min–max]` of per-round ratios.
fn spread(values: impl Iterator<Item = f64>) -> String {
    let v = sorted(values);
    if v.is_empty() {
        return "–".into();
    }
    format!("{:.3} [{:.3}–{:.3}]", v[v.len() / 2], v[0], v[v.len() - 1])
}

/// The finite values, sorted.
fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// The median of a column over rounds.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let v = sorted(values);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

struct Row {
    rps: f64,
    p50: f64,
    p99: f64,
    cpu: f64,
    rss_mib: f64,
    client_cpu: f64,
    errors: u64,
}

impl Report {
    pub fn add(&mut self, target: Target, concurrency: usize, m: Measurement) {
        self.runs.entry((concurrency, target)).or_default().push(m);
    }

    /// One round of a pair: `kratos` measured right after `raw`.
    pub fn add_round(
        &mut self,
        concurrency: usize,
        (raw_target, kratos_target): (Target, Target),
        raw: &Measurement,
        kratos: &Measurement,
    ) {
        self.ratios
            .entry((concurrency, raw_target, kratos_target))
            .or_default()
            .push(Ratios {
                rps: kratos.rps() / raw.rps(),
                // Instructions when both were counted; grpc-go never is, so
                // its pair compares CPU time.
                cpu: if kratos.server_instructions.is_some() && raw.server_instructions.is_some() {
                    kratos.server_cost_per_req() / raw.server_cost_per_req()
                } else {
                    kratos.server_cpu_us_per_req() / raw.server_cpu_us_per_req()
                },
                p99: kratos.p99_us / raw.p99_us,
            });
    }

    fn row(&self, concurrency: usize, target: Target) -> Option<Row> {
        let runs = self.runs.get(&(concurrency, target))?;
        Some(Row {
            rps: median(runs.iter().map(Measurement::rps)),
            p50: median(runs.iter().map(|m| m.p50_us)),
            p99: median(runs.iter().map(|m| m.p99_us)),
            cpu: median(runs.iter().map(Measurement::server_cost_per_req)),
            rss_mib: runs.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0,
            client_cpu: median(runs.iter().map(|m| m.client_cpu_percent)),
            errors: runs.iter().map(|m| m.errors).sum(),
        })
    }

    /// A markdown table, medians over rounds, with kratos/raw ratios.
    pub fn render(&self, pairs: &[(Target, Target)]) -> String {
        // Instructions for the Rust servers when counted (grpc-go keeps CPU µs).
        let (cost, ratio) = if crate::instructions::enabled() {
            (
                "server instructions/req (grpc-go: CPU µs)",
                "instructions/req ratio (vs grpc-go: CPU)",
            )
        } else {
            ("server CPU µs/req", "CPU/req ratio")
        };
        let mut out = format!(
            "| conc | server | RPS | p50 µs | p99 µs | {cost} | peak RSS MiB | client CPU % | errors |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let concurrencies: std::collections::BTreeSet<usize> =
            self.runs.keys().map(|(c, _)| *c).collect();
        let mut ratios = format!(
            "\nkratos / raw, per round: median [min–max]\n\n| conc | kratos vs | rounds | RPS ratio | {ratio} | p99 ratio |\n|---:|---|---:|---:|---:|---:|\n",
        );
        let mut saturated = false;
        for &c in &concurrencies {
            let mut shown = Vec::new();
            for &(raw, kratos) in pairs {
                for target in [raw, kratos] {
                    if shown.contains(&target) {
                        continue;
                    }
                    shown.push(target);
                    if let Some(r) = self.row(c, target) {
                        saturated |= r.client_cpu >= 95.0;
                        out.push_str(&format!(
                            "| {c} | {} | {:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0} | {} |\n",
                            target.name(),
                            r.rps,
                            r.p50,
                            r.p99,
                            r.cpu,
                            r.rss_mib,
                            r.client_cpu,
                            r.errors
                        ));
                    }
                }
                if let Some(rounds) = self.ratios.get(&(c, raw, kratos)) {
                    ratios.push_str(&format!(
                        "| {c} | {} | {} | {} | {} | {} |\n",
                        raw.name(),
                        rounds.len(),
                        spread(rounds.iter().map(|r| r.rps)),
                        spread(rounds.iter().map(|r| r.cpu)),
                        spread(rounds.iter().map(|r| r.p99)),
                    ));
                }
            }
        }
        out.push_str(&ratios);
        if saturated {
            out.push_str("\nNote: the load client's CPU reached 95 % in some runs: there the RPS column measures the client, not the server; compare CPU µs/req instead.\n");
        }
        out
    }
}
