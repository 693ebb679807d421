use std::sync::Arc;
use std::time::Duration;

use kratos_net::Backoff;
use tower_layer::Layer;

use super::{Policy, Retry, RetryBudget};
use crate::Matcher;

/// Retries failed idempotent calls with backoff, within a budget; see the
/// [module docs](crate::retry). Every clone shares the budget.
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::Matcher;
/// use kratos_middleware::retry::{RetryBudget, RetryLayer};
///
/// let retry = RetryLayer::new()
///     .attempts(3)
///     .backoff(Duration::from_millis(25), Duration::from_secs(1))
///     .retry_on([503, 504])
///     .idempotent(Matcher::prefix("/catalog.v1.Catalog/Get"))
///     .budget(RetryBudget::new(0.2, 10));
/// # let _ = retry;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RetryLayer {
    policy: Policy,
}

impl RetryLayer {
    /// 3 attempts, backoff from 25 ms to 1 s with equal jitter, retrying 502
    /// and 503 and failures of the wrapped service, for idempotent HTTP
    /// methods only, within [`RetryBudget::default`].
    pub fn new() -> Self {
        Self {
            policy: Policy {
                attempts: 3,
                backoff: Backoff::new(Duration::from_millis(25), Duration::from_secs(1)),
                codes: Arc::from(vec![502, 503]),
                idempotent: None,
                budget: RetryBudget::default(),
            },
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.policy.attempts = attempts.max(1);
        self
    }

    /// The backoff: retry `n` (from 0) waits a random time between half of
    /// `min(max, base × 2ⁿ)` and all of it ("equal jitter"); `base` is at
    /// least 1 ms and `max` at least `base`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.policy.backoff = Backoff::new(base, max);
        self
    }

    /// The codes (HTTP statuses, or kratos codes of gRPC statuses) to retry.
    pub fn retry_on(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.policy.codes = codes.into_iter().collect();
        self
    }

    /// Opts operations in as idempotent: gRPC calls (all POSTs) and HTTP
    /// calls with non-idempotent methods are retried only when this matches.
    pub fn idempotent(mut self, matcher: Matcher) -> Self {
        self.policy.idempotent = Some(matcher);
        self
    }

    /// The budget, shared by every service this layer builds.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.policy.budget = budget;
        self
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            policy: self.policy.clone(),
        }
    }
}
