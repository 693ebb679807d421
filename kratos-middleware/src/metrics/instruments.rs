//! The metric handles of one layer, registered once per operation.

use std::sync::{Arc, OnceLock, RwLock};

use foldhash::HashMap as FastMap;
use kratos_core::Kind;
use metrics::{Counter, Histogram, Label, Recorder, SharedString};

/// The most distinct operations one layer labels per kind. Operations are
/// route templates and gRPC methods, but a request no route matched carries
/// its raw path: past this bound such paths cannot grow the metric series
/// (and this table) without limit.
pub(super) const MAX_OPERATIONS: usize = 1024;

/// The operation label of the calls past [`MAX_OPERATIONS`].
pub(super) const OTHER: &str = "other";

/// The two metric names a layer records under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Names {
    pub(super) requests: &'static str,
    pub(super) seconds: &'static str,
}

/// A layer's metrics: its names and, per kind and operation, handles
/// registered with the current recorder, so a call neither builds labels nor
/// looks the series up again.
#[derive(Debug)]
pub(super) struct Instruments {
    names: Names,
    /// By [`Kind`] (HTTP, gRPC), then by operation (foldhash: a short key hashed
    /// on every call).
    ops: [RwLock<FastMap<Box<str>, Arc<Operation>>>; 2],
}

/// The handles of one kind and operation.
#[derive(Debug)]
pub(super) struct Operation {
    /// The recorder they were registered with: the global one, a thread's
    /// local one, or the no-op recorder before one is installed.
    recorder: usize,
    kind: Kind,
    name: SharedString,
    seconds: Histogram,
    /// The counter of successful calls (`code="200"`, `reason=""`),
    /// registered with the first success: an operation that only failed has
    /// no zero-valued success series (as in Go Kratos).
    ok: OnceLock<Counter>,
}

impl Instruments {
    pub(super) fn new(names: Names) -> Self {
        Self {
            names,
            ops: Default::default(),
        }
    }

    /// The handles of `operation`, registered on first use and again when
    /// the recorder changed. Past [`MAX_OPERATIONS`] distinct operations of
    /// one kind, new ones are counted as [`OTHER`].
    pub(super) fn operation(&self, kind: Kind, operation: &str) -> Arc<Operation> {
        let recorder = current_recorder();
        let ops = &self.ops[kind_index(kind)];
        {
            let known = ops.read().unwrap_or_else(|e| e.into_inner());
            match known.get(operation) {
                Some(op) if op.recorder == recorder => return op.clone(),
                Some(_) => {}
                None if known.len() < MAX_OPERATIONS => {}
                None => {
                    if let Some(other) = known.get(OTHER)
                        && other.recorder == recorder
                    {
                        return other.clone();
                    }
                }
            }
        }
        let mut known = ops.write().unwrap_or_else(|e| e.into_inner());
        let name = if known.contains_key(operation) || known.len() < MAX_OPERATIONS {
            operation
        } else {
            if !known.contains_key(OTHER) {
                tracing::warn!(
                    target: "kratos::middleware::metrics",
                    kind = kind.as_str(),
                    max = MAX_OPERATIONS,
                    "too many distinct operations; counting new ones as `{OTHER}`"
                );
            }
            OTHER
        };
        let op = Arc::new(self.register(recorder, kind, name));
        known.insert(name.into(), op.clone());
        op
    }

    fn register(&self, recorder: usize, kind: Kind, operation: &str) -> Operation {
        let name = SharedString::from(Arc::<str>::from(operation));
        let seconds = metrics::histogram!(self.names.seconds, labels(kind, &name));
        Operation {
            recorder,
            kind,
            name,
            seconds,
            ok: OnceLock::new(),
        }
    }

    /// Counts one call of `op` and records its latency.
    pub(super) fn record(&self, op: &Operation, code: u16, reason: &str, seconds: f64) {
        op.seconds.record(seconds);
        if code == 200 && reason.is_empty() {
            op.ok
                .get_or_init(|| {
                    metrics::counter!(
                        self.names.requests,
                        counter_labels(op.kind, &op.name, 200, "")
                    )
                })
                .increment(1);
        } else {
            let labels = counter_labels(op.kind, &op.name, code, reason);
            metrics::counter!(self.names.requests, labels).increment(1);
        }
    }
}

/// The identity of the recorder metrics go to right now.
fn current_recorder() -> usize {
    metrics::with_recorder(|r| r as *const dyn Recorder as *const () as usize)
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Grpc => 1,
        _ => 0,
    }
}

fn labels(kind: Kind, operation: &SharedString) -> Vec<Label> {
    vec![
        Label::new("kind", kind.as_str()),
        Label::new("operation", operation.clone()),
    ]
}

fn counter_labels(kind: Kind, operation: &SharedString, code: u16, reason: &str) -> Vec<Label> {
    let mut labels = labels(kind, operation);
    labels.push(Label::new("code", code_str(code)));
    labels.push(Label::new("reason", reason.to_owned()));
    labels
}

/// `code` as a label value, without allocating for the common ones.
fn code_str(code: u16) -> SharedString {
    let common = match code {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        429 => "429",
        500 => "500",
        503 => "503",
        504 => "504",
        _ => return SharedString::from(code.to_string()),
    };
    SharedString::const_str(common)
}

#[cfg(all(test, feature = "prometheus"))]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    const NAMES: Names = Names {
        requests: "test_requests_code_total",
        seconds: "test_requests_seconds",
    };

    #[test]
    fn operations_past_the_bound_are_counted_as_other() {
        let instruments = Instruments::new(NAMES);
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for i in 0..MAX_OPERATIONS + 5 {
                let op = instruments.operation(Kind::Http, &format!("/random/{i}"));
                instruments.record(&op, 404, "NOT_FOUND", 0.001);
            }
            // A known operation keeps its own series.
            let op = instruments.operation(Kind::Http, "/random/7");
            instruments.record(&op, 200, "", 0.001);
        });
        let text = handle.render();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(
                r#"test_requests_code_total{kind="http",operation="other",code="404",reason="NOT_FOUND"} 5"#
            ),
            "{text}"
        );
        assert!(
            has(
                r#"test_requests_code_total{kind="http",operation="/random/7",code="200",reason=""} 1"#
            ),
            "{text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("test_requests_code_total{") && l.contains("code=\"404\""))
            .count();
        assert_eq!(series, MAX_OPERATIONS + 1);
    }

    #[test]
    fn handles_follow_the_recorder_they_were_registered_with() {
        let instruments = Instruments::new(NAMES);
        // Before any recorder: registered with the no-op one.
        let op = instruments.operation(Kind::Grpc, "/pkg.Svc/Get");
        instruments.record(&op, 200, "", 0.001);

        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for (code, reason) in [(200, ""), (200, ""), (404, "NOT_FOUND")] {
                let op = instruments.operation(Kind::Grpc, "/pkg.Svc/Get");
                instruments.record(&op, code, reason, 0.001);
            }
        });
        let text = handle.render();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(
                r#"test_requests_code_total{kind="grpc",operation="/pkg.Svc/Get",code="200",reason=""} 2"#
            ),
            "{text}"
        );
        assert!(
            has(
                r#"test_requests_code_total{kind="grpc",operation="/pkg.Svc/Get",code="404",reason="NOT_FOUND"} 1"#
            ),
            "{text}"
        );
        assert!(
            has(r#"test_requests_seconds_count{kind="grpc",operation="/pkg.Svc/Get"} 3"#),
            "{text}"
        );
    }
}
