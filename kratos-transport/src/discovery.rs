//! What the clients share: parsing the target, following a registry watcher
//! into a [`Selector`], and the options both clients take.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kratos_core::Error;
use kratos_registry::{Discovery, Watcher};
use kratos_selector::{BalancerBuilder, Node, NodeFilter, NodeFilters, SelectError, Selector};
use tokio::task::JoinHandle;

/// The default time a call (and a blocking dial) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The reason of the 503 a client returns when no node can take a call
/// (Go Kratos's HTTP client says the same).
pub const NODE_NOT_FOUND: &str = "NODE_NOT_FOUND";

/// The 503 `NODE_NOT_FOUND` for a failed pick.
pub(crate) fn node_not_found(target: &str, err: &SelectError) -> Error {
    Error::service_unavailable(NODE_NOT_FOUND, format!("{target}: {err}"))
}

/// Where a client sends calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `discovery:///<service>`: the instances a [`Discovery`] knows.
    Discovery(String),
    /// `grpc://host:port`, `http://host:port` or `host:port`: one address;
    /// `grpcs://`, `https://` or `?isSecure=true`: one address over TLS.
    Direct { address: String, secure: bool },
}

impl Target {
    pub(crate) fn parse(target: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::bad_request(
                "INVALID_TARGET",
                format!(
                    "client target `{target}` is not `discovery:///<service>`, \
                     `grpc[s]://host:port`, `http[s]://host:port` or `host:port`"
                ),
            )
        };
        if let Some(rest) = target.strip_prefix("discovery://") {
            // `discovery:///name` or `discovery://authority/name`.
            let name = rest.rsplit('/').next().unwrap_or_default();
            return if name.is_empty() {
                Err(invalid())
            } else {
                Ok(Self::Discovery(name.to_owned()))
            };
        }
        let (address, secure) = crate::endpoint::parse("grpc", target)
            .or_else(|| crate::endpoint::parse("http", target))
            .unwrap_or_else(|| (target.trim_end_matches('/').to_owned(), false));
        if address.is_empty() || address.contains("://") || address.contains('/') {
            return Err(invalid());
        }
        Ok(Self::Direct { address, secure })
    }
}

/// The options both clients take.
#[derive(Clone)]
pub(crate) struct ClientOptions {
    pub(crate) endpoint: String,
    pub(crate) discovery: Option<Arc<dyn Discovery>>,
    pub(crate) balancer: Option<Arc<dyn BalancerBuilder>>,
    pub(crate) filters: NodeFilters,
    pub(crate) timeout: Duration,
    pub(crate) block: bool,
    /// The most of a reply body the HTTP client reads.
    pub(crate) reply_limit: usize,
    /// TLS for `grpcs://` / `https://` nodes (system roots when `None`).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<kratos_net::tls::ClientTls>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            discovery: None,
            balancer: None,
            filters: NodeFilters::new(),
            timeout: DEFAULT_TIMEOUT,
            block: false,
            reply_limit: kratos_net::http::DEFAULT_BODY_LIMIT,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("endpoint", &self.endpoint)
            .field("discovery", &self.discovery)
            .field("balancer", &self.balancer.as_ref().map(|_| "custom"))
            .field("filters", &self.filters)
            .field("timeout", &self.timeout)
            .field("block", &self.block)
            .field("reply_limit", &self.reply_limit)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    pub(crate) fn filter(&mut self, filter: impl NodeFilter + 'static) {
        self.filters = std::mem::take(&mut self.filters).with(filter);
    }

    /// Whether nodes are dialled over TLS when an instance offers both: yes
    /// once the client was given a TLS configuration.
    fn prefer_secure(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "tls"))]
        false
    }

    /// The kratos-net connector options of this client: connect timeout and
    /// TLS.
    pub(crate) fn net_options(&self) -> kratos_net::http::ClientOptions {
        let options = kratos_net::http::ClientOptions::new().connect_timeout(self.timeout);
        #[cfg(feature = "tls")]
        let options = match &self.tls {
            Some(tls) => options.tls(tls.clone()),
            None => options,
        };
        options
    }

    fn selector(&self) -> Selector {
        let builder = Selector::builder().filters(&self.filters);
        match &self.balancer {
            Some(b) => builder.balancer_boxed(b.build()),
            None => builder,
        }
        .build()
    }

    /// Builds the selector and, for a `discovery:///` target, starts following
    /// the watcher. `on_update` sees each new node list before the selector.
    ///
    /// Waits for the watcher's first list; with `block`, until a list is not
    /// empty; both within the timeout.
    pub(crate) async fn resolve(
        &self,
        scheme: &'static str,
        on_update: impl Fn(&[Node]) + Send + Sync + 'static,
    ) -> Result<(Selector, Option<Resolver>), Error> {
        let selector = self.selector();
        let name = match Target::parse(&self.endpoint)? {
            Target::Direct { address, secure } => {
                if secure && !cfg!(feature = "tls") {
                    return Err(Error::bad_request(
                        "INVALID_TARGET",
                        format!(
                            "`{}` is dialled over TLS: enable the `tls` feature of kratos-transport (or kratos)",
                            self.endpoint
                        ),
                    ));
                }
                let nodes = [Node::new(
                    crate::endpoint::node_scheme(scheme, secure),
                    address,
                )];
                on_update(&nodes);
                selector.apply(nodes);
                return Ok((selector, None));
            }
            Target::Discovery(name) => name,
        };
        let discovery = self.discovery.clone().ok_or_else(|| {
            Error::bad_request(
                "INVALID_TARGET",
                format!(
                    "`{}` needs a Discovery: pass one to the client builder's `discovery`",
                    self.endpoint
                ),
            )
        })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let timed_out = |what: &str| {
            Error::service_unavailable(
                NODE_NOT_FOUND,
                format!(
                    "{}: {what} within {:?}; is the registry reachable and the service registered?",
                    self.endpoint, self.timeout
                ),
            )
        };
        let first = tokio::time::timeout_at(deadline, async {
            let mut watcher = discovery.watch(&name).await?;
            let list = watcher.next().await?;
            Ok::<_, Error>((watcher, list))
        })
        .await
        .map_err(|_| timed_out("no answer from discovery"))?;
        let (watcher, list) = first?;

        let on_update = Arc::new(on_update);
        let prefer_secure = self.prefer_secure();
        let apply = {
            let selector = selector.clone();
            let on_update = on_update.clone();
            move |list: &[kratos_registry::ServiceInstance]| {
                let nodes = crate::endpoint::nodes(scheme, list, prefer_secure);
                on_update(&nodes);
                selector.apply(nodes);
            }
        };
        apply(&list);
        let task = tokio::spawn(follow(discovery, name, watcher, apply));
        let resolver = Resolver { task };
        if self.block {
            tokio::time::timeout_at(deadline, selector.wait_for_nodes())
                .await
                .map_err(|_| timed_out(&format!("no `{scheme}` instance")))?;
        }
        Ok((selector, Some(resolver)))
    }
}

/// Follows a watcher in the background; stops following when dropped.
#[derive(Debug)]
pub(crate) struct Resolver {
    task: JoinHandle<()>,
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Applies every list the watcher yields; on a watcher error, watches again
/// after a pause (keeping the last list meanwhile).
async fn follow(
    discovery: Arc<dyn Discovery>,
    name: String,
    mut watcher: Box<dyn Watcher>,
    apply: impl Fn(&[kratos_registry::ServiceInstance]) + Send + 'static,
) {
    const RETRY: Duration = Duration::from_secs(1);
    loop {
        match watcher.next().await {
            Ok(list) => apply(&list),
            Err(err) => {
                tracing::warn!(service = %name, error = %err, "discovery watcher failed, watching again");
                let _ = watcher.stop().await;
                loop {
                    tokio::time::sleep(RETRY).await;
                    match discovery.watch(&name).await {
                        Ok(w) => {
                            watcher = w;
                            break;
                        }
                        Err(err) => {
                            tracing::warn!(service = %name, error = %err, "discovery watch failed");
                        }
                    }
                }
            }
        }
    }
}

/// Puts the client-side [`TransportInfo`](kratos_core::TransportInfo) on each
/// request (endpoint = the dialled target) before the user's layers run. Its
/// operation is the one a `TransportInfo` already on the request names (a
/// generated client's `/pkg.Service/Method`, a route template), else the
/// request path.
#[derive(Debug, Clone)]
pub(crate) struct ClientInfoService<S> {
    inner: S,
    kind: kratos_core::Kind,
    target: Arc<str>,
}

impl<S> ClientInfoService<S> {
    pub(crate) fn new(inner: S, kind: kratos_core::Kind, target: &Arc<str>) -> Self {
        Self {
            inner,
            kind,
            target: target.clone(),
        }
    }
}

impl<S, B> tower_service::Service<http::Request<B>> for ClientInfoService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let info = match req.extensions_mut().remove::<kratos_core::TransportInfo>() {
            Some(preset) => preset.with_endpoint(self.target.clone()),
            None => kratos_core::TransportInfo::for_path(self.kind, &req, self.target.clone()),
        };
        req.extensions_mut().insert(info);
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("discovery:///greeter").unwrap(),
            Target::Discovery("greeter".into())
        );
        assert_eq!(
            Target::parse("discovery://default/greeter").unwrap(),
            Target::Discovery("greeter".into())
        );
        for (direct, secure) in [
            ("grpc://127.0.0.1:9000", false),
            ("http://127.0.0.1:9000/", false),
            ("127.0.0.1:9000", false),
            ("grpcs://127.0.0.1:9000", true),
            ("https://127.0.0.1:9000", true),
            ("grpc://127.0.0.1:9000?isSecure=true", true),
        ] {
            assert_eq!(
                Target::parse(direct).unwrap(),
                Target::Direct {
                    address: "127.0.0.1:9000".into(),
                    secure
                },
                "{direct}"
            );
        }
        for bad in ["discovery:///", "", "ftp://x:1", "grpc://h:1/path"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
