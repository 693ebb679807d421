//! Per-node statistics: in-flight calls and exponentially weighted moving
//! averages of latency and success, as Go Kratos's `ewma` node keeps them.
//!
//! Every update weighs the old average by `w = e^(-Δt/τ)`, where `Δt` is the
//! time since the previous completed call on that node and `τ` is 600 ms: a
//! node that answered slowly a second ago has mostly "forgotten" it after a
//! few seconds of fast answers. The very first sample replaces the average.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

use std::sync::Arc;

use crate::DoneInfo;
use crate::health::{Health, SelectorHealth};

/// The decay constant of the moving averages (Go Kratos's `tau`).
pub const DECAY: Duration = Duration::from_millis(600);

/// The success score of a healthy node (1000 ‰).
const SUCCESS_MAX: u64 = 1000;

/// The statistics one node carries across node-list updates.
///
/// Updated lock-free by every pick and every [`Done`](crate::Done); read by the
/// balancers (P2C uses all of it, smooth WRR its current weight). Requests,
/// failures and in-flight calls are always counted; latency, success rate and
/// the last pick time only under a balancer that
/// [measures latency](crate::Balancer::measures_latency), so the others never
/// read the clock.
#[derive(Debug)]
pub struct NodeStats {
    epoch: Instant,
    /// Calls in flight plus one (Go Kratos's baseline, so a load is never 0).
    inflight: AtomicI64,
    lag_ns: AtomicU64,
    success: AtomicU64,
    /// Time of the last completed call, ns since `epoch`.
    stamp_ns: AtomicU64,
    /// Time of the last pick, ns since `epoch`, plus one (0: never picked).
    last_pick_ns: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
    pub(crate) current_weight: AtomicI64,
    pub(crate) health: Health,
    /// The node's address (for logs).
    pub(crate) address: Box<str>,
    /// The health policy and probe schedule of the selector.
    pub(crate) selector: Arc<SelectorHealth>,
}

impl NodeStats {
    pub(crate) fn new(now: Instant, address: &str, selector: &Arc<SelectorHealth>) -> Self {
        Self {
            address: address.into(),
            selector: selector.clone(),
            epoch: now,
            inflight: AtomicI64::new(1),
            lag_ns: AtomicU64::new(0),
            success: AtomicU64::new(SUCCESS_MAX),
            stamp_ns: AtomicU64::new(0),
            last_pick_ns: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            current_weight: AtomicI64::new(0),
            health: Health::default(),
        }
    }

    /// The instant `ns` nanoseconds after the epoch.
    pub(crate) fn instant(&self, ns: u64) -> Instant {
        self.epoch + Duration::from_nanos(ns)
    }

    pub(crate) fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// A call was picked (at `now`, if the pick read the clock); `timed`
    /// records the pick time for [`since_last_pick`](Self::since_last_pick).
    pub(crate) fn on_pick(&self, now: Option<Instant>, timed: bool) {
        let now_ns = now.map(|now| self.nanos(now));
        if timed && let Some(now_ns) = now_ns {
            self.last_pick_ns.store(now_ns.saturating_add(1), Relaxed);
        }
        self.health.on_pick(now_ns);
        self.inflight.fetch_add(1, Relaxed);
        self.requests.fetch_add(1, Relaxed);
    }

    /// The response head of a call arrived (picked at `picked`, arrived at
    /// `now`, where those were read).
    pub(crate) fn on_head(&self, picked: Option<Instant>, now: Option<Instant>) {
        self.health
            .on_head(picked.map(|t| self.nanos(t)), now.map(|t| self.nanos(t)));
    }

    pub(crate) fn on_cancel(&self) {
        self.inflight.fetch_sub(1, Relaxed);
    }

    /// Ends a call; with its pick and end times, also updates the moving
    /// averages.
    pub(crate) fn on_done(&self, timed: Option<(Instant, Instant)>, info: &DoneInfo) {
        self.inflight.fetch_sub(1, Relaxed);
        if info.is_node_failure() {
            self.failures.fetch_add(1, Relaxed);
        }
        let Some((picked, now)) = timed else { return };
        let now_ns = self.nanos(now);
        let since_last = now_ns.saturating_sub(self.stamp_ns.swap(now_ns, Relaxed));
        let mut w = (-(since_last as f64) / DECAY.as_nanos() as f64).exp();

        let sample = info
            .latency()
            .unwrap_or_else(|| now.saturating_duration_since(picked));
        let sample = u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX) as f64;
        let old_lag = self.lag_ns.load(Relaxed);
        if old_lag == 0 {
            w = 0.0;
        }
        let lag = old_lag as f64 * w + sample * (1.0 - w);
        self.lag_ns.store(lag as u64, Relaxed);

        let ok = if info.is_node_failure() {
            0.0
        } else {
            SUCCESS_MAX as f64
        };
        let old_success = self.success.load(Relaxed) as f64;
        self.success
            .store((old_success * w + ok * (1.0 - w)) as u64, Relaxed);
    }

    /// Calls picked for this node and not yet done.
    pub fn inflight(&self) -> u64 {
        u64::try_from(self.inflight.load(Relaxed) - 1).unwrap_or(0)
    }

    /// The moving average of the latency (zero before the first completed call).
    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.lag_ns.load(Relaxed))
    }

    /// The moving average of success, from 0.0 (every recent call failed at
    /// the node) to 1.0.
    pub fn success_rate(&self) -> f64 {
        self.success.load(Relaxed) as f64 / SUCCESS_MAX as f64
    }

    /// Calls picked for this node since it was first seen.
    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    /// Calls reported as node failures since the node was first seen.
    pub fn failures(&self) -> u64 {
        self.failures.load(Relaxed)
    }

    /// How long ago this node was last picked, `None` if never.
    pub fn since_last_pick(&self, now: Instant) -> Option<Duration> {
        match self.last_pick_ns.load(Relaxed) {
            0 => None,
            t => Some(Duration::from_nanos(self.nanos(now).saturating_sub(t - 1))),
        }
    }

    /// Whether the node is out of rotation now: its connection failed or it
    /// did not answer in time, and its ejection time is not up (see
    /// [`HealthPolicy`](crate::HealthPolicy)).
    pub fn is_ejected(&self) -> bool {
        self.health.is_ejected(self.nanos(Instant::now()))
    }

    /// Consecutive ejections of the node (0 once it answered again).
    pub fn ejections(&self) -> u32 {
        self.health.ejections()
    }

    /// Go Kratos's P2C score: success × initial weight ÷ (latency × in-flight),
    /// with a 10 s latency penalty for a node with no completed call yet.
    pub(crate) fn score(&self, weight: u32) -> f64 {
        const PENALTY_NS: f64 = 10e9;
        let inflight = self.inflight.load(Relaxed).max(1) as f64;
        let lag = self.lag_ns.load(Relaxed);
        let lag = if lag == 0 { PENALTY_NS } else { lag as f64 };
        self.success.load(Relaxed) as f64 * f64::from(weight) / (lag * inflight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn first_sample_replaces_then_decays() {
        let start = Instant::now();
        let s = NodeStats::new(
            start,
            "a:1",
            &Arc::new(SelectorHealth::new(Default::default())),
        );
        s.on_pick(Some(start), true);
        assert_eq!(s.inflight(), 1);
        tokio::time::advance(Duration::from_millis(20)).await;
        s.on_done(Some((start, Instant::now())), &DoneInfo::new());
        assert_eq!(s.inflight(), 0);
        assert_eq!(s.latency(), Duration::from_millis(20));

        // 3 s later a 1 ms sample all but replaces the old 20 ms.
        tokio::time::advance(Duration::from_secs(3)).await;
        let picked = Instant::now();
        s.on_pick(Some(picked), true);
        tokio::time::advance(Duration::from_millis(1)).await;
        s.on_done(Some((picked, Instant::now())), &DoneInfo::new());
        assert!(
            s.latency() < Duration::from_micros(1200),
            "{:?}",
            s.latency()
        );

        // Right away, another sample moves the average barely.
        let picked = Instant::now();
        s.on_pick(Some(picked), true);
        s.on_done(
            Some((picked, Instant::now())),
            &DoneInfo::new().with_latency(Duration::from_millis(100)),
        );
        assert!(s.latency() < Duration::from_millis(2), "{:?}", s.latency());
        assert_eq!(s.requests(), 3);
        assert_eq!(
            s.since_last_pick(Instant::now()),
            Some(Duration::ZERO),
            "picked just now"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failures_lower_success_and_are_counted() {
        let start = Instant::now();
        let s = NodeStats::new(
            start,
            "a:1",
            &Arc::new(SelectorHealth::new(Default::default())),
        );
        assert_eq!(s.since_last_pick(start), None);
        s.on_pick(Some(start), true);
        tokio::time::advance(Duration::from_millis(1)).await;
        s.on_done(
            Some((start, Instant::now())),
            &DoneInfo::failed("connection refused"),
        );
        assert_eq!(s.success_rate(), 0.0);
        assert_eq!(s.failures(), 1);
        s.on_pick(Some(start), true);
        s.on_cancel();
        assert_eq!(s.inflight(), 0);
        // Without timing, only the counters move.
        s.on_pick(None, false);
        s.on_done(None, &DoneInfo::failed("reset"));
        assert_eq!((s.failures(), s.requests(), s.inflight()), (2, 3, 0));
        assert_eq!(s.success_rate(), 0.0);
    }
}
