//! Google SRE adaptive throttling ("Handling Overload", the SRE book), as Go
//! Kratos's `aegis/circuitbreaker/sre`. Knows nothing of HTTP.
//!
//! Over a rolling window the breaker counts requests and accepted (successful)
//! ones. Once there are at least `request` of them, it rejects locally with
//! probability `max(0, (requests - K × accepts) / (requests + 1))`: a backend
//! that fails everything sees almost no traffic, one that recovers gets more
//! as successes come back; no half-open state to tune.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::window::RollingWindow;

/// The options of an [`Sre`] breaker (Go Kratos's defaults).
///
/// Built from [`Default`] and the `with_*` setters (it may grow fields):
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::circuitbreaker::SreConfig;
///
/// let config = SreConfig::default().with_k(1.5).with_window(Duration::from_secs(5));
/// assert_eq!(config.request, 100);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
#[must_use]
pub struct SreConfig {
    /// K, the multiplier of accepts: 1/0.6 (≈ 1.67). Lower is more aggressive.
    pub k: f64,
    /// Requests in the window before the breaker may reject: 100.
    pub request: u64,
    /// The statistics window: 3 s.
    pub window: Duration,
    /// Buckets in the window: 10.
    pub buckets: usize,
}

impl SreConfig {
    /// Sets [`k`](Self::k).
    pub fn with_k(mut self, k: f64) -> Self {
        self.k = k;
        self
    }

    /// Sets [`request`](Self::request).
    pub fn with_request(mut self, request: u64) -> Self {
        self.request = request;
        self
    }

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
}

impl Default for SreConfig {
    fn default() -> Self {
        Self {
            k: 1.0 / 0.6,
            request: 100,
            window: Duration::from_secs(3),
            buckets: 10,
        }
    }
}

/// One SRE breaker (one per operation in the layer). Lock-free: marking and
/// asking are a few atomic operations on a rolling window.
///
/// ```
/// use kratos_middleware::circuitbreaker::{Sre, SreConfig};
///
/// let sre = Sre::new(SreConfig::default());
/// for _ in 0..1000 {
///     sre.mark_failed();
/// }
/// let allowed = (0..1000).filter(|_| sre.allow()).count();
/// assert!(allowed < 100, "{allowed}");
/// ```
pub struct Sre {
    config: SreConfig,
    stat: RollingWindow,
}

impl fmt::Debug for Sre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sre")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Sre {
    /// A closed breaker.
    pub fn new(config: SreConfig) -> Self {
        let buckets = config.buckets.max(1);
        Self {
            config,
            stat: RollingWindow::new(buckets, config.window / buckets as u32, Instant::now()),
        }
    }

    /// The drop probability now: 0 while closed.
    pub fn drop_ratio(&self) -> f64 {
        let now = Instant::now();
        let (accepts, total) = self
            .stat
            .buckets(now, false)
            .fold((0u64, 0u64), |(a, t), b| (a + b.sum, t + b.count));
        let requests = self.config.k * accepts as f64;
        if total < self.config.request || (total as f64) < requests {
            return 0.0;
        }
        ((total as f64 - requests) / (total as f64 + 1.0)).max(0.0)
    }

    /// Whether a request may go out.
    pub fn allow(&self) -> bool {
        let ratio = self.drop_ratio();
        ratio <= 0.0 || fastrand::f64() >= ratio
    }

    /// Records a success.
    pub fn mark_success(&self) {
        self.stat.add(Instant::now(), 1);
    }

    /// Records a failure (or a local rejection).
    pub fn mark_failed(&self) {
        self.stat.add(Instant::now(), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_on_failures_and_closes_when_the_window_passes() {
        let sre = Sre::new(SreConfig::default());
        for _ in 0..99 {
            sre.mark_failed();
        }
        assert!(sre.allow(), "fewer than 100 requests: closed");
        sre.mark_failed();
        assert!(sre.drop_ratio() > 0.99);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(sre.drop_ratio(), 0.0);
        for _ in 0..200 {
            sre.mark_success();
        }
        for _ in 0..50 {
            sre.mark_failed();
        }
        assert_eq!(sre.drop_ratio(), 0.0, "mostly successes: closed");
    }

    /// The (accepts, requests) totals of the window now.
    fn totals(sre: &Sre) -> (u64, u64) {
        sre.stat
            .buckets(Instant::now(), false)
            .fold((0, 0), |(a, t), b| (a + b.sum, t + b.count))
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_marks_are_all_counted() {
        let sre = Sre::new(SreConfig::default());
        let runtime = tokio::runtime::Handle::current();
        std::thread::scope(|s| {
            for t in 0..8 {
                let (sre, runtime) = (&sre, runtime.clone());
                s.spawn(move || {
                    // The paused clock of the test: no bucket turns over.
                    let _clock = runtime.enter();
                    for i in 0..5_000 {
                        if (i + t) % 2 == 0 {
                            sre.mark_success();
                        } else {
                            sre.mark_failed();
                        }
                        let _ = sre.allow();
                    }
                });
            }
        });
        assert_eq!(totals(&sre), (20_000, 40_000));
    }
}
