//! Subscriptions to a key: observers and typed handles.

use std::marker::PhantomData;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::ConfigError;
use crate::merge::to_value;

/// Deserializes the value at `key`, converting types as configuration readers
/// expect (`"8080"` reads as a number); errors name the key and the type.
pub(crate) fn deserialize<T: DeserializeOwned>(key: &str, json: &Json) -> Result<T, ConfigError> {
    to_value(json).try_deserialize::<T>().map_err(|err| {
        ConfigError::type_mismatch(
            key,
            format!("expected {}: {err}", std::any::type_name::<T>()),
        )
    })
}

/// What must happen when a subscribed subtree changes; run only once every
/// subscription accepted the new configuration.
pub(crate) type Commit = Box<dyn FnOnce() + Send>;

/// Something that follows one key's subtree.
pub(crate) trait Subscription: Send + Sync {
    /// The dotted key followed.
    fn key(&self) -> &str;

    /// Checks the new value (`None`: the key was removed) and returns what to
    /// do to apply it, or why the update must be rejected.
    fn prepare(&self, value: Option<&Json>) -> Result<Commit, ConfigError>;
}

/// Calls a closure with the new typed value (`None` when the key was removed).
pub(crate) struct Observer<T, F> {
    key: String,
    observer: Arc<F>,
    _value: PhantomData<fn() -> T>,
}

impl<T, F> Observer<T, F> {
    pub(crate) fn new(key: &str, observer: F) -> Self {
        Self {
            key: key.to_owned(),
            observer: Arc::new(observer),
            _value: PhantomData,
        }
    }
}

impl<T, F> Subscription for Observer<T, F>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(Option<T>) + Send + Sync + 'static,
{
    fn key(&self) -> &str {
        &self.key
    }

    fn prepare(&self, value: Option<&Json>) -> Result<Commit, ConfigError> {
        let value = value
            .map(|json| deserialize::<T>(&self.key, json))
            .transpose()?;
        let observer = self.observer.clone();
        Ok(Box::new(move || observer(value)))
    }
}

/// The current typed value of a key, read without a lock: cheap enough for a
/// hot path. It follows every accepted update; an update that would remove the
/// key or give it a value of the wrong type is rejected whole.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), kratos_config::ConfigError> {
/// use kratos_config::{Config, KeyValue, MemorySource};
///
/// let source = MemorySource::new([KeyValue::new("app", "limits: {rps: 100}", "yaml")]);
/// let config = Config::builder().source(source.clone()).build();
/// config.load().await?;
/// let rps = config.handle::<u32>("limits.rps")?;
/// assert_eq!(*rps.get(), 100);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Handle<T>(Arc<ArcSwap<T>>);

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Handle<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(value)))
    }

    /// The current value.
    pub fn get(&self) -> Arc<T> {
        self.0.load_full()
    }

    pub(crate) fn subscription(&self, key: &str) -> HandleSubscription<T> {
        HandleSubscription {
            key: key.to_owned(),
            slot: self.0.clone(),
        }
    }
}

/// The [`Subscription`] that keeps a [`Handle`] current.
pub(crate) struct HandleSubscription<T> {
    key: String,
    slot: Arc<ArcSwap<T>>,
}

impl<T> Subscription for HandleSubscription<T>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    fn key(&self) -> &str {
        &self.key
    }

    fn prepare(&self, value: Option<&Json>) -> Result<Commit, ConfigError> {
        let json = value.ok_or_else(|| {
            ConfigError::type_mismatch(&self.key, "removed, but a typed handle requires it")
        })?;
        let value = Arc::new(deserialize::<T>(&self.key, json)?);
        let slot = self.slot.clone();
        Ok(Box::new(move || slot.store(value)))
    }
}
