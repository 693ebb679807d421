//! The balancers' observable distributions over many picks.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::spread;
use kratos_selector::balancer::{P2c, Random, RoundRobin, Wrr};
use kratos_selector::{Balancer, DoneInfo, Node, NodeFilters, Selector, VersionFilter};

fn selector(balancer: impl Balancer, nodes: impl IntoIterator<Item = Node>) -> Selector {
    let s = Selector::builder().balancer(balancer).build();
    s.apply(nodes);
    s
}

fn three(weights: [u32; 3]) -> Vec<Node> {
    ["a:1", "b:1", "c:1"]
        .into_iter()
        .zip(weights)
        .map(|(addr, w)| Node::new("grpc", addr).with_weight(w))
        .collect()
}

fn share(counts: &HashMap<String, usize>, addr: &str, total: usize) -> f64 {
    counts.get(addr).copied().unwrap_or(0) as f64 / total as f64
}

#[test]
fn wrr_follows_weights_1_2_3() {
    let s = selector(Wrr::new(), three([1, 2, 3]));
    let counts = spread(&s, 6000);
    for (addr, weight) in [("a:1", 1.0), ("b:1", 2.0), ("c:1", 3.0)] {
        let got = share(&counts, addr, 6000);
        let want = weight / 6.0;
        assert!((got - want).abs() <= 0.02, "{addr}: {got} vs {want}");
    }
}

#[test]
fn wrr_is_the_default() {
    let s = Selector::new();
    s.apply(three([100, 200, 300]));
    let counts = spread(&s, 600);
    assert_eq!(counts["c:1"], 300);
}

#[test]
fn round_robin_is_exactly_even() {
    let s = selector(RoundRobin::new(), three([1, 2, 3]));
    let counts = spread(&s, 6000);
    assert_eq!(counts["a:1"], 2000);
    assert_eq!(counts["b:1"], 2000);
    assert_eq!(counts["c:1"], 2000);
}

#[test]
fn random_is_even_within_five_percent() {
    let s = selector(Random::new(), three([1, 2, 3]));
    let counts = spread(&s, 6000);
    for addr in ["a:1", "b:1", "c:1"] {
        let got = share(&counts, addr, 6000);
        assert!((got - 1.0 / 3.0).abs() <= 0.05, "{addr}: {got}");
    }
}

#[test]
fn version_filter_picks_only_that_version() {
    for balancer in balancers() {
        let s = Selector::builder().balancer_boxed(balancer).build();
        s.apply([
            Node::new("grpc", "a:1").with_version("v1"),
            Node::new("grpc", "b:1").with_version("v2"),
            Node::new("grpc", "c:1").with_version("v1"),
            Node::new("grpc", "d:1").with_version("v2"),
        ]);
        let v2 = NodeFilters::new().with(VersionFilter::new("v2"));
        for _ in 0..200 {
            let (node, done) = s.select_with(Some(&v2)).unwrap();
            assert_eq!(node.version(), "v2");
            done.done(DoneInfo::new());
        }
        let v3 = NodeFilters::new().with(VersionFilter::new("v3"));
        assert!(s.select_with(Some(&v3)).unwrap_err().is_filtered());
    }
}

#[test]
fn selector_filters_apply_to_every_call() {
    let s = Selector::builder()
        .balancer(RoundRobin::new())
        .filter(VersionFilter::new("v1"))
        .build();
    s.apply([
        Node::new("grpc", "a:1").with_version("v1"),
        Node::new("grpc", "b:1").with_version("v2"),
    ]);
    let counts = spread(&s, 10);
    assert_eq!(counts.get("a:1"), Some(&10));
}

fn balancers() -> Vec<Box<dyn Balancer>> {
    vec![
        Box::new(Wrr::new()),
        Box::new(RoundRobin::new()),
        Box::new(Random::new()),
        Box::new(P2c::new()),
    ]
}

/// Runs `n` calls from 8 concurrent callers on the paused clock, each call
/// taking `latency(address)`; counts the calls per address.
async fn run_calls(
    s: &Selector,
    n: usize,
    latency: impl Fn(&str) -> Duration + Send + Sync + 'static,
) -> HashMap<String, usize> {
    const CALLERS: usize = 8;
    let latency = std::sync::Arc::new(latency);
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let (s, latency) = (s.clone(), latency.clone());
        callers.spawn(async move {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for _ in 0..n / CALLERS {
                let (node, done) = s.select().expect("a node");
                // The simulated call: time passes only on the paused clock.
                tokio::time::sleep(latency(node.address())).await;
                *counts.entry(node.address().to_owned()).or_default() += 1;
                done.done(DoneInfo::new());
            }
            counts
        });
    }
    let mut total = HashMap::new();
    while let Some(counts) = callers.join_next().await {
        for (addr, c) in counts.expect("caller ran") {
            *total.entry(addr).or_default() += c;
        }
    }
    total
}

#[tokio::test(start_paused = true)]
async fn p2c_avoids_a_slow_node_and_takes_it_back_when_fast() {
    let s = selector(P2c::new(), three([100, 100, 100]));
    // Real servers jitter: 1 ms ± 0.5 ms.
    let fast = || Duration::from_micros(fastrand::u64(500..1500));
    let slow = move || fast() + Duration::from_millis(20);

    let counts = run_calls(&s, 3000, move |a| if a == "c:1" { slow() } else { fast() }).await;
    let slow_share = share(&counts, "c:1", 3000);
    assert!(slow_share < 0.15, "slow node got {slow_share}: {counts:?}");

    // Fast again: the forced pick (a node unpicked for 3 s) samples it, the
    // fresh sample outweighs the old average, and it gets its share back.
    // Each window of 3000 calls takes about 0.4 s on the paused clock.
    let started = tokio::time::Instant::now();
    let mut windows = Vec::new();
    while started.elapsed() < Duration::from_secs(15) {
        let counts = run_calls(&s, 3000, move |_| fast()).await;
        let back = share(&counts, "c:1", 3000);
        if back > 0.2 {
            return;
        }
        windows.push(back);
    }
    panic!("the node never got traffic back: shares per window {windows:?}");
}

#[tokio::test(start_paused = true)]
async fn p2c_avoids_a_failing_node() {
    let s = selector(P2c::new(), three([100, 100, 100]));
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..3000 {
        let (node, done) = s.select().unwrap();
        tokio::time::advance(Duration::from_millis(1)).await;
        *counts.entry(node.address().to_owned()).or_default() += 1;
        if node.address() == "b:1" {
            done.done(DoneInfo::failed("connection refused"));
        } else {
            done.done(DoneInfo::new());
        }
    }
    let failing = share(&counts, "b:1", 3000);
    assert!(failing < 0.05, "failing node got {failing}: {counts:?}");
    let b = s
        .nodes()
        .iter()
        .find(|w| w.node().address() == "b:1")
        .unwrap()
        .clone();
    assert_eq!(b.stats().failures() as usize, counts["b:1"]);
    assert!(b.stats().success_rate() < 0.5);
}

#[tokio::test(start_paused = true)]
async fn p2c_statistics_survive_a_discovery_update() {
    let s = selector(P2c::new(), three([100, 100, 100]));
    let fast = Duration::from_millis(1);
    let slow = Duration::from_millis(21);
    run_calls(&s, 300, move |a| if a == "c:1" { slow } else { fast }).await;
    // A new instance arrives; a, b and c stay with what P2C learnt.
    let mut nodes = three([100, 100, 100]);
    nodes.push(Node::new("grpc", "d:1"));
    s.apply(nodes);
    let c = s.nodes()[2].clone();
    assert_eq!(c.node().address(), "c:1");
    assert!(c.stats().latency() > Duration::from_millis(10));
    let counts = run_calls(&s, 1000, move |a| if a == "c:1" { slow } else { fast }).await;
    assert!(share(&counts, "c:1", 1000) < 0.15, "{counts:?}");
    assert!(counts.get("d:1").copied().unwrap_or(0) > 100, "{counts:?}");
}
