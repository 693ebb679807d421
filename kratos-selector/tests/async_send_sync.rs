//! Compile-time checks that the public types cross threads as users need.

use kratos_selector::balancer::{P2c, Random, RoundRobin, Wrr};
use kratos_selector::{
    Balancer, Done, DoneInfo, Node, NodeFilters, NodeStats, SelectError, Selector, WeightedNode,
};

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Selector>();
    send_sync::<Node>();
    send_sync::<NodeFilters>();
    send_sync::<NodeStats>();
    send_sync::<WeightedNode>();
    send_sync::<SelectError>();
    send_sync::<DoneInfo>();
    send_sync::<Done>();
    send_sync::<Box<dyn Balancer>>();
    send_sync::<(P2c, Random, RoundRobin, Wrr)>();
    let s = Selector::new();
    send(&s.wait_for_nodes());
}
