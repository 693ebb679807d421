//! The etcd connection: one endpoint at a time, failing over to the next.
//!
//! `etcd-client` balances every request over all its endpoints, so with one
//! member of three down about a third of the requests go to the dead one and
//! fail, although two members answer; and a balanced channel may drop an
//! endpoint for good once connecting to it failed. So the connector keeps a
//! client of **one** endpoint, the one that last worked, and a call that
//! fails there for a reason another member might not share (unreachable,
//! timed out, no leader, ...) is tried on the next endpoint, and so on: a
//! call fails only once every endpoint failed. The endpoint that answered
//! is tried first by the next call, so a dead member does not keep eating
//! first attempts; the first endpoint of all is picked at random, so many
//! processes spread over the members. Clients connect lazily (one TCP connection per client,
//! made by its first request), so making one costs nothing; a dead member
//! costs a refused connection, or at most the connect timeout.

use std::fmt;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions};

use crate::RegistryError;

pub(crate) struct Connector {
    endpoints: Vec<String>,
    options: ConnectOptions,
    request_timeout: Duration,
    state: Mutex<State>,
}

struct State {
    /// The endpoint a call tries first: the one that last answered, or the
    /// one after the endpoint that last failed.
    current: usize,
    /// A client of `endpoints[current]`, once made.
    client: Option<Client>,
    /// Whether the last attempt failed: the first failure after a success
    /// is logged as a warning, the rest of an outage at debug level.
    failing: bool,
}

/// The endpoint a stream was opened on; hand it back to
/// [`Connector::failed`] when the stream breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Endpoint(usize);

/// Why one attempt on one endpoint failed.
enum Failure {
    Error(etcd_client::Error),
    TimedOut(Duration),
}

impl Failure {
    /// A short reason: a gRPC status's message, not its whole dump.
    fn brief(&self) -> String {
        match self {
            Failure::Error(etcd_client::Error::GRpcStatus(s)) if !s.message().is_empty() => {
                s.message().to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "{e}"),
            Failure::TimedOut(after) => write!(f, "no answer within {after:?}"),
        }
    }
}

impl Connector {
    pub(crate) fn new(
        endpoints: Vec<String>,
        options: ConnectOptions,
        request_timeout: Duration,
    ) -> Self {
        Self {
            options,
            request_timeout,
            // A random first endpoint spreads many processes over the members.
            state: Mutex::new(State {
                current: fastrand::usize(..endpoints.len().max(1)),
                client: None,
                failing: false,
            }),
            endpoints,
        }
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// A client of the endpoint that last worked, connecting one (and
    /// failing over, e.g. when authenticating fails) if needed.
    pub(crate) async fn client(&self) -> Result<Client, RegistryError> {
        self.call("connecting to", |c| async move { Ok(c) }).await
    }

    /// Runs one request, each try within the request timeout, on the
    /// endpoint that last worked and then, while it fails for a reason
    /// another member might not share, on each other endpoint in turn.
    pub(crate) async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, RegistryError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.open(what, f).await.map(|(v, _)| v)
    }

    /// Like [`Connector::call`], and says which endpoint answered, for a
    /// stream that lives on after the call.
    pub(crate) async fn open<T, F, Fut>(
        &self,
        what: &str,
        f: F,
    ) -> Result<(T, Endpoint), RegistryError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let n = self.endpoints.len();
        let first = self.lock().current;
        let mut failures = Vec::with_capacity(n);
        for k in 0..n {
            let at = (first + k) % n;
            let attempt = async {
                let client = self.client_at(at).await?;
                f(client.clone()).await.map(|v| (v, client))
            };
            let failure = match tokio::time::timeout(self.request_timeout, attempt).await {
                Ok(Ok((v, client))) => {
                    self.succeeded(at, client);
                    return Ok((v, Endpoint(at)));
                }
                Ok(Err(e)) if !fails_over(&e) => return Err(self.refused(what, at, e)),
                Ok(Err(e)) => Failure::Error(e),
                Err(_) => Failure::TimedOut(self.request_timeout),
            };
            self.fail(at, what, &failure);
            failures.push((at, failure));
        }
        Err(self.exhausted(what, failures))
    }

    /// The URL of `endpoint`.
    pub(crate) fn url(&self, endpoint: Endpoint) -> &str {
        &self.endpoints[endpoint.0]
    }

    /// Reports that a stream opened on `endpoint` broke: the next call
    /// starts on the next endpoint, with a new client.
    pub(crate) fn failed(&self, endpoint: Endpoint, why: &dyn fmt::Display) {
        self.fail(endpoint.0, "following a stream from", why);
    }

    /// A client of `endpoints[at]`: the kept one, or a new one (kept if
    /// `at` is still the current endpoint).
    async fn client_at(&self, at: usize) -> Result<Client, etcd_client::Error> {
        {
            let state = self.lock();
            if state.current == at
                && let Some(client) = &state.client
            {
                return Ok(client.clone());
            }
        }
        let client = Client::connect([&self.endpoints[at]], Some(self.options.clone())).await?;
        let mut state = self.lock();
        if state.current == at && state.client.is_none() {
            state.client = Some(client.clone());
        }
        Ok(client)
    }

    fn succeeded(&self, at: usize, client: Client) {
        let mut state = self.lock();
        if state.current != at {
            state.current = at;
            state.client = Some(client);
        } else if state.client.is_none() {
            state.client = Some(client);
        }
        if state.failing {
            state.failing = false;
            if self.endpoints.len() > 1 {
                tracing::info!(endpoint = %self.endpoints[at], "etcd answers again; using this endpoint");
            } else {
                tracing::info!(endpoint = %self.endpoints[at], "etcd answers again");
            }
        }
    }

    /// Moves on from `endpoints[at]` unless another call already did.
    fn fail(&self, at: usize, what: &str, why: &dyn fmt::Display) {
        let n = self.endpoints.len();
        let mut state = self.lock();
        if state.current != at {
            return;
        }
        state.client = None;
        state.current = (at + 1) % n;
        let first = !state.failing;
        state.failing = true;
        drop(state);
        let (failed, next) = (&self.endpoints[at], &self.endpoints[(at + 1) % n]);
        match (first, n > 1) {
            (true, true) => {
                tracing::warn!(endpoint = %failed, next = %next, error = %why, "{what} etcd failed; failing over to the next endpoint")
            }
            (true, false) => {
                tracing::warn!(endpoint = %failed, error = %why, "{what} etcd failed; reconnecting")
            }
            (false, _) => {
                tracing::debug!(endpoint = %failed, next = %next, error = %why, "{what} etcd failed")
            }
        }
    }

    /// An error etcd answered with that no other member would answer
    /// differently (bad request, permission denied, ...).
    fn refused(&self, what: &str, at: usize, e: etcd_client::Error) -> RegistryError {
        RegistryError::unavailable(format!("{what} etcd at {} was refused", self.endpoints[at]))
            .with_source(e)
    }

    /// Every endpoint was tried and failed.
    fn exhausted(&self, what: &str, failures: Vec<(usize, Failure)>) -> RegistryError {
        let all = self.endpoints.join(",");
        let tls = failures.iter().any(
            |(_, f)| matches!(f, Failure::Error(e) if chain(e).contains("invalid peer certificate")),
        );
        let hint = if tls {
            "the TLS handshake failed: does the CA given with `tls(..)` sign etcd's \
             certificate, and does that certificate name the endpoint's host?"
        } else {
            "is etcd running and reachable?"
        };
        let timed_out = failures
            .iter()
            .all(|(_, f)| matches!(f, Failure::TimedOut(_)));
        let message = match &failures[..] {
            [(_, Failure::TimedOut(after))] => {
                format!("{what} etcd at {all} did not finish within {after:?}; {hint}")
            }
            [_] => format!("{what} etcd at {all} failed; {hint}"),
            _ => {
                let tried = failures
                    .iter()
                    .map(|(at, f)| format!("{}: {}", self.endpoints[*at], f.brief()))
                    .collect::<Vec<_>>()
                    .join("; ");
                format!("{what} etcd at {all} failed on every endpoint ({tried}); {hint}")
            }
        };
        let error = if timed_out {
            RegistryError::timeout(message)
        } else {
            RegistryError::unavailable(message)
        };
        // The last error in full (a single endpoint's is not in the message).
        match failures.into_iter().rev().find_map(|(_, f)| match f {
            Failure::Error(e) => Some(e),
            Failure::TimedOut(_) => None,
        }) {
            Some(e) => error.with_source(e),
            None => error,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An error and its sources, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// gRPC status codes (they are fixed by the gRPC spec) with which etcd
/// refuses the request itself; another member would answer the same.
const REFUSALS: [i32; 7] = [
    3,  // INVALID_ARGUMENT (e.g. a wrong password, no user name)
    5,  // NOT_FOUND (e.g. a lease that is gone)
    6,  // ALREADY_EXISTS
    7,  // PERMISSION_DENIED
    9,  // FAILED_PRECONDITION
    11, // OUT_OF_RANGE (e.g. a compacted revision)
    12, // UNIMPLEMENTED
];

/// Whether another endpoint might succeed where this one failed: anything
/// but a refusal of the request itself (unreachable, timed out, no leader,
/// an auth token this member does not know, ...).
fn fails_over(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::GRpcStatus(status) => !REFUSALS.contains(&i32::from(status.code())),
        _ => true,
    }
}
