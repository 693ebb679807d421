//! The application: servers, registration and the lifecycle that ties them.

mod builder;
mod hooks;
mod info;
mod signal;

use crate::sync::LockExt;
use std::sync::Arc;
use std::time::Duration;

use kratos_registry::{Registrar, ServiceInstance};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use builder::AppBuilder;
pub use info::AppInfo;
pub use signal::Signal;

use crate::{Error, Health, HealthState, Server, ServerContext};
use hooks::Lifecycle;

/// A service process: its servers, its registration, its lifecycle.
///
/// [`App::run`] goes through these steps, logging each:
///
/// 1. `before_start` hooks (an error returns it; nothing was started);
/// 2. start every server and wait until each listens (a bind failure stops
///    the servers already started and returns the error);
/// 3. health becomes SERVING; register the instance with the endpoints the
///    servers really bound, within `registrar_timeout`;
/// 4. `after_start` hooks;
/// 5. wait for a signal, the [`StopHandle`], or a server failure;
/// 6. `before_stop` hooks; health becomes NOT_SERVING; deregister (a failure
///    is logged, never blocks the stop); wait the drain delay so clients see
///    the change; stop the servers, which drain in-flight requests until
///    `stop_timeout` and abort the rest; `after_stop` hooks.
///
/// `run` returns the first error that ended or troubled the run: a server
/// failure, a failing `after_start` hook, or a failing stop hook.
///
/// ```no_run
/// use kratos_core::App;
///
/// # async fn demo(http: impl kratos_core::Server + 'static) -> Result<(), kratos_core::Error> {
/// let app = App::builder()
///     .name("helloworld")
///     .version("v1.0.0")
///     .server(http)
///     .after_start(|info| async move {
///         println!("{} listening on {:?}", info.name(), info.endpoints());
///         Ok(())
///     })
///     .build();
/// app.run().await
/// # }
/// ```
#[derive(Debug)]
#[must_use = "an App does nothing until `.run()` or `.spawn()`"]
pub struct App {
    info: AppInfo,
    servers: Vec<Arc<dyn Server>>,
    registrar: Option<Arc<dyn Registrar>>,
    registrar_timeout: Duration,
    stop_timeout: Duration,
    drain_delay: Duration,
    signals: Vec<Signal>,
    hooks: Lifecycle,
    stop: CancellationToken,
}

/// Stops a running [`App`] from code or tests; cheap to clone.
#[derive(Debug, Clone)]
pub struct StopHandle(CancellationToken);

impl StopHandle {
    /// Asks the App to stop; returns at once. Calling it again does nothing.
    pub fn stop(&self) {
        self.0.cancel();
    }
}

/// An App started with [`App::spawn`], running in the background.
#[derive(Debug)]
pub struct RunningApp {
    info: AppInfo,
    stop: StopHandle,
    run: tokio::task::JoinHandle<Result<(), Error>>,
}

impl RunningApp {
    /// The App's info; its endpoints are set.
    pub fn info(&self) -> &AppInfo {
        &self.info
    }

    /// The endpoints the servers bound, in server order.
    pub fn endpoints(&self) -> &[String] {
        self.info.endpoints()
    }

    /// A handle that stops the App.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Stops the App and waits for the end of its lifecycle.
    pub async fn stop(self) -> Result<(), Error> {
        self.stop.stop();
        self.wait().await
    }

    /// Waits for the App to stop (by a signal, its stop handle or a failure).
    pub async fn wait(self) -> Result<(), Error> {
        self.run
            .await
            .unwrap_or_else(|join| Err(Error::internal_server("APP_PANICKED", join.to_string())))
    }
}

enum StopCause {
    Requested,
    Signal(Signal),
    ServerFailed(Error),
}

impl App {
    /// A builder with Go Kratos's defaults.
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }

    /// The application's info (its endpoints are known once it runs).
    pub fn info(&self) -> &AppInfo {
        &self.info
    }

    /// A handle that stops this App once it runs.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop.clone())
    }

    /// Runs the App in the background and returns once it started: servers
    /// listening, instance registered, after_start hooks done. A failure to
    /// start is returned as the error [`App::run`] would have returned.
    pub async fn spawn(mut self) -> Result<RunningApp, Error> {
        let (started, on_start) = oneshot::channel();
        let started = std::sync::Mutex::new(Some(started));
        self.hooks.after_start.push(move |_| {
            if let Some(started) = started.lock_unpoisoned().take() {
                let _ = started.send(());
            }
            std::future::ready(Ok(()))
        });
        let info = self.info.clone();
        let stop = self.stop_handle();
        let run = tokio::spawn(self.run());
        if on_start.await.is_ok() {
            return Ok(RunningApp { info, stop, run });
        }
        match run.await {
            Ok(Err(err)) => Err(err),
            Ok(Ok(())) => Err(Error::internal_server(
                "NOT_STARTED",
                "the app stopped before it started",
            )),
            Err(join) => Err(Error::internal_server("APP_PANICKED", join.to_string())),
        }
    }

    /// Runs the whole lifecycle; see the type's docs.
    pub async fn run(self) -> Result<(), Error> {
        let name = self.info.name().to_owned();
        tracing::info!(app = %name, id = %self.info.id(), version = %self.info.version(), "starting");
        self.hooks
            .before_start
            .run_all("before_start", &self.info)
            .await?;

        let (fail_tx, mut fail_rx) = mpsc::unbounded_channel();
        let health = HealthState::new(Health::NotServing);
        let ctx = ServerContext::for_app(self.info.clone(), health.clone(), fail_tx);

        let mut started: Vec<Arc<dyn Server>> = Vec::with_capacity(self.servers.len());
        for server in &self.servers {
            if let Err(err) = server.start(ctx.clone()).await {
                tracing::error!(app = %name, error = %err, "server failed to start; stopping");
                self.stop_servers(&started).await;
                return Err(err);
            }
            tracing::info!(app = %name, endpoint = ?server.endpoint(), "server listening");
            started.push(server.clone());
        }
        self.info
            .set_endpoints(started.iter().filter_map(|s| s.endpoint()).collect());
        health.set(Health::Serving);

        let instance = self.info.to_instance();
        if let Err(err) = self.register(&instance).await {
            health.set(Health::NotServing);
            self.stop_servers(&started).await;
            return Err(err);
        }

        let mut first_error = None;
        let cause = match self
            .hooks
            .after_start
            .run_all("after_start", &self.info)
            .await
        {
            Err(err) => StopCause::ServerFailed(err),
            Ok(()) => {
                tracing::info!(app = %name, endpoints = ?self.info.endpoints(), "started");
                tokio::select! {
                    _ = self.stop.cancelled() => StopCause::Requested,
                    s = signal::any(&self.signals) => StopCause::Signal(s),
                    Some(err) = fail_rx.recv() => StopCause::ServerFailed(err),
                }
            }
        };
        match cause {
            StopCause::Requested => tracing::info!(app = %name, "stop requested"),
            StopCause::Signal(s) => tracing::info!(app = %name, signal = ?s, "signal received"),
            StopCause::ServerFailed(err) => {
                tracing::error!(app = %name, error = %err, "stopping after a failure");
                first_error = Some(err);
            }
        }

        if let Err(err) = self
            .hooks
            .before_stop
            .run_all("before_stop", &self.info)
            .await
        {
            first_error.get_or_insert(err);
        }
        health.set(Health::NotServing);
        self.deregister(&instance).await;
        if !self.drain_delay.is_zero() {
            tracing::info!(app = %name, delay = ?self.drain_delay, "waiting for clients to see the deregistration");
            tokio::time::sleep(self.drain_delay).await;
        }
        self.stop_servers(&started).await;
        if let Err(err) = self
            .hooks
            .after_stop
            .run_all("after_stop", &self.info)
            .await
        {
            first_error.get_or_insert(err);
        }
        tracing::info!(app = %name, "stopped");
        first_error.map_or(Ok(()), Err)
    }

    async fn register(&self, instance: &ServiceInstance) -> Result<(), Error> {
        let Some(registrar) = &self.registrar else {
            return Ok(());
        };
        match tokio::time::timeout(self.registrar_timeout, registrar.register(instance)).await {
            Ok(Ok(())) => {
                tracing::info!(id = %instance.id, name = %instance.name, endpoints = ?instance.endpoints, "registered");
                Ok(())
            }
            Ok(Err(err)) => {
                tracing::error!(error = %err, "registration failed; stopping");
                Err(err.into())
            }
            Err(_) => {
                tracing::error!(timeout = ?self.registrar_timeout, "registration timed out; stopping");
                Err(Error::gateway_timeout(
                    "REGISTRY",
                    format!(
                        "registration did not finish within {:?}",
                        self.registrar_timeout
                    ),
                ))
            }
        }
    }

    async fn deregister(&self, instance: &ServiceInstance) {
        let Some(registrar) = &self.registrar else {
            return;
        };
        match tokio::time::timeout(self.registrar_timeout, registrar.deregister(instance)).await {
            Ok(Ok(())) => tracing::info!(id = %instance.id, "deregistered"),
            Ok(Err(err)) => tracing::warn!(error = %err, "deregistration failed; stopping anyway"),
            Err(_) => {
                tracing::warn!(timeout = ?self.registrar_timeout, "deregistration timed out; stopping anyway")
            }
        }
    }

    async fn stop_servers(&self, servers: &[Arc<dyn Server>]) {
        let deadline = Instant::now() + self.stop_timeout;
        let stops = servers.iter().map(|s| async move {
            if let Err(err) = s.stop(deadline).await {
                tracing::warn!(endpoint = ?s.endpoint(), error = %err, "server did not stop cleanly");
            }
        });
        futures_util::future::join_all(stops).await;
    }
}
