use std::sync::Arc;

use http::Request;
use kratos_core::Metadata;
use tower_layer::Layer;

use super::{MetadataService, Mode};

/// Propagates `x-md-*` metadata; see the [module docs](crate::metadata).
///
/// ```
/// use kratos_middleware::metadata::MetadataLayer;
///
/// let server = MetadataLayer::server().constant("x-md-local-region", "eu");
/// let client = MetadataLayer::client().constant("x-md-global-caller", "orders");
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MetadataLayer {
    pub(crate) mode: Mode,
    pub(crate) prefixes: Arc<[Box<str>]>,
    pub(crate) constants: Arc<Metadata>,
}

impl MetadataLayer {
    /// The server side: request headers starting with `x-md-` become the
    /// call's metadata.
    pub fn server() -> Self {
        Self {
            mode: Mode::Server,
            prefixes: Arc::from(vec![Box::<str>::from("x-md-")]),
            constants: Arc::new(Metadata::new()),
        }
    }

    /// The client side: constants, outgoing and incoming global metadata
    /// become request headers.
    pub fn client() -> Self {
        Self {
            mode: Mode::Client,
            ..Self::server()
        }
    }

    /// The header prefixes a server collects (Go Kratos's
    /// `WithPropagatedPrefix`), instead of `x-md-`.
    pub fn prefixes<I, P>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.prefixes = prefixes
            .into_iter()
            .map(|p| Box::from(p.as_ref().to_ascii_lowercase()))
            .collect();
        self
    }

    /// Adds a constant entry: part of every call's metadata on a server, sent
    /// with every call by a client.
    pub fn constant(mut self, key: &str, value: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.constants).add(key, value);
        self
    }

    /// A server call's metadata, from the constants and the request headers
    /// with the layer's prefixes: put in the request's extensions for the
    /// handler, and returned to be the call's [`incoming`](super::incoming)
    /// metadata unless it is empty.
    pub(crate) fn incoming<B>(&self, req: &mut Request<B>) -> Option<Arc<Metadata>> {
        let mut md = (*self.constants).clone();
        for (name, value) in req.headers() {
            let name = name.as_str();
            if self.prefixes.iter().any(|p| name.starts_with(&**p))
                && let Ok(value) = value.to_str()
            {
                md.add(name, value);
            }
        }
        let empty = md.is_empty();
        req.extensions_mut().insert(md.clone());
        (!empty).then(|| Arc::new(md))
    }
}

impl<S> Layer<S> for MetadataLayer {
    type Service = MetadataService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetadataService {
            inner,
            layer: self.clone(),
        }
    }
}
