use std::time::Duration;

use tower_layer::Layer;

use super::Timeout;

/// Limits how long a call may take; see the [module docs](crate::timeout).
///
/// ```
/// use std::time::Duration;
/// use kratos_middleware::timeout::TimeoutLayer;
///
/// let server = TimeoutLayer::new(Duration::from_secs(1)); // Go Kratos's server default
/// let client = TimeoutLayer::client(Duration::from_millis(500));
/// # let _ = (server, client);
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct TimeoutLayer {
    timeout: Duration,
    client: bool,
}

impl TimeoutLayer {
    /// A server timeout, shortened by the caller's `grpc-timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            client: false,
        }
    }

    /// A client timeout, shortened by the current deadline and sent as
    /// `grpc-timeout` on gRPC calls.
    pub fn client(timeout: Duration) -> Self {
        Self {
            timeout,
            client: true,
        }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            timeout: self.timeout,
            client: self.client,
        }
    }
}
