//! The builder both discovery-aware clients share: target, discovery,
//! balancer, filters, timeout and blocking dial, then the transport's own
//! layers and `connect`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use kratos_registry::Discovery;
use kratos_selector::{BalancerBuilder, NodeFilter};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::discovery::ClientOptions;

pub use kratos_net::BoxError;

/// The service both clients run a call through, and that client layers wrap:
/// `http::Request`/`http::Response` with the body type the servers'
/// middleware sees too (`axum::body::Body`), so one middleware runs on all
/// four sides.
pub type ClientService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// A client layer, type-erased.
pub(crate) type LayerFn = Arc<dyn Fn(ClientService) -> ClientService + Send + Sync>;

/// Configures and dials a client: [`GrpcChannelBuilder`](crate::grpc::GrpcChannelBuilder)
/// (`C` = [`GrpcChannel`](crate::grpc::GrpcChannel)) or
/// [`HttpClientBuilder`](crate::http::HttpClientBuilder) (`C` =
/// [`HttpClient`](crate::http::HttpClient)). The transport adds `connect`.
#[must_use]
pub struct ClientBuilder<C> {
    pub(crate) options: ClientOptions,
    pub(crate) layers: Vec<LayerFn>,
    _client: PhantomData<fn() -> C>,
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self {
            options: ClientOptions::default(),
            layers: Vec::new(),
            _client: PhantomData,
        }
    }
}

impl<C> Clone for ClientBuilder<C> {
    fn clone(&self) -> Self {
        Self {
            options: self.options.clone(),
            layers: self.layers.clone(),
            _client: PhantomData,
        }
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("options", &self.options)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl<C> ClientBuilder<C> {
    /// The target: `discovery:///<service>`, or one address
    /// (`grpc://host:port` / `http://host:port`, or `host:port`; over TLS
    /// `grpcs://host:port` / `https://host:port`, feature `tls`).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.options.endpoint = endpoint.into();
        self
    }

    /// The discovery a `discovery:///` target is resolved with.
    pub fn discovery(mut self, discovery: impl Discovery + 'static) -> Self {
        self.options.discovery = Some(Arc::new(discovery));
        self
    }

    /// The discovery, shared.
    pub fn discovery_arc(mut self, discovery: Arc<dyn Discovery>) -> Self {
        self.options.discovery = Some(discovery);
        self
    }

    /// The balancer, e.g. `P2c::new` (default: smooth weighted round-robin).
    pub fn balancer(mut self, balancer: impl BalancerBuilder + 'static) -> Self {
        self.options.balancer = Some(Arc::new(balancer));
        self
    }

    /// A node filter every call applies (e.g. a version filter).
    pub fn filter(mut self, filter: impl NodeFilter + 'static) -> Self {
        self.options.filter(filter);
        self
    }

    /// How long a call may take (gRPC: until its response headers; HTTP: body
    /// included), and how long a blocking dial waits for a first instance
    /// (default 2 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// Makes `connect` wait, up to the timeout, until discovery knows at
    /// least one instance.
    pub fn block(mut self, block: bool) -> Self {
        self.options.block = block;
        self
    }

    /// Dials TLS nodes (`grpcs://`, `https://`, Go Kratos's
    /// `?isSecure=true`) with `tls`: given CA roots, a client certificate, a
    /// server-name override. Without it, TLS nodes are verified against the
    /// system's roots. With it, an instance registering both a plaintext and
    /// a TLS endpoint is dialled over TLS (without it, in plaintext).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.options.tls = Some(tls);
        self
    }

    /// Adds a client middleware (a tower layer over [`ClientService`]: any
    /// `kratos_middleware` layer, a [`Middleware`](https://docs.rs/kratos-middleware)
    /// of your own, tower-http). Layers see requests with
    /// [`TransportInfo`](kratos_core::TransportInfo) already set; the last
    /// layer added is the outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<ClientService> + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| {
            ClientService::new(layer.layer(inner).map_err(Into::into))
        }));
        self
    }
}

/// `inner` wrapped in `layers` (the last one outermost).
pub(crate) fn wrap(layers: &[LayerFn], inner: ClientService) -> ClientService {
    layers.iter().fold(inner, |svc, layer| layer(svc))
}
