//! Node selection for discovery-aware clients: balancers and node filters.
//!
//! # Feature Flags
//!
//! None yet.
//!
//! # Structure
//!
//! Filled in by the selector issue.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
