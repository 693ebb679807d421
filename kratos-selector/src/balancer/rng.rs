//! A per-thread wyrand generator: balancers need speed, not cryptography.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(rand::random::<u64>() | 1);
}

/// A uniformly distributed index in `0..n` (`n > 0`).
pub(crate) fn below(n: usize) -> usize {
    let x = STATE.with(|s| {
        let next = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(next);
        let t = u128::from(next) * u128::from(next ^ 0xe703_7ed1_a0b4_28db);
        (t as u64) ^ ((t >> 64) as u64)
    });
    // Lemire's multiply-shift: no modulo bias worth measuring for node counts.
    ((u128::from(x) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_covers_it() {
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[below(7)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        assert_eq!(below(1), 0);
    }
}
