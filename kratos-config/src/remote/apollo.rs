//! [`ApolloSource`]: namespaces of an Apollo config service, watched by
//! long-polling its notifications API.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{HttpClient, encode};
use crate::merge::insert_path;
use crate::{ConfigError, KeyValue, Source, SourceWatcher};

/// How long a request may take; Apollo holds a notification poll for 60 s.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_TIMEOUT: Duration = Duration::from_secs(90);

/// Namespaces of one Apollo app and cluster, read through Apollo's open HTTP
/// API (`GET /configs/{appId}/{cluster}/{namespace}`) and watched with its
/// long-polling notifications (`GET /notifications/v2`).
///
/// A namespace whose name has a format extension (`orders.yaml`,
/// `orders.json`) is one document (Apollo's `content` key); a properties
/// namespace (`application`) becomes a table, its dotted keys nested
/// (`server.http.addr=:8000` → `server: {http: {addr: ':8000'}}`).
///
/// ```no_run
/// use kratos_config::remote::ApolloSource;
///
/// let source = ApolloSource::new("http://apollo-config:8080", "orders")
///     .cluster("default")
///     .namespaces(["application", "orders.yaml"]);
/// # let _ = source;
/// ```
#[derive(Debug, Clone)]
pub struct ApolloSource {
    endpoint: String,
    app_id: String,
    cluster: String,
    namespaces: Vec<String>,
    client: HttpClient,
}

#[derive(Deserialize)]
struct ConfigReply {
    #[serde(default)]
    configurations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    namespace_name: String,
    notification_id: i64,
}

impl ApolloSource {
    /// The `application` namespace of `app_id` in cluster `default`, served
    /// by the config service at `endpoint` (`http://host:8080`).
    pub fn new(endpoint: impl Into<String>, app_id: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            app_id: app_id.into(),
            cluster: "default".to_owned(),
            namespaces: vec!["application".to_owned()],
            client: HttpClient::new(),
        }
    }

    /// Dials an `https://` config service with `tls` (given CA roots, a client
    /// certificate, a server-name override) instead of the system's roots.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: kratos_net::tls::ClientTls) -> Self {
        self.client = super::http_client::HttpClient::with_tls(tls);
        self
    }

    /// The cluster (default `default`).
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.cluster = cluster.into();
        self
    }

    /// The namespaces to read, merged in this order (default `application`).
    pub fn namespaces(mut self, namespaces: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.namespaces = namespaces.into_iter().map(Into::into).collect();
        self
    }

    fn origin(&self, namespace: &str) -> String {
        format!("apollo {}/{}/{namespace}", self.app_id, self.cluster)
    }

    async fn read(&self, namespace: &str) -> Result<KeyValue, ConfigError> {
        let origin = self.origin(namespace);
        let url = format!(
            "{}/configs/{}/{}/{}",
            self.endpoint,
            encode(&self.app_id),
            encode(&self.cluster),
            encode(namespace)
        );
        let reply = self.client.get(&origin, &url, LOAD_TIMEOUT).await?;
        if !reply.status.is_success() {
            return Err(ConfigError::source(
                &origin,
                format!("{url} answered {}", reply.status),
            ));
        }
        let config: ConfigReply = serde_json::from_slice(&reply.body)
            .map_err(|err| ConfigError::parse(&origin, &err).with_source(err))?;
        if let Some(format) = KeyValue::format_of(namespace) {
            let content = config
                .configurations
                .get("content")
                .cloned()
                .unwrap_or_default();
            return Ok(KeyValue::new(origin, content, format));
        }
        let mut table = Map::new();
        for (key, value) in config.configurations {
            let path: Vec<String> = key.split('.').map(str::to_owned).collect();
            insert_path(&mut table, &path, Json::String(value));
        }
        Ok(KeyValue::new(
            origin,
            Json::Object(table).to_string(),
            "json",
        ))
    }
}

#[async_trait]
impl Source for ApolloSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        let mut documents = Vec::with_capacity(self.namespaces.len());
        for namespace in &self.namespaces {
            documents.push(self.read(namespace).await?);
        }
        Ok(documents)
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let notifications = self
            .namespaces
            .iter()
            .map(|ns| Notification {
                namespace_name: ns.clone(),
                notification_id: -1,
            })
            .collect();
        Ok(Box::new(ApolloWatcher {
            source: Some(self.clone()),
            notifications,
        }))
    }
}

#[derive(Debug)]
struct ApolloWatcher {
    source: Option<ApolloSource>,
    notifications: Vec<Notification>,
}

#[async_trait]
impl SourceWatcher for ApolloWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        let source = self.source.as_ref().ok_or_else(ConfigError::closed)?;
        let origin = format!("apollo {}/{}", source.app_id, source.cluster);
        loop {
            let url = format!(
                "{}/notifications/v2?appId={}&cluster={}&notifications={}",
                source.endpoint,
                encode(&source.app_id),
                encode(&source.cluster),
                encode(&serde_json::to_string(&self.notifications).expect("serializable")),
            );
            let reply = source.client.get(&origin, &url, POLL_TIMEOUT).await?;
            match reply.status.as_u16() {
                304 => continue,
                200 => {}
                status => {
                    return Err(ConfigError::source(
                        &origin,
                        format!("notifications answered {status}"),
                    ));
                }
            }
            let changed: Vec<Notification> = serde_json::from_slice(&reply.body)
                .map_err(|err| ConfigError::parse(&origin, &err).with_source(err))?;
            for change in changed {
                if let Some(known) = self
                    .notifications
                    .iter_mut()
                    .find(|n| n.namespace_name == change.namespace_name)
                {
                    known.notification_id = change.notification_id;
                }
            }
            // The first poll answers at once with the current ids; re-reading
            // then also catches a change made between `load` and `watch`.
            return source.load().await;
        }
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.source = None;
        Ok(())
    }
}
