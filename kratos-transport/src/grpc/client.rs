//! [`GrpcChannel`]: a discovery-aware channel for any tonic-generated client.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use arc_swap::ArcSwap;
use http_body::Frame;
use kratos_core::{Error, Kind};
use kratos_selector::{Done, DoneInfo, NodeFilters, Selector};
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::client_builder::{ClientBuilder, wrap};
use crate::discovery::{ClientInfoService, Resolver, node_not_found};

/// A boxed error, the error type of [`GrpcChannel`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service a [`GrpcChannel`] runs a call through, and that client layers wrap.
pub type GrpcService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// A gRPC channel that picks a node per call: give it to any tonic-generated
/// client (`GreeterClient::new(channel)`).
///
/// Dial `discovery:///<service>` with a [`Discovery`](kratos_registry::Discovery) to follow the
/// service's instances (one lazily connected HTTP/2 connection per node), or
/// `grpc://host:port` for one address. Each call goes through the
/// [`Selector`] and reports its outcome (latency, gRPC status, transport
/// error) to the balancer when the response ends. Unary and streaming calls
/// work alike. Cheap to clone; clones share nodes, connections and
/// statistics.
///
/// A call that finds no node fails with `UNAVAILABLE` carrying the kratos
/// error 503 `NODE_NOT_FOUND` (read it back with
/// [`Error::from_status`](kratos_core::Error::from_status)); a call that gets
/// no response headers within the timeout (default 2 s) fails with
/// `DEADLINE_EXCEEDED`. Put [`NodeFilters`] in a request's extensions to
/// filter the nodes of that call only.
///
/// ```no_run
/// use std::sync::Arc;
/// use kratos_registry::MemoryRegistry;
/// use kratos_selector::balancer::P2c;
/// use kratos_transport::grpc::GrpcChannel;
///
/// # async fn run() -> Result<(), kratos_core::Error> {
/// let channel = GrpcChannel::builder()
///     .endpoint("discovery:///helloworld")
///     .discovery(MemoryRegistry::global())
///     .balancer(P2c::new)
///     .block(true) // wait (up to the timeout) for a first instance
///     .connect()
///     .await?;
/// // let mut client = GreeterClient::new(channel);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct GrpcChannel {
    service: GrpcService,
    selector: Selector,
    target: Arc<str>,
    _resolver: Option<Arc<Resolver>>,
}

/// Configures and dials a [`GrpcChannel`]: the shared options of
/// [`ClientBuilder`], then [`layer`](ClientBuilder::layer) and
/// [`connect`](ClientBuilder::connect).
pub type GrpcChannelBuilder = ClientBuilder<GrpcService>;

impl GrpcChannel {
    /// A builder with the defaults: smooth weighted round-robin, a 2 s
    /// timeout, no blocking.
    pub fn builder() -> GrpcChannelBuilder {
        GrpcChannelBuilder::default()
    }

    /// The selector picking this channel's nodes (its node list and
    /// statistics).
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The target this channel was dialled with.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl fmt::Debug for GrpcChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcChannel")
            .field("target", &self.target)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder<GrpcService> {
    /// Adds a client middleware (a tower layer). Layers see requests with
    /// [`TransportInfo`](kratos_core::TransportInfo) already set; the last
    /// layer added is the outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<GrpcService> + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| {
            GrpcService::new(layer.layer(inner).map_err(Into::into))
        }));
        self
    }

    /// Resolves the target and returns the channel.
    ///
    /// Waits for discovery's first answer (and with [`block`](Self::block)
    /// for a first instance) within the timeout. Connections are made lazily,
    /// on the first call to each node.
    pub async fn connect(self) -> Result<GrpcChannel, Error> {
        let ClientBuilder { options, layers } = self;
        let connect_timeout = options.timeout;
        let conns: Arc<ArcSwap<HashMap<String, Channel>>> = Arc::default();
        let (selector, resolver) = options
            .resolve("grpc", {
                let conns = conns.clone();
                move |nodes| {
                    let old = conns.load();
                    let next = nodes
                        .iter()
                        .filter_map(|n| {
                            let ch = match old.get(n.address()) {
                                Some(ch) => ch.clone(),
                                None => node_channel(n.address(), connect_timeout)?,
                            };
                            Some((n.address().to_owned(), ch))
                        })
                        .collect();
                    conns.store(Arc::new(next));
                }
            })
            .await?;
        let target: Arc<str> = options.endpoint.into();
        let pick = PickService {
            selector: selector.clone(),
            conns,
            target: target.clone(),
            timeout: options.timeout,
            grpc_timeout: http::HeaderValue::from_str(&format!("{}m", options.timeout.as_millis()))
                .ok(),
        };
        // Without user layers, one boxed service per call instead of two.
        let service = if layers.is_empty() {
            GrpcService::new(ClientInfoService::new(pick, Kind::Grpc, &target))
        } else {
            let layered = wrap(&layers, GrpcService::new(pick));
            GrpcService::new(ClientInfoService::new(layered, Kind::Grpc, &target))
        };
        Ok(GrpcChannel {
            service,
            selector,
            target,
            _resolver: resolver.map(Arc::new),
        })
    }
}

impl Service<http::Request<Body>> for GrpcChannel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = <GrpcService as Service<http::Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        self.service.call(req)
    }
}

fn node_channel(address: &str, connect_timeout: Duration) -> Option<Channel> {
    match Endpoint::from_shared(format!("http://{address}")) {
        Ok(endpoint) => Some(endpoint.connect_timeout(connect_timeout).connect_lazy()),
        Err(err) => {
            tracing::warn!(%address, error = %err, "ignoring a node with an invalid address");
            None
        }
    }
}

/// Picks a node, sends the call over its connection, reports done info.
#[derive(Clone)]
struct PickService {
    selector: Selector,
    conns: Arc<ArcSwap<HashMap<String, Channel>>>,
    target: Arc<str>,
    timeout: Duration,
    /// `timeout` as a `grpc-timeout` header value, sent unless the call
    /// already carries one.
    grpc_timeout: Option<http::HeaderValue>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<Body>> for PickService {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: http::Request<Body>) -> Self::Future {
        let picked = self
            .selector
            .select_with(req.extensions().get::<NodeFilters>());
        let (node, done) = match picked {
            Ok(picked) => picked,
            Err(err) => {
                let status = node_not_found(&self.target, &err).to_status();
                return Box::pin(async move { Err(status.into()) });
            }
        };
        let channel = self
            .conns
            .load()
            .get(node.address())
            .cloned()
            .or_else(|| node_channel(node.address(), self.timeout));
        let timeout = self.timeout;
        let target = self.target.clone();
        if let Some(value) = &self.grpc_timeout
            && !req.headers().contains_key("grpc-timeout")
        {
            req.headers_mut().insert("grpc-timeout", value.clone());
        }
        Box::pin(async move {
            let Some(channel) = channel else {
                let err = Error::service_unavailable(
                    "INVALID_NODE",
                    format!("{target}: node {} has an invalid address", node.address()),
                );
                done.done(DoneInfo::failed(err.clone()));
                return Err(err.to_status().into());
            };
            match tokio::time::timeout(timeout, channel.oneshot(req)).await {
                Err(_) => {
                    let msg = format!(
                        "{target}: no response from {} within {timeout:?}",
                        node.address()
                    );
                    done.done(DoneInfo::failed(Error::gateway_timeout(
                        "TIMEOUT",
                        msg.clone(),
                    )));
                    Err(tonic::Status::deadline_exceeded(msg).into())
                }
                Ok(Err(err)) => {
                    let err: BoxError = err.into();
                    done.done(DoneInfo::failed(Error::service_unavailable(
                        "TRANSPORT",
                        format!("{}: {err}", node.address()),
                    )));
                    Err(err)
                }
                Ok(Ok(resp)) => {
                    if let Some(status) = tonic::Status::from_header_map(resp.headers()) {
                        // Trailers-only: the status is all there is.
                        done.done(status_done_info(&status, resp.headers()));
                        return Ok(resp);
                    }
                    Ok(resp.map(|body| {
                        Body::new(DoneBody {
                            inner: body,
                            done: Some(done),
                        })
                    }))
                }
            }
        })
    }
}

/// The done info of a call that ended with `status`: UNAVAILABLE and
/// DEADLINE_EXCEEDED (Go Kratos's 503 and 504) count against the node.
fn status_done_info(status: &tonic::Status, metadata: &http::HeaderMap) -> DoneInfo {
    let info = match status.code() {
        tonic::Code::Ok => DoneInfo::new(),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
            DoneInfo::failed(Error::from_status(status))
        }
        _ => DoneInfo::new().with_error(Error::from_status(status)),
    };
    info.with_reply_metadata(metadata.clone())
}

pin_project_lite::pin_project! {
    /// A response body that reports the call's outcome when it ends.
    struct DoneBody {
        #[pin]
        inner: Body,
        done: Option<Done>,
    }
}

impl http_body::Body for DoneBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(done) = this.done.take()
                {
                    let info = match tonic::Status::from_header_map(trailers) {
                        Some(status) => status_done_info(&status, trailers),
                        None => DoneInfo::new().with_reply_metadata(trailers.clone()),
                    };
                    done.done(info);
                }
            }
            Some(Err(status)) => {
                if let Some(done) = this.done.take() {
                    done.done(DoneInfo::failed(Error::from_status(status)));
                }
            }
            None => {
                if let Some(done) = this.done.take() {
                    done.done(DoneInfo::new());
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_and_deadline_count_against_the_node() {
        let headers = http::HeaderMap::new();
        for (code, failure) in [
            (tonic::Code::Unavailable, true),
            (tonic::Code::DeadlineExceeded, true),
            (tonic::Code::NotFound, false),
            (tonic::Code::Internal, false),
        ] {
            let info = status_done_info(&tonic::Status::new(code, "x"), &headers);
            assert_eq!(info.is_node_failure(), failure, "{code:?}");
            assert!(info.error().is_some());
        }
        let ok = status_done_info(&tonic::Status::new(tonic::Code::Ok, ""), &headers);
        assert!(ok.error().is_none());
    }
}
