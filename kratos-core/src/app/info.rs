//! What a running application says about itself.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use kratos_registry::ServiceInstance;

/// The application's identity: id, name, version, metadata and, once the
/// servers are listening, the endpoints they bound.
///
/// Cheap to clone. Servers insert it into every request's extensions, so a
/// handler reaches it with `req.extensions().get::<AppInfo>()` (axum:
/// `Extension<AppInfo>`; tonic: `request.extensions().get::<AppInfo>()`).
#[derive(Debug, Clone)]
pub struct AppInfo(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    id: String,
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    endpoints: OnceLock<Vec<String>>,
}

impl AppInfo {
    /// Info for an application; endpoints are set by the App after its servers start.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
        metadata: BTreeMap<String, String>,
    ) -> Self {
        Self(Arc::new(Inner {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            metadata,
            endpoints: OnceLock::new(),
        }))
    }

    /// The instance id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The service version.
    pub fn version(&self) -> &str {
        &self.0.version
    }

    /// The metadata.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.0.metadata
    }

    /// The endpoints the servers bound; empty until they all started.
    pub fn endpoints(&self) -> &[String] {
        self.0
            .endpoints
            .get()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub(crate) fn set_endpoints(&self, endpoints: Vec<String>) {
        let _ = self.0.endpoints.set(endpoints);
    }

    /// The registry record for this application.
    pub fn to_instance(&self) -> ServiceInstance {
        ServiceInstance {
            id: self.0.id.clone(),
            name: self.0.name.clone(),
            version: self.0.version.clone(),
            metadata: self.0.metadata.clone(),
            endpoints: self.endpoints().to_vec(),
        }
    }
}
