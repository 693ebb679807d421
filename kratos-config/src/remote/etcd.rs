//! [`EtcdSource`]: a key or a prefix of etcd v3, watched from the read's
//! revision and resynchronised after an outage.

use async_trait::async_trait;
use etcd_client::{Client, GetOptions, WatchOptions, WatchStream};

use crate::{ConfigError, KeyValue, Source, SourceWatcher};

/// The documents at an etcd key, or at every key under a prefix; the format
/// comes from each key's extension (`/configs/orders/config.yaml`), YAML when
/// it has none.
///
/// Watching starts from the revision the read returned, so no change in
/// between is lost. When the watch breaks (etcd restarted, even with its data
/// lost), the source re-reads and watches again from the new revision; while
/// etcd is unreachable the [`Config`](crate::Config) keeps the last good values.
///
/// [`connect`](Self::connect) reaches etcd with default options. For a
/// user and password, TLS or timeouts, connect an
/// [`etcd_client::Client`](super::etcd_client::Client) yourself (or take the
/// registry's, `EtcdRegistry::client`) and use [`new`](Self::new).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use kratos_config::Config;
/// use kratos_config::remote::EtcdSource;
///
/// let source = EtcdSource::connect(["http://127.0.0.1:2379"], "/configs/orders/config.yaml").await?;
/// let config = Config::builder().source(source).build();
/// config.load().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EtcdSource {
    client: Client,
    key: String,
    prefix: bool,
}

impl std::fmt::Debug for EtcdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdSource")
            .field("key", &self.key)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl EtcdSource {
    /// The document at `key` of the etcd cluster at `endpoints`
    /// (`http://host:2379`), with etcd-client's default options.
    pub async fn connect<E, S>(endpoints: E, key: impl Into<String>) -> Result<Self, ConfigError>
    where
        E: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let endpoints: Vec<String> = endpoints
            .into_iter()
            .map(|e| e.as_ref().to_owned())
            .collect();
        let key = key.into();
        let client = Client::connect(&endpoints, None).await.map_err(|err| {
            ConfigError::source(&format!("etcd {key} at {endpoints:?}"), &err).with_source(err)
        })?;
        Ok(Self::new(client, key))
    }

    /// The document at `key`, read with `client`. This and
    /// [`etcd_client`](super::etcd_client) are the one place the etcd-client
    /// crate is part of this crate's API, on purpose: its options (auth,
    /// TLS) are not repeated here.
    pub fn new(client: Client, key: impl Into<String>) -> Self {
        Self {
            client,
            key: key.into(),
            prefix: false,
        }
    }

    /// Reads every key under `key` as a prefix, in key order.
    pub fn prefix(mut self) -> Self {
        self.prefix = true;
        self
    }

    fn origin(&self) -> String {
        format!("etcd {}", self.key)
    }

    /// The documents and the revision they were read at.
    async fn read(&self) -> Result<(Vec<KeyValue>, i64), ConfigError> {
        let options = self.prefix.then(|| GetOptions::new().with_prefix());
        let reply = self
            .client
            .clone()
            .get(self.key.as_str(), options)
            .await
            .map_err(|err| ConfigError::source(&self.origin(), &err).with_source(err))?;
        let revision = reply.header().map_or(0, |h| h.revision());
        let documents = reply
            .kvs()
            .iter()
            .filter(|kv| !kv.value().is_empty())
            .map(|kv| {
                let key = String::from_utf8_lossy(kv.key()).into_owned();
                let format = KeyValue::format_of(&key).unwrap_or("yaml");
                KeyValue::new(format!("etcd {key}"), kv.value(), format)
            })
            .collect();
        Ok((documents, revision))
    }

    async fn watch_from(&self, revision: i64) -> Result<WatchStream, ConfigError> {
        let mut options = WatchOptions::new().with_start_revision(revision);
        if self.prefix {
            options = options.with_prefix();
        }
        self.client
            .clone()
            .watch(self.key.as_str(), Some(options))
            .await
            .map_err(|err| ConfigError::source(&self.origin(), &err).with_source(err))
    }
}

#[async_trait]
impl Source for EtcdSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        Ok(self.read().await?.0)
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let (documents, revision) = self.read().await?;
        let stream = self.watch_from(revision + 1).await?;
        Ok(Box::new(EtcdWatcher {
            source: Some(self.clone()),
            revision,
            stream: Some(stream),
            resync: false,
            last: documents,
        }))
    }
}

struct EtcdWatcher {
    source: Option<EtcdSource>,
    /// The revision the documents were last read at.
    revision: i64,
    stream: Option<WatchStream>,
    /// The watch broke: re-read before watching again.
    resync: bool,
    last: Vec<KeyValue>,
}

impl std::fmt::Debug for EtcdWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdWatcher")
            .field("source", &self.source)
            .field("revision", &self.revision)
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

impl EtcdWatcher {
    /// Re-reads; returns the documents if they differ from the last ones.
    async fn reread(&mut self, source: &EtcdSource) -> Result<Option<Vec<KeyValue>>, ConfigError> {
        let (documents, revision) = source.read().await?;
        self.revision = revision;
        if documents == self.last {
            return Ok(None);
        }
        self.last = documents.clone();
        Ok(Some(documents))
    }
}

#[async_trait]
impl SourceWatcher for EtcdWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        let source = self.source.clone().ok_or_else(ConfigError::closed)?;
        loop {
            if self.resync {
                let changed = self.reread(&source).await?;
                self.stream = Some(source.watch_from(self.revision + 1).await?);
                self.resync = false;
                tracing::info!(key = %source.key, revision = self.revision, "etcd config watch resumed");
                if let Some(documents) = changed {
                    return Ok(documents);
                }
            }
            let stream = self.stream.as_mut().expect("a stream unless resyncing");
            match stream.message().await {
                Ok(Some(reply)) if reply.canceled() || reply.compact_revision() > 0 => {
                    self.stream = None;
                    self.resync = true;
                }
                Ok(Some(reply)) if reply.events().is_empty() => {} // created / progress
                Ok(Some(_)) => {
                    if let Some(documents) = self.reread(&source).await? {
                        return Ok(documents);
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!(key = %source.key, "etcd config watch broke; resynchronising");
                    self.stream = None;
                    self.resync = true;
                }
            }
        }
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.source = None;
        self.stream = None;
        Ok(())
    }
}
