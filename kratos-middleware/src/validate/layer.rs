use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use kratos_core::Kind;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::{Checker, Validate, ValidateService, grpc_message};

/// Validates the request messages of the operations it is told about; see
/// the [module docs](crate::validate).
#[derive(Clone, Default)]
pub struct ValidateLayer {
    checkers: Arc<HashMap<Box<str>, Checker>>,
}

impl fmt::Debug for ValidateLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidateLayer")
            .field("operations", &self.checkers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ValidateLayer {
    /// A layer validating nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the unary gRPC operation `operation`, whose request is `M`.
    pub fn grpc<M>(mut self, operation: &str) -> Self
    where
        M: prost::Message + Default + Validate + 'static,
    {
        let checker: Checker = Arc::new(|kind, bytes| {
            if kind != Kind::Grpc {
                return Ok(());
            }
            match grpc_message(bytes).and_then(|m| M::decode(m).ok()) {
                Some(msg) => msg.validate().map_err(Into::into),
                None => Ok(()),
            }
        });
        Arc::make_mut(&mut self.checkers).insert(operation.into(), checker);
        self
    }

    /// Validates the HTTP operation (route template) `operation`, whose JSON
    /// body is `M`.
    pub fn json<M>(mut self, operation: &str) -> Self
    where
        M: DeserializeOwned + Validate + 'static,
    {
        let checker: Checker = Arc::new(|kind, bytes| {
            if kind != Kind::Http || bytes.is_empty() {
                return Ok(());
            }
            match serde_json::from_slice::<M>(bytes) {
                Ok(msg) => msg.validate().map_err(Into::into),
                Err(_) => Ok(()),
            }
        });
        Arc::make_mut(&mut self.checkers).insert(operation.into(), checker);
        self
    }
}

impl<S> Layer<S> for ValidateLayer {
    type Service = ValidateService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ValidateService {
            inner,
            checkers: self.checkers.clone(),
        }
    }
}
