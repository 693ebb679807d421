//! Jittered exponential backoff shared by the etcd and Consul backends.

use std::time::Duration;

/// Retry delays: `initial`, doubling up to `max`, each with "equal jitter"
/// (half fixed, half random) so that many instances retrying after one
/// outage do not hit the backend in lockstep.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial: initial.max(Duration::from_millis(1)),
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The delay before the next try.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        let ceiling = self.initial.saturating_mul(factor).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let jitter = rand::random_range(0.0..=1.0f64);
        half + half.mul_f64(jitter)
    }

    /// Starts over after a success.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Sleeps for [`Backoff::next_delay`].
    pub(crate) async fn wait(&mut self) {
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
