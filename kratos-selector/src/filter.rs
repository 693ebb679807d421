//! Node filters: which nodes a call may go to.

use std::fmt;
use std::sync::Arc;

use crate::Node;

/// Decides whether a call may go to a node.
///
/// Filters run before the balancer, on the selector's filters and then on the
/// call's own (see [`NodeFilters`]); a node is a candidate when every filter
/// accepts it.
pub trait NodeFilter: Send + Sync + fmt::Debug {
    /// Whether `node` is a candidate.
    fn matches(&self, node: &Node) -> bool;
}

/// Accepts the nodes of one version only.
///
/// ```
/// use kratos_selector::{Node, NodeFilter, VersionFilter};
///
/// let v2 = VersionFilter::new("v2");
/// assert!(v2.matches(&Node::new("grpc", "h:1").with_version("v2")));
/// assert!(!v2.matches(&Node::new("grpc", "h:2").with_version("v1")));
/// ```
#[derive(Debug, Clone)]
pub struct VersionFilter {
    version: String,
}

impl VersionFilter {
    /// Accepts nodes whose version is exactly `version`.
    pub fn new(version: impl Into<String>) -> Self {
        Self {
            version: version.into(),
        }
    }
}

impl NodeFilter for VersionFilter {
    fn matches(&self, node: &Node) -> bool {
        node.version() == self.version
    }
}

/// Accepts the nodes whose metadata holds every given entry.
///
/// ```
/// use kratos_selector::{MetadataFilter, Node, NodeFilter};
///
/// let blue = MetadataFilter::new().with("color", "blue");
/// assert!(blue.matches(&Node::new("grpc", "h:1").with_metadata("color", "blue")));
/// assert!(!blue.matches(&Node::new("grpc", "h:2")));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MetadataFilter {
    entries: Vec<(String, String)>,
}

impl MetadataFilter {
    /// A filter that accepts every node until entries are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `key` to be `value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.entries.push((key.into(), value.into()));
        self
    }
}

impl NodeFilter for MetadataFilter {
    fn matches(&self, node: &Node) -> bool {
        self.entries
            .iter()
            .all(|(k, v)| node.metadata().get(k) == Some(v))
    }
}

/// A filter made of a closure.
///
/// ```
/// use kratos_selector::{FnFilter, Node, NodeFilter};
///
/// let local = FnFilter::new(|n: &Node| n.address().starts_with("127."));
/// assert!(local.matches(&Node::new("grpc", "127.0.0.1:1")));
/// ```
#[derive(Clone)]
pub struct FnFilter<F>(F);

impl<F> FnFilter<F>
where
    F: Fn(&Node) -> bool + Send + Sync,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self(f)
    }
}

impl<F> fmt::Debug for FnFilter<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnFilter")
    }
}

impl<F> NodeFilter for FnFilter<F>
where
    F: Fn(&Node) -> bool + Send + Sync,
{
    fn matches(&self, node: &Node) -> bool {
        (self.0)(node)
    }
}

/// A list of filters, cheap to clone.
///
/// Put one in a request's extensions to filter the nodes of that call only
/// (the kratos-transport clients read it), or give one to a
/// [`SelectorBuilder`](crate::SelectorBuilder) to filter every call.
///
/// ```
/// use kratos_selector::{NodeFilters, VersionFilter};
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(NodeFilters::new().with(VersionFilter::new("v2")));
/// ```
#[derive(Debug, Clone, Default)]
pub struct NodeFilters {
    filters: Vec<Arc<dyn NodeFilter>>,
}

impl NodeFilters {
    /// No filters: every node is a candidate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter.
    pub fn with(mut self, filter: impl NodeFilter + 'static) -> Self {
        self.filters.push(Arc::new(filter));
        self
    }

    /// Adds a shared filter.
    pub fn with_arc(mut self, filter: Arc<dyn NodeFilter>) -> Self {
        self.filters.push(filter);
        self
    }

    /// Adds every filter of `other`.
    pub fn extend(&mut self, other: &NodeFilters) {
        self.filters.extend(other.filters.iter().cloned());
    }

    /// Whether there are no filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Whether every filter accepts `node`.
    pub fn matches(&self, node: &Node) -> bool {
        self.filters.iter().all(|f| f.matches(node))
    }
}

impl<F: NodeFilter + 'static> From<F> for NodeFilters {
    fn from(filter: F) -> Self {
        Self::new().with(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_filters_must_accept() {
        let filters = NodeFilters::new()
            .with(VersionFilter::new("v2"))
            .with(MetadataFilter::new().with("zone", "a"));
        let ok = Node::new("grpc", "h:1")
            .with_version("v2")
            .with_metadata("zone", "a");
        assert!(filters.matches(&ok));
        assert!(!filters.matches(&ok.clone().with_version("v1")));
        assert!(!filters.matches(&Node::new("grpc", "h:1").with_version("v2")));
        assert!(NodeFilters::new().matches(&ok));
    }
}
