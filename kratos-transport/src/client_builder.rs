//! The builder both discovery-aware clients share: target, discovery,
//! balancer, filters, timeout and blocking dial, then the transport's own
//! layers and `connect`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kratos_registry::Discovery;
use kratos_selector::{BalancerBuilder, NodeFilter};

use crate::discovery::ClientOptions;

/// A client layer, type-erased: wraps the service `S` of its transport.
pub(crate) type LayerFn<S> = Arc<dyn Fn(S) -> S + Send + Sync>;

/// Configures and dials a client: [`GrpcChannelBuilder`](crate::grpc::GrpcChannelBuilder)
/// (`S` = [`GrpcService`](crate::grpc::GrpcService)) or
/// [`HttpClientBuilder`](crate::http::HttpClientBuilder) (`S` =
/// [`HttpService`](crate::http::HttpService)), `S` being the service its
/// layers wrap. The transport adds `layer` and `connect`.
pub struct ClientBuilder<S> {
    pub(crate) options: ClientOptions,
    pub(crate) layers: Vec<LayerFn<S>>,
}

impl<S> Default for ClientBuilder<S> {
    fn default() -> Self {
        Self {
            options: ClientOptions::default(),
            layers: Vec::new(),
        }
    }
}

impl<S> Clone for ClientBuilder<S> {
    fn clone(&self) -> Self {
        Self {
            options: self.options.clone(),
            layers: self.layers.clone(),
        }
    }
}

impl<S> fmt::Debug for ClientBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("options", &self.options)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl<S> ClientBuilder<S> {
    /// The target: `discovery:///<service>`, or one address
    /// (`grpc://host:port` / `http://host:port`, or `host:port`).
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
}

/// `inner` wrapped in `layers` (the last one outermost).
pub(crate) fn wrap<S>(layers: &[LayerFn<S>], inner: S) -> S {
    layers.iter().fold(inner, |svc, layer| layer(svc))
}
