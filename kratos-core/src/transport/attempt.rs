//! [`Attempt`]: which try of a client call a request is, and where the
//! earlier tries went.

use std::fmt;
use std::sync::{Arc, Mutex};

/// Which attempt of a client call a request is (1 for the first), and the
/// nodes the earlier attempts of the same call were sent to.
///
/// The retry middleware puts one in each attempt's extensions; clones share
/// the list of tried nodes, so the discovery-aware clients (which record
/// every node they send the call to) pick a node not tried yet for the next
/// attempt while one exists.
///
/// ```
/// use kratos_core::transport::Attempt;
///
/// let first = Attempt::first();
/// first.record("10.0.0.1:9000");
/// let second = first.next();
/// assert_eq!(second.number(), 2);
/// assert!(second.was_tried("10.0.0.1:9000"));
/// assert!(!second.was_tried("10.0.0.2:9000"));
/// ```
#[derive(Clone, Default)]
pub struct Attempt {
    number: u32,
    tried: Arc<Mutex<Vec<Box<str>>>>,
}

impl Attempt {
    /// The first attempt of a call.
    pub fn first() -> Self {
        Self {
            number: 1,
            tried: Arc::default(),
        }
    }

    /// The attempt after this one, sharing its list of tried nodes.
    pub fn next(&self) -> Self {
        Self {
            number: self.number + 1,
            tried: self.tried.clone(),
        }
    }

    /// 1 for the first attempt, 2 for the first retry, …
    pub fn number(&self) -> u32 {
        self.number.max(1)
    }

    /// Records that an attempt of this call went to `node` (an address).
    pub fn record(&self, node: &str) {
        let mut tried = self.lock();
        if !tried.iter().any(|t| &**t == node) {
            tried.push(node.into());
        }
    }

    /// Whether an attempt of this call went to `node` already.
    pub fn was_tried(&self, node: &str) -> bool {
        self.lock().iter().any(|t| &**t == node)
    }

    /// The nodes tried so far, in order.
    pub fn tried(&self) -> Vec<String> {
        self.lock().iter().map(|t| t.to_string()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<str>>> {
        self.tried.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("number", &self.number())
            .field("tried", &self.tried())
            .finish()
    }
}
