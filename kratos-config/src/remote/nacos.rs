//! [`NacosSource`]: one Nacos config (data id + group), watched by
//! long-polling the config listener API.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use md5::{Digest, Md5};

use super::{HttpClient, encode};
use crate::{ConfigError, KeyValue, Source, SourceWatcher};

const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// What the listener is asked to hold a poll for (Nacos's usual 30 s).
const LONG_POLL: Duration = Duration::from_secs(30);

/// One Nacos configuration, read with `GET /nacos/v1/cs/configs` and watched
/// with the long-polling listener `POST /nacos/v1/cs/configs/listener`.
///
/// The format comes from the data id's extension (`orders.yaml`), YAML when
/// it has none.
///
/// ```no_run
/// use kratos_config::remote::NacosSource;
///
/// let source = NacosSource::new("http://nacos:8848", "orders.yaml").group("DEFAULT_GROUP");
/// # let _ = source;
/// ```
#[derive(Debug, Clone)]
pub struct NacosSource {
    server: String,
    data_id: String,
    group: String,
    tenant: String,
    client: HttpClient,
}

impl NacosSource {
    /// The config `data_id` of group `DEFAULT_GROUP` on the server at
    /// `server` (`http://host:8848`).
    pub fn new(server: impl Into<String>, data_id: impl Into<String>) -> Self {
        Self {
            server: server.into().trim_end_matches('/').to_owned(),
            data_id: data_id.into(),
            group: "DEFAULT_GROUP".to_owned(),
            tenant: String::new(),
            client: HttpClient::new(),
        }
    }

    /// Dials an `https://` server with `tls` (given CA roots, a client
    /// certificate, a server-name override) instead of the system's roots.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: kratos_net::tls::ClientTls) -> Self {
        self.client = super::http_client::HttpClient::with_tls(tls);
        self
    }

    /// The group (default `DEFAULT_GROUP`).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// The tenant (Nacos namespace id; default: the public namespace).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    fn origin(&self) -> String {
        format!("nacos {}/{}", self.group, self.data_id)
    }

    async fn read(&self) -> Result<KeyValue, ConfigError> {
        let origin = self.origin();
        let mut url = format!(
            "{}/nacos/v1/cs/configs?dataId={}&group={}",
            self.server,
            encode(&self.data_id),
            encode(&self.group)
        );
        if !self.tenant.is_empty() {
            url.push_str(&format!("&tenant={}", encode(&self.tenant)));
        }
        let reply = self.client.get(&origin, &url, LOAD_TIMEOUT).await?;
        if !reply.status.is_success() {
            return Err(ConfigError::source(
                &origin,
                format!("{url} answered {}", reply.status),
            ));
        }
        let format = KeyValue::format_of(&self.data_id).unwrap_or("yaml");
        Ok(KeyValue::new(origin, reply.body.to_vec(), format))
    }

    /// The listener's `Listening-Configs` line for content with digest `md5`.
    fn listening(&self, md5: &str) -> String {
        let mut line = format!("{}\u{2}{}\u{2}{md5}", self.data_id, self.group);
        if !self.tenant.is_empty() {
            line.push('\u{2}');
            line.push_str(&self.tenant);
        }
        line.push('\u{1}');
        line
    }
}

fn md5_hex(content: &[u8]) -> String {
    Md5::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait]
impl Source for NacosSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        Ok(vec![self.read().await?])
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let md5 = md5_hex(&self.read().await?.value);
        Ok(Box::new(NacosWatcher {
            source: Some(self.clone()),
            md5,
        }))
    }
}

#[derive(Debug)]
struct NacosWatcher {
    source: Option<NacosSource>,
    /// Digest of the content last read: the listener answers when it differs.
    md5: String,
}

#[async_trait]
impl SourceWatcher for NacosWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        let source = self.source.as_ref().ok_or_else(ConfigError::closed)?;
        let origin = source.origin();
        let url = format!("{}/nacos/v1/cs/configs/listener", source.server);
        loop {
            let body = format!("Listening-Configs={}", encode(&source.listening(&self.md5)));
            let req = Request::post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("Long-Pulling-Timeout", LONG_POLL.as_millis().to_string())
                .body(Full::new(Bytes::from(body)))
                .map_err(|err| ConfigError::source(&origin, &err))?;
            let reply = source
                .client
                .send(&origin, req, LONG_POLL + LOAD_TIMEOUT)
                .await?;
            if !reply.status.is_success() {
                return Err(ConfigError::source(
                    &origin,
                    format!("listener answered {}", reply.status),
                ));
            }
            if reply.body.iter().all(u8::is_ascii_whitespace) {
                continue; // the poll timed out with no change
            }
            let document = source.read().await?;
            self.md5 = md5_hex(&document.value);
            return Ok(vec![document]);
        }
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.source = None;
        Ok(())
    }
}
