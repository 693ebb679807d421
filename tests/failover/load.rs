//! Bounded, paced load: 16 workers share a budget of about 1,000 calls/s
//! (a 1 ms ticker hands out permits, at most [`WORKERS`] banked), up to a
//! fixed number of calls within a hard time cap.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Concurrent callers.
pub(crate) const WORKERS: usize = 16;
/// One permit per tick: about 1,000 calls/s in all.
const TICK: Duration = Duration::from_millis(1);

/// What a call gave: the instance that answered, or the failure's code
/// (`"503 TRANSPORT"`, `"DeadlineExceeded TIMEOUT"`).
pub(crate) type Outcome = Result<String, String>;

/// Makes one call.
pub(crate) type Call = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// One finished call; times are since the load started.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) end: Duration,
    pub(crate) outcome: Outcome,
}

/// A load running in the background.
pub(crate) struct Load {
    start: Instant,
    issued: watch::Receiver<usize>,
    halt: watch::Sender<bool>,
    task: JoinHandle<Vec<Record>>,
}

impl Load {
    /// Starts `total` calls, paced, stopping at `cap` whatever is left.
    pub(crate) fn start(call: Call, total: usize, cap: Duration) -> Self {
        let start = Instant::now();
        let deadline = start + cap;
        let (issued_tx, issued) = watch::channel(0usize);
        let issued_tx = Arc::new(issued_tx);
        let (halt, halted) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(0));
        let records = Arc::new(Mutex::new(Vec::with_capacity(total)));
        let pacer = tokio::spawn({
            let permits = permits.clone();
            async move {
                let mut tick = tokio::time::interval(TICK);
                tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
                loop {
                    tick.tick().await;
                    if permits.available_permits() < WORKERS {
                        permits.add_permits(1);
                    }
                }
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (call, permits, records) = (call.clone(), permits.clone(), records.clone());
                let (issued_tx, mut halted) = (issued_tx.clone(), halted.clone());
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            permit = permits.acquire() => permit.expect("open").forget(),
                            _ = halted.wait_for(|h| *h) => break,
                            _ = tokio::time::sleep_until(deadline) => break,
                        }
                        let mut mine = false;
                        issued_tx.send_if_modified(|n| {
                            mine = *n < total;
                            *n += usize::from(mine);
                            mine
                        });
                        if !mine {
                            break;
                        }
                        let outcome = call().await;
                        let end = start.elapsed();
                        records
                            .lock()
                            .expect("records")
                            .push(Record { end, outcome });
                    }
                })
            })
            .collect();
        let task = tokio::spawn(async move {
            for worker in workers {
                worker.await.expect("a load worker panicked");
            }
            pacer.abort();
            std::mem::take(&mut *records.lock().expect("records"))
        });
        Self {
            start,
            issued,
            halt,
            task,
        }
    }

    /// When the load started.
    pub(crate) fn started(&self) -> Instant {
        self.start
    }

    /// Time since the load started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Waits until `n` calls were issued (or the load ended).
    pub(crate) async fn reached(&self, n: usize) {
        let mut issued = self.issued.clone();
        let _ = issued.wait_for(|i| *i >= n).await;
    }

    /// Issues no more calls; those in flight finish.
    pub(crate) fn halt(&self) {
        self.halt.send_replace(true);
    }

    /// Waits for every call to finish.
    pub(crate) async fn finish(self) -> Report {
        let records = tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the load ends within its cap plus the calls' timeouts")
            .expect("the load task");
        Report { records }
    }
}

/// The calls of a finished load.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) records: Vec<Record>,
}

/// A report's counts.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) ok: usize,
    pub(crate) by_instance: BTreeMap<String, usize>,
    pub(crate) failed: BTreeMap<String, usize>,
}

impl Tally {
    pub(crate) fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }
}

impl Report {
    /// Counts the calls that ended within `window` (all calls: `..MAX`).
    pub(crate) fn tally(&self, window: Range<Duration>) -> Tally {
        let mut tally = Tally::default();
        for r in self.records.iter().filter(|r| window.contains(&r.end)) {
            match &r.outcome {
                Ok(instance) => {
                    tally.ok += 1;
                    *tally.by_instance.entry(instance.clone()).or_default() += 1;
                }
                Err(code) => *tally.failed.entry(code.clone()).or_default() += 1,
            }
        }
        tally
    }

    /// Counts every call.
    pub(crate) fn total(&self) -> Tally {
        self.tally(Duration::ZERO..Duration::MAX)
    }

    /// Successful calls per second that ended within `window`.
    pub(crate) fn goodput(&self, window: Range<Duration>) -> f64 {
        let secs = (window.end - window.start).as_secs_f64();
        self.tally(window).ok as f64 / secs
    }
}
