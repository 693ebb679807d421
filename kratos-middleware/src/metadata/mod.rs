//! Metadata: `x-md-global-*` headers travel across every hop, `x-md-local-*`
//! headers one hop, plus constants, as Go Kratos's metadata middleware.
//!
//! On a server, [`MetadataLayer::server`] collects the request headers with
//! the propagated prefixes (`x-md-` by default) and the constants into a
//! [`Metadata`] that handlers find in the request extensions (axum's
//! `Extension<Metadata>`, tonic's `request.extensions()`), and makes it the
//! [`incoming`] metadata of the task handling the call. On a client,
//! [`MetadataLayer::client`] sends the constants, the `Metadata` put in the
//! outgoing request's extensions, and the `x-md-global-*` entries of the
//! incoming metadata: a service in the middle forwards global metadata without
//! a line of code, local metadata stops after one hop.

mod layer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Request};
use kratos_core::Metadata;
use kratos_core::metadata::GLOBAL_PREFIX;
use tokio::task::futures::TaskLocalFuture;
use tower_service::Service;

pub use layer::MetadataLayer;

tokio::task_local! {
    pub(crate) static INCOMING: Arc<Metadata>;
}

/// The metadata of the server call the current task is handling, if a
/// [`MetadataLayer::server`] runs above it.
pub fn incoming() -> Option<Arc<Metadata>> {
    INCOMING.try_with(Arc::clone).ok()
}

/// Runs `fut` with `md` as its [`incoming`] metadata, so the client
/// [`MetadataLayer`] forwards its global entries (for code that handles calls
/// outside a server, such as a job runner). To carry the metadata of the
/// current call into a spawned task, see [`context`](crate::context).
pub fn scope<F: Future>(md: Metadata, fut: F) -> impl Future<Output = F::Output> {
    INCOMING.scope(Arc::new(md), fut)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Server,
    Client,
}

/// The service of a [`MetadataLayer`].
#[derive(Debug, Clone)]
pub struct MetadataService<S> {
    inner: S,
    layer: MetadataLayer,
}

fn append(headers: &mut http::HeaderMap, key: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(key.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.append(name, value);
    }
}

impl<S, B> Service<Request<B>> for MetadataService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        match self.layer.mode {
            Mode::Server => match self.layer.incoming(&mut req) {
                Some(md) => ResponseFuture::Scoped {
                    fut: INCOMING.scope(md, self.inner.call(req)),
                },
                // Nothing to propagate: no task-local scope to enter on
                // every poll (onward calls see no incoming metadata either
                // way).
                None => ResponseFuture::Plain {
                    fut: self.inner.call(req),
                },
            },
            Mode::Client => {
                let mut out = Vec::new();
                for (k, vs) in self.layer.constants.iter() {
                    for v in vs {
                        out.push((k.to_owned(), v.clone()));
                    }
                }
                if let Some(md) = req.extensions().get::<Metadata>() {
                    for (k, vs) in md.iter() {
                        for v in vs {
                            out.push((k.to_owned(), v.clone()));
                        }
                    }
                }
                let _ = INCOMING.try_with(|md| {
                    for (k, vs) in md.iter().filter(|(k, _)| k.starts_with(GLOBAL_PREFIX)) {
                        if !out.iter().any(|(o, _)| o == k) {
                            for v in vs {
                                out.push((k.to_owned(), v.clone()));
                            }
                        }
                    }
                });
                let headers = req.headers_mut();
                for (k, v) in &out {
                    append(headers, k, v);
                }
                ResponseFuture::Plain {
                    fut: self.inner.call(req),
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`MetadataService`].
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F> {
        /// A server call, run with its incoming metadata.
        Scoped { #[pin] fut: TaskLocalFuture<Arc<Metadata>, F> },
        /// A client call, or a server call without metadata.
        Plain { #[pin] fut: F },
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project() {
            Proj::Scoped { fut } => fut.poll(cx),
            Proj::Plain { fut } => fut.poll(cx),
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("metadata::ResponseFuture")
    }
}
