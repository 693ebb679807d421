//! Sources backed by remote configuration services, each behind its feature.

#[cfg(feature = "apollo")]
mod apollo;
#[cfg(feature = "consul")]
mod consul;
#[cfg(feature = "etcd")]
mod etcd;
#[cfg(any(feature = "apollo", feature = "consul", feature = "nacos"))]
mod http_client;
#[cfg(feature = "nacos")]
mod nacos;

#[cfg(feature = "apollo")]
#[cfg_attr(docsrs, doc(cfg(feature = "apollo")))]
pub use apollo::ApolloSource;
#[cfg(feature = "consul")]
#[cfg_attr(docsrs, doc(cfg(feature = "consul")))]
pub use consul::ConsulSource;
#[cfg(feature = "etcd")]
#[cfg_attr(docsrs, doc(cfg(feature = "etcd")))]
pub use etcd::EtcdSource;
/// The `etcd-client` crate [`EtcdSource::new`] takes a client of, at the
/// version this crate uses (the same as kratos-registry's).
#[cfg(feature = "etcd")]
#[cfg_attr(docsrs, doc(cfg(feature = "etcd")))]
pub use etcd_client;
#[cfg(any(feature = "apollo", feature = "consul", feature = "nacos"))]
pub(crate) use http_client::{HttpClient, encode};
#[cfg(feature = "nacos")]
#[cfg_attr(docsrs, doc(cfg(feature = "nacos")))]
pub use nacos::NacosSource;
