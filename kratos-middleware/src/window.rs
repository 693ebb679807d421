//! A rolling window of time buckets, each a sum and a count: the statistics
//! under BBR and the SRE breaker. Knows nothing of HTTP.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bucket {
    pub(crate) sum: i64,
    pub(crate) count: i64,
}

/// `buckets` buckets of `bucket` each; the current bucket is the one `now`
/// falls in, older ones expire as time moves on.
#[derive(Debug)]
pub(crate) struct RollingWindow {
    buckets: Vec<Bucket>,
    bucket: Duration,
    /// Index of the current bucket.
    offset: usize,
    /// Start of the current bucket.
    start: Instant,
}

impl RollingWindow {
    pub(crate) fn new(buckets: usize, bucket: Duration, now: Instant) -> Self {
        Self {
            buckets: vec![Bucket::default(); buckets.max(1)],
            bucket: bucket.max(Duration::from_micros(1)),
            offset: 0,
            start: now,
        }
    }

    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.start);
        let steps = (elapsed.as_nanos() / self.bucket.as_nanos()) as u64;
        if steps == 0 {
            return;
        }
        let len = self.buckets.len();
        for i in 1..=(steps.min(len as u64) as usize) {
            self.buckets[(self.offset + i) % len] = Bucket::default();
        }
        self.offset = (self.offset + (steps % len as u64) as usize) % len;
        self.start += self.bucket * steps as u32;
    }

    /// Adds `value` to the current bucket.
    pub(crate) fn add(&mut self, now: Instant, value: i64) {
        self.advance(now);
        let b = &mut self.buckets[self.offset];
        b.sum += value;
        b.count += 1;
    }

    /// The buckets, oldest first; with `skip_current`, without the current
    /// (incomplete) one.
    pub(crate) fn buckets(
        &mut self,
        now: Instant,
        skip_current: bool,
    ) -> impl Iterator<Item = Bucket> + '_ {
        self.advance(now);
        let len = self.buckets.len();
        let n = if skip_current { len - 1 } else { len };
        let first = self.offset + 1;
        (0..n).map(move |i| self.buckets[(first + i) % len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_expire_as_time_moves() {
        let t0 = Instant::now();
        let mut w = RollingWindow::new(3, Duration::from_millis(100), t0);
        w.add(t0, 5);
        w.add(t0 + Duration::from_millis(150), 7);
        let sums: Vec<i64> = w
            .buckets(t0 + Duration::from_millis(150), false)
            .map(|b| b.sum)
            .collect();
        assert_eq!(sums, [0, 5, 7]);
        let sums: Vec<i64> = w
            .buckets(t0 + Duration::from_millis(250), true)
            .map(|b| b.sum)
            .collect();
        assert_eq!(sums, [5, 7]);
        let sums: Vec<i64> = w
            .buckets(t0 + Duration::from_millis(350), false)
            .map(|b| b.sum)
            .collect();
        assert_eq!(sums, [7, 0, 0]);
        let total: i64 = w
            .buckets(t0 + Duration::from_secs(10), false)
            .map(|b| b.count)
            .sum();
        assert_eq!(total, 0);
    }
}
