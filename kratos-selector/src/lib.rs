//! Node selection for kratos-rs clients: which instance of a service a call
//! goes to.
//!
//! A discovery-aware client (see `kratos-transport`) follows a registry
//! watcher and hands every new instance list to a [`Selector`] as [`Node`]s;
//! for each call it asks the selector for a node, sends the call there, and
//! reports the outcome through the returned [`Done`]:
//!
//! ```
//! use kratos_registry::ServiceInstance;
//! use kratos_selector::balancer::P2c;
//! use kratos_selector::{DoneInfo, Node, NodeFilters, Selector, VersionFilter};
//!
//! let instances = [
//!     ServiceInstance::new("1", "greeter").with_version("v1").with_endpoint("grpc://10.0.0.1:9000"),
//!     ServiceInstance::new("2", "greeter").with_version("v2").with_endpoint("grpc://10.0.0.2:9000"),
//! ];
//! let selector = Selector::builder().balancer(P2c::new()).build();
//! selector.apply(Node::from_instances("grpc", &instances));
//!
//! // This call wants v2 only.
//! let v2 = NodeFilters::new().with(VersionFilter::new("v2"));
//! let (node, done) = selector.select_with(Some(&v2)).expect("a v2 node");
//! assert_eq!(node.address(), "10.0.0.2:9000");
//! // ... send the call to node.address() ...
//! done.done(DoneInfo::new()); // or DoneInfo::failed(err) when the node failed
//! ```
//!
//! # Balancers
//!
//! [`Wrr`](balancer::Wrr) (smooth weighted round-robin, the default),
//! [`RoundRobin`](balancer::RoundRobin), [`Random`](balancer::Random) and
//! [`P2c`](balancer::P2c) (power of two choices over EWMA latency, success
//! rate and in-flight calls, as Go Kratos). A node's initial weight comes from
//! its instance's `weight` metadata (default 100). Write your own by
//! implementing [`Balancer`]; it sees each node's [`NodeStats`].
//!
//! # Node health
//!
//! The same for every balancer. A call reported
//! [`DoneInfo::unreachable`] (connection refused or reset, no answer within
//! the deadline) ejects its node at once, for 1 s doubling up to 30 s; when
//! the time is up one call probes it, and an answer brings it back. A node
//! whose calls wait for their response head for much longer than usual is
//! skipped (a frozen host stops collecting calls within milliseconds).
//! [`Selector::select_excluding`] avoids the nodes a retry already tried.
//! While at least one candidate is healthy and untried, only those are
//! picked; when none is, the pick is among them all anyway, so ejection alone
//! never fails a call. Tune it with [`HealthPolicy`].
//!
//! ```
//! use kratos_selector::balancer::RoundRobin;
//! use kratos_selector::{DoneInfo, Node, Selector};
//!
//! let selector = Selector::builder().balancer(RoundRobin::new()).build();
//! selector.apply([Node::new("grpc", "10.0.0.1:9000"), Node::new("grpc", "10.0.0.2:9000")]);
//! let (first, done) = selector.select().unwrap();
//! done.done(DoneInfo::unreachable("connection refused"));
//! for _ in 0..10 {
//!     let (node, done) = selector.select().unwrap();
//!     assert_ne!(node.address(), first.address());
//!     done.done(DoneInfo::new());
//! }
//! ```
//!
//! # The hot path
//!
//! [`Selector::apply`] builds a new immutable list and swaps it in whole
//! (`arc-swap`); [`Selector::select`] reads it without a lock. Statistics are
//! atomics keyed by address and carried over to the new list for the nodes
//! that stayed, so a discovery update does not reset what P2C learnt.
//!
//! # Feature Flags
//!
//! None: every balancer is always built.
//!
//! # Structure
//!
//! - [`Node`]: one endpoint of one instance, with version, metadata, weight.
//! - [`Selector`], [`SelectorBuilder`], [`Done`], [`DoneInfo`], [`WeightedNode`].
//! - [`HealthPolicy`]: ejection times and stall detection.
//! - [`balancer`]: [`Balancer`], [`BalancerBuilder`], the four balancers and [`NodeStats`].
//! - [`NodeFilter`], [`NodeFilters`], [`VersionFilter`], [`MetadataFilter`], [`FnFilter`].
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod balancer;
mod filter;
mod health;
mod node;
mod selector;

pub use balancer::{Balancer, BalancerBuilder, BalancerKind, NodeStats, PickTime};
pub use filter::{FnFilter, MetadataFilter, NodeFilter, NodeFilters, VersionFilter};
pub use health::HealthPolicy;
pub use node::{DEFAULT_WEIGHT, Node, WEIGHT_KEY};
pub use selector::{
    BoxError, Done, DoneInfo, SelectError, Selector, SelectorBuilder, WeightedNode,
};
