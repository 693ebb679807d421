//! The backend-neutral registry traits.

use async_trait::async_trait;

use crate::{RegistryError, ServiceInstance};

/// Announces service instances to a registry.
#[async_trait]
pub trait Registrar: Send + Sync + std::fmt::Debug {
    /// Registers `instance`; backends with leases keep it alive until
    /// [`Registrar::deregister`] is called.
    async fn register(&self, instance: &ServiceInstance) -> Result<(), RegistryError>;

    /// Removes `instance` from the registry.
    async fn deregister(&self, instance: &ServiceInstance) -> Result<(), RegistryError>;
}

/// Finds the instances of a service.
#[async_trait]
pub trait Discovery: Send + Sync + std::fmt::Debug {
    /// Returns the instances of `name` known now.
    async fn get_service(&self, name: &str) -> Result<Vec<ServiceInstance>, RegistryError>;

    /// Starts watching `name`.
    async fn watch(&self, name: &str) -> Result<Box<dyn Watcher>, RegistryError>;
}

/// A stream of full instance lists for one service.
#[async_trait]
pub trait Watcher: Send + std::fmt::Debug {
    /// Returns the full current list: at once on the first call, then each
    /// time the list changed (an empty list included).
    ///
    /// After [`Watcher::stop`] it returns an error.
    async fn next(&mut self) -> Result<Vec<ServiceInstance>, RegistryError>;

    /// Stops watching; later calls to [`Watcher::next`] fail.
    async fn stop(&mut self) -> Result<(), RegistryError>;
}
