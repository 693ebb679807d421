//! Uniformly random picks.

use super::{Balancer, PickTime};
use crate::WeightedNode;

/// Picks a node uniformly at random, ignoring weights and statistics.
#[derive(Debug, Clone, Default)]
pub struct Random {
    _private: (),
}

impl Random {
    /// A random balancer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Balancer for Random {
    fn pick(&self, nodes: &[WeightedNode], _time: &PickTime) -> usize {
        fastrand::usize(..nodes.len())
    }
}
