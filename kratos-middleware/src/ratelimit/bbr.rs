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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use kratos_core::sync::LockExt;
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

/// The CPU usage of this process's cgroup (cgroup v2 `cpu.stat` against its
/// `cpu.max` quota, as in a container), or of the machine (`/proc/stat`)
/// outside one; sampled every 500 ms and smoothed with an EMA of decay 0.95
/// (Go Kratos's figures). Reads 0 where neither exists.
///
/// Every `SystemCpu` (and so every [`Bbr::new`] limiter) alive shares one
/// background sampler thread, which ends within one sample period after the
/// last of them is dropped.
#[derive(Clone)]
pub struct SystemCpu(Arc<Sampler>);

impl fmt::Debug for SystemCpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SystemCpu").field(&self.usage()).finish()
    }
}

impl Default for SystemCpu {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemCpu {
    /// A handle on the shared sampler, started if none runs.
    pub fn new() -> Self {
        static SHARED: Mutex<Weak<Sampler>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock_unpoisoned();
        if let Some(sampler) = shared.upgrade() {
            return Self(sampler);
        }
        let probe: Box<dyn FnMut() -> Option<u64> + Send> = match cgroup_dir() {
            Some(dir) => Box::new(cgroup_probe(dir)),
            None => Box::new(proc_stat_probe()),
        };
        let sampler = match start_sampler(SAMPLE_EVERY, probe) {
            Ok((sampler, _thread)) => sampler,
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the CPU sampler; BBR sees 0% CPU");
                Arc::new(Sampler::default())
            }
        };
        *shared = Arc::downgrade(&sampler);
        Self(sampler)
    }
}

impl CpuUsage for SystemCpu {
    fn usage(&self) -> u64 {
        self.0.usage.load(Ordering::Relaxed)
    }
}

const SAMPLE_EVERY: Duration = Duration::from_millis(500);
const DECAY: f64 = 0.95;

/// The smoothed usage one sampler thread keeps up to date.
#[derive(Debug, Default)]
struct Sampler {
    usage: AtomicU64,
}

/// Starts a thread that calls `probe` (the usage since its last call) every
/// `period` and folds it into the sampler's EMA, for as long as the sampler
/// has a user: it holds only a `Weak`.
fn start_sampler(
    period: Duration,
    mut probe: impl FnMut() -> Option<u64> + Send + 'static,
) -> std::io::Result<(Arc<Sampler>, JoinHandle<()>)> {
    let sampler = Arc::new(Sampler::default());
    let weak = Arc::downgrade(&sampler);
    let thread = std::thread::Builder::new()
        .name("kratos-cpu-sampler".into())
        .spawn(move || {
            loop {
                std::thread::sleep(period);
                let Some(sampler) = weak.upgrade() else {
                    break;
                };
                if let Some(usage) = probe() {
                    let old = sampler.usage.load(Ordering::Relaxed) as f64;
                    let ema = old * DECAY + usage.min(1000) as f64 * (1.0 - DECAY);
                    sampler.usage.store(ema as u64, Ordering::Relaxed);
                }
            }
        })?;
    Ok((sampler, thread))
}

/// `busy` over `capacity` (same unit) in per mille, capped at 1000.
fn per_mille(busy: f64, capacity: f64) -> Option<u64> {
    (capacity > 0.0).then(|| ((busy / capacity * 1000.0).max(0.0) as u64).min(1000))
}

/// The cgroup v2 path of this process in `/proc/self/cgroup` (its `0::` line).
fn parse_cgroup_path(proc_self_cgroup: &str) -> Option<&str> {
    proc_self_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(str::trim)
}

/// `usage_usec` of a cgroup's `cpu.stat`: CPU time used, in microseconds.
fn parse_usage_usec(cpu_stat: &str) -> Option<u64> {
    cpu_stat.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == "usage_usec").then(|| value.trim().parse().ok())?
    })
}

/// A cgroup's `cpu.max` (`quota period`, quota `max` for none) as the CPUs
/// it may use: `Some(None)` without a quota, `None` if unreadable.
fn parse_cpu_max(cpu_max: &str) -> Option<Option<f64>> {
    let mut fields = cpu_max.split_whitespace();
    let quota = fields.next()?;
    let period: f64 = fields.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    if quota == "max" {
        return Some(None);
    }
    let quota: f64 = quota.parse().ok()?;
    (period > 0.0 && quota > 0.0).then_some(Some(quota / period))
}

/// The first line of `/proc/stat` as (total, idle) jiffies.
fn parse_proc_stat(stat: &str) -> Option<(u64, u64)> {
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

/// The usage between two `/proc/stat` samples, in per mille.
fn proc_stat_usage((t0, i0): (u64, u64), (t1, i1): (u64, u64)) -> Option<u64> {
    let total = t1.saturating_sub(t0);
    let busy = total.saturating_sub(i1.saturating_sub(i0));
    per_mille(busy as f64, total as f64)
}

/// The usage of a cgroup between two samples: CPU time used over the wall
/// time times the CPUs it may use, in per mille.
fn cgroup_usage(used_usec: u64, wall: Duration, cpus: f64) -> Option<u64> {
    per_mille(used_usec as f64, wall.as_micros() as f64 * cpus)
}

/// This process's cgroup v2 directory, if it has a readable `cpu.stat`.
fn cgroup_dir() -> Option<PathBuf> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = parse_cgroup_path(&cgroup)?;
    let dir = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    read_usage_usec(&dir)?;
    Some(dir)
}

fn read_usage_usec(dir: &Path) -> Option<u64> {
    parse_usage_usec(&std::fs::read_to_string(dir.join("cpu.stat")).ok()?)
}

/// The CPUs the cgroup at `dir` may use: its quota, else every CPU.
fn cgroup_cpus(dir: &Path) -> f64 {
    let quota = std::fs::read_to_string(dir.join("cpu.max"))
        .ok()
        .and_then(|s| parse_cpu_max(&s))
        .flatten();
    quota.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()) as f64)
}

fn cgroup_probe(dir: PathBuf) -> impl FnMut() -> Option<u64> + Send + 'static {
    let mut prev = read_usage_usec(&dir).map(|u| (u, std::time::Instant::now()));
    move || {
        let cur = read_usage_usec(&dir).map(|u| (u, std::time::Instant::now()));
        let usage = match (prev, cur) {
            (Some((u0, w0)), Some((u1, w1))) => {
                cgroup_usage(u1.saturating_sub(u0), w1 - w0, cgroup_cpus(&dir))
            }
            _ => None,
        };
        prev = cur;
        usage
    }
}

fn proc_stat_probe() -> impl FnMut() -> Option<u64> + Send + 'static {
    let read = || parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?);
    let mut prev = read();
    move || {
        let cur = read();
        let usage = prev.zip(cur).and_then(|(p, c)| proc_stat_usage(p, c));
        prev = cur;
        usage
    }
}

/// The options of a [`Bbr`] limiter (Go Kratos's defaults).
///
/// Built from [`Default`] and the `with_*` setters (it may grow fields):
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::ratelimit::BbrConfig;
///
/// let config = BbrConfig::default().with_cpu_threshold(900).with_cool_down(Duration::from_secs(2));
/// assert_eq!(config.buckets, 100);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
#[must_use]
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

impl BbrConfig {
    /// Sets [`window`](Self::window).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets [`buckets`](Self::buckets).
    pub fn with_buckets(mut self, buckets: usize) -> Self {
        self.buckets = buckets;
        self
    }

    /// Sets [`cpu_threshold`](Self::cpu_threshold).
    pub fn with_cpu_threshold(mut self, cpu_threshold: u64) -> Self {
        self.cpu_threshold = cpu_threshold;
        self
    }

    /// Sets [`cool_down`](Self::cool_down).
    pub fn with_cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }
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
    /// Per bucket: the round trips (ms) of the requests done (sum) and
    /// their number (count, the passes).
    stats: RollingWindow,
    /// When the current drop period started, as nanoseconds since `created`
    /// plus one; 0 when not dropping.
    prev_drop: AtomicU64,
    created: Instant,
    buckets_per_second: f64,
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
    /// A limiter reading the CPU usage of the process's cgroup, or of the
    /// machine ([`SystemCpu`]).
    pub fn new(config: BbrConfig) -> Self {
        Self::with_cpu(config, SystemCpu::new())
    }

    /// A limiter reading CPU usage from `cpu` (tests, other sources).
    pub fn with_cpu(config: BbrConfig, cpu: impl CpuUsage) -> Self {
        let buckets = config.buckets.max(2);
        let bucket = config.window / buckets as u32;
        let now = Instant::now();
        Self(Arc::new(Inner {
            config,
            cpu: Box::new(cpu),
            in_flight: AtomicI64::new(0),
            stats: RollingWindow::new(buckets, bucket, now),
            prev_drop: AtomicU64::new(0),
            created: now,
            buckets_per_second: 1.0 / bucket.as_secs_f64(),
        }))
    }

    /// Admits a request, returning a permit to drop when it is done, or
    /// `None` to reject it. Lock-free; while the CPU usage is under the
    /// threshold and no drop is cooling down, it only reads two atomics.
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
    fn max_in_flight(&self, now: Instant) -> i64 {
        let (max_pass, min_rt) =
            self.0
                .stats
                .buckets(now, true)
                .fold((0u64, f64::MAX), |(max_pass, min_rt), b| {
                    let rt = if b.count > 0 {
                        (b.sum as f64 / b.count as f64).ceil()
                    } else {
                        f64::MAX
                    };
                    (max_pass.max(b.count), min_rt.min(rt))
                });
        let max_pass = max_pass.max(1) as f64;
        let min_rt = if min_rt == f64::MAX || min_rt <= 0.0 {
            1.0
        } else {
            min_rt
        };
        (max_pass * self.0.buckets_per_second * min_rt / 1000.0 + 0.5).floor() as i64
    }

    /// Whether the requests in flight exceed the capacity estimate.
    fn overloaded(&self, now: Instant) -> bool {
        let in_flight = self.0.in_flight.load(Ordering::Acquire);
        in_flight > 0 && in_flight > self.max_in_flight(now)
    }

    fn stamp(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.0.created).as_nanos();
        u64::try_from(since).unwrap_or(u64::MAX - 1) + 1
    }

    fn should_drop(&self) -> bool {
        let inner = &self.0;
        // CPU and cool-down first, as Go Kratos does: under the threshold
        // with no recent drop, nothing else is read.
        if inner.cpu.usage() < inner.config.cpu_threshold {
            let prev = inner.prev_drop.load(Ordering::Acquire);
            if prev == 0 {
                return false;
            }
            let now = Instant::now();
            let since = Duration::from_nanos(self.stamp(now).saturating_sub(prev));
            if since <= inner.config.cool_down {
                return self.overloaded(now);
            }
            // Cooled down; a drop period started meanwhile stays.
            let _ = inner
                .prev_drop
                .compare_exchange(prev, 0, Ordering::AcqRel, Ordering::Relaxed);
            return false;
        }
        let now = Instant::now();
        let drop = self.overloaded(now);
        if drop {
            // Only the first drop of a period stamps its start.
            let _ = inner.prev_drop.compare_exchange(
                0,
                self.stamp(now),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
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
            .div_ceil(1_000_000);
        let inner = &self.bbr.0;
        inner.stats.add(now, u64::try_from(rt).unwrap_or(u64::MAX));
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

    #[test]
    fn parses_the_cgroup_v2_files() {
        let cgroup = "12:memory:/user.slice\n0::/system.slice/app.service\n";
        assert_eq!(parse_cgroup_path(cgroup), Some("/system.slice/app.service"));
        assert_eq!(parse_cgroup_path("0::/\n"), Some("/"));
        assert_eq!(parse_cgroup_path("4:cpu:/docker/abc\n"), None);

        let stat = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n\
                    nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";
        assert_eq!(parse_usage_usec(stat), Some(2_500_000));
        assert_eq!(parse_usage_usec("user_usec 5\n"), None);

        assert_eq!(parse_cpu_max("max 100000\n"), Some(None));
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(Some(2.0)));
        assert_eq!(parse_cpu_max("50000 100000"), Some(Some(0.5)));
        assert_eq!(parse_cpu_max("garbage"), None);
        assert_eq!(parse_cpu_max(""), None);
    }

    #[test]
    fn cgroup_usage_is_time_used_over_time_allowed() {
        // 1 s of CPU in 1 s of wall time with a quota of 2 CPUs: 50%.
        assert_eq!(
            cgroup_usage(1_000_000, Duration::from_secs(1), 2.0),
            Some(500)
        );
        // Half a CPU quota, fully used (and a little over): capped at 100%.
        assert_eq!(
            cgroup_usage(600_000, Duration::from_secs(1), 0.5),
            Some(1000)
        );
        assert_eq!(cgroup_usage(0, Duration::from_secs(1), 4.0), Some(0));
        assert_eq!(cgroup_usage(5, Duration::ZERO, 4.0), None);
    }

    #[test]
    fn parses_proc_stat() {
        let stat = "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n";
        let first = parse_proc_stat(stat).unwrap();
        assert_eq!(first, (1000, 800));
        let later = parse_proc_stat("cpu  400 0 200 1200 200 0 0 0 0 0\n").unwrap();
        // 1000 more jiffies, 600 of them idle: 40% busy.
        assert_eq!(proc_stat_usage(first, later), Some(400));
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
    }

    /// Waits (boundedly) for a thread to end.
    fn ends(thread: &JoinHandle<()>) -> bool {
        for _ in 0..500 {
            if thread.is_finished() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn the_sampler_thread_ends_with_its_last_limiter() {
        let (samples, sampled) = std::sync::mpsc::channel();
        let (sampler, thread) = start_sampler(Duration::from_millis(1), move || {
            let _ = samples.send(());
            Some(1000)
        })
        .unwrap();
        let bbr = Bbr::with_cpu(BbrConfig::default(), SystemCpu(sampler));
        let clone = bbr.clone();
        sampled.recv().unwrap();
        sampled.recv().unwrap();
        drop(bbr);
        // A clone still uses it: the thread keeps sampling.
        sampled.recv().unwrap();
        assert!(!thread.is_finished());
        drop(clone);
        assert!(ends(&thread), "the sampler outlived its last user");
    }

    #[test]
    fn system_cpu_handles_share_one_sampler() {
        let a = SystemCpu::new();
        let b = SystemCpu::new();
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert!(a.usage() <= 1000);
    }
}
