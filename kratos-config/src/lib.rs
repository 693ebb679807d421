//! Configuration for kratos-rs: watched sources, typed values, hot reload.
//!
//! # Feature Flags
//!
//! None yet.
//!
//! # Structure
//!
//! Filled in by the config issue.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
