//! Smooth weighted round-robin, as nginx does it.

use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;

use super::{Balancer, PickTime};
use crate::WeightedNode;

/// Smooth weighted round-robin (nginx's algorithm), the default balancer.
///
/// On each pick every candidate's current weight grows by its weight, the
/// node with the highest current weight is picked and loses the sum of all
/// weights. Weights 5:1:1 give `a a b a c a a`, spreading the heavy node
/// instead of bursting it. Current weights live in the nodes' statistics, so
/// they survive node-list updates; picks are serialised by a short lock.
#[derive(Debug, Default)]
pub struct Wrr {
    lock: Mutex<()>,
}

impl Wrr {
    /// A smooth weighted round-robin balancer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Balancer for Wrr {
    fn pick(&self, nodes: &[WeightedNode], _time: &PickTime) -> usize {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut total = 0i64;
        let mut best = 0;
        let mut best_weight = i64::MIN;
        for (i, w) in nodes.iter().enumerate() {
            let weight = i64::from(w.weight());
            total += weight;
            let current = w.stats().current_weight.load(Relaxed) + weight;
            w.stats().current_weight.store(current, Relaxed);
            if current > best_weight {
                best = i;
                best_weight = current;
            }
        }
        nodes[best]
            .stats()
            .current_weight
            .store(best_weight - total, Relaxed);
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Node, Selector};

    #[test]
    fn nginx_sequence() {
        let s = Selector::builder().balancer(Wrr::new()).build();
        s.apply([
            Node::new("grpc", "a").with_weight(5),
            Node::new("grpc", "b").with_weight(1),
            Node::new("grpc", "c").with_weight(1),
        ]);
        let seq: String = (0..7)
            .map(|_| {
                let (n, done) = s.select().unwrap();
                drop(done);
                n.address().to_owned()
            })
            .collect();
        assert_eq!(seq, "aabacaa");
    }
}
