//! What the selector's behaviour tests share.

use std::collections::HashMap;

use kratos_selector::{DoneInfo, Selector};

/// Picks `n` times, each call succeeding at once; counts picks per address.
pub fn spread(s: &Selector, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let (node, done) = s.select().expect("a node");
        *counts.entry(node.address().to_owned()).or_default() += 1;
        done.done(DoneInfo::new());
    }
    counts
}
