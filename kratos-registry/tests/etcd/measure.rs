//! Measurements, not assertions. Run by hand:
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-registry cargo test --release -p kratos-registry \
//!     --features etcd --test etcd -- --ignored --nocapture measure
//! ```

use std::time::{Duration, Instant};

use kratos_registry::etcd::EtcdRegistry;
use kratos_registry::{Discovery, ServiceInstance};
use kratos_testing::EtcdServer;

use crate::common::{instance, raw};
use crate::watching::next_within;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// The resident set size of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
async fn measure_put_to_watcher_latency() {
    let etcd = EtcdServer::start().await;
    let registry = EtcdRegistry::connect([etcd.endpoint()]).await.unwrap();
    let mut client = raw(&etcd).await;
    let mut base = Vec::new();
    for n in 0..10 {
        let i = instance(&format!("i{n}"));
        client
            .put(registry.key(&i), i.to_json(), None)
            .await
            .unwrap();
        base.push(i);
    }
    let mut watcher = registry.watch("svc").await.unwrap();
    next_within(&mut watcher, Duration::from_secs(1)).await;
    let mut samples = Vec::with_capacity(1000);
    for n in 0..1000 {
        let changed = base[n % 10].clone().with_metadata("n", n.to_string());
        let key = registry.key(&changed);
        let value = changed.to_json();
        let start = Instant::now();
        client.put(key, value, None).await.unwrap();
        let list = next_within(&mut watcher, Duration::from_secs(5)).await;
        samples.push(start.elapsed());
        assert!(list.contains(&changed));
    }
    samples.sort();
    eprintln!(
        "etcd put -> watcher sees it, 1000 changes (10 instances): median {:?}, p99 {:?}, max {:?}",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().unwrap()
    );
}

#[tokio::test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
async fn measure_discovery_of_1000_instances() {
    let etcd = EtcdServer::start().await;
    let mut client = raw(&etcd).await;
    let mut json_bytes = 0;
    for n in 0..1000 {
        let i = ServiceInstance::new(format!("{n:08}-5f0c-4b7e-9a51-0242ac120002"), "big")
            .with_version("v1.2.3")
            .with_metadata("weight", "100")
            .with_metadata("zone", "eu-west-1a")
            .with_endpoint(format!("grpc://10.0.{}.{}:9000", n / 250, n % 250))
            .with_endpoint(format!("http://10.0.{}.{}:8000", n / 250, n % 250));
        let json = i.to_json();
        json_bytes += json.len();
        client
            .put(format!("/microservices/big/{}", i.id), json, None)
            .await
            .unwrap();
    }
    let rss_before = rss_kib();
    let start = Instant::now();
    let registry = EtcdRegistry::connect([etcd.endpoint()]).await.unwrap();
    let mut watcher = registry.watch("big").await.unwrap();
    let list = next_within(&mut watcher, Duration::from_secs(10)).await;
    let first = start.elapsed();
    assert_eq!(list.len(), 1000);
    let rss_after = rss_kib();
    let heap: usize = list
        .iter()
        .map(|i| {
            std::mem::size_of::<ServiceInstance>()
                + i.id.capacity()
                + i.name.capacity()
                + i.version.capacity()
                + i.metadata
                    .iter()
                    .map(|(k, v)| k.capacity() + v.capacity() + 48)
                    .sum::<usize>()
                + i.endpoints.iter().map(|e| e.capacity() + 24).sum::<usize>()
        })
        .sum();
    eprintln!(
        "discovery of 1000 instances ({json_bytes} bytes of JSON): first list after {first:?}; \
         one list holds about {} KiB of instances; process RSS grew by {} KiB \
         (watcher snapshot + published list + last-known cache + the list returned here)",
        heap / 1024,
        rss_after.saturating_sub(rss_before)
    );
    let start = Instant::now();
    let got = registry.get_service("big").await.unwrap();
    eprintln!("get_service of 1000 instances: {:?}", start.elapsed());
    assert_eq!(got.len(), 1000);
}
