//! [`GrpcChannel`]: a discovery-aware channel for any tonic-generated client.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::body::Body as AxumBody;
use foldhash::HashMap as FastMap;
use http_body::Frame;
use kratos_core::transport::headers::{self, GRPC_STATUS, GRPC_TIMEOUT};
use kratos_core::{Error, Kind};
use kratos_selector::{Done, DoneInfo, Node, Selector};
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceExt;
use tower_service::Service;

use crate::client_builder::{ClientBuilder, ClientService, wrap};
use crate::discovery::{ClientInfoService, Resolver};
use crate::endpoint;
use crate::pick::{Attempted, Failure, Picker, Transport, caused_by};
use crate::replay::ReplayBody;

pub use crate::client_builder::BoxError;

/// The service a [`GrpcChannel`] runs a call through, and that client layers
/// wrap: the [`ClientService`] both clients share.
pub type GrpcService = ClientService;

/// A gRPC channel that picks a node per call: give it to any tonic-generated
/// client (`GreeterClient::new(channel)`).
///
/// Dial `discovery:///<service>` with a [`Discovery`](kratos_registry::Discovery) to follow the
/// service's instances (one lazily connected HTTP/2 connection per node), or
/// `grpc://host:port` for one address. Nodes registered as `grpcs://` (or
/// `grpc://…?isSecure=true`) are dialled over TLS (feature `tls`; see
/// `ClientBuilder::tls`), `grpc://` ones in plaintext (h2c). Each call goes through the
/// [`Selector`] and reports its outcome (latency, gRPC status, transport
/// error) to the balancer when the response ends. Unary and streaming calls
/// work alike. Cheap to clone; clones share nodes, connections and
/// statistics.
///
/// **Failure.** A node whose connection is refused or reset, or that gives
/// no answer within the timeout, leaves rotation at once and is re-probed
/// with backoff (see [`HealthPolicy`](kratos_selector::HealthPolicy)); a
/// node whose calls stall is skipped. A call whose connection failed before
/// anything was sent goes to another node, whatever its method (gRPC's
/// transparent retry); a retry layer's next attempt goes to a node this call
/// has not tried. Errors carry kratos errors (read them back with
/// [`Error::from_status`](kratos_core::Error::from_status)): no node is
/// `UNAVAILABLE` 503 `NODE_NOT_FOUND`, a failed connection `UNAVAILABLE` 503
/// `TRANSPORT`, no response headers within the timeout (default 2 s) —
/// ours or tonic's `grpc-timeout` timer — `DEADLINE_EXCEEDED` 504 `TIMEOUT`,
/// never `CANCELLED`. Put [`NodeFilters`](kratos_selector::NodeFilters) in a
/// request's extensions to filter the nodes of that call only.
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
pub type GrpcChannelBuilder = ClientBuilder<GrpcChannel>;

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

impl ClientBuilder<GrpcChannel> {
    /// Resolves the target and returns the channel.
    ///
    /// Waits for discovery's first answer (and with [`block`](Self::block)
    /// for a first instance) within the timeout. Connections are made lazily,
    /// on the first call to each node.
    pub async fn connect(self) -> Result<GrpcChannel, Error> {
        let ClientBuilder {
            options, layers, ..
        } = self;
        let dialer = Dialer {
            // gRPC is HTTP/2 only: ALPN offers `h2` alone.
            connector: kratos_net::http::connector(&options.net_options().http2_only(true)),
            connect_timeout: options.timeout,
        };
        let conns: Arc<ArcSwap<Conns>> = Arc::default();
        let (selector, resolver) = options
            .resolve("grpc", {
                let conns = conns.clone();
                let dialer = dialer.clone();
                move |nodes| {
                    let old = conns.load();
                    let next = nodes
                        .iter()
                        .filter_map(|n| {
                            let secure = endpoint::is_secure(n);
                            let ch = match old.get(n.address()) {
                                Some((was_secure, ch)) if *was_secure == secure => ch.clone(),
                                _ => dialer.channel(n)?,
                            };
                            Some((n.address().to_owned(), (secure, ch)))
                        })
                        .collect();
                    conns.store(Arc::new(next));
                }
            })
            .await?;
        let target: Arc<str> = options.endpoint.into();
        let pick = PickService {
            picker: Arc::new(Picker {
                selector: selector.clone(),
                target: target.clone(),
                timeout: options.timeout,
                transport: GrpcTransport { conns, dialer },
            }),
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
    type Response = http::Response<AxumBody>;
    type Error = BoxError;
    type Future = <GrpcService as Service<http::Request<AxumBody>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        self.service.call(req.map(AxumBody::new))
    }
}

/// One lazily connected channel per node, keyed by address, with whether it
/// dials TLS.
type Conns = FastMap<String, (bool, Channel)>;

/// Makes a node's channel: tonic over the workspace's one connector
/// (`kratos_net::http::connector`), which dials `http://` in the clear and,
/// with the `tls` feature, `https://` over rustls.
///
/// tonic is never handed an `https://` URI to connect to: when some crate in
/// the build turns on one of tonic's own TLS features (etcd-client does),
/// tonic then expects to run the TLS handshake itself and refuses an
/// `https://` endpoint that has no tonic TLS config ("Connecting to HTTPS
/// without TLS enabled"). So a TLS node's endpoint connects to
/// `http://host:port`, rewritten to `https://` on the way into our connector
/// ([`as_https`]), and its origin says `https://host:port` so that the
/// requests' `:scheme` is `https`.
#[derive(Clone)]
struct Dialer {
    connector: kratos_net::http::Connector,
    connect_timeout: Duration,
}

impl Dialer {
    fn channel(&self, node: &Node) -> Option<Channel> {
        let address = node.address();
        let endpoint = Endpoint::from_shared(format!("http://{address}"))
            .map(|endpoint| endpoint.connect_timeout(self.connect_timeout));
        let endpoint = match endpoint {
            Ok(endpoint) => endpoint,
            Err(err) => {
                tracing::warn!(%address, error = %err, "ignoring a node with an invalid address");
                return None;
            }
        };
        if !endpoint::is_secure(node) {
            return Some(endpoint.connect_with_connector_lazy(self.connector.clone()));
        }
        let origin = match format!("https://{address}").parse::<http::Uri>() {
            Ok(origin) => origin,
            Err(err) => {
                tracing::warn!(%address, error = %err, "ignoring a node with an invalid address");
                return None;
            }
        };
        let connector = self
            .connector
            .clone()
            .map_request(as_https as fn(http::Uri) -> http::Uri);
        Some(
            endpoint
                .origin(origin)
                .connect_with_connector_lazy(connector),
        )
    }
}

/// `uri` with the scheme `https`: what tells our connector to dial TLS.
fn as_https(uri: http::Uri) -> http::Uri {
    let mut parts = uri.into_parts();
    parts.scheme = Some(http::uri::Scheme::HTTPS);
    // Scheme and authority are both set (the endpoint's), so this holds.
    http::Uri::from_parts(parts).unwrap_or_else(|_| http::Uri::from_static("https://invalid"))
}

/// Picks a node per call and sends the call over that node's connection.
#[derive(Clone)]
struct PickService {
    picker: Arc<Picker<GrpcTransport>>,
    /// The timeout as a `grpc-timeout` header value, sent unless the call
    /// already carries one.
    grpc_timeout: Option<http::HeaderValue>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Service<http::Request<AxumBody>> for PickService {
    type Response = http::Response<AxumBody>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: http::Request<AxumBody>) -> Self::Future {
        if let Some(value) = &self.grpc_timeout
            && !req.headers().contains_key(GRPC_TIMEOUT)
        {
            req.headers_mut().insert(GRPC_TIMEOUT, value.clone());
        }
        let picker = self.picker.clone();
        Box::pin(async move {
            picker
                .call(req)
                .await
                .map_err(|err| BoxError::from(err.to_status()))
        })
    }
}

/// Sends gRPC calls over one lazily connected HTTP/2 channel per node.
struct GrpcTransport {
    conns: Arc<ArcSwap<Conns>>,
    dialer: Dialer,
}

impl Transport for GrpcTransport {
    type Body = AxumBody;
    type Sent = http::Response<Body>;
    type Response = http::Response<AxumBody>;

    fn send(
        &self,
        node: &Node,
        req: http::Request<ReplayBody<AxumBody>>,
    ) -> impl Future<Output = Result<Self::Sent, BoxError>> + Send {
        let secure = endpoint::is_secure(node);
        let channel = match self.conns.load().get(node.address()) {
            Some((was_secure, ch)) if *was_secure == secure => Some(ch.clone()),
            _ => self.dialer.channel(node),
        };
        // The error is made here, so that a call does not copy the address.
        let channel = channel.ok_or_else(|| {
            BoxError::from(format!("node {} has an invalid address", node.address()))
        });
        async move {
            channel?
                .oneshot(req.map(Body::new))
                .await
                .map_err(BoxError::from)
        }
    }

    fn failure(err: &BoxError) -> Failure {
        if caused_by::<tonic::ConnectError>(err) {
            Failure::Connect
        } else if caused_by::<tonic::TimeoutExpired>(err) {
            // tonic's own `grpc-timeout` timer: the same deadline as ours.
            Failure::Timeout
        } else {
            Failure::Other
        }
    }

    async fn finish(
        &self,
        _call: Attempted<'_>,
        resp: Self::Sent,
        done: Done,
    ) -> Result<Self::Response, Error> {
        if let Some(err) = outcome(resp.headers()) {
            // Trailers-only: the status is all there is. A failed one is the
            // call's typed outcome, decoded once here for every middleware.
            let mut resp = resp.map(AxumBody::new);
            done.done(done_info(err.clone()));
            if let Some(err) = err {
                resp.extensions_mut().insert(err);
            }
            return Ok(resp);
        }
        Ok(resp.map(|body| {
            AxumBody::new(DoneBody {
                inner: body,
                done: Some(done),
            })
        }))
    }
}

/// The outcome `headers` (a trailers-only head, or the trailers) carry:
/// `None` without a `grpc-status`, else the call's error if it failed. An OK
/// status, the common case, is not decoded further (no message, no details).
fn outcome(headers: &http::HeaderMap) -> Option<Option<Error>> {
    if headers::find(headers, &GRPC_STATUS)? == "0" {
        return Some(None);
    }
    let status = tonic::Status::from_header_map(headers)?;
    Some((status.code() != tonic::Code::Ok).then(|| Error::from_status(&status)))
}

/// The done info of a call that ended with `err` (or succeeded): UNAVAILABLE
/// and DEADLINE_EXCEEDED (Go Kratos's 503 and 504) count against the node.
fn done_info(err: Option<Error>) -> DoneInfo {
    match err {
        None => DoneInfo::new(),
        Some(err) if matches!(err.code(), 503 | 504) => DoneInfo::failed(err),
        Some(err) => DoneInfo::new().with_error(err),
    }
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
                    done.done(outcome(trailers).map_or_else(DoneInfo::new, done_info));
                }
            }
            Some(Err(status)) => {
                // The reply stopped arriving (the node died or reset the
                // stream): a transport failure, 503 TRANSPORT as over HTTP,
                // not the UNKNOWN/INTERNAL hyper's error would become.
                let err = Error::service_unavailable(
                    "TRANSPORT",
                    format!("reading the reply: {}", status.message()),
                );
                if let Some(done) = this.done.take() {
                    done.done(DoneInfo::failed(err.clone()));
                }
                return Poll::Ready(Some(Err(err.into())));
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
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_reply_body_that_fails_is_503_transport() {
        let failing =
            http_body_util::StreamBody::new(tokio_stream::iter([Err::<Frame<bytes::Bytes>, _>(
                std::io::Error::other("connection reset by peer"),
            )]));
        let mut body = DoneBody {
            inner: Body::new(failing),
            done: None,
        };
        let status = body
            .frame()
            .await
            .expect("a frame")
            .expect_err("the failure");
        let err = Error::from_status(&status);
        assert_eq!((err.code(), err.reason()), (503, "TRANSPORT"), "{err:?}");
        assert!(
            err.message().contains("connection reset by peer"),
            "{err:?}"
        );
    }

    #[test]
    fn unavailable_and_deadline_count_against_the_node() {
        for (code, failure) in [
            (tonic::Code::Unavailable, true),
            (tonic::Code::DeadlineExceeded, true),
            (tonic::Code::NotFound, false),
            (tonic::Code::Internal, false),
        ] {
            let headers = tonic::Status::new(code, "x")
                .into_http::<()>()
                .headers()
                .clone();
            let err = outcome(&headers).expect("a status");
            let info = done_info(err);
            assert_eq!(info.is_node_failure(), failure, "{code:?}");
            assert!(info.error().is_some());
        }
        let headers = tonic::Status::new(tonic::Code::Ok, "")
            .into_http::<()>()
            .headers()
            .clone();
        let ok = done_info(outcome(&headers).expect("a status"));
        assert!(ok.error().is_none());
        assert!(outcome(&http::HeaderMap::new()).is_none(), "no grpc-status");
    }
}
