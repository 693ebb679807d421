//! A token bucket: `burst` tokens, refilled at `rate` per second. Knows
//! nothing of HTTP.

use std::fmt;
use std::sync::{Arc, Mutex};

use kratos_core::sync::LockExt;
use tokio::time::Instant;

/// A token bucket limiter; clones share their tokens.
///
/// ```
/// use kratos_middleware::ratelimit::TokenBucket;
///
/// let bucket = TokenBucket::new(1.0, 3);
/// assert_eq!((0..5).filter(|_| bucket.try_acquire()).count(), 3);
/// ```
#[derive(Clone)]
pub struct TokenBucket(Arc<Inner>);

struct Inner {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBucket")
            .field("rate", &self.0.rate)
            .field("burst", &self.0.burst)
            .finish_non_exhaustive()
    }
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `rate` tokens per second.
    pub fn new(rate: f64, burst: u32) -> Self {
        Self(Arc::new(Inner {
            rate: rate.max(0.0),
            burst: f64::from(burst),
            state: Mutex::new((f64::from(burst), Instant::now())),
        }))
    }

    /// Takes a token if there is one.
    pub fn try_acquire(&self) -> bool {
        let now = Instant::now();
        let mut state = self.0.state.lock_unpoisoned();
        let (tokens, last) = *state;
        let refilled = (tokens + now.saturating_duration_since(last).as_secs_f64() * self.0.rate)
            .min(self.0.burst);
        if refilled >= 1.0 {
            *state = (refilled - 1.0, now);
            true
        } else {
            *state = (refilled, now);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn admits_its_burst_then_its_rate() {
        let bucket = TokenBucket::new(10.0, 5);
        assert_eq!((0..20).filter(|_| bucket.try_acquire()).count(), 5);
        tokio::time::advance(Duration::from_millis(300)).await;
        assert_eq!((0..20).filter(|_| bucket.try_acquire()).count(), 3);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!((0..20).filter(|_| bucket.try_acquire()).count(), 5);
    }
}
