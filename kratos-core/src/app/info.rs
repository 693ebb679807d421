//! What a running application says about itself.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use kratos_registry::ServiceInstance;

use crate::TransportInfo;

/// The application's identity: id, name, version, metadata and, once the
/// servers are listening, the endpoints they bound.
///
/// Cheap to clone. Servers attach it to every request inside its
/// [`TransportInfo`] (one request extension for both), so a handler or
/// middleware reaches it with [`AppInfo::from_request`] (axum:
/// `Extension<TransportInfo>` and [`TransportInfo::app`]; tonic:
/// `request.extensions().get::<TransportInfo>()` and then `app()`).
///
/// ```
/// use kratos_core::{AppInfo, Kind, TransportInfo};
///
/// let app = AppInfo::new("id-1", "orders", "v1", Default::default());
/// let mut req = http::Request::new(());
/// // What a server attaches to each request it serves.
/// req.extensions_mut().insert(TransportInfo::new(Kind::Http, "/v1/orders", "http://127.0.0.1:8000").with_app(app));
/// assert_eq!(AppInfo::from_request(&req).map(AppInfo::name), Some("orders"));
/// ```
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
    /// The application serving `req`: the app in the request's
    /// [`TransportInfo`], which every kratos server attaches; `None` outside
    /// a server (a client's request, a router called directly).
    pub fn from_request<B>(req: &http::Request<B>) -> Option<&AppInfo> {
        TransportInfo::from_request(req)?.app()
    }

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
