//! What a connection is doing: how many calls it has in flight, and how
//! many have started, so that a watcher can tell since when it has
//! certainly had none (to close idle connections, and those first when the
//! accept loop needs room) without a call reading the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// One call started: the high half of [`Activity::calls`] counts starts,
/// the low half calls in flight.
const STARTED: u64 = 1 << 32;
/// The calls in flight in [`Activity::calls`].
const IN_FLIGHT: u64 = STARTED - 1;

/// The calls of one connection.
#[derive(Debug)]
pub(crate) struct Activity {
    /// Calls started (high 32 bits, wrapping) and in flight (low 32 bits),
    /// in one word: a watcher that reads the same word twice knows that no
    /// call started in between.
    calls: AtomicU64,
    /// Woken when a call starts, if anyone waits for that (`watchers`).
    started: Notify,
    /// How many [`busy_within`](Self::busy_within) wait: a call's start
    /// notifies (taking the notification's lock) only then.
    watchers: AtomicUsize,
    /// When the connection was accepted (idle since then until a call).
    accepted: Instant,
}

impl Activity {
    /// A connection accepted now, idle since now.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicU64::new(0),
            started: Notify::new(),
            watchers: AtomicUsize::new(0),
            accepted: Instant::now(),
        })
    }

    /// Whether a call is in flight.
    fn busy(&self) -> bool {
        self.calls.load(Ordering::SeqCst) & IN_FLIGHT > 0
    }

    /// A watch of this connection's idleness for one watcher.
    pub(crate) fn watch(&self) -> IdleWatch<'_> {
        IdleWatch {
            activity: self,
            // Nothing started yet at `accepted`: idle since then.
            quiet_since: Some((0, self.accepted)),
        }
    }

    /// A call starts; it is in flight until the returned [`Busy`] drops.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.calls.fetch_add(STARTED + 1, Ordering::SeqCst);
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
        if self.busy() {
            return;
        }
        let _ = tokio::time::timeout(linger, started).await;
    }
}

/// What one watcher has seen of a connection: since when it has certainly
/// had no call in flight. Each look reads the calls' word; the connection
/// has been idle since the first look that read the word it reads now with
/// no call in flight (no call started in between, none was in flight at
/// the first). So a look tells a lower bound of the idle time, exact to the
/// spacing of the looks, and a call pays no clock read for it.
#[derive(Debug)]
pub(crate) struct IdleWatch<'a> {
    activity: &'a Activity,
    /// The word of the first look of the current quiet stretch, and when.
    quiet_since: Option<(u64, Instant)>,
}

impl IdleWatch<'_> {
    /// How long the connection has certainly had no call in flight, as of
    /// `now` (`None`: a call is in flight).
    pub(crate) fn idle_for(&mut self, now: Instant) -> Option<Duration> {
        let calls = self.activity.calls.load(Ordering::SeqCst);
        if calls & IN_FLIGHT > 0 {
            self.quiet_since = None;
            return None;
        }
        match self.quiet_since {
            Some((seen, since)) if seen == calls => Some(now.saturating_duration_since(since)),
            _ => {
                self.quiet_since = Some((calls, now));
                Some(Duration::ZERO)
            }
        }
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
        self.0.calls.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_since_it_was_accepted_until_a_call() {
        let activity = Activity::new();
        let mut watch = activity.watch();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(watch.idle_for(Instant::now()), Some(Duration::from_secs(5)));

        let call = activity.begin();
        assert_eq!(watch.idle_for(Instant::now()), None, "a call is in flight");
        tokio::time::advance(Duration::from_secs(2)).await;
        drop(call);
        assert_eq!(
            watch.idle_for(Instant::now()),
            Some(Duration::ZERO),
            "idle from this look on"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(watch.idle_for(Instant::now()), Some(Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_between_two_looks_restarts_the_quiet_stretch() {
        let activity = Activity::new();
        let mut watch = activity.watch();
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(watch.idle_for(Instant::now()), Some(Duration::from_secs(3)));
        // Started and ended between two looks: no look saw it in flight.
        drop(activity.begin());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            watch.idle_for(Instant::now()),
            Some(Duration::ZERO),
            "a call ran since the last look"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(watch.idle_for(Instant::now()), Some(Duration::from_secs(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_connection_is_busy_until_its_last_call_ends() {
        let activity = Activity::new();
        let mut watch = activity.watch();
        let (first, second) = (activity.begin(), activity.begin());
        drop(first);
        assert_eq!(watch.idle_for(Instant::now()), None, "one call left");
        drop(second);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(watch.idle_for(Instant::now()), Some(Duration::ZERO));
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
