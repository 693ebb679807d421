//! Metrics: a request counter and a latency histogram per call, under Go
//! Kratos's metric names and labels, recorded through the [`metrics`] facade
//! so any recorder can collect them (`prometheus` is one, behind the
//! `prometheus` feature).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `server_requests_code_total` / `client_requests_code_total` | counter | `kind`, `operation`, `code`, `reason` |
//! | `server_requests_seconds` / `client_requests_seconds` | histogram | `kind`, `operation` |
//!
//! `code` is the Kratos code of the call: the HTTP status of a reply (`200`),
//! the code of an error (`404`, `503`, … also for gRPC errors, whose status
//! maps to them), `500` when the service itself failed. `reason` is the
//! error's reason, empty on success. As in [`logging`](crate::logging), an
//! HTTP error's reason is read from its Kratos JSON body, and a stream is
//! counted when its response head arrives (an error sent in its trailers is
//! not seen).
//!
//! A layer labels at most 1,024 distinct operations per kind; later new
//! ones (such as the raw paths of requests no route matched) are counted
//! under `operation="other"`, so stray paths cannot grow the series without
//! limit.
//!
//! Without a recorder installed every call is a no-op.
//!
//! ```
//! use kratos_middleware::metrics::MetricsLayer;
//!
//! // HttpServer::builder().layer(MetricsLayer::server()), the same for GrpcServer;
//! // GrpcChannel::builder().layer(MetricsLayer::client()) for a client.
//! let layer = MetricsLayer::server();
//! # let _ = layer;
//! ```

mod future;
mod instruments;
mod layer;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod prometheus;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

pub(crate) use future::Measure;
pub use future::ResponseFuture;
pub use layer::MetricsLayer;

use tokio::time::Instant;

use crate::util::{kind_of, operation_of};
use instruments::{Instruments, Names};

/// Go Kratos's name of the server request counter.
pub const SERVER_REQUESTS: &str = "server_requests_code_total";
/// The name of the server latency histogram (Prometheus adds `_bucket`,
/// `_sum` and `_count`).
pub const SERVER_SECONDS: &str = "server_requests_seconds";
/// Go Kratos's name of the client request counter.
pub const CLIENT_REQUESTS: &str = "client_requests_code_total";
/// The name of the client latency histogram.
pub const CLIENT_SECONDS: &str = "client_requests_seconds";

/// The service of a [`MetricsLayer`].
#[derive(Debug, Clone)]
pub struct Metrics<S> {
    inner: S,
    instruments: Arc<Instruments>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Metrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let measure = Measure::start(
            &self.instruments,
            kind_of(&req),
            operation_of(&req),
            Instant::now(),
        );
        ResponseFuture::new(self.inner.call(req), measure)
    }
}
