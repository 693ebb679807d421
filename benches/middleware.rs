//! The cost of the default server middleware chain per request.
//!
//! Run with `cargo bench --bench middleware`.
//!
//! An axum router with one trivial route is called in process (no sockets,
//! so the figures are the middleware's own cost; `with_state(())` makes its
//! routes once, as the kratos servers do), with the transport info the
//! servers insert, bare, behind `kratos::middleware::server_defaults()`
//! (recovery, tracing, metrics, metadata, a 1 s timeout; logging off) with no
//! metrics recorder and no tracer provider, and then with the Prometheus
//! recorder and an SDK tracer provider that samples nothing, for an HTTP and
//! a gRPC-kind request; the metrics and tracing layers alone; and the
//! observed chain on a handler that answers a Kratos error (404).

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use kratos::middleware::metrics::MetricsLayer;
use kratos::middleware::metrics::prometheus::Prometheus;
use kratos::middleware::tracing::TracingLayer;
use kratos::{Kind, TransportInfo};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tonic::codegen::Service;

const OK_PATH: &str = "/helloworld.v1.Greeter/SayHello";
const ERROR_PATH: &str = "/helloworld.v1.Greeter/Fail";

fn request(kind: Kind, path: &str) -> http::Request<Body> {
    let mut req = http::Request::post(path)
        .header("content-type", "application/grpc")
        .header("x-md-global-tenant", "acme")
        .body(Body::empty())
        .expect("a request");
    req.extensions_mut()
        .insert(TransportInfo::new(kind, path, "grpc://127.0.0.1:9000"));
    req
}

fn call(rt: &tokio::runtime::Runtime, router: &mut Router, kind: Kind) -> http::StatusCode {
    call_path(rt, router, kind, OK_PATH)
}

// Not inlined: scripts/chain-instructions.sh reads its inclusive cost.
#[inline(never)]
fn call_path(
    rt: &tokio::runtime::Runtime,
    router: &mut Router,
    kind: Kind,
    path: &str,
) -> http::StatusCode {
    rt.block_on(async {
        std::future::poll_fn(|cx| Service::<http::Request<Body>>::poll_ready(router, cx))
            .await
            .expect("infallible");
        router
            .call(request(kind, path))
            .await
            .expect("infallible")
            .status()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let route = || {
        Router::new().route(OK_PATH, post(|| async { "ok" })).route(
            ERROR_PATH,
            post(|| async {
                Err::<(), _>(kratos::Error::not_found("GREETER_NOT_FOUND", "no greeter"))
            }),
        )
    };
    let mut bare = route().with_state(());
    let mut chained = route()
        .layer(kratos::middleware::server_defaults())
        .with_state(());
    assert_eq!(call(&rt, &mut chained, Kind::Http), 200);
    assert_eq!(call_path(&rt, &mut chained, Kind::Http, ERROR_PATH), 404);

    let mut cases = Cases::new(c);
    for (name, kind) in [("http", Kind::Http), ("grpc", Kind::Grpc)] {
        cases.case(&format!("{name}/none"), || call(&rt, &mut bare, kind));
        cases.case(&format!("{name}/defaults, no recorder"), || {
            call(&rt, &mut chained, kind)
        });
    }
    let _prometheus = Prometheus::install().expect("the only recorder");
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    opentelemetry::global::set_tracer_provider(provider);
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let mut metrics = route().layer(MetricsLayer::server()).with_state(());
    let mut tracing = route().layer(TracingLayer::server()).with_state(());
    for (name, kind) in [("http", Kind::Http), ("grpc", Kind::Grpc)] {
        cases.case(&format!("{name}/defaults, observed"), || {
            call(&rt, &mut chained, kind)
        });
        cases.case(&format!("{name}/metrics only, prometheus"), || {
            call(&rt, &mut metrics, kind)
        });
        cases.case(&format!("{name}/tracing only, sampling off"), || {
            call(&rt, &mut tracing, kind)
        });
        cases.case(&format!("{name}/defaults, observed, error reply"), || {
            call_path(&rt, &mut chained, kind, ERROR_PATH)
        });
    }
}

/// The bench's cases: timed by criterion (group `server_chain`), or, with
/// `MIDDLEWARE_CALLS=N` and `MIDDLEWARE_ONLY=<case>`, that one case called
/// exactly N times and nothing timed, so that a profiler counts the
/// instructions of those calls (`scripts/chain-instructions.sh` runs it
/// under callgrind and divides `call_path`'s inclusive cost by its calls).
struct Cases<'a> {
    group: BenchmarkGroup<'a, WallTime>,
    counted: Option<(u64, String)>,
}

impl<'a> Cases<'a> {
    fn new(c: &'a mut Criterion) -> Self {
        let counted = std::env::var("MIDDLEWARE_CALLS").ok().map(|calls| {
            let calls = calls.parse().expect("MIDDLEWARE_CALLS is a count");
            (calls, std::env::var("MIDDLEWARE_ONLY").unwrap_or_default())
        });
        Self {
            group: c.benchmark_group("server_chain"),
            counted,
        }
    }

    fn case(&mut self, name: &str, mut call: impl FnMut() -> http::StatusCode) {
        match &self.counted {
            Some((calls, only)) if only == name => {
                for _ in 0..*calls {
                    black_box(call());
                }
            }
            Some(_) => {}
            None => {
                self.group
                    .bench_function(name, |b| b.iter(|| black_box(call())));
            }
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
