//! Where configuration comes from: the [`Source`] trait and the built-in sources.

mod env;
mod file;
mod memory;

use async_trait::async_trait;

pub use env::EnvSource;
pub use file::FileSource;
pub use memory::MemorySource;

use crate::{ConfigError, KeyValue};

/// A place configuration documents come from.
#[async_trait]
pub trait Source: Send + Sync + std::fmt::Debug {
    /// Reads every document of this source now.
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError>;

    /// Starts watching for changes.
    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError>;
}

/// Changes of one [`Source`].
#[async_trait]
pub trait SourceWatcher: Send + std::fmt::Debug {
    /// Waits for the next change and returns the source's full set of
    /// documents after it. An error is logged by the [`Config`](crate::Config),
    /// which keeps the last good documents and calls `next` again.
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError>;

    /// Stops watching; later calls to [`SourceWatcher::next`] fail.
    async fn stop(&mut self) -> Result<(), ConfigError>;
}
