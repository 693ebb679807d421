//! [`GrpcServer`] and its builder.

use std::convert::Infallible;
use std::net::SocketAddr;

use async_trait::async_trait;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::Route;
use kratos_core::{Error, Kind, Server, ServerContext};
use tokio::time::Instant;
use tonic::server::NamedService;
use tonic::service::Routes;
use tower_layer::Layer;
use tower_service::Service;

use super::HealthService;
use crate::info::TransportInfoLayer;
use crate::serve::Listener;

/// A gRPC (HTTP/2) server hosting any number of tonic services.
///
/// `grpc.health.v1.Health` is built in: SERVING once the App started,
/// NOT_SERVING as soon as it begins to stop. A call to an unknown service or
/// method answers `UNIMPLEMENTED`.
///
/// ```no_run
/// use kratos_core::App;
/// use kratos_transport::grpc::GrpcServer;
///
/// # async fn run<S>(greeter: S) -> Result<(), kratos_core::Error>
/// # where
/// #     S: tower_service::Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>, Error = std::convert::Infallible>
/// #         + tonic::server::NamedService + Clone + Send + Sync + 'static,
/// #     S::Future: Send + 'static,
/// # {
/// let grpc = GrpcServer::builder()
///     .address(([0, 0, 0, 0], 9000))
///     .add_service(greeter) // e.g. GreeterServer::new(MyGreeter)
///     .build();
/// App::builder().name("hello").server(grpc).build().run().await
/// # }
/// ```
#[derive(Debug)]
pub struct GrpcServer {
    listener: Listener,
    services: Vec<&'static str>,
}

/// Builds a [`GrpcServer`]: address, services, then layers (a layer wraps the
/// services added before it).
#[derive(Debug)]
#[must_use]
pub struct GrpcServerBuilder {
    address: SocketAddr,
    endpoint: Option<String>,
    routes: Routes,
    services: Vec<&'static str>,
}

impl GrpcServer {
    /// A builder listening on `0.0.0.0:0` (any free port) with no services.
    pub fn builder() -> GrpcServerBuilder {
        GrpcServerBuilder {
            address: SocketAddr::from(([0, 0, 0, 0], 0)),
            endpoint: None,
            routes: Routes::default(),
            services: Vec::new(),
        }
    }

    /// The address the server bound, once started.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr()
    }
}

impl GrpcServerBuilder {
    /// The address to listen on; port 0 picks a free port.
    pub fn address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The endpoint to advertise (`grpc://my-host:9000`) instead of the one
    /// derived from the bound address.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Adds a tonic service (a generated `FooServer::new(impl)`).
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: Service<Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        self.routes = self.routes.add_service(service);
        self.services.push(S::NAME);
        self
    }

    /// Wraps the services added so far in a tower layer (a middleware). The
    /// transport info is already in the request.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.routes = Routes::from(self.routes.into_axum_router().layer(layer));
        self
    }

    /// The server.
    pub fn build(self) -> GrpcServer {
        let router = self.routes.into_axum_router();
        GrpcServer {
            listener: Listener::new("grpc", self.address, self.endpoint, true, router),
            services: self.services,
        }
    }
}

#[async_trait]
impl Server for GrpcServer {
    async fn start(&self, ctx: ServerContext) -> Result<(), Error> {
        let health = HealthService::new(ctx.health().clone(), self.services.clone());
        self.listener
            .start(|router, endpoint| {
                // The operation is the request path: the info layer wraps the
                // whole router once, not each route (no per-route boxing).
                TransportInfoLayer::new(Kind::Grpc, endpoint, ctx.app().clone()).layer(
                    Routes::from(router)
                        .add_service(health.into_server())
                        .into_axum_router(),
                )
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
