//! [`Node`]: one reachable endpoint of a service instance.

use std::collections::BTreeMap;
use std::fmt;

use kratos_registry::ServiceInstance;

/// The weight of a node whose instance sets no valid `weight` metadata.
pub const DEFAULT_WEIGHT: u32 = 100;

/// The metadata key an instance sets its initial weight with (as in Go Kratos).
pub const WEIGHT_KEY: &str = "weight";

/// One endpoint of one service instance, for one scheme (`grpc`, `http`).
///
/// Immutable: the selector swaps whole node lists when discovery changes, and
/// keeps per-node statistics keyed by [`address`](Node::address).
///
/// ```
/// use kratos_registry::ServiceInstance;
/// use kratos_selector::Node;
///
/// let instance = ServiceInstance::new("id-1", "greeter")
///     .with_version("v2")
///     .with_metadata("weight", "300")
///     .with_endpoint("http://127.0.0.1:8000")
///     .with_endpoint("grpc://127.0.0.1:9000");
/// let node = Node::from_instance("grpc", &instance).unwrap();
/// assert_eq!(node.address(), "127.0.0.1:9000");
/// assert_eq!(node.version(), "v2");
/// assert_eq!(node.weight(), 300);
/// assert!(Node::from_instance("https", &instance).is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Node {
    scheme: String,
    address: String,
    service: String,
    instance_id: String,
    version: String,
    metadata: BTreeMap<String, String>,
    weight: u32,
}

impl Node {
    /// A node at `address` (`host:port`) reached with `scheme`, weight 100.
    pub fn new(scheme: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            address: address.into(),
            service: String::new(),
            instance_id: String::new(),
            version: String::new(),
            metadata: BTreeMap::new(),
            weight: DEFAULT_WEIGHT,
        }
    }

    /// The node of `instance`'s first `scheme` endpoint, if it has one.
    ///
    /// The initial weight comes from the `weight` metadata entry (an unsigned
    /// integer); a missing or unparsable value means [`DEFAULT_WEIGHT`].
    pub fn from_instance(scheme: &str, instance: &ServiceInstance) -> Option<Self> {
        let address = instance.endpoint(scheme)?;
        let weight = instance
            .metadata
            .get(WEIGHT_KEY)
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(DEFAULT_WEIGHT);
        Some(Self {
            scheme: scheme.to_owned(),
            address: address.to_owned(),
            service: instance.name.clone(),
            instance_id: instance.id.clone(),
            version: instance.version.clone(),
            metadata: instance.metadata.clone(),
            weight,
        })
    }

    /// The nodes of every instance that has a `scheme` endpoint, in order.
    pub fn from_instances<'a>(
        scheme: &str,
        instances: impl IntoIterator<Item = &'a ServiceInstance>,
    ) -> Vec<Self> {
        instances
            .into_iter()
            .filter_map(|i| Self::from_instance(scheme, i))
            .collect()
    }

    /// Sets the service name.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Sets the version.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Adds a metadata entry (a `weight` entry does not change the weight:
    /// use [`Node::with_weight`]).
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the initial weight.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// The scheme, e.g. `grpc`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The address, `host:port`; the key per-node statistics are kept under.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The service name (empty for a node not built from an instance).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The id of the instance this node belongs to (empty when unknown).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The instance's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The instance's metadata.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The initial (static) weight.
    pub fn weight(&self) -> u32 {
        self.weight
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("scheme", &self.scheme)
            .field("address", &self.address)
            .field("service", &self.service)
            .field("version", &self.version)
            .field("weight", &self.weight)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_comes_from_metadata_or_defaults() {
        let base = ServiceInstance::new("1", "svc").with_endpoint("grpc://h:1");
        assert_eq!(Node::from_instance("grpc", &base).unwrap().weight(), 100);
        let bad = base.clone().with_metadata("weight", "heavy");
        assert_eq!(Node::from_instance("grpc", &bad).unwrap().weight(), 100);
        let set = base.with_metadata("weight", "7");
        let node = Node::from_instance("grpc", &set).unwrap();
        assert_eq!(node.weight(), 7);
        assert_eq!(node.service(), "svc");
        assert_eq!(node.instance_id(), "1");
        assert_eq!(node.scheme(), "grpc");
    }

    #[test]
    fn from_instances_skips_other_schemes() {
        let list = [
            ServiceInstance::new("1", "s").with_endpoint("http://a:1"),
            ServiceInstance::new("2", "s").with_endpoint("grpc://b:2"),
        ];
        let nodes = Node::from_instances("grpc", &list);
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].address(), "b:2");
    }
}
