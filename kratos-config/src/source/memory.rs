//! [`MemorySource`]: documents held in memory, changed by code.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::{Source, SourceWatcher};
use crate::{ConfigError, KeyValue};

/// Documents held in memory; [`MemorySource::set`] changes them and tells
/// watchers. Useful for defaults, tests and values computed at start.
///
/// ```
/// use kratos_config::{KeyValue, MemorySource};
///
/// let source = MemorySource::new([KeyValue::new("defaults", "server: {port: 8000}", "yaml")]);
/// source.set([KeyValue::new("defaults", "server: {port: 9000}", "yaml")]);
/// ```
#[derive(Debug, Clone)]
pub struct MemorySource {
    documents: Arc<watch::Sender<Vec<KeyValue>>>,
}

impl MemorySource {
    /// A source holding `documents`.
    pub fn new(documents: impl IntoIterator<Item = KeyValue>) -> Self {
        Self {
            documents: Arc::new(watch::channel(documents.into_iter().collect()).0),
        }
    }

    /// Replaces the documents; watchers see the change.
    pub fn set(&self, documents: impl IntoIterator<Item = KeyValue>) {
        self.documents.send_replace(documents.into_iter().collect());
    }
}

#[async_trait]
impl Source for MemorySource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        Ok(self.documents.borrow().clone())
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let mut rx = self.documents.subscribe();
        rx.mark_unchanged();
        Ok(Box::new(MemoryWatcher { rx: Some(rx) }))
    }
}

#[derive(Debug)]
struct MemoryWatcher {
    rx: Option<watch::Receiver<Vec<KeyValue>>>,
}

#[async_trait]
impl SourceWatcher for MemoryWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        let rx = self.rx.as_mut().ok_or_else(ConfigError::closed)?;
        rx.changed().await.map_err(|_| ConfigError::closed())?;
        Ok(rx.borrow_and_update().clone())
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.rx = None;
        Ok(())
    }
}
