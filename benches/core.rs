//! Micro-benchmarks of the per-request costs outside the transports: encoding
//! and decoding a Kratos error for each transport, and reading config.
//!
//! Run with `cargo bench --bench core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kratos::Error;
use kratos::config::{Config, KeyValue, MemorySource};

fn error() -> Error {
    Error::not_found("USER_NOT_FOUND", "user 42 not found")
        .with_metadata("id", "42")
        .with_metadata("tenant", "t1")
}

fn error_codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("error");
    let err = error();
    group.bench_function("http encode (JSON body)", |b| {
        b.iter(|| black_box(&err).to_http_response())
    });
    let body = err.to_json();
    group.bench_function("http decode", |b| {
        b.iter(|| {
            Error::from_http_response(http::StatusCode::NOT_FOUND, black_box(body.as_bytes()))
        })
    });
    group.bench_function("grpc encode (status + ErrorInfo)", |b| {
        b.iter(|| black_box(&err).to_status())
    });
    let status = err.to_status();
    group.bench_function("grpc decode", |b| {
        b.iter(|| Error::from_status(black_box(&status)))
    });
    group.finish();
}

fn config_get(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config::builder()
        .source(MemorySource::new([KeyValue::new(
            "bench.yaml",
            "server:\n  http:\n    addr: 0.0.0.0:8000\n    timeout_ms: 500\ndata:\n  database:\n    dsn: mysql://x\n",
            "yaml",
        )]))
        .build();
    runtime.block_on(config.load()).unwrap();
    let handle = config.handle::<String>("server.http.addr").unwrap();

    let mut group = c.benchmark_group("config");
    group.bench_function("get::<String>(3-level key)", |b| {
        b.iter(|| config.get::<String>(black_box("server.http.addr")).unwrap())
    });
    group.bench_function("get::<u64>(3-level key)", |b| {
        b.iter(|| {
            config
                .get::<u64>(black_box("server.http.timeout_ms"))
                .unwrap()
        })
    });
    group.bench_function("handle.get()", |b| b.iter(|| black_box(&handle).get()));
    group.finish();
}

criterion_group!(benches, error_codec, config_get);
criterion_main!(benches);
