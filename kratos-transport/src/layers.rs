//! The user layers of a server builder, kept until `build()` so that they
//! wrap every route and service whatever the order of the builder calls.

use std::convert::Infallible;
use std::fmt;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use tower_layer::{Layer, Stack};
use tower_service::Service;

use crate::info::TransportInfoLayer;

/// Applies one layer to a router; with the transport-info layer, both at
/// once (one boxed service per route for the two).
type Apply = Box<dyn FnOnce(Router, Option<TransportInfoLayer>) -> Router + Send + Sync>;

/// Layers in the order they were added: the first is the innermost, as with
/// consecutive [`Router::layer`] calls.
#[derive(Default)]
pub(crate) struct Layers(Vec<Apply>);

impl Layers {
    pub(crate) fn push<L>(&mut self, layer: L)
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.0.push(Box::new(move |router, info| match info {
            Some(info) => router.layer(Stack::new(layer, info)),
            None => router.layer(layer),
        }));
    }

    /// `router` (all its routes, services and fallbacks) wrapped in every
    /// layer, and outside them in `info` when given: in the same boxed
    /// service as the outermost layer, not in one of its own.
    pub(crate) fn apply(self, router: Router, info: Option<TransportInfoLayer>) -> Router {
        if self.0.is_empty() {
            return match info {
                Some(info) => router.layer(info),
                None => router,
            };
        }
        let (last, mut info) = (self.0.len() - 1, info);
        self.0
            .into_iter()
            .enumerate()
            .fold(router, |router, (i, layer)| {
                layer(router, if i == last { info.take() } else { None })
            })
    }
}

impl fmt::Debug for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Layers({})", self.0.len())
    }
}
