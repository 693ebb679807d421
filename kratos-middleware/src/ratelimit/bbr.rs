//! BBR-inspired adaptive limiting, as Go Kratos's `aegis/ratelimit/bbr`.
//! Knows nothing of HTTP.
//!
//! The limiter tracks, over a rolling window, how many requests pass per
//! bucket and their round-trip times. While the CPU usage is at or above the
//! threshold (or within the cool-down after the last drop), it rejects a
//! request when the requests in flight exceed the estimated capacity
//! `max_pass × buckets_per_second × min_rt / 1000` (the best throughput seen
//! times the best latency seen, Little's law).

use std::fmt;
use std::fs;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::window::RollingWindow;

/// A source of CPU usage in per mille (0..=1000).
pub trait CpuUsage: Send + Sync + 'static {
    /// The current usage, 0..=1000.
    fn usage(&self) -> u64;
}

impl<F: Fn() -> u64 + Send + Sync + 'static> CpuUsage for F {
    fn usage(&self) -> u64 {
        self()
    }
}

/// The machine's CPU usage from `/proc/stat`, sampled every 500 ms by one
/// background thread and smoothed with an EMA of decay 0.95 (Go Kratos's
/// figures). Reads 0 where `/proc/stat` does not exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemCpu;

static SYSTEM_CPU: OnceLock<Arc<AtomicU64>> = OnceLock::new();

const SAMPLE_EVERY: Duration = Duration::from_millis(500);
const DECAY: f64 = 0.95;

fn read_proc_stat() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

impl SystemCpu {
    fn cell() -> &'static Arc<AtomicU64> {
        SYSTEM_CPU.get_or_init(|| {
            let cell = Arc::new(AtomicU64::new(0));
            let shared = cell.clone();
            let spawned = std::thread::Builder::new()
                .name("kratos-cpu-sampler".into())
                .spawn(move || {
                    let mut prev = read_proc_stat();
                    loop {
                        std::thread::sleep(SAMPLE_EVERY);
                        let cur = read_proc_stat();
                        if let (Some((t0, i0)), Some((t1, i1))) = (prev, cur) {
                            let total = t1.saturating_sub(t0);
                            if total > 0 {
                                let busy = total.saturating_sub(i1.saturating_sub(i0));
                                let usage = (busy * 1000 / total).min(1000) as f64;
                                let old = shared.load(Ordering::Relaxed) as f64;
                                let ema = old * DECAY + usage * (1.0 - DECAY);
                                shared.store(ema as u64, Ordering::Relaxed);
                            }
                        }
                        prev = cur;
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the CPU sampler; BBR sees 0% CPU");
            }
            cell
        })
    }
}

impl CpuUsage for SystemCpu {
    fn usage(&self) -> u64 {
        Self::cell().load(Ordering::Relaxed)
    }
}

/// The options of a [`Bbr`] limiter (Go Kratos's defaults).
#[derive(Debug, Clone, Copy)]
pub struct BbrConfig {
    /// The statistics window: 10 s.
    pub window: Duration,
    /// Buckets in the window: 100.
    pub buckets: usize,
    /// CPU usage (per mille) from which the limiter protects: 800.
    pub cpu_threshold: u64,
    /// How long after a drop the limiter keeps protecting: 1 s.
    pub cool_down: Duration,
}

impl Default for BbrConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            buckets: 100,
            cpu_threshold: 800,
            cool_down: Duration::from_secs(1),
        }
    }
}

/// The BBR limiter; clones share their state.
///
/// ```
/// use kratos_middleware::ratelimit::{Bbr, BbrConfig};
///
/// // A CPU source pinned at 90%: the limiter protects from the first overload.
/// let bbr = Bbr::with_cpu(BbrConfig::default(), || 900);
/// let first = bbr.allow().expect("nothing in flight yet");
/// assert!(bbr.allow().is_none(), "capacity estimate is 0 before any statistics");
/// drop(first);
/// assert!(bbr.allow().is_some());
/// ```
#[derive(Clone)]
pub struct Bbr(Arc<Inner>);

struct Inner {
    config: BbrConfig,
    cpu: Box<dyn CpuUsage>,
    in_flight: AtomicI64,
    stats: Mutex<Stats>,
    buckets_per_second: f64,
}

struct Stats {
    pass: RollingWindow,
    rt: RollingWindow,
    prev_drop: Option<Instant>,
}

impl fmt::Debug for Bbr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bbr")
            .field("config", &self.0.config)
            .field("in_flight", &self.0.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for Bbr {
    fn default() -> Self {
        Self::new(BbrConfig::default())
    }
}

impl Bbr {
    /// A limiter reading the machine's CPU usage ([`SystemCpu`]).
    pub fn new(config: BbrConfig) -> Self {
        Self::with_cpu(config, SystemCpu)
    }

    /// A limiter reading CPU usage from `cpu` (tests, cgroup-aware sources).
    pub fn with_cpu(config: BbrConfig, cpu: impl CpuUsage) -> Self {
        let buckets = config.buckets.max(2);
        let bucket = config.window / buckets as u32;
        let now = Instant::now();
        Self(Arc::new(Inner {
            config,
            cpu: Box::new(cpu),
            in_flight: AtomicI64::new(0),
            stats: Mutex::new(Stats {
                pass: RollingWindow::new(buckets, bucket, now),
                rt: RollingWindow::new(buckets, bucket, now),
                prev_drop: None,
            }),
            buckets_per_second: 1.0 / bucket.as_secs_f64(),
        }))
    }

    /// Admits a request, returning a permit to drop when it is done, or
    /// `None` to reject it.
    pub fn allow(&self) -> Option<BbrPermit> {
        if self.should_drop() {
            return None;
        }
        self.0.in_flight.fetch_add(1, Ordering::AcqRel);
        Some(BbrPermit {
            bbr: self.clone(),
            start: Instant::now(),
        })
    }

    /// The current capacity estimate: requests that may be in flight.
    fn max_in_flight(&self, stats: &mut Stats, now: Instant) -> i64 {
        let max_pass = stats
            .pass
            .buckets(now, true)
            .map(|b| b.sum)
            .max()
            .filter(|&m| m > 0)
            .unwrap_or(1) as f64;
        let min_rt = stats
            .rt
            .buckets(now, true)
            .filter(|b| b.count > 0)
            .map(|b| (b.sum as f64 / b.count as f64).ceil())
            .fold(f64::MAX, f64::min);
        let min_rt = if min_rt == f64::MAX || min_rt <= 0.0 {
            1.0
        } else {
            min_rt
        };
        (max_pass * self.0.buckets_per_second * min_rt / 1000.0 + 0.5).floor() as i64
    }

    fn should_drop(&self) -> bool {
        let now = Instant::now();
        let in_flight = self.0.in_flight.load(Ordering::Acquire);
        let cpu = self.0.cpu.usage();
        let mut stats = self.0.stats.lock().expect("bbr stats");
        if cpu < self.0.config.cpu_threshold {
            let Some(prev) = stats.prev_drop else {
                return false;
            };
            if now.saturating_duration_since(prev) <= self.0.config.cool_down {
                return in_flight > 0 && in_flight > self.max_in_flight(&mut stats, now);
            }
            stats.prev_drop = None;
            return false;
        }
        let drop = in_flight > 0 && in_flight > self.max_in_flight(&mut stats, now);
        if drop && stats.prev_drop.is_none() {
            stats.prev_drop = Some(now);
        }
        drop
    }
}

/// An admitted request; dropping it records its round trip.
pub struct BbrPermit {
    bbr: Bbr,
    start: Instant,
}

impl fmt::Debug for BbrPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BbrPermit")
            .field("start", &self.start)
            .finish()
    }
}

impl Drop for BbrPermit {
    fn drop(&mut self) {
        let now = Instant::now();
        let rt = now
            .saturating_duration_since(self.start)
            .as_nanos()
            .div_ceil(1_000_000) as i64;
        let inner = &self.bbr.0;
        if let Ok(mut stats) = inner.stats.lock() {
            stats.rt.add(now, rt);
            stats.pass.add(now, 1);
        }
        inner.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn protects_only_when_cpu_is_high_then_cools_down() {
        let cpu = Arc::new(AtomicU64::new(100));
        let source = cpu.clone();
        let bbr = Bbr::with_cpu(BbrConfig::default(), move || source.load(Ordering::Relaxed));

        // Low CPU: everything passes, whatever is in flight.
        let held: Vec<_> = (0..50).map(|_| bbr.allow().expect("low cpu")).collect();
        drop(held);

        // Build statistics: 20 requests per 100 ms bucket, 10 ms each.
        for _ in 0..10 {
            for _ in 0..20 {
                let p = bbr.allow().unwrap();
                tokio::time::advance(Duration::from_millis(10) / 20).await;
                drop(p);
            }
            tokio::time::advance(Duration::from_millis(95)).await;
        }
        // Capacity = max_pass(20) × 10/s × min_rt(1 ms) / 1000, rounded: 0.
        cpu.store(900, Ordering::Relaxed);
        let mut admitted = Vec::new();
        while let Some(p) = bbr.allow() {
            admitted.push(p);
            assert!(admitted.len() < 50, "never limits");
        }
        assert!(!admitted.is_empty());
        // CPU back to normal: still protecting within the cool-down...
        cpu.store(100, Ordering::Relaxed);
        assert!(bbr.allow().is_none());
        // ...and not after it.
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert!(bbr.allow().is_some());
    }
}
