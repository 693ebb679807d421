//! Node health: passive outlier ejection and stall detection, as the
//! selector applies them to every balancer. Knows nothing of HTTP.
//!
//! - **Ejection.** A node whose connection failed (refused, reset) or that
//!   gave no answer within the call's deadline is reported
//!   [unreachable](crate::DoneInfo::unreachable) and leaves rotation at once
//!   for an ejection time that doubles with each consecutive ejection
//!   (1 s, 2 s, 4 s … up to 30 s by default), as Envoy's outlier detection
//!   does. When the time is up, one call at a time probes the node: an answer
//!   brings it back (and resets the ejection time), another failure ejects it
//!   again for longer.
//! - **Stalls.** A node with calls waiting for their response head for longer
//!   than [`HealthPolicy::stall_after`] allows (8 × its usual time to first
//!   response, at least 10 ms), while none of its calls made progress, is
//!   skipped: a frozen host that accepts connections but never answers stops
//!   collecting new calls within milliseconds, long before those calls time
//!   out and eject it.
//!
//! A skipped node is only skipped while a healthy candidate exists: when
//! every candidate is ejected or stalled, the selector picks among them
//! anyway, so ejection alone never fails a call.

use kratos_net::Backoff;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

/// How nodes are ejected and when they count as stalled; set with
/// [`SelectorBuilder::health`](crate::SelectorBuilder::health).
///
/// ```
/// use std::time::Duration;
/// use kratos_selector::{HealthPolicy, Selector};
///
/// let selector = Selector::builder()
///     .health(
///         HealthPolicy::new()
///             .ejection(Duration::from_millis(500), Duration::from_secs(10))
///             .stall_after(Duration::from_millis(50), 10),
///     )
///     .build();
/// # let _ = selector;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPolicy {
    /// The ejection times: the workspace's one backoff, without its jitter.
    ejection: Backoff,
    stall_floor: Duration,
    stall_factor: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthPolicy {
    /// Ejections from 1 s doubling up to 30 s; a node stalls after 8 × its
    /// average time to first response, at least 10 ms.
    pub fn new() -> Self {
        Self {
            ejection: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            stall_floor: Duration::from_millis(10),
            stall_factor: 8,
        }
    }

    /// The first ejection lasts `base`; each consecutive one twice as long,
    /// up to `max`.
    pub fn ejection(mut self, base: Duration, max: Duration) -> Self {
        self.ejection = Backoff::new(base, max);
        self
    }

    /// A node whose waiting calls made no progress for `factor` × its average
    /// time to first response (and at least `floor`) is skipped. A `factor`
    /// of 0 turns stall detection off.
    pub fn stall_after(mut self, floor: Duration, factor: u32) -> Self {
        self.stall_floor = floor;
        self.stall_factor = factor;
        self
    }

    fn ejection_time(&self, consecutive: u32) -> Duration {
        self.ejection.ceiling(consecutive)
    }
}

/// What the nodes of one selector share: the policy, and when the next
/// ejected node is due for its probe, so a pick checks one atomic instead of
/// every node (and every balancer probes on time, even P2C, which would
/// rarely draw a node with a poor score).
#[derive(Debug)]
pub(crate) struct SelectorHealth {
    pub(crate) policy: HealthPolicy,
    epoch: Instant,
    /// ns since `epoch`; `u64::MAX` when no node is ejected.
    next: AtomicU64,
}

impl SelectorHealth {
    pub(crate) fn new(policy: HealthPolicy) -> Self {
        Self {
            policy,
            epoch: Instant::now(),
            next: AtomicU64::new(u64::MAX),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// A probe is due at `at`.
    pub(crate) fn at(&self, at: Instant) {
        self.next.fetch_min(self.nanos(at), Relaxed);
    }

    /// Whether a probe is due at `now()`; if so, forgets every schedule (the
    /// caller reschedules the nodes still ejected). Reads the clock only when
    /// some node is ejected.
    pub(crate) fn take_due(&self, now: impl FnOnce() -> Instant) -> bool {
        let next = self.next.load(Relaxed);
        if next == u64::MAX || self.nanos(now()) < next {
            return false;
        }
        self.next.store(u64::MAX, Relaxed);
        true
    }
}

/// Whether a node may take a call now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Availability {
    /// Healthy.
    Ready,
    /// Its ejection time is up: it may take one probing call.
    ProbeDue,
    /// Ejected, stalled, or probed by another call right now.
    Skip,
}

/// The health state of one node; times are ns since the stats' epoch.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// End of the current ejection plus one; 0 when not ejected.
    ejected_until: AtomicU64,
    /// Consecutive ejections (the exponent of the ejection time).
    ejections: AtomicU32,
    /// Whether a probing call is in flight.
    probing: AtomicBool,
    /// Calls picked whose response head has not arrived.
    awaiting: AtomicU32,
    /// Last progress (a response head arrived, or waiting began), ns plus
    /// one; 0 when it happened at a time not read: the next pick that finds
    /// calls waiting stamps it.
    progress: AtomicU64,
    /// Moving average of the time to first response, ns (0: no sample).
    head_lag: AtomicU64,
}

impl Health {
    /// Whether the node may take a call; `now()` (ns) is read only for an
    /// ejected node or one with calls waiting.
    pub(crate) fn availability(
        &self,
        now: impl Fn() -> u64,
        policy: &HealthPolicy,
    ) -> Availability {
        let until = self.ejected_until.load(Relaxed);
        if until != 0 {
            if now() < until - 1 || self.probing.load(Relaxed) {
                return Availability::Skip;
            }
            return Availability::ProbeDue;
        }
        if self.is_stalled(now, policy) {
            Availability::Skip
        } else {
            Availability::Ready
        }
    }

    fn is_stalled(&self, now: impl Fn() -> u64, policy: &HealthPolicy) -> bool {
        if policy.stall_factor == 0 || self.awaiting.load(Relaxed) == 0 {
            return false;
        }
        let now = now();
        let progress = self.progress.load(Relaxed);
        if progress == 0 {
            // Progress at a time not read: the stall clock starts now.
            let _ = self
                .progress
                .compare_exchange(0, now.saturating_add(1), Relaxed, Relaxed);
            return false;
        }
        let floor = u64::try_from(policy.stall_floor.as_nanos()).unwrap_or(u64::MAX);
        let limit = self
            .head_lag
            .load(Relaxed)
            .saturating_mul(u64::from(policy.stall_factor))
            .max(floor);
        now.saturating_sub(progress - 1) > limit
    }

    /// Claims the probe of a node whose ejection time is up; `false` when
    /// another call probes it already.
    pub(crate) fn claim_probe(&self) -> bool {
        self.probing
            .compare_exchange(false, true, Relaxed, Relaxed)
            .is_ok()
    }

    /// A call was picked for this node (at `now` ns, if the pick read the
    /// clock).
    pub(crate) fn on_pick(&self, now: Option<u64>) {
        if self.awaiting.fetch_add(1, Relaxed) == 0 {
            self.progress
                .store(now.map_or(0, |n| n.saturating_add(1)), Relaxed);
        }
    }

    /// The response head of a call arrived (at `now` ns, picked at `picked`
    /// ns, when those were read).
    pub(crate) fn on_head(&self, picked: Option<u64>, now: Option<u64>) {
        self.awaiting.fetch_sub(1, Relaxed);
        self.progress
            .store(now.map_or(0, |n| n.saturating_add(1)), Relaxed);
        let (Some(picked), Some(now)) = (picked, now) else {
            return;
        };
        let sample = now.saturating_sub(picked).max(1);
        let old = self.head_lag.load(Relaxed);
        let lag = if old == 0 {
            sample
        } else {
            old - old / 8 + sample / 8
        };
        self.head_lag.store(lag, Relaxed);
    }

    /// A call that never got its head ended (failed or cancelled).
    pub(crate) fn on_headless_end(&self) {
        self.awaiting.fetch_sub(1, Relaxed);
    }

    /// The node answered: it is healthy again.
    pub(crate) fn on_answer(&self, probe: bool) {
        if probe || self.ejections.load(Relaxed) != 0 {
            self.ejected_until.store(0, Relaxed);
            self.ejections.store(0, Relaxed);
        }
        if probe {
            self.probing.store(false, Relaxed);
        }
    }

    /// The node is unreachable: ejects it, longer after each consecutive
    /// ejection. Returns the ejection time.
    pub(crate) fn eject(&self, now: u64, probe: bool, policy: &HealthPolicy) -> Option<Duration> {
        let until = self.ejected_until.load(Relaxed);
        if until != 0 && now < until - 1 && !probe {
            // Already ejected (another call that was in flight failed too).
            return None;
        }
        let consecutive = self.ejections.fetch_add(1, Relaxed);
        let time = policy.ejection_time(consecutive);
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.ejected_until
            .store(now.saturating_add(nanos).saturating_add(1), Relaxed);
        if probe {
            self.probing.store(false, Relaxed);
        }
        Some(time)
    }

    /// A probing call ended without an outcome (cancelled): another may probe.
    pub(crate) fn on_probe_cancelled(&self) {
        self.probing.store(false, Relaxed);
    }

    /// The registry announced the node anew: forget its ejection.
    pub(crate) fn reset_ejection(&self) {
        self.ejected_until.store(0, Relaxed);
        self.ejections.store(0, Relaxed);
        self.probing.store(false, Relaxed);
    }

    /// Whether the node is ejected at `now`.
    pub(crate) fn is_ejected(&self, now: u64) -> bool {
        let until = self.ejected_until.load(Relaxed);
        until != 0 && now < until - 1
    }

    /// The end of the current ejection (ns), if the node is ejected or its
    /// probe is due.
    pub(crate) fn ejection_end(&self) -> Option<u64> {
        match self.ejected_until.load(Relaxed) {
            0 => None,
            until => Some(until - 1),
        }
    }

    /// Consecutive ejections so far.
    pub(crate) fn ejections(&self) -> u32 {
        self.ejections.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn ejection_doubles_and_a_probe_clears_it() {
        let p = HealthPolicy::new();
        let h = Health::default();
        let at = |ns: u64| move || ns;
        assert_eq!(h.availability(at(0), &p), Availability::Ready);
        assert_eq!(h.eject(0, false, &p), Some(Duration::from_secs(1)));
        // A second failure of a call already in flight does not extend it.
        assert_eq!(h.eject(10, false, &p), None);
        assert_eq!(h.availability(at(999 * MS), &p), Availability::Skip);
        assert_eq!(h.availability(at(1000 * MS), &p), Availability::ProbeDue);
        assert!(h.claim_probe());
        assert!(!h.claim_probe());
        assert_eq!(h.availability(at(1000 * MS), &p), Availability::Skip);
        // The probe fails: ejected for 2 s.
        assert_eq!(h.eject(1000 * MS, true, &p), Some(Duration::from_secs(2)));
        assert_eq!(h.availability(at(2999 * MS), &p), Availability::Skip);
        assert_eq!(h.availability(at(3000 * MS), &p), Availability::ProbeDue);
        assert!(h.claim_probe());
        h.on_answer(true);
        assert_eq!(h.availability(at(3000 * MS), &p), Availability::Ready);
        assert_eq!(h.ejections(), 0);
        assert_eq!(p.ejection_time(10), Duration::from_secs(30));
    }

    #[test]
    fn waiting_without_progress_stalls() {
        let p = HealthPolicy::new();
        let h = Health::default();
        let at = |ns: u64| move || ns;
        // One call answered in 1 ms: the limit is max(8 ms, 10 ms) = 10 ms.
        h.on_pick(Some(0));
        h.on_head(Some(0), Some(MS));
        h.on_pick(Some(2 * MS));
        assert_eq!(h.availability(at(11 * MS), &p), Availability::Ready);
        assert_eq!(h.availability(at(13 * MS), &p), Availability::Skip);
        // Its head arrives: progress, no longer stalled.
        h.on_head(Some(2 * MS), Some(13 * MS));
        assert_eq!(h.availability(at(100 * MS), &p), Availability::Ready);
        // Off with a factor of 0.
        let off = HealthPolicy::new().stall_after(Duration::ZERO, 0);
        h.on_pick(Some(100 * MS));
        assert_eq!(h.availability(at(10_000 * MS), &off), Availability::Ready);
        h.on_headless_end();
        assert_eq!(h.availability(at(10_000 * MS), &p), Availability::Ready);

        // Picked without reading the clock: the first pick that finds the
        // call waiting starts the stall clock.
        h.on_pick(None);
        assert_eq!(h.availability(at(20_000 * MS), &p), Availability::Ready);
        assert_eq!(h.availability(at(20_005 * MS), &p), Availability::Ready);
        assert_eq!(h.availability(at(20_050 * MS), &p), Availability::Skip);
        h.on_head(None, None);
        assert_eq!(h.availability(at(30_000 * MS), &p), Availability::Ready);
    }
}
