//! An in-process registry: the default of `kratos::App`, and a test double
//! with the same semantics as the real backends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::watch;

use crate::{Discovery, Registrar, RegistryError, ServiceInstance, Watcher};

pub(crate) type List = Arc<Vec<ServiceInstance>>;

/// A registry held in memory and shared by every clone.
///
/// Registering an instance with an id that is already present replaces it.
#[derive(Debug, Clone, Default)]
pub struct MemoryRegistry {
    services: Arc<Mutex<HashMap<String, watch::Sender<List>>>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry: every App that does not name a registrar
    /// registers here, so services started in one process find each other.
    pub fn global() -> Self {
        static GLOBAL: std::sync::OnceLock<MemoryRegistry> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(MemoryRegistry::new).clone()
    }

    fn sender(&self, name: &str) -> watch::Sender<List> {
        let mut services = self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        services
            .entry(name.to_owned())
            .or_insert_with(|| watch::channel(List::default()).0)
            .clone()
    }
}

#[async_trait]
impl Registrar for MemoryRegistry {
    async fn register(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        if instance.name.is_empty() || instance.id.is_empty() {
            return Err(RegistryError::invalid_instance(
                "a service instance needs a name and an id",
            ));
        }
        self.sender(&instance.name).send_modify(|list| {
            let mut next: Vec<_> = list
                .iter()
                .filter(|i| i.id != instance.id)
                .cloned()
                .collect();
            next.push(instance.clone());
            *list = Arc::new(next);
        });
        Ok(())
    }

    async fn deregister(&self, instance: &ServiceInstance) -> Result<(), RegistryError> {
        self.sender(&instance.name).send_if_modified(|list| {
            let before = list.len();
            let next: Vec<_> = list
                .iter()
                .filter(|i| i.id != instance.id)
                .cloned()
                .collect();
            let changed = next.len() != before;
            *list = Arc::new(next);
            changed
        });
        Ok(())
    }
}

#[async_trait]
impl Discovery for MemoryRegistry {
    async fn get_service(&self, name: &str) -> Result<Vec<ServiceInstance>, RegistryError> {
        Ok(self.sender(name).borrow().as_ref().clone())
    }

    async fn watch(&self, name: &str) -> Result<Box<dyn Watcher>, RegistryError> {
        Ok(Box::new(MemoryWatcher::new(self.sender(name).subscribe())))
    }
}

/// The [`Watcher`] of a [`MemoryRegistry`].
#[derive(Debug)]
pub struct MemoryWatcher {
    rx: Option<watch::Receiver<List>>,
    first: bool,
}

impl MemoryWatcher {
    /// A watcher over a channel of full lists: the current list at once,
    /// then each change. Also the core of the remote backends' watchers.
    pub(crate) fn new(rx: watch::Receiver<List>) -> Self {
        Self {
            rx: Some(rx),
            first: true,
        }
    }
}

#[async_trait]
impl Watcher for MemoryWatcher {
    async fn next(&mut self) -> Result<Vec<ServiceInstance>, RegistryError> {
        let rx = self.rx.as_mut().ok_or_else(RegistryError::stopped)?;
        if !std::mem::take(&mut self.first) {
            rx.changed().await.map_err(|_| RegistryError::stopped())?;
        }
        Ok(rx.borrow_and_update().as_ref().clone())
    }

    async fn stop(&mut self) -> Result<(), RegistryError> {
        self.rx = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn watcher_sees_every_change_and_the_empty_list() {
        let r = MemoryRegistry::new();
        let a = ServiceInstance::new("a", "svc");
        let b = ServiceInstance::new("b", "svc");
        let mut w = r.watch("svc").await.unwrap();
        assert!(w.next().await.unwrap().is_empty());
        r.register(&a).await.unwrap();
        assert_eq!(w.next().await.unwrap(), vec![a.clone()]);
        r.register(&b).await.unwrap();
        assert_eq!(w.next().await.unwrap(), vec![a.clone(), b.clone()]);
        r.deregister(&a).await.unwrap();
        assert_eq!(w.next().await.unwrap(), vec![b.clone()]);
        r.deregister(&b).await.unwrap();
        assert!(w.next().await.unwrap().is_empty());
        assert_eq!(r.get_service("svc").await.unwrap(), vec![]);
        w.stop().await.unwrap();
        assert!(w.next().await.unwrap_err().is_stopped());
    }

    #[tokio::test]
    async fn re_register_replaces_by_id() {
        let r = MemoryRegistry::new();
        r.register(&ServiceInstance::new("a", "svc").with_version("v1"))
            .await
            .unwrap();
        r.register(&ServiceInstance::new("a", "svc").with_version("v2"))
            .await
            .unwrap();
        let list = r.get_service("svc").await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].version, "v2");
        assert!(
            r.register(&ServiceInstance::new("", "svc"))
                .await
                .unwrap_err()
                .is_invalid_instance()
        );
    }
}
