//! Balancers: how a node is picked among the candidates.
//!
//! | balancer | picks | cost per pick |
//! |---|---|---|
//! | [`Wrr`] (default) | smooth weighted round-robin (nginx): weights 1:2:3 give `c b a c b c` | O(n) under a short lock |
//! | [`RoundRobin`] | each node in turn | one atomic add |
//! | [`Random`] | uniformly at random | one random number |
//! | [`P2c`] | the better of two random nodes by EWMA latency, success and in-flight calls | two random numbers, lock-free |

mod ewma;
mod p2c;
mod random;
mod rng;
mod round_robin;
mod wrr;

use std::fmt;

use tokio::time::Instant;

use crate::WeightedNode;

pub use ewma::{DECAY, NodeStats};
pub use p2c::{FORCE_PICK, P2c};
pub use random::Random;
pub use round_robin::RoundRobin;
pub use wrr::Wrr;

/// Picks one node among the candidates of a call.
///
/// The selector calls it with a non-empty slice (after filtering); the
/// returned index must be in range (an out-of-range index picks the first
/// node). A balancer keeps its own state (counters, locks) and may read and
/// update the nodes' [`NodeStats`].
pub trait Balancer: Send + Sync + fmt::Debug + 'static {
    /// The index of the picked node in `nodes`; `time` is the time of the
    /// pick.
    fn pick(&self, nodes: &[WeightedNode], time: &PickTime) -> usize;

    /// Whether this balancer uses latency, success rate and last-pick time
    /// (then every done updates those averages). Default: `false`.
    fn measures_latency(&self) -> bool {
        false
    }
}

/// The time of one pick, read from the clock once: the selector needs it for
/// node health, and balancers read the same value.
#[derive(Debug, Clone, Copy)]
pub struct PickTime {
    now: Instant,
}

impl Default for PickTime {
    fn default() -> Self {
        Self::new()
    }
}

impl PickTime {
    /// The time now.
    pub fn new() -> Self {
        Self {
            now: Instant::now(),
        }
    }

    /// The time of the pick (`tokio::time::Instant`, so paused test clocks
    /// apply).
    pub fn now(&self) -> Instant {
        self.now
    }
}

/// Makes a fresh [`Balancer`], one per selector (so per dialled target).
///
/// Any `Fn() -> B` is a builder: `Wrr::new`, `P2c::new`, `|| P2c::new()`.
pub trait BalancerBuilder: Send + Sync {
    /// A new balancer.
    fn build(&self) -> Box<dyn Balancer>;
}

impl<F, B> BalancerBuilder for F
where
    F: Fn() -> B + Send + Sync,
    B: Balancer,
{
    fn build(&self) -> Box<dyn Balancer> {
        Box::new(self())
    }
}
