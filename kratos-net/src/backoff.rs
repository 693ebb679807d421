//! [`Backoff`]: capped exponential backoff with equal jitter.

use std::time::Duration;

/// Retry delays: `base`, doubling up to `max`, each with "equal jitter"
/// (half fixed, half random) so that many clients retrying after one outage
/// do not hit the backend in lockstep, while each still waits at least half
/// its ceiling.
///
/// Attempt `n` (from 0) waits a random time in `[c / 2, c]` where
/// `c = min(max, base × 2ⁿ)`. The registry backends use it as a counter
/// ([`next_delay`](Backoff::next_delay), [`reset`](Backoff::reset),
/// [`wait`](Backoff::wait)); the retry middleware asks for the delay of a
/// given attempt ([`delay`](Backoff::delay)).
///
/// ```
/// use std::time::Duration;
/// use kratos_net::Backoff;
///
/// let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
/// let first = backoff.next_delay();
/// assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
/// assert!(backoff.delay(10) >= Duration::from_millis(500)); // capped at 1 s
/// backoff.reset(); // after a success
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays from `base` (at least 1 ms) doubling up to `max` (at least
    /// `base`).
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Self {
        let base = base.max(Duration::from_millis(1));
        Self {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The first attempt's ceiling.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The cap of every delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The longest attempt `attempt` (from 0) may wait:
    /// `min(max, base × 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A jittered delay for attempt `attempt` (from 0), in
    /// `[ceiling / 2, ceiling]`. Does not move the counter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let half = self.ceiling(attempt) / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// The delay before the next try, moving the counter on.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.delay(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Sleeps (on the tokio clock) for [`next_delay`](Backoff::next_delay).
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_and_is_capped() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for n in 0..20 {
            let d = b.next_delay();
            let ceiling = Duration::from_millis(100)
                .saturating_mul(1 << n.min(20))
                .min(Duration::from_secs(30));
            assert_eq!(b.ceiling(n), ceiling);
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "{n}: {d:?} vs {ceiling:?}"
            );
            ceilings.push(ceiling);
        }
        assert_eq!(*ceilings.last().unwrap(), Duration::from_secs(30));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn delay_of_an_attempt_leaves_the_counter_alone() {
        let b = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
        for _ in 0..100 {
            let d = b.delay(1);
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
            assert!(b.delay(u32::MAX) <= Duration::from_millis(40));
        }
        assert_eq!(b.ceiling(u32::MAX), Duration::from_millis(40));
    }

    #[test]
    fn clamps_its_bounds() {
        let b = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(b.base(), Duration::from_millis(1));
        assert_eq!(b.max(), Duration::from_millis(1));
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(b.max(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_on_the_tokio_clock() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(4));
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            b.wait().await;
        }
        // 0.5..1 + 1..2 + 2..4 + 2..4 + 2..4 seconds of virtual time.
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(7500) && waited <= Duration::from_secs(15));
    }
}
