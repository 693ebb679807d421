//! Pick cost of every balancer for 10, 100 and 1,000 nodes, on one and two
//! threads (a pick plus its `done`, as a client does per call).
//!
//! Run with `cargo bench --bench selector -- --warm-up-time 1 --measurement-time 2`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kratos_selector::balancer::{P2c, Random, RoundRobin, Wrr};
use kratos_selector::{Balancer, DoneInfo, Node, Selector};

const SIZES: [usize; 3] = [10, 100, 1000];

/// A balancer's name and how to build one.
type Make = (&'static str, fn() -> Box<dyn Balancer>);

fn balancers() -> [Make; 4] {
    [
        ("random", || Box::new(Random::new())),
        ("round_robin", || Box::new(RoundRobin::new())),
        ("wrr", || Box::new(Wrr::new())),
        ("p2c", || Box::new(P2c::new())),
    ]
}

fn selector(make: fn() -> Box<dyn Balancer>, n: usize) -> Selector {
    let s = Selector::builder().balancer_boxed(make()).build();
    s.apply((0..n).map(|i| {
        Node::new("grpc", format!("10.0.{}.{}:9000", i / 256, i % 256))
            .with_weight(1 + (i % 3) as u32 * 100)
    }));
    s
}

fn pick(s: &Selector) {
    let (node, done) = s.select().expect("a node");
    black_box(&node);
    done.done(DoneInfo::new());
}

fn bench(c: &mut Criterion) {
    for threads in [1usize, 2] {
        let mut group = c.benchmark_group(format!("pick_{threads}_thread"));
        for (name, make) in balancers() {
            for n in SIZES {
                let s = selector(make, n);
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                    if threads == 1 {
                        b.iter(|| pick(&s));
                    } else {
                        // Time per pick seen by each of `threads` threads picking at once.
                        b.iter_custom(|iters| {
                            let barrier = Barrier::new(threads);
                            let total: Duration = std::thread::scope(|scope| {
                                let handles: Vec<_> = (0..threads)
                                    .map(|_| {
                                        scope.spawn(|| {
                                            barrier.wait();
                                            let start = Instant::now();
                                            for _ in 0..iters {
                                                pick(&s);
                                            }
                                            start.elapsed()
                                        })
                                    })
                                    .collect();
                                handles.into_iter().map(|h| h.join().unwrap()).sum()
                            });
                            total / threads as u32
                        });
                    }
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
