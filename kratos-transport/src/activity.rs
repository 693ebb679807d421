//! What a connection is doing: how many calls it has in flight and since
//! when it has had none, so that the accept loop can close idle connections
//! first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The calls in flight on one connection and when the last one ended.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    /// Woken when a call starts, if anyone waits for that (`watchers`).
    started: Notify,
    /// How many [`busy_within`](Self::busy_within) wait: a call's start
    /// notifies (taking the notification's lock) only then.
    watchers: AtomicUsize,
    /// When the connection last became idle, in milliseconds since `origin`.
    idle_since: AtomicU64,
    origin: Instant,
}

impl Activity {
    /// A connection accepted now, idle since now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            in_flight: AtomicUsize::new(0),
            started: Notify::new(),
            watchers: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            origin: Instant::now(),
        })
    }

    /// How long the connection has had no call in flight (`None`: a call is
    /// in flight).
    pub(crate) fn idle_for(&self, now: Instant) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since.load(Ordering::Acquire));
        Some(now.saturating_duration_since(self.origin + since))
    }

    /// A call starts; it is in flight until the returned [`Busy`] drops.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        // Sequentially consistent with `busy_within`: either it counts as a
        // watcher here (and is registered, so the notification wakes it),
        // or it sees this call in flight.
        if self.watchers.load(Ordering::SeqCst) > 0 {
            self.started.notify_waiters();
        }
        Busy(self.clone())
    }

    /// Resolves at once if a call is in flight, else when one starts or
    /// `linger` has passed, whichever is first.
    pub(crate) async fn busy_within(&self, linger: Duration) {
        let started = self.started.notified();
        tokio::pin!(started);
        // Registered, then counted, then the check: a call starting in
        // between wakes it.
        started.as_mut().enable();
        let _watching = Watching::new(&self.watchers);
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return;
        }
        let _ = tokio::time::timeout(linger, started).await;
    }
}

/// One [`Activity::busy_within`] waiting, counted while it lives.
struct Watching<'a>(&'a AtomicUsize);

impl<'a> Watching<'a> {
    fn new(watchers: &'a AtomicUsize) -> Self {
        watchers.fetch_add(1, Ordering::SeqCst);
        Self(watchers)
    }
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A call in flight; dropping it (the call's future finished or was
/// dropped) makes the connection idle when it was the last.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        let mut in_flight = activity.in_flight.load(Ordering::Acquire);
        loop {
            // Only the call that leaves the connection idle reads the clock,
            // and stamps before its decrement: whoever sees no call in flight
            // also sees when the last one ended. (Should another call start
            // meanwhile, the exchange fails and this one is not the last.)
            if in_flight == 1 {
                let millis =
                    u64::try_from(activity.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
                activity.idle_since.store(millis, Ordering::Release);
            }
            match activity.in_flight.compare_exchange_weak(
                in_flight,
                in_flight - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(now) => in_flight = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_with_no_call_in_flight() {
        let activity = Activity::new();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            activity.idle_for(Instant::now()),
            Some(Duration::from_secs(5))
        );

        let call = activity.begin();
        assert_eq!(
            activity.idle_for(Instant::now()),
            None,
            "a call is in flight"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(call);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            activity.idle_for(Instant::now()),
            Some(Duration::from_secs(1)),
            "idle since the call ended"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_call_to_end_stamps_when_the_connection_became_idle() {
        let activity = Activity::new();
        let (first, second) = (activity.begin(), activity.begin());
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(first);
        assert_eq!(activity.idle_for(Instant::now()), None, "one call left");
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(second);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            activity.idle_for(Instant::now()),
            Some(Duration::from_secs(1)),
            "idle since the second call ended"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_starting_ends_the_wait_for_one() {
        let activity = Activity::new();
        let started = Instant::now();
        let waiting = tokio::spawn({
            let activity = activity.clone();
            async move { activity.busy_within(Duration::from_secs(30)).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let call = activity.begin();
        waiting.await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the wait ran to its linger although a call started"
        );
        // With a call in flight the wait ends at once.
        activity.busy_within(Duration::from_secs(30)).await;
        drop(call);
        assert_eq!(activity.watchers.load(Ordering::SeqCst), 0);
    }
}
