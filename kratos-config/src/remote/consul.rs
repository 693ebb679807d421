//! [`ConsulSource`]: keys under a Consul KV prefix, watched with blocking queries.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use serde::Deserialize;

use super::{HttpClient, encode};
use crate::{ConfigError, KeyValue, Source, SourceWatcher};

const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a blocking query may wait for a change (Consul's default is 5 min).
const WAIT: Duration = Duration::from_secs(300);

/// Every key under a Consul KV prefix, read through the HTTP API
/// (`GET /v1/kv/<prefix>?recurse`) and watched with blocking queries
/// (`index` + `wait`). The format comes from each key's extension, YAML when
/// it has none; folder keys (ending in `/`) are skipped.
///
/// ```no_run
/// use kratos_config::remote::ConsulSource;
///
/// let source = ConsulSource::new("http://127.0.0.1:8500", "configs/orders/").token("secret");
/// # let _ = source;
/// ```
#[derive(Debug, Clone)]
pub struct ConsulSource {
    address: String,
    prefix: String,
    token: Option<String>,
    datacenter: Option<String>,
    wait: Duration,
    client: HttpClient,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    key: String,
    value: Option<String>,
}

impl ConsulSource {
    /// Keys under `prefix` of the agent at `address` (`http://127.0.0.1:8500`).
    pub fn new(address: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            address: address.into().trim_end_matches('/').to_owned(),
            prefix: prefix.into().trim_start_matches('/').to_owned(),
            token: None,
            datacenter: None,
            wait: WAIT,
            client: HttpClient::new(),
        }
    }

    /// Dials an `https://` agent with `tls` (given CA roots, a client
    /// certificate, a server-name override) instead of the system's roots.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: kratos_net::tls::ClientTls) -> Self {
        self.client = super::http_client::HttpClient::with_tls(tls);
        self
    }

    /// The ACL token sent as `X-Consul-Token`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The datacenter to read from (default: the agent's).
    pub fn datacenter(mut self, datacenter: impl Into<String>) -> Self {
        self.datacenter = Some(datacenter.into());
        self
    }

    /// How long one blocking query waits for a change (default 5 min).
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    fn origin(&self) -> String {
        format!("consul kv {}", self.prefix)
    }

    /// The documents and the `X-Consul-Index` they were read at.
    async fn read(&self, index: u64) -> Result<(Vec<KeyValue>, u64), ConfigError> {
        let origin = self.origin();
        let mut url = format!("{}/v1/kv/{}?recurse", self.address, self.prefix);
        if let Some(dc) = &self.datacenter {
            url.push_str(&format!("&dc={}", encode(dc)));
        }
        let timeout = if index > 0 {
            url.push_str(&format!(
                "&index={index}&wait={}s",
                self.wait.as_secs().max(1)
            ));
            self.wait + self.wait / 16 + LOAD_TIMEOUT
        } else {
            LOAD_TIMEOUT
        };
        let mut req = Request::get(&url);
        if let Some(token) = &self.token {
            req = req.header("X-Consul-Token", token);
        }
        let req = req
            .body(Full::<Bytes>::default())
            .map_err(|err| ConfigError::source(&origin, &err))?;
        let reply = self.client.send(&origin, req, timeout).await?;
        let (status, body) = (reply.status, reply.body);
        let index = reply
            .headers
            .get("X-Consul-Index")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(0);
        if status == http::StatusCode::NOT_FOUND {
            return Ok((Vec::new(), index));
        }
        if !status.is_success() {
            return Err(ConfigError::source(
                &origin,
                format!("{url} answered {status}"),
            ));
        }
        let entries: Vec<Entry> = serde_json::from_slice(&body)
            .map_err(|err| ConfigError::parse(&origin, &err).with_source(err))?;
        let mut documents = Vec::with_capacity(entries.len());
        for entry in entries.into_iter().filter(|e| !e.key.ends_with('/')) {
            let value = match entry.value {
                Some(encoded) => STANDARD.decode(encoded).map_err(|err| {
                    ConfigError::parse(&format!("consul kv {}", entry.key), &err).with_source(err)
                })?,
                None => continue,
            };
            let format = KeyValue::format_of(&entry.key).unwrap_or("yaml");
            documents.push(KeyValue::new(
                format!("consul kv {}", entry.key),
                value,
                format,
            ));
        }
        Ok((documents, index))
    }
}

#[async_trait]
impl Source for ConsulSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        Ok(self.read(0).await?.0)
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let (last, index) = self.read(0).await?;
        Ok(Box::new(ConsulWatcher {
            source: Some(self.clone()),
            index,
            last,
        }))
    }
}

#[derive(Debug)]
struct ConsulWatcher {
    source: Option<ConsulSource>,
    index: u64,
    last: Vec<KeyValue>,
}

#[async_trait]
impl SourceWatcher for ConsulWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        let source = self.source.clone().ok_or_else(ConfigError::closed)?;
        loop {
            // Index 0 reads at once: the first query, or a reset.
            let (documents, index) = source.read(self.index).await?;
            // Consul: an index that goes backwards (or is 0) resets the client.
            self.index = if index == 0 || index < self.index {
                0
            } else {
                index
            };
            if documents != self.last {
                self.last = documents.clone();
                return Ok(documents);
            }
            // An answer need not mean a change (wait elapsed, other keys).
        }
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.source = None;
        Ok(())
    }
}
