//! The layer that puts [`TransportInfo`] and [`AppInfo`] on every request,
//! outside every user middleware.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use kratos_core::{AppInfo, Kind, TransportInfo};
use tower_layer::Layer;
use tower_service::Service;

/// Inserts [`TransportInfo`] and [`AppInfo`] into each request's extensions.
///
/// The operation is the gRPC path (`/pkg.Service/Method`) for gRPC, and the
/// matched route template (`/v1/users/{id}`) for HTTP, falling back to the
/// request path when no route matched.
#[derive(Debug, Clone)]
pub(crate) struct TransportInfoLayer {
    kind: Kind,
    endpoint: Arc<str>,
    app: AppInfo,
}

impl TransportInfoLayer {
    pub(crate) fn new(kind: Kind, endpoint: &str, app: AppInfo) -> Self {
        Self {
            kind,
            endpoint: endpoint.into(),
            app,
        }
    }
}

impl<S> Layer<S> for TransportInfoLayer {
    type Service = TransportInfoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TransportInfoService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`TransportInfoLayer`].
#[derive(Debug, Clone)]
pub(crate) struct TransportInfoService<S> {
    inner: S,
    layer: TransportInfoLayer,
}

impl<S, B> Service<http::Request<B>> for TransportInfoService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let operation: Arc<str> = match (self.layer.kind, req.extensions().get::<MatchedPath>()) {
            (Kind::Http, Some(matched)) => matched.as_str().into(),
            _ => req.uri().path().into(),
        };
        let info = TransportInfo::new(self.layer.kind, operation, self.layer.endpoint.clone());
        req.extensions_mut().insert(info);
        req.extensions_mut().insert(self.layer.app.clone());
        self.inner.call(req)
    }
}
