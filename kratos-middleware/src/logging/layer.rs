use tower_layer::Layer;

use super::Logging;

/// Logs one event per call; see the [module docs](crate::logging).
///
/// ```
/// use kratos_middleware::logging::LoggingLayer;
///
/// let server = LoggingLayer::server(); // component = "server"
/// let client = LoggingLayer::client(); // component = "client"
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct LoggingLayer {
    component: &'static str,
}

impl LoggingLayer {
    /// Logging for a server: `component = "server"`.
    pub fn server() -> Self {
        Self {
            component: "server",
        }
    }

    /// Logging for a client: `component = "client"`.
    pub fn client() -> Self {
        Self {
            component: "client",
        }
    }
}

impl<S> Layer<S> for LoggingLayer {
    type Service = Logging<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Logging {
            inner,
            component: self.component,
        }
    }
}
