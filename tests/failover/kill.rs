//! SIGKILL one of three servers after ~1 s of load (call 1,000 of 3,000).
//!
//! With retry no call fails: the calls the dead server held fail with 503
//! `TRANSPORT` and are retried on another node, later calls to it are
//! refused and sent elsewhere transparently, and the node is ejected. Without
//! retry only calls in flight at the kill can fail: at most one per worker.

use std::time::Duration;

use kratos::selector::balancer::BalancerKind;
use kratos_testing::EtcdServer;

use crate::load::{Tally, WORKERS};
use crate::scenario::{ClientSpec, Observed, Transport, UnderLoad, ms_after, serial, under_load};

/// Calls before the kill (about 1 s of load).
const BEFORE: usize = 1_000;
/// Calls in all.
const TOTAL: usize = 3_000;
/// The hard cap of one scenario's load.
const CAP: Duration = Duration::from_secs(20);

/// What one kill scenario saw.
struct Killed {
    spec: ClientSpec,
    tally: Tally,
    victim: String,
    observed: Observed,
}

async fn kill_one(etcd: &EtcdServer, spec: ClientSpec) -> Killed {
    let service = format!(
        "kill-{}-{}-{}",
        spec.transport,
        spec.balancer,
        if spec.retry { "retry" } else { "plain" }
    );
    let UnderLoad {
        mut servers,
        load,
        node,
        victim: victim_id,
        at: killed_at,
    } = under_load(&etcd.endpoint(), &service, spec, (BEFORE, TOTAL, CAP)).await;
    servers[0].kill();
    let report = load.finish().await;
    let observed = node.finish().await;
    drop(servers);

    let tally = report.total();
    let after = report.tally(killed_at..Duration::MAX);
    eprintln!(
        "failover kill {spec}: {} calls, ok {}, failed {} {:?}; answers {:?} ({:?} after the kill); \
         dead node: {} picks after the kill, last pick {} after it, left discovery {}, \
         ejected {} (up to {} in a row)",
        report.records.len(),
        tally.ok,
        tally.failed_total(),
        tally.failed,
        tally.by_instance,
        after.by_instance,
        observed.picks_after_mark(),
        ms_after(observed.last_pick, killed_at),
        ms_after(observed.left_list, killed_at),
        observed.ejected,
        observed.max_ejections,
    );
    Killed {
        spec,
        tally,
        victim: victim_id,
        observed,
    }
}

/// Runs the kill scenario for each of `specs` (one etcd for all), then
/// checks what every scenario must show.
fn kill_each(specs: impl IntoIterator<Item = ClientSpec>) -> Vec<Killed> {
    let mut results = Vec::new();
    serial(async {
        let etcd = EtcdServer::start().await;
        for spec in specs {
            results.push(kill_one(&etcd, spec).await);
        }
    });
    for k in &results {
        // Every instance served before the kill, and the dead node left
        // rotation: the selector ejected it, unless it was never picked
        // again. P2C may leave a node unpicked for up to its 3 s force pick
        // (as Go Kratos's does) when that node's first answer was the slowest:
        // then no call went to the dead node, and there was nothing to eject
        // (seen once in CI: 1 answer before the kill, 0 picks after it).
        assert_eq!(k.tally.by_instance.len(), 3, "{}: {:?}", k.spec, k.tally);
        assert!(
            k.tally.by_instance.contains_key(&k.victim),
            "{}: {:?}",
            k.spec,
            k.tally
        );
        assert!(
            k.observed.ejected || k.observed.picks_after_mark() == 0,
            "{}: the dead node was picked after the kill but never ejected",
            k.spec
        );
    }
    results
}

fn specs(
    transport: Transport,
    balancers: &[BalancerKind],
    retry: bool,
) -> impl Iterator<Item = ClientSpec> + '_ {
    balancers.iter().map(move |&balancer| ClientSpec {
        transport,
        balancer,
        retry,
        timeout: Duration::from_secs(1),
    })
}

const ALL: [BalancerKind; 4] = [
    BalancerKind::Wrr,
    BalancerKind::RoundRobin,
    BalancerKind::Random,
    BalancerKind::P2c,
];
const WRR_P2C: [BalancerKind; 2] = [BalancerKind::Wrr, BalancerKind::P2c];

fn assert_none_failed(results: &[Killed]) {
    for k in results {
        assert_eq!(
            k.tally.failed_total(),
            0,
            "{}: {:?}",
            k.spec,
            k.tally.failed
        );
        assert_eq!(k.tally.ok, TOTAL, "{}: {:?}", k.spec, k.tally);
    }
}

fn assert_at_most_in_flight_failed(results: &[Killed]) {
    for k in results {
        assert!(
            k.tally.failed_total() <= WORKERS,
            "{}: {} failed, more than the {WORKERS} calls in flight: {:?}",
            k.spec,
            k.tally.failed_total(),
            k.tally.failed
        );
    }
}

#[test]
fn grpc_kill_with_retry_fails_no_call() {
    assert_none_failed(&kill_each(specs(Transport::Grpc, &ALL, true)));
}

#[test]
fn grpc_kill_without_retry_fails_only_calls_in_flight() {
    assert_at_most_in_flight_failed(&kill_each(specs(Transport::Grpc, &ALL, false)));
}

#[test]
fn http_kill_with_retry_fails_no_call() {
    assert_none_failed(&kill_each(specs(Transport::Http, &WRR_P2C, true)));
}

#[test]
fn http_kill_without_retry_fails_only_calls_in_flight() {
    assert_at_most_in_flight_failed(&kill_each(specs(Transport::Http, &WRR_P2C, false)));
}

#[test]
fn generated_http_client_kill_fails_no_call_with_retry_and_only_calls_in_flight_without() {
    let with = kill_each(specs(Transport::Generated, &[BalancerKind::Wrr], true));
    assert_none_failed(&with);
    let without = kill_each(specs(Transport::Generated, &[BalancerKind::Wrr], false));
    assert_at_most_in_flight_failed(&without);
}
