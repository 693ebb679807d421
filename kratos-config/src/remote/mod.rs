//! Sources backed by remote configuration services, each behind its feature.

#[cfg(feature = "apollo")]
mod apollo;
mod http_client;
#[cfg(feature = "nacos")]
mod nacos;

#[cfg(feature = "apollo")]
#[cfg_attr(docsrs, doc(cfg(feature = "apollo")))]
pub use apollo::ApolloSource;
pub(crate) use http_client::{HttpClient, encode};
#[cfg(feature = "nacos")]
#[cfg_attr(docsrs, doc(cfg(feature = "nacos")))]
pub use nacos::NacosSource;
