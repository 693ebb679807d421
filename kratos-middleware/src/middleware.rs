//! The [`Middleware`] trait, [`Next`], [`from_fn`] and the layer that turns a
//! middleware into a tower [`Layer`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::body::Body;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use kratos_core::Error;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::BoxError;
use crate::body::FromBody;
use crate::util::{kind_of, reject};

/// A middleware written as an async function of the request and the rest of
/// the chain: the easy way to write one.
///
/// Return `Err(kratos_core::Error)` to reject a call: the layer encodes it the
/// way the call's transport sends errors (an HTTP JSON body with the code as
/// status, or a gRPC trailers-only status with `ErrorInfo`). The request
/// carries [`TransportInfo`](kratos_core::TransportInfo) in its extensions.
/// The same middleware runs on the HTTP and gRPC servers and, wrapped around a
/// client, on outgoing calls; for gRPC streams it wraps the whole call.
///
/// ```
/// use kratos_core::{Error, TransportInfo};
/// use kratos_middleware::{Middleware, Next, Request, Response};
///
/// #[derive(Clone)]
/// struct RequireTenant;
///
/// impl Middleware for RequireTenant {
///     async fn handle(&self, req: Request, next: Next) -> Result<Response, Error> {
///         if !req.headers().contains_key("x-md-global-tenant") {
///             let op = TransportInfo::from_request(&req).map(|i| i.operation().to_owned());
///             return Err(Error::bad_request("NO_TENANT", format!("{op:?} needs a tenant")));
///         }
///         next.run(req).await
///     }
/// }
/// let _layer = kratos_middleware::layer(RequireTenant);
/// ```
pub trait Middleware<ReqBody = Body, ResBody = Body>: Send + Sync + 'static {
    /// Handles one call: inspect or change `req`, call `next.run(req)` (or
    /// not), inspect or change the response.
    fn handle(
        &self,
        req: Request<ReqBody>,
        next: Next<ReqBody, ResBody>,
    ) -> impl Future<Output = Result<Response<ResBody>, Error>> + Send;
}

/// The rest of the chain, as seen from a [`Middleware`].
pub struct Next<ReqBody = Body, ResBody = Body> {
    inner: BoxCloneSyncService<Request<ReqBody>, Response<ResBody>, Error>,
}

impl<ReqBody, ResBody> Next<ReqBody, ResBody> {
    /// Calls the rest of the chain. A failure of the wrapped service (a
    /// connection error on a client) comes back as an [`Error`]; an error the
    /// handler returned comes back as the response that encodes it.
    pub async fn run(self, req: Request<ReqBody>) -> Result<Response<ResBody>, Error> {
        self.inner.oneshot(req).await
    }
}

impl<ReqBody, ResBody> fmt::Debug for Next<ReqBody, ResBody> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

/// A [`Middleware`] as a tower [`Layer`]; see [`layer`] and [`from_fn`].
#[must_use]
pub struct MiddlewareLayer<M> {
    middleware: Arc<M>,
}

/// Turns a [`Middleware`] into a tower layer for the servers' `.layer()`,
/// a [`Chain`](crate::Chain) or a client.
pub fn layer<M>(middleware: M) -> MiddlewareLayer<M> {
    MiddlewareLayer {
        middleware: Arc::new(middleware),
    }
}

impl<M> Clone for MiddlewareLayer<M> {
    fn clone(&self) -> Self {
        Self {
            middleware: self.middleware.clone(),
        }
    }
}

impl<M> fmt::Debug for MiddlewareLayer<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiddlewareLayer").finish_non_exhaustive()
    }
}

impl<M, S> Layer<S> for MiddlewareLayer<M> {
    type Service = MiddlewareService<M, S>;

    fn layer(&self, inner: S) -> Self::Service {
        MiddlewareService {
            middleware: self.middleware.clone(),
            inner,
        }
    }
}

/// The service of a [`MiddlewareLayer`].
pub struct MiddlewareService<M, S> {
    middleware: Arc<M>,
    inner: S,
}

impl<M, S: Clone> Clone for MiddlewareService<M, S> {
    fn clone(&self) -> Self {
        Self {
            middleware: self.middleware.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<M, S> fmt::Debug for MiddlewareService<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiddlewareService").finish_non_exhaustive()
    }
}

impl<M, S, ReqBody, ResBody> Service<Request<ReqBody>> for MiddlewareService<M, S>
where
    M: Middleware<ReqBody, ResBody>,
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: FromBody + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // `Next::run` drives the inner service to readiness itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let kind = kind_of(&req);
        let inner = self
            .inner
            .clone()
            .map_err(|e: S::Error| Error::from_error(e.into()));
        let next = Next {
            inner: BoxCloneSyncService::new(inner),
        };
        let middleware = self.middleware.clone();
        Box::pin(async move {
            match middleware.handle(req, next).await {
                Ok(res) => Ok(res),
                Err(err) => Ok(reject(kind, &err)),
            }
        })
    }
}

/// A [`Middleware`] made of an async function; see [`from_fn`].
#[derive(Clone)]
pub struct FromFn<F>(F);

impl<F> fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}

impl<F, Fut, ReqBody, ResBody> Middleware<ReqBody, ResBody> for FromFn<F>
where
    F: Fn(Request<ReqBody>, Next<ReqBody, ResBody>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<ResBody>, Error>> + Send,
{
    fn handle(
        &self,
        req: Request<ReqBody>,
        next: Next<ReqBody, ResBody>,
    ) -> impl Future<Output = Result<Response<ResBody>, Error>> + Send {
        (self.0)(req, next)
    }
}

/// A middleware layer from an async function of the request and [`Next`].
///
/// ```
/// use kratos_core::Error;
/// use kratos_middleware::{Next, Request, from_fn};
///
/// let deny_admin = from_fn(|req: Request, next: Next| async move {
///     if req.uri().path().starts_with("/admin") {
///         return Err(Error::forbidden("ADMIN", "no admin here"));
///     }
///     next.run(req).await
/// });
/// # let _ = deny_admin;
/// ```
pub fn from_fn<F>(f: F) -> MiddlewareLayer<FromFn<F>> {
    layer(FromFn(f))
}
