//! Middleware for kratos-rs: one tower layer model for HTTP and gRPC.
//!
//! # Feature Flags
//!
//! None yet.
//!
//! # Structure
//!
//! Filled in by the middleware issue.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
