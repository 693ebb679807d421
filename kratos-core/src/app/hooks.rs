//! Lifecycle hooks: async callbacks run in order at each stage.

use std::fmt;
use std::future::Future;

use futures_util::future::BoxFuture;

use crate::{AppInfo, Error};

type HookFn = Box<dyn Fn(AppInfo) -> BoxFuture<'static, Result<(), Error>> + Send + Sync>;

/// The hooks of one lifecycle stage, run one after another in the order added.
#[derive(Default)]
pub(crate) struct Hooks(Vec<HookFn>);

impl Hooks {
    pub(crate) fn push<F, Fut>(&mut self, hook: F)
    where
        F: Fn(AppInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.0.push(Box::new(move |info| Box::pin(hook(info))));
    }

    /// Runs every hook; stops at the first error.
    pub(crate) async fn run_all(&self, stage: &str, info: &AppInfo) -> Result<(), Error> {
        for (i, hook) in self.0.iter().enumerate() {
            tracing::debug!(stage, hook = i, "running hook");
            hook(info.clone()).await.inspect_err(|err| {
                tracing::error!(stage, hook = i, error = %err, "hook failed");
            })?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hook(s)", self.0.len())
    }
}

/// The four stages' hooks.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    pub(crate) before_start: Hooks,
    pub(crate) after_start: Hooks,
    pub(crate) before_stop: Hooks,
    pub(crate) after_stop: Hooks,
}
