//! The context of the call a task is handling (its incoming
//! [`metadata`](crate::metadata::incoming) and its
//! [`deadline`](crate::timeout::deadline)), carried into spawned tasks.
//!
//! Both live in tokio task-locals, set by the server [`MetadataLayer`] and
//! [`TimeoutLayer`] around the handler's future. A task started with
//! `tokio::spawn` is a new task and sees neither: its onward calls would
//! forward no `x-md-global-*` metadata and ignore the caller's deadline. Take
//! the context with [`current`] before spawning and run the task in it with
//! [`CallContext::scope`]:
//!
//! ```
//! use kratos_core::Metadata;
//! use kratos_middleware::{context, metadata};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut md = Metadata::new();
//! md.add("x-md-global-user", "alice");
//! // What a server MetadataLayer does around a handler:
//! metadata::scope(md, async {
//!     // In the handler: a background task that makes onward calls.
//!     let lost = tokio::spawn(async { metadata::incoming() });
//!     let kept = tokio::spawn(context::current().scope(async { metadata::incoming() }));
//!     assert!(lost.await.unwrap().is_none());
//!     let md = kept.await.unwrap().expect("the caller's metadata");
//!     assert_eq!(md.get("x-md-global-user"), Some("alice"));
//! })
//! .await;
//! # }
//! ```
//!
//! [`MetadataLayer`]: crate::metadata::MetadataLayer
//! [`TimeoutLayer`]: crate::timeout::TimeoutLayer

use std::future::Future;
use std::sync::Arc;

use kratos_core::Metadata;
use tokio::time::Instant;

use crate::metadata::INCOMING;
use crate::timeout::DEADLINE;

/// The incoming metadata and the deadline of a call, taken with [`current`].
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    metadata: Option<Arc<Metadata>>,
    deadline: Option<Instant>,
}

/// The context of the call the current task is handling (empty outside one).
pub fn current() -> CallContext {
    CallContext {
        metadata: crate::metadata::incoming(),
        deadline: crate::timeout::deadline(),
    }
}

impl CallContext {
    /// The call's incoming metadata, if a server [`MetadataLayer`] set one.
    ///
    /// [`MetadataLayer`]: crate::metadata::MetadataLayer
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_deref()
    }

    /// The call's deadline, if a [`TimeoutLayer`](crate::timeout::TimeoutLayer) set one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Runs `fut` in this context: [`metadata::incoming`] and
    /// [`timeout::deadline`] return the call's in it, so the client layers
    /// forward the metadata and keep to the deadline.
    ///
    /// [`metadata::incoming`]: crate::metadata::incoming
    /// [`timeout::deadline`]: crate::timeout::deadline
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        match (self.metadata, self.deadline) {
            (Some(md), Some(deadline)) => INCOMING.scope(md, DEADLINE.scope(deadline, fut)).await,
            (Some(md), None) => INCOMING.scope(md, fut).await,
            (None, Some(deadline)) => DEADLINE.scope(deadline, fut).await,
            (None, None) => fut.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use axum_core::body::Body;
    use http::{Request, Response};
    use tower::{Layer, ServiceExt, service_fn};

    use super::*;
    use crate::metadata::MetadataLayer;
    use crate::timeout::TimeoutLayer;

    /// What a task spawned by the handler saw: metadata `x-md-global-user`
    /// and the deadline.
    type Seen = (Option<String>, Option<Instant>);

    #[tokio::test(start_paused = true)]
    async fn a_spawned_task_sees_the_callers_metadata_and_deadline() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Seen, Seen, Seen)>();
        let handler = service_fn(move |_req: Request<Body>| {
            let tx = tx.clone();
            async move {
                let look = || async {
                    let user = crate::metadata::incoming()
                        .and_then(|md| md.get("x-md-global-user").map(str::to_owned));
                    (user, crate::timeout::deadline())
                };
                let here = look().await;
                let lost = tokio::spawn(look()).await.unwrap();
                let kept = tokio::spawn(current().scope(look())).await.unwrap();
                tx.send((here, lost, kept)).unwrap();
                Ok::<_, Infallible>(Response::new(Body::empty()))
            }
        });
        let service =
            TimeoutLayer::new(Duration::from_secs(5)).layer(MetadataLayer::server().layer(handler));
        let start = Instant::now();
        let req = Request::builder()
            .header("x-md-global-user", "alice")
            .body(Body::empty())
            .unwrap();
        let res = service.oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);

        let (here, lost, kept) = rx.recv().await.unwrap();
        assert_eq!(here.0.as_deref(), Some("alice"));
        assert_eq!(here.1, Some(start + Duration::from_secs(5)));
        assert_eq!(lost, (None, None), "tokio::spawn alone loses both");
        assert_eq!(kept, here, "the spawned task runs in the caller's context");
    }

    #[tokio::test]
    async fn outside_a_call_the_context_is_empty() {
        let cx = current();
        assert!(cx.metadata().is_none() && cx.deadline().is_none());
        assert_eq!(cx.scope(async { crate::timeout::deadline() }).await, None);
    }
}
