//! The `Server` trait every transport implements, and what the App hands it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::{AppInfo, Error};

/// A server the [`App`](crate::App) starts and stops: HTTP, gRPC, or your own.
#[async_trait]
pub trait Server: Send + Sync + fmt::Debug {
    /// Binds and starts serving in the background; returns once the server
    /// accepts connections, so [`Server::endpoint`] is known. A failure while
    /// serving later is reported with [`ServerContext::fail`].
    async fn start(&self, ctx: ServerContext) -> Result<(), Error>;

    /// Stops accepting, lets in-flight requests finish until `deadline`, then
    /// aborts the rest. Returns when nothing of the server runs any more.
    async fn stop(&self, deadline: Instant) -> Result<(), Error>;

    /// The endpoint clients reach this server at (`grpc://10.0.0.5:9000`),
    /// once started.
    fn endpoint(&self) -> Option<String>;
}

/// Whether the application takes traffic; what health checks report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Health {
    /// Serving: health checks answer SERVING / 200.
    Serving,
    /// Not serving (starting, or stopping): NOT_SERVING / 503.
    NotServing,
}

/// The application's health, shared by the App and every server's health endpoint.
#[derive(Debug, Clone)]
pub struct HealthState(Arc<watch::Sender<Health>>);

impl HealthState {
    /// A health state starting at `initial`.
    pub fn new(initial: Health) -> Self {
        Self(Arc::new(watch::channel(initial).0))
    }

    /// The current health.
    pub fn get(&self) -> Health {
        *self.0.borrow()
    }

    /// Changes the health; watchers are told.
    pub fn set(&self, health: Health) {
        self.0.send_replace(health);
    }

    /// A receiver that sees every change (for streaming health checks).
    pub fn subscribe(&self) -> watch::Receiver<Health> {
        self.0.subscribe()
    }
}

/// What the App hands each server when it starts it.
#[derive(Debug, Clone)]
pub struct ServerContext {
    app: AppInfo,
    health: HealthState,
    failures: Option<mpsc::UnboundedSender<Error>>,
}

impl ServerContext {
    /// A context for running a server on its own, without an [`App`](crate::App):
    /// health starts as SERVING and failures are only logged.
    pub fn standalone(app: AppInfo) -> Self {
        Self {
            app,
            health: HealthState::new(Health::Serving),
            failures: None,
        }
    }

    pub(crate) fn for_app(
        app: AppInfo,
        health: HealthState,
        failures: mpsc::UnboundedSender<Error>,
    ) -> Self {
        Self {
            app,
            health,
            failures: Some(failures),
        }
    }

    /// The application's info (handlers reach it as a request extension).
    pub fn app(&self) -> &AppInfo {
        &self.app
    }

    /// The application's health.
    pub fn health(&self) -> &HealthState {
        &self.health
    }

    /// Reports that the server failed while serving: the App stops with `err`.
    pub fn fail(&self, err: Error) {
        tracing::error!(error = %err, "server failed");
        if let Some(tx) = &self.failures {
            let _ = tx.send(err);
        }
    }
}
