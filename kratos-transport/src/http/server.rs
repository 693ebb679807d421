//! [`HttpServer`] and its builder.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, Route, get};
use http::StatusCode;
use kratos_core::{Error, Health, HealthState, Kind, Server, ServerContext};
use tokio::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

use super::Routes;
use super::body::GuardedLayer;
use super::encoders::{Encoders, ErrorEncoder, RequestDecoder, ResponseEncoder};
use crate::Limits;
use crate::info::TransportInfoLayer;
use crate::layers::Layers;
use crate::serve::Listener;

/// The path of the health endpoint every HTTP server answers.
pub const HEALTH_PATH: &str = "/health";

/// An HTTP/1.1 + HTTP/2 (h2c) server around an axum [`Router`](axum::Router).
///
/// Unknown routes answer 404 and a wrong method 405, both as Kratos error
/// bodies that go through the user layers (metrics count them); `GET
/// /health` answers 200 while the App serves and 503 once it stops (health
/// bypasses user layers, so an auth layer does not hide it). Request bodies
/// and connections are bounded by the server's [`Limits`]: a body over
/// 4 MiB is 413, a slow one 408, a client that sends nothing is closed.
///
/// ```no_run
/// use axum::routing::get;
/// use kratos_core::App;
/// use kratos_transport::http::HttpServer;
///
/// # async fn run() -> Result<(), kratos_core::Error> {
/// let http = HttpServer::builder()
///     .address(([0, 0, 0, 0], 8000))
///     .route("/hello", get(|| async { "hello" }))
///     .build();
/// App::builder().name("hello").server(http).build().run().await
/// # }
/// ```
#[derive(Debug)]
pub struct HttpServer {
    listener: Listener,
    /// Puts the transport info on every request: bound to the endpoint and
    /// app when the server starts.
    info: TransportInfoLayer,
}

/// Builds an [`HttpServer`]: address, routes, layers, limits, in any order.
/// Layers wrap every route (and the 404/405 answers) whenever they are
/// added; the first added is the innermost.
#[derive(Debug)]
#[must_use]
pub struct HttpServerBuilder {
    address: SocketAddr,
    endpoint: Option<String>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ServerTls>,
    routes: Routes,
    /// Routes outside the layers ([`handle`](HttpServerBuilder::handle)).
    unlayered: Vec<(String, MethodRouter)>,
    layers: Layers,
    limits: Limits,
    encoders: Encoders,
}

impl HttpServer {
    /// A builder listening on `0.0.0.0:0` (any free port) with no routes.
    pub fn builder() -> HttpServerBuilder {
        HttpServerBuilder {
            address: SocketAddr::from(([0, 0, 0, 0], 0)),
            endpoint: None,
            #[cfg(feature = "tls")]
            tls: None,
            routes: Routes::default(),
            unlayered: Vec::new(),
            layers: Layers::default(),
            limits: Limits::default(),
            encoders: Encoders::default(),
        }
    }

    /// The address the server bound, once started.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr()
    }
}

impl HttpServerBuilder {
    /// The address to listen on; port 0 picks a free port.
    pub fn address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The endpoint to advertise (`http://my-host:8000`) instead of the one
    /// derived from the bound address.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Serves TLS with `tls` (ALPN `h2` and `http/1.1`); the advertised endpoint is then
    /// `https://`. See [`tls`](crate::tls) for certificate reloading and mTLS.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Adds a route, as [`Router::route`](axum::Router::route).
    pub fn route(mut self, path: &str, method_router: MethodRouter) -> Self {
        self.routes = self.routes.route(path, method_router);
        self
    }

    /// Adds a route that the layers do not wrap, as Go Kratos's
    /// `srv.Handle`: for `/metrics` (so scrapes are not counted as
    /// requests), readiness probes or debug endpoints. It still gets the
    /// transport info, the body limit and the 404/405 answers of the server.
    pub fn handle(mut self, path: &str, method_router: MethodRouter) -> Self {
        self.unlayered.push((path.to_owned(), method_router));
        self
    }

    /// Merges routes with the routes added so far, as
    /// [`Router::merge`](axum::Router::merge): a plain axum
    /// [`Router`](axum::Router), or [`Routes`] such as a generated
    /// `<service>_http::router`, whose gRPC operations this server then
    /// reports in the transport info of their requests.
    pub fn merge(mut self, routes: impl Into<Routes>) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    /// Wraps every route in a tower layer (a middleware), as
    /// [`Router::layer`](axum::Router::layer) on the finished router: routes
    /// merged after this call are wrapped too, and so are the 404 and 405
    /// answers. The transport info is already in the request.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.layers.push(layer);
        self
    }

    /// The timeouts and caps of the server (see [`Limits`] for the
    /// defaults).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Encodes every JSON reply of the generated routes and of
    /// [`Json`](super::Json) handlers with `encoder` instead of sending the
    /// reply as it is, as Go Kratos's `http.ResponseEncoder`: it gets the
    /// request's headers and the reply as JSON and returns the response
    /// (headers the handler set, such as reply metadata, are kept).
    /// Protobuf replies (`Accept: application/x-protobuf`) and other
    /// handlers' responses are sent as they are.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use kratos_transport::http::HttpServer;
    ///
    /// // Every reply as {"code":0,"message":"OK","data":…}.
    /// let server = HttpServer::builder()
    ///     .response_encoder(|_headers, reply| {
    ///         axum::Json(serde_json::json!({"code": 0, "message": "OK", "data": reply})).into_response()
    ///     })
    ///     .build();
    /// ```
    pub fn response_encoder(
        mut self,
        encoder: impl Fn(&http::HeaderMap, serde_json::Value) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.encoders.response = Some(Arc::new(encoder) as ResponseEncoder);
        self
    }

    /// Encodes every Kratos error the server answers with — a route's, a
    /// layer's (401 from auth, 429 from a rate limit), the 404 and 405
    /// answers — with `encoder` instead of the Go Kratos error body, as Go
    /// Kratos's `http.ErrorEncoder`. The error stays attached to the
    /// response, so metrics and logs still see its code and reason.
    pub fn error_encoder(
        mut self,
        encoder: impl Fn(&http::HeaderMap, &Error) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.encoders.error = Some(Arc::new(encoder) as ErrorEncoder);
        self
    }

    /// Passes every request body through `decoder` before a route reads it,
    /// as Go Kratos's `http.RequestDecoder`: it gets the request's headers
    /// and body (at most the server's body limit) and returns the JSON
    /// body to decode, or the error to answer with (unwrapping an envelope
    /// such as `{"data": {…}}`).
    pub fn request_decoder(
        mut self,
        decoder: impl Fn(&http::HeaderMap, axum::body::Bytes) -> Result<axum::body::Bytes, Error>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.encoders.request = Some(Arc::new(decoder) as RequestDecoder);
        self
    }

    /// The server.
    pub fn build(mut self) -> HttpServer {
        let (router, mut operations) = self.routes.into_parts();
        // The routes added here and at start share their template names.
        for (path, _) in &self.unlayered {
            operations.add_template(path);
        }
        operations.add_template(HEALTH_PATH);
        let mut router = router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
        if self.encoders.any() {
            // Innermost, so the user layers see the encoded responses.
            self.encoders.body_limit = self.limits.body_limit();
            router = router.layer(self.encoders);
        }
        let info = TransportInfoLayer::unbound(Kind::Http).with_operations(Arc::new(operations));
        let router = self.layers.apply(router, Some(info.clone()));
        let router = self
            .unlayered
            .into_iter()
            .fold(router, |router, (path, method_router)| {
                router.route(&path, method_router.layer(info.clone()))
            })
            // The unlayered routes' wrong methods get the Kratos 405 too.
            .method_not_allowed_fallback(method_not_allowed);
        let listener = Listener::new(
            "http",
            self.address,
            self.endpoint,
            false,
            self.limits,
            router,
        );
        #[cfg(feature = "tls")]
        let listener = listener.with_tls(self.tls);
        HttpServer { listener, info }
    }
}

#[async_trait]
impl Server for HttpServer {
    async fn start(&self, ctx: ServerContext) -> Result<(), Error> {
        let limits = self.listener.limits();
        let guard = GuardedLayer::new(limits.body_limit(), limits.body_read_timeout());
        // The guard counts bodies up to the limit; axum's own limit would
        // wrap every body a second time, in a box.
        let body_limit = DefaultBodyLimit::disable();
        self.listener
            .start(|router, endpoint| {
                self.info.bind(endpoint, ctx.app().clone());
                let health = get(health).with_state(ctx.health().clone());
                let router = router.route(HEALTH_PATH, health.layer(self.info.clone()));
                // Outside routing, so without a per-route box: every body
                // is guarded and every extractor reads up to the limit.
                guard.layer(body_limit.layer(router))
            })
            .await
    }

    async fn stop(&self, deadline: Instant) -> Result<(), Error> {
        self.listener.stop(deadline).await
    }

    fn endpoint(&self) -> Option<String> {
        self.listener.endpoint()
    }
}

async fn not_found(req: Request) -> Error {
    Error::not_found(
        "NOT_FOUND",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}

async fn method_not_allowed(req: Request) -> Error {
    Error::new(
        StatusCode::METHOD_NOT_ALLOWED.as_u16(),
        "METHOD_NOT_ALLOWED",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

async fn health(State(health): State<HealthState>) -> Response {
    match health.get() {
        Health::Serving => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "SERVING"})),
        ),
        // NotServing, and any state added later.
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "NOT_SERVING"})),
        ),
    }
    .into_response()
}
