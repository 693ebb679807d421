//! The user layers of a server builder, kept until `build()` so that they
//! wrap every route and service whatever the order of the builder calls.

use std::convert::Infallible;
use std::fmt;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use tower_layer::Layer;
use tower_service::Service;

type Apply = Box<dyn FnOnce(Router) -> Router + Send + Sync>;

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
        self.0.push(Box::new(move |router| router.layer(layer)));
    }

    /// `router` (all its routes, services and fallbacks) wrapped in every
    /// layer.
    pub(crate) fn apply(self, router: Router) -> Router {
        self.0
            .into_iter()
            .fold(router, |router, layer| layer(router))
    }
}

impl fmt::Debug for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Layers({})", self.0.len())
    }
}
