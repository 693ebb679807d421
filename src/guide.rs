//! Guides: each a page of prose around code that runs (its examples are
//! doctests of this crate).

#[doc = include_str!("guide/getting_started.md")]
pub mod getting_started {}

#[doc = include_str!("guide/lifecycle_and_errors.md")]
pub mod lifecycle_and_errors {}

#[doc = include_str!("guide/config.md")]
pub mod config {}

#[doc = include_str!("guide/discovery.md")]
pub mod discovery {}

#[doc = include_str!("guide/middleware.md")]
pub mod middleware {}

#[doc = include_str!("guide/middleware_crate.md")]
pub mod middleware_crate {}

#[doc = include_str!("guide/observability.md")]
#[cfg(feature = "log")]
pub mod observability {}

#[doc = include_str!("guide/tls.md")]
#[cfg(feature = "tls")]
pub mod tls {}

#[doc = include_str!("guide/from_go_kratos.md")]
pub mod from_go_kratos {}
