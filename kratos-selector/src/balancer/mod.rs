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
mod round_robin;
mod wrr;

use std::cell::Cell;
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
    /// The index of the picked node in `nodes`; `time` reads the clock once
    /// per pick, only if asked.
    fn pick(&self, nodes: &[WeightedNode], time: &PickTime) -> usize;

    /// Whether this balancer uses latency, success rate and last-pick time
    /// (then every done updates those averages). Default: `false`.
    fn measures_latency(&self) -> bool {
        false
    }
}

/// The time of one pick, read from the clock on first use only, so a pick
/// that needs no time (a healthy, idle node under a balancer that ignores
/// latency) never pays for it; every reader of one pick sees one value.
#[derive(Debug, Default)]
pub struct PickTime {
    now: Cell<Option<Instant>>,
}

impl PickTime {
    /// A pick time not read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time of the pick (`tokio::time::Instant`, so paused test clocks
    /// apply).
    pub fn now(&self) -> Instant {
        match self.now.get() {
            Some(now) => now,
            None => {
                let now = Instant::now();
                self.now.set(Some(now));
                now
            }
        }
    }

    /// The time of the pick, if something read it.
    pub(crate) fn read(&self) -> Option<Instant> {
        self.now.get()
    }
}

/// Makes a fresh [`Balancer`], one per selector (so per dialled target).
///
/// Any `Fn() -> B` is a builder: `Wrr::new`, `P2c::new`, `|| P2c::new()`;
/// so is a [`BalancerKind`] chosen by name, and an `Arc<dyn BalancerBuilder>`.
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

/// A built-in balancer chosen by name at run time (from config), as Go
/// Kratos's `fn(strategy) -> Balancer`: `"wrr"`, `"p2c"`, `"random"`,
/// `"round_robin"`. A [`BalancerBuilder`], so a client takes it as is.
///
/// ```
/// use kratos_selector::balancer::BalancerKind;
/// use kratos_selector::{BalancerBuilder, Selector};
///
/// let kind: BalancerKind = "p2c".parse().unwrap();
/// let selector = Selector::builder().balancer_boxed(kind.build()).build();
/// # let _ = selector;
/// assert!("fastest".parse::<BalancerKind>().unwrap_err().to_string().contains("round_robin"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BalancerKind {
    /// [`Wrr`], the default.
    #[default]
    Wrr,
    /// [`P2c`].
    P2c,
    /// [`Random`].
    Random,
    /// [`RoundRobin`].
    RoundRobin,
}

impl BalancerKind {
    /// Every kind, with the name it parses from.
    pub const ALL: [(&'static str, BalancerKind); 4] = [
        ("wrr", BalancerKind::Wrr),
        ("p2c", BalancerKind::P2c),
        ("random", BalancerKind::Random),
        ("round_robin", BalancerKind::RoundRobin),
    ];

    /// The name it parses from.
    pub fn name(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| k == self)
            .map_or("wrr", |(name, _)| name)
    }
}

impl fmt::Display for BalancerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for BalancerKind {
    type Err = UnknownBalancer;

    /// Parses a name, ignoring case; `roundrobin` and `round-robin` name
    /// [`RoundRobin`] too.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let normal = name.trim().to_ascii_lowercase().replace('-', "_");
        let normal = if normal == "roundrobin" {
            "round_robin".to_owned()
        } else {
            normal
        };
        Self::ALL
            .iter()
            .find(|(n, _)| *n == normal)
            .map(|(_, k)| *k)
            .ok_or_else(|| UnknownBalancer(name.to_owned()))
    }
}

impl BalancerBuilder for BalancerKind {
    fn build(&self) -> Box<dyn Balancer> {
        match self {
            BalancerKind::Wrr => Box::new(Wrr::new()),
            BalancerKind::P2c => Box::new(P2c::new()),
            BalancerKind::Random => Box::new(Random::new()),
            BalancerKind::RoundRobin => Box::new(RoundRobin::new()),
        }
    }
}

/// A balancer name that names no built-in balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownBalancer(String);

impl fmt::Display for UnknownBalancer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown balancer `{}`: use one of wrr, p2c, random, round_robin",
            self.0
        )
    }
}

impl std::error::Error for UnknownBalancer {}

impl BalancerBuilder for std::sync::Arc<dyn BalancerBuilder> {
    fn build(&self) -> Box<dyn Balancer> {
        (**self).build()
    }
}
