//! Pieces shared by the remote backends: the last-known-list cache and the
//! watcher fed by a background task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::memory::MemoryWatcher;
use crate::{RegistryError, ServiceInstance, Watcher};

/// A full instance list, shared without copying.
pub(crate) use crate::memory::List;

/// The last list seen for each service, served while the backend is down.
#[derive(Debug, Default, Clone)]
pub(crate) struct LastKnown(Arc<Mutex<HashMap<String, List>>>);

impl LastKnown {
    pub(crate) fn get(&self, name: &str) -> Option<List> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    pub(crate) fn set(&self, name: &str, list: List) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), list);
    }
}

/// Publishes lists to a [`ListWatcher`], skipping lists equal to the last one.
#[derive(Debug)]
pub(crate) struct Publisher {
    name: String,
    tx: watch::Sender<List>,
    last_known: LastKnown,
}

impl Publisher {
    /// Publishes `list` if it differs from the last one; records it as last known.
    pub(crate) fn publish(&self, list: Vec<ServiceInstance>) {
        let list = Arc::new(list);
        self.last_known.set(&self.name, list.clone());
        self.tx.send_if_modified(|current| {
            if **current == *list {
                false
            } else {
                *current = list;
                true
            }
        });
    }
}

/// A [`Watcher`] over the lists a background task publishes.
#[derive(Debug)]
pub(crate) struct ListWatcher {
    lists: MemoryWatcher,
    task: Option<JoinHandle<()>>,
}

impl ListWatcher {
    /// A watcher starting at `initial`, and the publisher its task feeds.
    pub(crate) fn channel(
        name: &str,
        initial: Vec<ServiceInstance>,
        last_known: LastKnown,
    ) -> (Self, Publisher) {
        let initial = Arc::new(initial);
        last_known.set(name, initial.clone());
        let (tx, rx) = watch::channel(initial);
        (
            Self {
                lists: MemoryWatcher::new(rx),
                task: None,
            },
            Publisher {
                name: name.to_owned(),
                tx,
                last_known,
            },
        )
    }

    /// Attaches the task feeding this watcher; it is aborted on stop or drop.
    pub(crate) fn with_task(mut self, task: JoinHandle<()>) -> Self {
        self.task = Some(task);
        self
    }
}

impl Drop for ListWatcher {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[async_trait]
impl Watcher for ListWatcher {
    async fn next(&mut self) -> Result<Vec<ServiceInstance>, RegistryError> {
        self.lists.next().await
    }

    async fn stop(&mut self) -> Result<(), RegistryError> {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.lists.stop().await
    }
}
