//! A retry budget: retries may add at most a fraction of the traffic, so
//! retries cannot multiply an outage. Knows nothing of HTTP.

use kratos_core::sync::LockExt;
use std::sync::{Arc, Mutex};

/// Every request deposits `ratio` of a token (up to `reserve` tokens); every
/// retry withdraws a whole one. It starts full, so a quiet client may retry
/// `reserve` times at once; under a storm retries fall to `ratio` of the
/// requests. Clones share the tokens.
///
/// ```
/// use kratos_middleware::retry::RetryBudget;
///
/// let budget = RetryBudget::new(0.1, 2);
/// assert!(budget.withdraw() && budget.withdraw());
/// assert!(!budget.withdraw());
/// for _ in 0..10 {
///     budget.deposit();
/// }
/// assert!(budget.withdraw());
/// assert!(!budget.withdraw());
/// ```
#[derive(Debug, Clone)]
pub struct RetryBudget {
    ratio: f64,
    reserve: f64,
    tokens: Arc<Mutex<f64>>,
}

impl RetryBudget {
    /// Retries limited to `ratio` of requests, with `reserve` retries banked.
    pub fn new(ratio: f64, reserve: u32) -> Self {
        Self {
            ratio: ratio.max(0.0),
            reserve: f64::from(reserve),
            tokens: Arc::new(Mutex::new(f64::from(reserve))),
        }
    }

    /// Records a request.
    pub fn deposit(&self) {
        let mut t = self.tokens.lock_unpoisoned();
        *t = (*t + self.ratio).min(self.reserve.max(1.0));
    }

    /// Takes a token for one retry, if the budget has one.
    pub fn withdraw(&self) -> bool {
        let mut t = self.tokens.lock_unpoisoned();
        // A small epsilon absorbs the rounding of repeated deposits.
        if *t >= 1.0 - 1e-9 {
            *t = (*t - 1.0).max(0.0);
            true
        } else {
            false
        }
    }
}

impl Default for RetryBudget {
    /// 20% of requests, 10 retries banked.
    fn default() -> Self {
        Self::new(0.2, 10)
    }
}
