//! One client call through the selector, the same for both transports: pick
//! a healthy node this call has not tried, send, report the outcome to the
//! node's health, and send a call whose connection failed before anything of
//! it was sent to the next node.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kratos_core::Error;
use kratos_core::transport::Attempt;
use kratos_selector::{Done, DoneInfo, Node, NodeFilters, Selector};
use tokio::time::Instant;

use crate::discovery::node_not_found;
use crate::replay::{ReplayBody, replayable};

pub(crate) use kratos_net::BoxError;

/// The most nodes one call is sent to because their connections failed.
const MAX_NODES_PER_CALL: usize = 3;

/// What a transport's failure means for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The connection could not be made: nothing was sent.
    Connect,
    /// The transport's own deadline passed.
    Timeout,
    /// Anything else (reset, protocol error): something may have been sent.
    Other,
}

/// How one transport sends an attempt to a node.
pub(crate) trait Transport: Send + Sync + 'static {
    /// The request body.
    type Body: http_body::Body + Unpin + Send + 'static;
    /// What a node answered with, as the transport returns it.
    type Sent: Send;
    /// The call's response.
    type Response;

    /// Sends `req` to `node`.
    fn send(
        &self,
        node: &Node,
        req: http::Request<ReplayBody<Self::Body>>,
    ) -> impl Future<Output = Result<Self::Sent, BoxError>> + Send;

    /// What `err`, returned by [`send`](Self::send), means.
    fn failure(err: &BoxError) -> Failure;

    /// Turns the answer into the response, reporting its outcome to `done`
    /// (now, or when its body ends); reading the answer stops at the call's
    /// deadline.
    fn finish(
        &self,
        call: Attempted<'_>,
        sent: Self::Sent,
        done: Done,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send;
}

/// One attempt of a call, as [`Transport::finish`] sees it: where it went,
/// when it must end, and the errors it fails with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempted<'a> {
    pub(crate) target: &'a str,
    pub(crate) node: &'a Node,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Instant,
}

impl Attempted<'_> {
    /// The call's 504 `TIMEOUT`.
    pub(crate) fn timed_out(&self) -> Error {
        timeout_error(self.target, self.node, self.timeout)
    }

    /// The call's 503 `TRANSPORT` for `err`.
    pub(crate) fn failed(&self, err: &BoxError) -> Error {
        transport_error(self.target, self.node, err)
    }
}

/// The picker of one client: its selector, target and timeout, and the
/// transport it sends with.
pub(crate) struct Picker<T> {
    pub(crate) selector: Selector,
    pub(crate) target: Arc<str>,
    pub(crate) timeout: Duration,
    pub(crate) transport: T,
}

impl<T: Transport> Picker<T> {
    /// Runs one call to its response, within the timeout.
    pub(crate) async fn call(&self, req: http::Request<T::Body>) -> Result<T::Response, Error> {
        let deadline = Instant::now() + self.timeout;
        let (parts, mut body) = req.into_parts();
        let attempt = parts.extensions.get::<Attempt>();
        let filters = parts.extensions.get::<NodeFilters>();
        let mut refused: Vec<Arc<Node>> = Vec::new();
        loop {
            let was_refused = |n: &Node| refused.iter().any(|r| r.address() == n.address());
            let (node, mut done) = self
                .selector
                .select_excluding(filters, |n| {
                    was_refused(n) || attempt.is_some_and(|a| a.was_tried(n.address()))
                })
                .map_err(|e| node_not_found(&self.target, &e))?;
            if let Some(attempt) = attempt {
                attempt.record(node.address());
            }
            let (replay, reclaim) = replayable(body);
            let req = attempt_request(&parts, replay);
            let failed =
                match tokio::time::timeout_at(deadline, self.transport.send(&node, req)).await {
                    Ok(Ok(sent)) => {
                        done.responded();
                        let call = Attempted {
                            target: &self.target,
                            node: &node,
                            timeout: self.timeout,
                            deadline,
                        };
                        return self.transport.finish(call, sent, done).await;
                    }
                    Err(_) => None,
                    Ok(Err(err)) => match T::failure(&err) {
                        Failure::Timeout => None,
                        failure => Some((failure, err)),
                    },
                };
            let Some((failure, err)) = failed else {
                let error = timeout_error(&self.target, &node, self.timeout);
                done.done(DoneInfo::unreachable(error.clone()));
                return Err(error);
            };
            let error = transport_error(&self.target, &node, &err);
            done.done(DoneInfo::unreachable(error.clone()));
            refused.push(node);
            let another = failure == Failure::Connect
                && refused.len() < MAX_NODES_PER_CALL
                && self.selector.nodes().len() > refused.len()
                && Instant::now() < deadline;
            match reclaim.take() {
                Some(unsent) if another => {
                    tracing::debug!(
                        target: "kratos::client",
                        error = %error,
                        "connection failed before the call was sent; trying another node"
                    );
                    body = unsent;
                }
                _ => return Err(error),
            }
        }
    }
}

/// The request of one attempt: the head of `parts` without its extensions.
/// They served the layers above and this loop (the attempt, the filters);
/// below the picker only the node's connection reads the request, so they
/// are neither cloned per attempt nor sent.
fn attempt_request<B>(parts: &http::request::Parts, body: B) -> http::Request<B> {
    let mut req = http::Request::new(body);
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    req
}

/// The 504 of a call that got no answer within the timeout: Go Kratos's
/// `TIMEOUT`, on the client side of both transports.
fn timeout_error(target: &str, node: &Node, timeout: Duration) -> Error {
    Error::gateway_timeout(
        "TIMEOUT",
        format!(
            "{target}: no answer from {} within {timeout:?}",
            node.address()
        ),
    )
}

/// The 503 of a call whose connection failed.
fn transport_error(target: &str, node: &Node, err: &BoxError) -> Error {
    let mut message = format!("{target}: {}: {err}", node.address());
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::service_unavailable("TRANSPORT", message)
}

/// Whether `err` or one of its causes is a `E`.
pub(crate) fn caused_by<E: std::error::Error + 'static>(err: &BoxError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
    while let Some(e) = current {
        if e.is::<E>() {
            return true;
        }
        current = e.source();
    }
    false
}
