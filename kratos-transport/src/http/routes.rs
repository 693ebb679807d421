//! [`Routes`]: an axum router plus the gRPC operations its routes serve.

use std::sync::Arc;

use axum::Router;

use super::operations::Operations;

/// An axum [`Router`] together with the gRPC operation (`/pkg.Service/Method`)
/// each of its routes serves, merged into an
/// [`HttpServerBuilder`](super::HttpServerBuilder).
///
/// The generated `<service>_http::router` returns one, so that the server's
/// [`TransportInfo`](kratos_core::TransportInfo) names the gRPC method of a
/// generated HTTP route and one middleware rule matches both transports. The
/// table belongs to the server the routes are merged into: two servers in one
/// process may serve the same method and template as different operations.
///
/// A plain axum `Router` converts into `Routes` with no operations (its
/// routes report their route template, `/v1/users/{id}`), so
/// [`merge`](super::HttpServerBuilder::merge) takes either.
///
/// ```
/// use axum::Router;
/// use axum::routing::get;
/// use kratos_transport::http::{HttpServer, Routes};
///
/// let routes = Routes::new(Router::new().route("/v1/users/{id}", get(|| async { "user" })))
///     .operation("GET", "/v1/users/{id}", "/api.user.v1.UserService/GetUser");
/// let server = HttpServer::builder().merge(routes).build();
/// ```
#[derive(Debug, Default)]
pub struct Routes {
    router: Router,
    operations: Operations,
}

impl Routes {
    /// The routes of `router`, reporting their route templates until
    /// [`operation`](Self::operation) says otherwise.
    pub fn new(router: Router) -> Self {
        Self {
            router,
            operations: Operations::default(),
        }
    }

    /// Records that requests with `method` (`GET`, …, or `*` for any method)
    /// matching the route template `template` (as written in the router,
    /// `/v1/users/{id}`) serve the gRPC method `operation`. An entry for
    /// `GET` also answers `HEAD`; a later entry for the same method and
    /// template replaces an earlier one.
    ///
    /// # Panics
    ///
    /// If `method` is neither `*` nor a valid HTTP method.
    pub fn operation(
        mut self,
        method: &str,
        template: &str,
        operation: impl Into<Arc<str>>,
    ) -> Self {
        self.operations.insert(method, template, operation.into());
        self
    }

    /// Merges `other` into these routes, router and operations, as
    /// [`Router::merge`] (which panics on overlapping routes).
    pub fn merge(mut self, other: impl Into<Routes>) -> Self {
        let other = other.into();
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    /// The plain axum router, without the operations: once merged into a
    /// server this way (or nested, or served by axum directly), its routes
    /// report their route template (`/api/v1/orders/{id}`) as the operation
    /// instead of the gRPC method.
    pub fn into_router(self) -> Router {
        self.router
    }

    /// Adds a route, recording its template (for the server builder's
    /// `route`).
    pub(super) fn route(mut self, path: &str, method_router: axum::routing::MethodRouter) -> Self {
        self.router = self.router.route(path, method_router);
        self.operations.add_template(path);
        self
    }

    /// The router and the operation table.
    pub(super) fn into_parts(self) -> (Router, Operations) {
        (self.router, self.operations)
    }
}

impl From<Router> for Routes {
    fn from(router: Router) -> Self {
        Self::new(router)
    }
}
