use std::fmt;
use std::sync::Arc;

use kratos_core::Error;
use tower_layer::Layer;

use super::{PanicHandler, Recovery, default_error, install_hook};

/// Turns panics below it into 500 `UNKNOWN` errors; see the [module
/// docs](crate::recovery).
///
/// ```
/// use kratos_core::Error;
/// use kratos_middleware::recovery::RecoveryLayer;
///
/// let default = RecoveryLayer::new(); // 500 UNKNOWN "unknown request error"
/// let custom = RecoveryLayer::new().handler(|panic| Error::internal_server("PANIC", panic));
/// # let _ = (default, custom);
/// ```
#[derive(Clone)]
#[must_use]
pub struct RecoveryLayer {
    pub(crate) handler: PanicHandler,
}

impl RecoveryLayer {
    /// Recovery answering 500 `UNKNOWN`.
    pub fn new() -> Self {
        install_hook();
        Self {
            handler: Arc::new(default_error),
        }
    }

    /// Builds the error from the panic message instead (Go Kratos's
    /// `WithHandler`).
    pub fn handler(mut self, handler: impl Fn(&str) -> Error + Send + Sync + 'static) -> Self {
        self.handler = Arc::new(handler);
        self
    }
}

impl Default for RecoveryLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RecoveryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RecoveryLayer {
    type Service = Recovery<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recovery {
            inner,
            handler: self.handler.clone(),
        }
    }
}
