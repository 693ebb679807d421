//! Power of two choices over EWMA statistics, as Go Kratos's `p2c`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Balancer, PickTime};
use crate::WeightedNode;

/// A node not picked for this long is picked on its next chance, so a node
/// that was slow or failing gets a sample that can clear its name.
pub const FORCE_PICK: Duration = Duration::from_secs(3);

/// Power of two choices: draws two distinct nodes at random and picks the one
/// with the better score, success × weight ÷ (EWMA latency × in-flight calls).
///
/// Like Go Kratos: latency and success are moving averages with a 600 ms
/// decay ([`DECAY`](super::DECAY)); a node with no completed call yet is
/// scored with a 10 s latency; when the losing node has not been picked for
/// [`FORCE_PICK`], it is picked instead (by one caller at a time). Unlike Go
/// Kratos, the statistics survive node-list updates, and the score also
/// scales with the node's initial weight.
#[derive(Debug)]
pub struct P2c {
    force_after: Duration,
    forcing: AtomicBool,
}

impl Default for P2c {
    fn default() -> Self {
        Self::new()
    }
}

impl P2c {
    /// A P2C balancer forcing a pick after [`FORCE_PICK`].
    pub fn new() -> Self {
        Self {
            force_after: FORCE_PICK,
            forcing: AtomicBool::new(false),
        }
    }

    /// Changes how long a node may go unpicked before it is forced.
    pub fn force_pick_after(mut self, after: Duration) -> Self {
        self.force_after = after;
        self
    }
}

impl Balancer for P2c {
    fn measures_latency(&self) -> bool {
        true
    }

    fn pick(&self, nodes: &[WeightedNode], time: &PickTime) -> usize {
        let n = nodes.len();
        if n < 2 {
            return 0;
        }
        let a = fastrand::usize(..n);
        let mut b = fastrand::usize(..n - 1);
        if b >= a {
            b += 1;
        }
        let score = |i: usize| nodes[i].stats().score(nodes[i].weight());
        let (picked, other) = if score(b) > score(a) { (b, a) } else { (a, b) };
        let starved = nodes[other]
            .stats()
            .since_last_pick(time.now())
            .is_none_or(|d| d > self.force_after);
        if starved
            && self
                .forcing
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            self.forcing.store(false, Ordering::Release);
            return other;
        }
        picked
    }
}
