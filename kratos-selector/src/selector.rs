//! [`Selector`]: the node list of one service and the balancer picking from it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::balancer::{Balancer, NodeStats, PickTime, Wrr};
use crate::health::{Availability, HealthPolicy, SelectorHealth};
use crate::{Node, NodeFilter, NodeFilters};

/// How soon a probe that could not be sent (its node held by another probe,
/// or filtered out of the call) is tried again.
const PROBE_RECHECK: Duration = Duration::from_millis(100);

/// How many times a pick asks the balancer again over the whole list when
/// its choice is ejected, stalled or tried, before picking among the healthy
/// nodes alone.
const MAX_REPICKS: usize = 4;

pub use kratos_net::BoxError;

/// A node as the balancers see it: the node and its live statistics.
///
/// Cheap to clone (two `Arc`s).
#[derive(Debug, Clone)]
pub struct WeightedNode {
    node: Arc<Node>,
    stats: Arc<NodeStats>,
    weight: u32,
}

impl WeightedNode {
    fn new(node: Node, now: Instant, health: &Arc<SelectorHealth>) -> Self {
        let stats = NodeStats::new(now, node.address(), health);
        Self::with_stats(node, Arc::new(stats))
    }

    fn with_stats(node: Node, stats: Arc<NodeStats>) -> Self {
        Self {
            weight: node.weight(),
            node: Arc::new(node),
            stats,
        }
    }

    /// The node's initial weight (kept here so balancers read it without a
    /// pointer chase).
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The node.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// Its statistics, kept across node-list updates while its address stays.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }
}

/// What a finished call tells the balancer: an error (and whether it says the
/// node is unhealthy), the reply metadata, optionally the latency.
///
/// Go Kratos counts deadline, cancellation, 503 and 504 as node failures and
/// other errors (a 404, a validation error) as healthy answers; the
/// kratos-transport clients follow that and add transport errors
/// (connection refused, reset) to the failures.
#[derive(Debug, Default)]
pub struct DoneInfo {
    error: Option<BoxError>,
    node_failure: bool,
    unreachable: bool,
    latency: Option<Duration>,
}

impl DoneInfo {
    /// A successful call.
    pub fn new() -> Self {
        Self::default()
    }

    /// A call that failed because of the node (unreachable, overloaded,
    /// timed out): it lowers the node's success rate.
    pub fn failed(error: impl Into<BoxError>) -> Self {
        Self {
            error: Some(error.into()),
            node_failure: true,
            ..Self::default()
        }
    }

    /// A call that failed at the transport level: the connection was
    /// refused or reset, or no answer came within the deadline. Besides
    /// counting as a [failure](Self::failed), it ejects the node from
    /// rotation for a while (see [`HealthPolicy`](crate::HealthPolicy)).
    pub fn unreachable(error: impl Into<BoxError>) -> Self {
        Self {
            unreachable: true,
            ..Self::failed(error)
        }
    }

    /// A call that returned an error the node answered normally (say a 404):
    /// recorded, but not held against the node.
    pub fn with_error(mut self, error: impl Into<BoxError>) -> Self {
        self.error = Some(error.into());
        self
    }

    /// Overrides the latency, which is otherwise measured from pick to done.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }

    /// The error of the call, if it failed.
    pub fn error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.error.as_deref()
    }

    /// Whether the failure is held against the node.
    pub fn is_node_failure(&self) -> bool {
        self.node_failure
    }

    /// Whether the node was unreachable (the call ejects it).
    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }

    /// The latency given with [`DoneInfo::with_latency`], if any.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }
}

/// The callback of one pick: call [`Done::done`] when the call finished
/// (and [`Done::responded`] when its response head arrived, if that is
/// earlier, as for a stream).
///
/// Dropping it without calling `done` (the caller gave up on the call) only
/// ends the in-flight count: no latency or success sample is recorded.
#[must_use = "report the outcome with `done`, or the call only counts as cancelled"]
pub struct Done {
    stats: Option<Arc<NodeStats>>,
    /// When the node was picked, if the pick read the clock.
    picked: Option<Instant>,
    timed: bool,
    probe: bool,
    responded: bool,
}

impl Done {
    fn new(stats: &Arc<NodeStats>, picked: Option<Instant>, timed: bool, probe: bool) -> Self {
        stats.on_pick(picked, timed);
        Self {
            stats: Some(stats.clone()),
            picked,
            timed,
            probe,
            responded: false,
        }
    }

    /// Reports that the response head arrived: the node is making progress
    /// (see stall detection in [`HealthPolicy`]). [`done`](Self::done)
    /// implies it.
    pub fn responded(&mut self) {
        if !self.responded {
            self.responded = true;
            if let Some(stats) = &self.stats {
                // Without a pick time there is no latency to sample.
                stats.on_head(self.picked, self.picked.map(|_| Instant::now()));
            }
        }
    }

    /// Reports the outcome of the call to the node's statistics and health.
    pub fn done(mut self, info: DoneInfo) {
        let Some(stats) = self.stats.take() else {
            return;
        };
        // The clock is read only for what needs it: the latency of the head
        // or the moving averages (when the pick read it), an ejection.
        let sampled = self.picked.is_some() && (self.timed || !self.responded);
        let now = (sampled || info.is_unreachable()).then(Instant::now);
        if !self.responded {
            if info.is_unreachable() {
                stats.health.on_headless_end();
            } else {
                stats.on_head(self.picked, now);
            }
        }
        let timed = self.picked.zip(now).filter(|_| self.timed);
        stats.on_done(timed, &info);
        if !info.is_unreachable() {
            stats.health.on_answer(self.probe);
        } else if let Some(now) = now
            && let Some(time) =
                stats
                    .health
                    .eject(stats.nanos(now), self.probe, &stats.selector.policy)
        {
            stats.selector.at(now + time);
            tracing::warn!(
                target: "kratos::selector",
                node = &*stats.address,
                ejected_for = ?time,
                error = info.error().map(tracing::field::display),
                "node unreachable: out of rotation"
            );
        }
    }

    /// When the node was picked, if the pick read the clock (it does under
    /// a balancer that [measures latency](crate::Balancer::measures_latency)).
    pub fn picked_at(&self) -> Option<Instant> {
        self.picked
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(stats) = self.stats.take() {
            stats.on_cancel();
            if !self.responded {
                stats.health.on_headless_end();
            }
            if self.probe {
                stats.health.on_probe_cancelled();
            }
        }
    }
}

impl fmt::Debug for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("picked", &self.picked)
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

/// No node to send the call to.
///
/// The transports turn it into Go Kratos's 503 `NODE_NOT_FOUND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError {
    filtered: bool,
}

impl SelectError {
    /// Whether nodes existed but the filters rejected them all.
    pub fn is_filtered(&self) -> bool {
        self.filtered
    }
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.filtered {
            f.write_str("no node matches the filters of this call")
        } else {
            f.write_str("no node available: discovery returned no instance with this scheme")
        }
    }
}

impl std::error::Error for SelectError {}

/// Picks a node per call from a node list that discovery replaces whole.
///
/// Cheap to clone; clones share the list, the statistics and the balancer.
/// [`Selector::apply`] swaps the list atomically; [`Selector::select`] reads
/// it without a lock. Statistics (latency and success averages, in-flight
/// counts, WRR state) belong to an address and survive updates for the nodes
/// that stayed.
///
/// ```
/// use kratos_selector::{DoneInfo, Node, Selector};
///
/// let selector = Selector::new(); // smooth weighted round-robin
/// selector.apply([
///     Node::new("grpc", "10.0.0.1:9000").with_weight(1),
///     Node::new("grpc", "10.0.0.2:9000").with_weight(2),
/// ]);
/// let mut second = 0;
/// for _ in 0..30 {
///     let (node, done) = selector.select().unwrap();
///     if node.address() == "10.0.0.2:9000" {
///         second += 1;
///     }
///     done.done(DoneInfo::new());
/// }
/// assert_eq!(second, 20);
/// ```
#[derive(Clone)]
pub struct Selector {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: ArcSwap<Vec<WeightedNode>>,
    balancer: Box<dyn Balancer>,
    filters: NodeFilters,
    health: Arc<SelectorHealth>,
    updates: watch::Sender<u64>,
    apply_lock: Mutex<()>,
}

impl Default for Selector {
    fn default() -> Self {
        Self::new()
    }
}

impl Selector {
    /// A selector with the default balancer, smooth weighted round-robin.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a selector.
    pub fn builder() -> SelectorBuilder {
        SelectorBuilder::default()
    }

    /// Replaces the node list.
    ///
    /// Nodes are matched to the current ones by address: a node that stayed
    /// keeps its statistics (even if its metadata changed), a new one starts
    /// fresh, a missing one is dropped once no call holds it.
    pub fn apply(&self, nodes: impl IntoIterator<Item = Node>) {
        let _guard = self
            .inner
            .apply_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let old = self.inner.nodes.load_full();
        let by_address: HashMap<&str, &WeightedNode> =
            old.iter().map(|w| (w.node.address(), w)).collect();
        let next: Vec<WeightedNode> = nodes
            .into_iter()
            .map(|node| match by_address.get(node.address()) {
                Some(w) if *w.node == node => (*w).clone(),
                Some(w) => {
                    // Announced anew (another instance, new metadata): try it.
                    w.stats.health.reset_ejection();
                    WeightedNode::with_stats(node, w.stats.clone())
                }
                None => WeightedNode::new(node, now, &self.inner.health),
            })
            .collect();
        self.inner.nodes.store(Arc::new(next));
        self.inner
            .updates
            .send_modify(|generation| *generation += 1);
    }

    /// Picks a node for one call, with the selector's filters only.
    pub fn select(&self) -> Result<(Arc<Node>, Done), SelectError> {
        self.select_with(None)
    }

    /// Picks a node for one call, with the selector's filters and `filters`.
    pub fn select_with(
        &self,
        filters: Option<&NodeFilters>,
    ) -> Result<(Arc<Node>, Done), SelectError> {
        self.select_excluding(filters, |_| false)
    }

    /// Picks a node for one call, with the selector's filters and `filters`,
    /// avoiding the nodes `tried` says were tried already for this call (a
    /// retry goes elsewhere) while another candidate exists.
    ///
    /// Ejected and stalled nodes are skipped while a healthy candidate
    /// exists; when none does, the pick is among all candidates anyway.
    pub fn select_excluding(
        &self,
        filters: Option<&NodeFilters>,
        tried: impl Fn(&Node) -> bool,
    ) -> Result<(Arc<Node>, Done), SelectError> {
        let nodes = self.inner.nodes.load();
        let call_filters = filters.filter(|f| !f.is_empty());
        if self.inner.filters.is_empty() && call_filters.is_none() {
            return self.pick(&nodes, &nodes, false, tried);
        }
        let candidates: Vec<WeightedNode> = nodes
            .iter()
            .filter(|w| {
                self.inner.filters.matches(&w.node)
                    && call_filters.is_none_or(|f| f.matches(&w.node))
            })
            .cloned()
            .collect();
        self.pick(&nodes, &candidates, !nodes.is_empty(), tried)
    }

    /// Picks among `nodes`, the candidates of this call out of `all`.
    fn pick(
        &self,
        all: &[WeightedNode],
        nodes: &[WeightedNode],
        filtered: bool,
        tried: impl Fn(&Node) -> bool,
    ) -> Result<(Arc<Node>, Done), SelectError> {
        if nodes.is_empty() {
            return Err(SelectError { filtered });
        }
        let time = PickTime::new();
        if self.inner.health.take_due(|| time.now())
            && let Some(probe) = self.probe(all, nodes, &time, &tried)
        {
            return Ok(probe);
        }
        // The fast path: the balancer's pick is healthy and untried. Else ask
        // the balancer again over the same list a few times: each balancer
        // then spreads the skipped node's share as it spreads the rest (a
        // round-robin moves on to the next node, random draws again), where
        // picking from a shorter list would skew a round-robin counter.
        let first = self.balanced(nodes, &time);
        let mut picked = first;
        for _ in 0..nodes.len().min(MAX_REPICKS) {
            if let Some(done) = self.take(picked, &time, &tried) {
                return Ok(done);
            }
            picked = self.balanced(nodes, &time);
        }
        // Some node is unhealthy or tried: pick among the healthy untried
        // ones, else the untried ones, else any.
        let untried: Vec<&WeightedNode> = nodes.iter().filter(|w| !tried(&w.node)).collect();
        let mut healthy: Vec<WeightedNode> = untried
            .iter()
            .filter(|w| {
                w.stats
                    .health
                    .availability(|| w.stats.nanos(time.now()), &self.inner.health.policy)
                    != Availability::Skip
            })
            .map(|w| (*w).clone())
            .collect();
        while !healthy.is_empty() {
            let index = self
                .inner
                .balancer
                .pick(&healthy, &time)
                .min(healthy.len() - 1);
            match self.take(&healthy[index], &time, &tried) {
                Some(done) => return Ok(done),
                None => {
                    healthy.swap_remove(index);
                }
            }
        }
        if untried.is_empty() {
            return Ok(self.done(first, &time, false));
        }
        let fallback: Vec<WeightedNode> = untried.into_iter().cloned().collect();
        let picked = self.balanced(&fallback, &time);
        Ok(self.done(picked, &time, false))
    }

    /// A probe is due: claims one among the candidates, and reschedules the
    /// nodes still ejected.
    fn probe(
        &self,
        all: &[WeightedNode],
        nodes: &[WeightedNode],
        time: &PickTime,
        tried: &impl Fn(&Node) -> bool,
    ) -> Option<(Arc<Node>, Done)> {
        let now = time.now();
        let mut claimed = None;
        for w in nodes {
            let due = w
                .stats
                .health
                .availability(|| w.stats.nanos(now), &self.inner.health.policy)
                == Availability::ProbeDue;
            if due && claimed.is_none() && !tried(&w.node) && w.stats.health.claim_probe() {
                claimed = Some(w);
            }
        }
        for w in all {
            if claimed.is_some_and(|c| std::ptr::eq(c, w)) {
                continue;
            }
            if let Some(end) = w.stats.health.ejection_end() {
                // A probe already due (held by a call, or outside this
                // call's filters) is looked at again soon.
                let end = w.stats.instant(end).max(now + PROBE_RECHECK);
                self.inner.health.at(end);
            }
        }
        claimed.map(|w| self.done(w, time, true))
    }

    /// `picked`, if it is healthy (or its probe is due and this call claims
    /// it) and untried.
    fn take(
        &self,
        picked: &WeightedNode,
        time: &PickTime,
        tried: &impl Fn(&Node) -> bool,
    ) -> Option<(Arc<Node>, Done)> {
        if tried(&picked.node) {
            return None;
        }
        let now = || picked.stats.nanos(time.now());
        match picked
            .stats
            .health
            .availability(now, &self.inner.health.policy)
        {
            Availability::Ready => Some(self.done(picked, time, false)),
            Availability::ProbeDue if picked.stats.health.claim_probe() => {
                Some(self.done(picked, time, true))
            }
            _ => None,
        }
    }

    fn balanced<'a>(&self, nodes: &'a [WeightedNode], time: &PickTime) -> &'a WeightedNode {
        let index = self.inner.balancer.pick(nodes, time);
        nodes.get(index).unwrap_or(&nodes[0])
    }

    fn done(&self, picked: &WeightedNode, time: &PickTime, probe: bool) -> (Arc<Node>, Done) {
        let timed = self.inner.balancer.measures_latency();
        let picked_at = if timed { Some(time.now()) } else { time.read() };
        let done = Done::new(&picked.stats, picked_at, timed, probe);
        (picked.node.clone(), done)
    }

    /// The current node list with its statistics.
    pub fn nodes(&self) -> Arc<Vec<WeightedNode>> {
        self.inner.nodes.load_full()
    }

    /// A receiver that changes each time [`Selector::apply`] ran (the value is
    /// the number of updates so far); wait on it to see discovery changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.updates.subscribe()
    }

    /// Waits until the node list is not empty.
    pub async fn wait_for_nodes(&self) {
        let mut updates = self.subscribe();
        // The sender lives in `self`, so the channel cannot close here.
        let _ = updates
            .wait_for(|_| !self.inner.nodes.load().is_empty())
            .await;
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("balancer", &self.inner.balancer)
            .field("filters", &self.inner.filters)
            .field("nodes", &self.inner.nodes.load().len())
            .finish()
    }
}

/// Configures a [`Selector`]: its balancer and the filters every call applies.
#[derive(Debug, Default)]
#[must_use]
pub struct SelectorBuilder {
    balancer: Option<Box<dyn Balancer>>,
    filters: NodeFilters,
    health: HealthPolicy,
}

impl SelectorBuilder {
    /// Sets the balancer (default: [`Wrr`]).
    pub fn balancer(mut self, balancer: impl Balancer) -> Self {
        self.balancer = Some(Box::new(balancer));
        self
    }

    /// Sets the balancer from a box.
    pub fn balancer_boxed(mut self, balancer: Box<dyn Balancer>) -> Self {
        self.balancer = Some(balancer);
        self
    }

    /// Adds a filter every call applies.
    pub fn filter(mut self, filter: impl NodeFilter + 'static) -> Self {
        self.filters = self.filters.with(filter);
        self
    }

    /// Adds filters every call applies.
    pub fn filters(mut self, filters: &NodeFilters) -> Self {
        self.filters.extend(filters);
        self
    }

    /// How unreachable nodes are ejected and stalled ones skipped (default:
    /// [`HealthPolicy::new`]).
    pub fn health(mut self, policy: HealthPolicy) -> Self {
        self.health = policy;
        self
    }

    /// Builds the selector, with an empty node list.
    pub fn build(self) -> Selector {
        Selector {
            inner: Arc::new(Inner {
                nodes: ArcSwap::from_pointee(Vec::new()),
                balancer: self.balancer.unwrap_or_else(|| Box::new(Wrr::new())),
                filters: self.filters,
                health: Arc::new(SelectorHealth::new(self.health)),
                updates: watch::channel(0).0,
                apply_lock: Mutex::new(()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VersionFilter;
    use crate::balancer::RoundRobin;

    fn rr() -> Selector {
        Selector::builder().balancer(RoundRobin::new()).build()
    }

    #[test]
    fn empty_list_is_an_error() {
        let err = Selector::new().select().unwrap_err();
        assert!(!err.is_filtered());
        let s = Selector::new();
        s.apply([Node::new("grpc", "a:1").with_version("v1")]);
        let v2 = NodeFilters::from(VersionFilter::new("v2"));
        assert!(s.select_with(Some(&v2)).unwrap_err().is_filtered());
    }

    #[test]
    fn stats_survive_an_update_for_nodes_that_stayed() {
        let s = rr();
        s.apply([Node::new("grpc", "a:1"), Node::new("grpc", "b:1")]);
        for _ in 0..4 {
            s.select().unwrap().1.done(DoneInfo::new());
        }
        // b stays (with new metadata), a goes, c arrives.
        s.apply([
            Node::new("grpc", "b:1").with_metadata("k", "v"),
            Node::new("grpc", "c:1"),
        ]);
        let nodes = s.nodes();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].node().metadata()["k"], "v");
        assert_eq!(nodes[0].stats().requests(), 2);
        assert_eq!(nodes[1].stats().requests(), 0);
        assert_eq!(*s.subscribe().borrow(), 2);
    }

    #[test]
    fn dropped_done_ends_the_inflight_count() {
        let s = rr();
        s.apply([Node::new("grpc", "a:1")]);
        let (_, done) = s.select().unwrap();
        assert_eq!(s.nodes()[0].stats().inflight(), 1);
        drop(done);
        assert_eq!(s.nodes()[0].stats().inflight(), 0);
        assert_eq!(s.nodes()[0].stats().failures(), 0);
    }

    #[tokio::test]
    async fn wait_for_nodes_returns_after_apply() {
        let s = rr();
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.wait_for_nodes().await }
        });
        s.apply([Node::new("grpc", "a:1")]);
        waiter.await.unwrap();
    }
}
