//! Building an [`App`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kratos_registry::{MemoryRegistry, Registrar};
use tokio_util::sync::CancellationToken;

use super::hooks::Lifecycle;
use super::{App, AppInfo, Signal};
use crate::{Error, Server};

/// Builds an [`App`]. Defaults: a random UUID id, the executable's name as
/// service name, the process-wide [`MemoryRegistry::global`] as registrar,
/// `registrar_timeout` 10 s, `stop_timeout` 10 s, no drain delay, and
/// SIGINT, SIGTERM, SIGQUIT as stop signals.
#[derive(Debug)]
#[must_use = "an AppBuilder does nothing until `.build()` and `App::run`"]
pub struct AppBuilder {
    id: String,
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    servers: Vec<Arc<dyn Server>>,
    registrar: Option<Arc<dyn Registrar>>,
    registrar_timeout: Duration,
    stop_timeout: Duration,
    drain_delay: Duration,
    signals: Vec<Signal>,
    hooks: Lifecycle,
}

impl Default for AppBuilder {
    fn default() -> Self {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "kratos".to_owned());
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            version: String::new(),
            metadata: BTreeMap::new(),
            servers: Vec::new(),
            registrar: Some(Arc::new(MemoryRegistry::global())),
            registrar_timeout: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
            drain_delay: Duration::ZERO,
            signals: Signal::DEFAULT.to_vec(),
            hooks: Lifecycle::default(),
        }
    }
}

impl AppBuilder {
    /// The instance id (default: a random UUID).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The service name other services discover this one by.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The service version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Adds a metadata entry (registered with the instance).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds a server; servers start in the order added.
    pub fn server(mut self, server: impl Server + 'static) -> Self {
        self.servers.push(Arc::new(server));
        self
    }

    /// Adds a server already shared elsewhere.
    pub fn server_arc(mut self, server: Arc<dyn Server>) -> Self {
        self.servers.push(server);
        self
    }

    /// The registrar to register with (default: [`MemoryRegistry::global`]).
    pub fn registrar(mut self, registrar: impl Registrar + 'static) -> Self {
        self.registrar = Some(Arc::new(registrar));
        self
    }

    /// A registrar already shared elsewhere, or `None` to register nowhere.
    pub fn registrar_arc(mut self, registrar: Option<Arc<dyn Registrar>>) -> Self {
        self.registrar = registrar;
        self
    }

    /// How long register and deregister may take (default 10 s).
    pub fn registrar_timeout(mut self, timeout: Duration) -> Self {
        self.registrar_timeout = timeout;
        self
    }

    /// How long servers may drain in-flight requests when stopping (default 10 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Pause between deregistering and stopping the servers, so clients watching
    /// the registry stop sending before the servers stop accepting (default 0).
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.drain_delay = delay;
        self
    }

    /// The signals that stop the App (default SIGINT, SIGTERM, SIGQUIT; empty for none).
    pub fn signals(mut self, signals: impl IntoIterator<Item = Signal>) -> Self {
        self.signals = signals.into_iter().collect();
        self
    }

    /// Adds a hook run before the servers start; an error aborts the start.
    pub fn before_start<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(AppInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.hooks.before_start.push(hook);
        self
    }

    /// Adds a hook run once the servers listen and the instance is registered;
    /// an error stops the App.
    pub fn after_start<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(AppInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.hooks.after_start.push(hook);
        self
    }

    /// Adds a hook run when the stop begins, before deregistration.
    pub fn before_stop<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(AppInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.hooks.before_stop.push(hook);
        self
    }

    /// Adds a hook run after the servers stopped.
    pub fn after_stop<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(AppInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.hooks.after_stop.push(hook);
        self
    }

    /// Builds the App.
    pub fn build(self) -> App {
        App {
            info: AppInfo::new(self.id, self.name, self.version, self.metadata),
            servers: self.servers,
            registrar: self.registrar,
            registrar_timeout: self.registrar_timeout,
            stop_timeout: self.stop_timeout,
            drain_delay: self.drain_delay,
            signals: self.signals,
            hooks: self.hooks,
            stop: CancellationToken::new(),
        }
    }
}
