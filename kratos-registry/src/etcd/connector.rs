//! The shared etcd connection, rebuilt after a failure.
//!
//! `etcd-client` always balances over its endpoints, and a balanced channel
//! may drop an endpoint for good once connecting to it failed. So every
//! failed call throws the client away and the next call builds a fresh one
//! (cheap: the channel connects lazily).

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions};

use crate::RegistryError;

pub(crate) struct Connector {
    endpoints: Vec<String>,
    options: ConnectOptions,
    request_timeout: Duration,
    client: Mutex<Option<Client>>,
}

impl Connector {
    pub(crate) fn new(
        endpoints: Vec<String>,
        options: ConnectOptions,
        request_timeout: Duration,
    ) -> Self {
        Self {
            endpoints,
            options,
            request_timeout,
            client: Mutex::new(None),
        }
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The current client, connecting one if needed.
    pub(crate) async fn client(&self) -> Result<Client, RegistryError> {
        if let Some(client) = self.lock().clone() {
            return Ok(client);
        }
        let connect = Client::connect(&self.endpoints, Some(self.options.clone()));
        let client = match tokio::time::timeout(self.request_timeout, connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(self.unavailable("connecting to", e)),
            Err(_) => return Err(self.timed_out("connecting to")),
        };
        let mut slot = self.lock();
        Ok(slot.get_or_insert(client).clone())
    }

    /// Forgets the current client after a failure.
    pub(crate) fn reset(&self) {
        self.lock().take();
    }

    /// Runs one request with the request timeout; on failure resets the
    /// client and says what failed.
    pub(crate) async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, RegistryError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let client = self.client().await?;
        match tokio::time::timeout(self.request_timeout, f(client)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.reset();
                Err(self.unavailable(what, e))
            }
            Err(_) => {
                self.reset();
                Err(self.timed_out(what))
            }
        }
    }

    pub(crate) fn unavailable(&self, what: &str, e: etcd_client::Error) -> RegistryError {
        let hint = if e.to_string().contains("invalid peer certificate") {
            "the TLS handshake failed: does the CA given with `tls(..)` sign etcd's \
             certificate, and does that certificate name the endpoint's host?"
        } else {
            "is etcd running and reachable?"
        };
        RegistryError::unavailable(format!(
            "{what} etcd at {} failed; {hint}",
            self.endpoints.join(",")
        ))
        .with_source(e)
    }

    pub(crate) fn timed_out(&self, what: &str) -> RegistryError {
        RegistryError::timeout(format!(
            "{what} etcd at {} did not finish within {:?}; is etcd running and reachable?",
            self.endpoints.join(","),
            self.request_timeout
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Client>> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }
}
