//! [`Config`]: sources merged in order, typed reads and hot reload.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use tokio::task::JoinHandle;

use crate::merge::{lookup, merge};
use crate::observer::{Handle, Observer, Subscription, deserialize};
use crate::placeholder::resolve;
use crate::sync::LockExt;
use crate::{ConfigError, KeyValue, Source, SourceWatcher};

type RejectionListener = Arc<dyn Fn(&ConfigError) + Send + Sync>;

/// Pause before asking a failing source watcher again.
const WATCH_RETRY: Duration = Duration::from_secs(1);

/// The application's configuration: its sources merged in order (later wins),
/// placeholders resolved, read typed, reloaded when a source changes.
///
/// An update is applied whole or not at all: if a document fails to parse, a
/// placeholder has no value, or a watched key or [`Handle`] would get a value
/// of the wrong type, the update is rejected, logged with the source and key,
/// the last good configuration stays and no observer is called.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), kratos_config::ConfigError> {
/// use kratos_config::{Config, KeyValue, MemorySource};
///
/// let defaults = MemorySource::new([KeyValue::new(
///     "defaults.yaml",
///     "server: {http: {addr: '0.0.0.0:${PORT:8000}', timeout: 1}}",
///     "yaml",
/// )]);
/// let config = Config::builder().source(defaults.clone()).build();
/// config.load().await?;
/// assert_eq!(config.get::<String>("server.http.addr")?, "0.0.0.0:8000");
///
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
/// config.watch("server.http.timeout", move |timeout: Option<u32>| {
///     let _ = tx.send(timeout);
/// })?;
/// defaults.set([KeyValue::new("defaults.yaml", "server: {http: {addr: ':1', timeout: 5}}", "yaml")]);
/// assert_eq!(rx.recv().await, Some(Some(5)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Config(Arc<Inner>);

/// Builds a [`Config`] from its sources.
#[derive(Debug, Default)]
#[must_use]
pub struct ConfigBuilder {
    sources: Vec<Arc<dyn Source>>,
}

struct Inner {
    sources: Vec<Arc<dyn Source>>,
    /// Each source's last good documents; the lock also serializes updates.
    documents: tokio::sync::Mutex<Vec<Vec<KeyValue>>>,
    current: ArcSwap<Json>,
    subscriptions: Mutex<Vec<Arc<dyn Subscription>>>,
    rejection_listeners: Mutex<Vec<RejectionListener>>,
    watchers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("sources", &self.sources)
            .field("current", &self.current.load())
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .watchers
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

impl ConfigBuilder {
    /// Adds a source; sources added later override earlier ones.
    pub fn source(mut self, source: impl Source + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// The configuration, empty until [`Config::load`].
    pub fn build(self) -> Config {
        let empty = vec![Vec::new(); self.sources.len()];
        Config(Arc::new(Inner {
            sources: self.sources,
            documents: tokio::sync::Mutex::new(empty),
            current: ArcSwap::from_pointee(Json::Object(Default::default())),
            subscriptions: Mutex::new(Vec::new()),
            rejection_listeners: Mutex::new(Vec::new()),
            watchers: Mutex::new(Vec::new()),
        }))
    }
}

impl Config {
    /// A builder with no sources.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads every source, merges them and starts watching them. Fails with
    /// an error naming the source (file, key) that could not be read or parsed.
    pub async fn load(&self) -> Result<(), ConfigError> {
        let mut documents = self.0.documents.lock().await;
        let mut loaded = Vec::with_capacity(self.0.sources.len());
        for source in &self.0.sources {
            loaded.push(source.load().await?);
        }
        let resolved = resolve(&merge(loaded.iter().flatten())?)?;
        let mut watchers = Vec::with_capacity(self.0.sources.len());
        for source in &self.0.sources {
            watchers.push(source.watch().await?);
        }
        *documents = loaded;
        self.0.current.store(Arc::new(resolved));
        drop(documents);

        let mut tasks = self.0.watchers.lock_unpoisoned();
        for task in tasks.drain(..) {
            task.abort();
        }
        for (index, watcher) in watchers.into_iter().enumerate() {
            tasks.push(tokio::spawn(follow(
                Arc::downgrade(&self.0),
                index,
                watcher,
            )));
        }
        tracing::info!(sources = self.0.sources.len(), "config loaded");
        Ok(())
    }

    /// The value at a dotted key (`server.http.addr`), as `T`. Strings convert
    /// to numbers and booleans where `T` asks for them.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, ConfigError> {
        let current = self.0.current.load();
        let json = lookup(&current, key).ok_or_else(|| ConfigError::not_found(key))?;
        deserialize(key, json)
    }

    /// The whole configuration as `T` (e.g. the service's `Bootstrap` struct).
    pub fn scan<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.get("")
    }

    /// Calls `observer` with the new value each time the subtree at `key`
    /// changes (`None` once the key is removed). It is not called for the
    /// current value. Fails if the current value is not a `T`.
    pub fn watch<T, F>(&self, key: &str, observer: F) -> Result<(), ConfigError>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(Option<T>) + Send + Sync + 'static,
    {
        if let Some(json) = lookup(&self.0.current.load(), key) {
            deserialize::<T>(key, json)?;
        }
        self.subscribe(Arc::new(Observer::<T, F>::new(key, observer)));
        Ok(())
    }

    /// A [`Handle`] that always holds the current value at `key`.
    pub fn handle<T>(&self, key: &str) -> Result<Handle<T>, ConfigError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let handle = Handle::new(self.get::<T>(key)?);
        self.subscribe(Arc::new(handle.subscription(key)));
        Ok(handle)
    }

    /// Calls `listener` with the error each time a source's update is
    /// rejected (it is also logged), e.g. to alert on a broken config push.
    pub fn on_rejected(&self, listener: impl Fn(&ConfigError) + Send + Sync + 'static) {
        self.0
            .rejection_listeners
            .lock_unpoisoned()
            .push(Arc::new(listener));
    }

    /// Stops watching the sources; the current values stay readable.
    pub fn close(&self) {
        for task in self.0.watchers.lock_unpoisoned().drain(..) {
            task.abort();
        }
    }

    fn subscribe(&self, subscription: Arc<dyn Subscription>) {
        self.0.subscriptions.lock_unpoisoned().push(subscription);
    }

    /// Applies source `index`'s new documents, whole or not at all.
    async fn apply(&self, index: usize, update: Vec<KeyValue>) -> Result<(), ConfigError> {
        let mut documents = self.0.documents.lock().await;
        let mut next = documents.clone();
        next[index] = update;
        let resolved = resolve(&merge(next.iter().flatten())?)?;
        let old = self.0.current.load_full();
        let subscriptions = self.0.subscriptions.lock_unpoisoned().clone();
        let mut commits = Vec::new();
        for subscription in &subscriptions {
            let key = subscription.key();
            let new = lookup(&resolved, key);
            if lookup(&old, key) != new {
                commits.push(subscription.prepare(new)?);
            }
        }
        *documents = next;
        self.0.current.store(Arc::new(resolved));
        for commit in commits {
            commit();
        }
        Ok(())
    }
}

/// Follows one source's watcher for as long as the configuration lives.
async fn follow(config: Weak<Inner>, index: usize, mut watcher: Box<dyn SourceWatcher>) {
    loop {
        let update = watcher.next().await;
        let Some(inner) = config.upgrade() else {
            break;
        };
        let source = format!("{:?}", inner.sources[index]);
        match update {
            Ok(documents) => match Config(inner.clone()).apply(index, documents).await {
                Ok(()) => tracing::info!(%source, "config updated"),
                Err(err) => {
                    tracing::error!(%source, error = %err, "config update rejected; keeping the last good config");
                    let listeners = inner.rejection_listeners.lock_unpoisoned().clone();
                    for listener in listeners {
                        listener(&err);
                    }
                }
            },
            Err(err) if err.is_closed() => break,
            Err(err) => {
                tracing::warn!(%source, error = %err, "config source failed; keeping the last good config");
                drop(inner);
                tokio::time::sleep(WATCH_RETRY).await;
            }
        }
    }
    let _ = watcher.stop().await;
}
