//! SIGSTOP one of three servers after ~1.5 s of load: a frozen host that
//! accepts connections but never answers. With a 1 s client timeout the calls
//! it holds fail as 504 `TIMEOUT` (gRPC `DEADLINE_EXCEEDED`), never as
//! cancelled; the selector stops sending it calls (stall detection, then
//! ejection). Throughput in the 5 s after the stop is compared with the
//! second before it (printed, not asserted).

use std::time::Duration;

use kratos::selector::balancer::BalancerKind;
use kratos_testing::EtcdServer;

use crate::load::Tally;
use crate::scenario::{ClientSpec, Transport, UnderLoad, ms_after, serial, under_load};

/// Calls before the stop (about 1.5 s of load).
const BEFORE: usize = 1_500;
/// How long the load runs after the stop.
const AFTER: Duration = Duration::from_secs(5);
/// At most this many calls (the load is halted 5 s after the stop).
const TOTAL: usize = 10_000;
/// The hard cap of one scenario's load.
const CAP: Duration = Duration::from_secs(15);

struct Frozen {
    spec: ClientSpec,
    tally: Tally,
    victim: String,
}

async fn freeze_one(etcd: &EtcdServer, spec: ClientSpec) -> Frozen {
    let service = format!("freeze-{}-{}", spec.transport, spec.balancer);
    let UnderLoad {
        servers,
        load,
        node,
        victim: victim_id,
        at: stopped_at,
    } = under_load(&etcd.endpoint(), &service, spec, (BEFORE, TOTAL, CAP)).await;
    servers[0].signal("STOP");
    tokio::time::sleep(AFTER).await;
    load.halt();
    let report = load.finish().await;
    let observed = node.finish().await;
    servers[0].signal("CONT");
    drop(servers);

    let second = Duration::from_secs(1);
    let before = report.goodput(stopped_at.saturating_sub(second)..stopped_at);
    let after = report.goodput(stopped_at..stopped_at + AFTER);
    let tally = report.total();
    eprintln!(
        "failover freeze {spec}: {} calls, ok {}, failed {} {:?}; answers {:?}; \
         ok calls/s {before:.0} in the second before the stop, {after:.0} in the 5 s after \
         (ratio {:.2}); frozen node: {} picks after the stop, last pick {} after it, \
         left discovery {}, ejected {} (up to {} in a row)",
        report.records.len(),
        tally.ok,
        tally.failed_total(),
        tally.failed,
        tally.by_instance,
        after / before,
        observed.picks_after_mark(),
        ms_after(observed.last_pick, stopped_at),
        ms_after(observed.left_list, stopped_at),
        observed.ejected,
        observed.max_ejections,
    );
    Frozen {
        spec,
        tally,
        victim: victim_id,
    }
}

fn freeze_each(specs: &[ClientSpec]) {
    let mut results = Vec::new();
    serial(async {
        let etcd = EtcdServer::start().await;
        for &spec in specs {
            results.push(freeze_one(&etcd, spec).await);
        }
    });
    for f in &results {
        let timeout = match f.spec.transport {
            Transport::Grpc => "DeadlineExceeded TIMEOUT",
            Transport::Http | Transport::Generated => "504 TIMEOUT",
        };
        for code in f.tally.failed.keys() {
            assert_eq!(
                code, timeout,
                "{}: every failure is a timeout, none cancelled: {:?}",
                f.spec, f.tally.failed
            );
        }
        assert_eq!(f.tally.by_instance.len(), 3, "{}: {:?}", f.spec, f.tally);
        assert!(
            f.tally.by_instance.contains_key(&f.victim),
            "{}: {:?}",
            f.spec,
            f.tally
        );
    }
}

fn spec(transport: Transport, balancer: BalancerKind) -> ClientSpec {
    ClientSpec {
        transport,
        balancer,
        retry: false,
        timeout: Duration::from_secs(1),
    }
}

#[test]
fn frozen_server_fails_calls_only_with_timeouts() {
    freeze_each(&[
        spec(Transport::Grpc, BalancerKind::Wrr),
        spec(Transport::Grpc, BalancerKind::P2c),
        spec(Transport::Http, BalancerKind::Wrr),
        spec(Transport::Generated, BalancerKind::Wrr),
    ]);
}
