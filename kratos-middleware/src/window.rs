//! A rolling window of time buckets, each a sum and a count: the statistics
//! under BBR and the SRE breaker. Knows nothing of HTTP.
//!
//! Lock-free: each bucket is a pair of `AtomicU64` counters plus the epoch
//! (the index of the time bucket since the window was made) its counts
//! belong to. Adding in the steady state is two `fetch_add`s; the first
//! writer of a new time bucket claims the slot by moving its epoch forward
//! (a compare-and-swap) and clears it. Counts added by another thread in the
//! instant between that claim and the clear may be lost; none are otherwise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Bucket {
    pub(crate) sum: u64,
    pub(crate) count: u64,
}

#[derive(Debug)]
struct Slot {
    /// The time bucket the counters belong to.
    epoch: AtomicU64,
    sum: AtomicU64,
    count: AtomicU64,
}

/// `buckets` buckets of `bucket` each; the current bucket is the one `now`
/// falls in, older ones expire as time moves on.
#[derive(Debug)]
pub(crate) struct RollingWindow {
    slots: Box<[Slot]>,
    bucket_nanos: u128,
    /// Start of time bucket 0.
    start: Instant,
}

impl RollingWindow {
    pub(crate) fn new(buckets: usize, bucket: Duration, now: Instant) -> Self {
        let slots = (0..buckets.max(1))
            .map(|i| Slot {
                // Slot i first serves time bucket i: its counters are already clear.
                epoch: AtomicU64::new(i as u64),
                sum: AtomicU64::new(0),
                count: AtomicU64::new(0),
            })
            .collect();
        Self {
            slots,
            bucket_nanos: bucket.max(Duration::from_micros(1)).as_nanos(),
            start: now,
        }
    }

    /// The time bucket `now` falls in.
    fn epoch(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.start).as_nanos();
        u64::try_from(elapsed / self.bucket_nanos).unwrap_or(u64::MAX)
    }

    fn slot(&self, epoch: u64) -> &Slot {
        &self.slots[(epoch % self.slots.len() as u64) as usize]
    }

    /// Adds `value` to the current bucket's sum, and one to its count.
    pub(crate) fn add(&self, now: Instant, value: u64) {
        let epoch = self.epoch(now);
        let slot = self.slot(epoch);
        let mut seen = slot.epoch.load(Ordering::Acquire);
        // A slot still holding an older time bucket is claimed and cleared
        // by one writer; a slot already ahead (this thread read the clock
        // before another moved on) takes the count as it is.
        while seen < epoch {
            match slot
                .epoch
                .compare_exchange_weak(seen, epoch, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    slot.sum.store(0, Ordering::Relaxed);
                    slot.count.store(0, Ordering::Relaxed);
                    break;
                }
                Err(actual) => seen = actual,
            }
        }
        slot.sum.fetch_add(value, Ordering::Relaxed);
        slot.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The buckets, oldest first; with `skip_current`, without the current
    /// (incomplete) one.
    pub(crate) fn buckets(
        &self,
        now: Instant,
        skip_current: bool,
    ) -> impl Iterator<Item = Bucket> + '_ {
        let len = self.slots.len() as i128;
        let n = if skip_current { len - 1 } else { len };
        let last = self.epoch(now) as i128 - i128::from(skip_current);
        // Oldest first; time buckets before the window's start read empty.
        let epochs = (last - n + 1..=last).map(|e| u64::try_from(e).ok());
        epochs.map(move |epoch| {
            let Some(epoch) = epoch else {
                return Bucket::default();
            };
            let slot = self.slot(epoch);
            if slot.epoch.load(Ordering::Acquire) != epoch {
                return Bucket::default();
            }
            Bucket {
                sum: slot.sum.load(Ordering::Relaxed),
                count: slot.count.load(Ordering::Relaxed),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(w: &RollingWindow, now: Instant, skip_current: bool) -> Vec<u64> {
        w.buckets(now, skip_current).map(|b| b.sum).collect()
    }

    #[test]
    fn buckets_expire_as_time_moves() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let w = RollingWindow::new(3, ms(100), t0);
        w.add(t0, 5);
        w.add(t0 + ms(150), 7);
        assert_eq!(sums(&w, t0 + ms(150), false), [0, 5, 7]);
        assert_eq!(sums(&w, t0 + ms(250), true), [5, 7]);
        assert_eq!(sums(&w, t0 + ms(350), false), [7, 0, 0]);
        assert_eq!(sums(&w, t0, true), [0, 0]);
        let total: u64 = w
            .buckets(t0 + Duration::from_secs(10), false)
            .map(|b| b.count)
            .sum();
        assert_eq!(total, 0);
        // A slot reused for a later time bucket starts from zero.
        w.add(t0 + ms(400), 1);
        assert_eq!(sums(&w, t0 + ms(400), false), [0, 0, 1]);
    }

    #[test]
    fn concurrent_adds_in_one_bucket_are_all_counted() {
        let t0 = Instant::now();
        let w = RollingWindow::new(10, Duration::from_secs(3600), t0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        w.add(t0, 2);
                    }
                });
            }
        });
        let total = w.buckets(t0, false).fold(Bucket::default(), |t, b| Bucket {
            sum: t.sum + b.sum,
            count: t.count + b.count,
        });
        assert_eq!(
            total,
            Bucket {
                sum: 160_000,
                count: 80_000
            }
        );
    }
}
