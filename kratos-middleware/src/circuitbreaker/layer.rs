use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tower_layer::Layer;

use super::{Breakers, CircuitBreaker, SreConfig};

/// A client-side circuit breaker per operation; see the [module
/// docs](crate::circuitbreaker). Every clone shares the breakers.
///
/// ```
/// use kratos_middleware::circuitbreaker::{CircuitBreakerLayer, SreConfig};
///
/// let default = CircuitBreakerLayer::new();
/// let eager = CircuitBreakerLayer::with_config(SreConfig::default().with_request(20));
/// # let _ = (default, eager);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct CircuitBreakerLayer {
    breakers: Breakers,
}

impl CircuitBreakerLayer {
    /// Breakers with Go Kratos's defaults.
    pub fn new() -> Self {
        Self::with_config(SreConfig::default())
    }

    /// Breakers with these options.
    pub fn with_config(config: SreConfig) -> Self {
        Self {
            breakers: Breakers {
                config,
                map: Arc::new(RwLock::new(HashMap::new())),
            },
        }
    }
}

impl Default for CircuitBreakerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker {
            inner,
            breakers: self.breakers.clone(),
        }
    }
}
