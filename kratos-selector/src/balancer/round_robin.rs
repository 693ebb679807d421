//! Plain round-robin.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Balancer, PickTime};
use crate::WeightedNode;

/// Picks each node in turn, ignoring weights: over `k × n` picks of an
/// unchanged list of `n` nodes each node gets exactly `k`.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round-robin balancer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Balancer for RoundRobin {
    fn pick(&self, nodes: &[WeightedNode], _time: &PickTime) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % nodes.len()
    }
}
