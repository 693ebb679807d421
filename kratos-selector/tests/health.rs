//! Node health, the same for every balancer: unreachable nodes leave
//! rotation and come back through a probe, stalled nodes are skipped, a
//! retry avoids the nodes already tried, and ejection alone never fails a pick.

mod common;

use std::time::Duration;

use common::spread;
use kratos_selector::balancer::{P2c, Random, RoundRobin, Wrr};
use kratos_selector::{Balancer, DoneInfo, HealthPolicy, Node, Selector};

fn balancers() -> Vec<(&'static str, Box<dyn Balancer>)> {
    vec![
        ("wrr", Box::new(Wrr::new())),
        ("round_robin", Box::new(RoundRobin::new())),
        ("random", Box::new(Random::new())),
        ("p2c", Box::new(P2c::new())),
    ]
}

fn three(balancer: Box<dyn Balancer>) -> Selector {
    let s = Selector::builder().balancer_boxed(balancer).build();
    s.apply(["a:1", "b:1", "c:1"].map(|a| Node::new("grpc", a)));
    s
}

/// Reports one unreachable call on `address`.
fn fail(s: &Selector, address: &str) {
    for _ in 0..1000 {
        let (node, done) = s.select().unwrap();
        if node.address() == address {
            done.done(DoneInfo::unreachable("connection refused"));
            return;
        }
        done.done(DoneInfo::new());
    }
    panic!("{address} never picked");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_node_leaves_rotation_and_a_probe_brings_it_back() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        fail(&s, "b:1");
        let counts = spread(&s, 300);
        assert_eq!(counts.get("b:1"), None, "{name}: {counts:?}");
        assert!(s.nodes()[1].stats().is_ejected(), "{name}");

        // After the first ejection time (1 s), one call probes it; it answers.
        tokio::time::advance(Duration::from_millis(1001)).await;
        let counts = spread(&s, 600);
        assert!(
            counts.get("b:1").copied().unwrap_or(0) > 50,
            "{name}: {counts:?}"
        );
        assert!(!s.nodes()[1].stats().is_ejected(), "{name}");
        assert_eq!(s.nodes()[1].stats().ejections(), 0, "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_ejects_for_twice_as_long_and_only_one_call_probes() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        fail(&s, "a:1");
        tokio::time::advance(Duration::from_millis(1001)).await;
        // Hold the probe: no other call goes to `a` meanwhile.
        let mut probe = None;
        for _ in 0..300 {
            let (node, done) = s.select().unwrap();
            if node.address() == "a:1" {
                assert!(probe.is_none(), "{name}: a second call probed");
                probe = Some(done);
            } else {
                done.done(DoneInfo::new());
            }
        }
        let probe = probe.unwrap_or_else(|| panic!("{name}: no probe"));
        probe.done(DoneInfo::unreachable("connection refused"));
        assert_eq!(s.nodes()[0].stats().ejections(), 2, "{name}");
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(
            spread(&s, 300).get("a:1"),
            None,
            "{name}: still out at 1.5 s"
        );
        tokio::time::advance(Duration::from_millis(600)).await;
        assert!(
            spread(&s, 300).contains_key("a:1"),
            "{name}: back after 2 s"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn when_every_node_is_ejected_picks_go_on() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        for address in ["a:1", "b:1", "c:1"] {
            fail(&s, address);
        }
        assert!(s.nodes().iter().all(|w| w.stats().is_ejected()), "{name}");
        let counts = spread(&s, 300);
        assert_eq!(counts.values().sum::<usize>(), 300, "{name}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_node_is_skipped_until_it_answers() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        spread(&s, 30);
        // Calls to `c` get no answer.
        let mut stuck = Vec::new();
        for _ in 0..30 {
            let (node, done) = s.select().unwrap();
            if node.address() == "c:1" {
                stuck.push(done);
            } else {
                done.done(DoneInfo::new());
            }
        }
        assert!(!stuck.is_empty(), "{name}");
        tokio::time::advance(Duration::from_millis(20)).await;
        assert_eq!(
            spread(&s, 300).get("c:1"),
            None,
            "{name}: picked while stalled"
        );
        // Its answers arrive: back in rotation.
        for mut done in stuck {
            done.responded();
            done.done(DoneInfo::new());
        }
        assert!(spread(&s, 300).contains_key("c:1"), "{name}");
    }
}

#[test]
fn a_retry_avoids_the_nodes_already_tried_while_another_exists() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        for _ in 0..100 {
            let mut tried: Vec<String> = Vec::new();
            for _ in 0..3 {
                let (node, done) = s
                    .select_excluding(None, |n| tried.iter().any(|t| t == n.address()))
                    .unwrap();
                assert!(!tried.iter().any(|t| t == node.address()), "{name}");
                tried.push(node.address().to_owned());
                done.done(DoneInfo::new());
            }
            // All tried: a fourth attempt still gets a node.
            let (_, done) = s
                .select_excluding(None, |n| tried.iter().any(|t| t == n.address()))
                .unwrap();
            done.done(DoneInfo::new());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_node_announced_anew_is_tried_at_once() {
    let s = three(Box::new(RoundRobin::new()));
    fail(&s, "b:1");
    // The instance at b:1 restarted and registered again (new metadata).
    s.apply([
        Node::new("grpc", "a:1"),
        Node::new("grpc", "b:1").with_metadata("id", "2"),
        Node::new("grpc", "c:1"),
    ]);
    assert!(spread(&s, 30).contains_key("b:1"));
}

#[tokio::test(start_paused = true)]
async fn the_policy_sets_the_ejection_time() {
    let s = Selector::builder()
        .balancer(RoundRobin::new())
        .health(HealthPolicy::new().ejection(Duration::from_millis(100), Duration::from_secs(1)))
        .build();
    s.apply(["a:1", "b:1"].map(|a| Node::new("grpc", a)));
    fail(&s, "a:1");
    assert_eq!(spread(&s, 10).get("a:1"), None);
    tokio::time::advance(Duration::from_millis(101)).await;
    assert!(spread(&s, 10).contains_key("a:1"));
}

#[tokio::test(start_paused = true)]
async fn the_survivors_share_an_ejected_nodes_calls_evenly() {
    for (name, balancer) in balancers() {
        let s = three(balancer);
        fail(&s, "a:1");
        // 6,000 picks: for the random balancer the gap's standard deviation
        // is about 1.3 % of the picks, so 5 % is ~4 sigma (600 picks and 10 %
        // were ~2.4 sigma and failed about once in 60 runs).
        let counts = spread(&s, 6000);
        let (b, c) = (counts["b:1"] as f64, counts["c:1"] as f64);
        assert!((b - c).abs() / 6000.0 <= 0.05, "{name}: {counts:?}");
    }
}
