//! What the scenarios share: running them one at a time, the clients under
//! test, and a watch on the victim's node statistics.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use kratos::grpc::GrpcChannel;
use kratos::http::HttpClient;
use kratos::middleware::Matcher;
use kratos::middleware::retry::{RetryBudget, RetryLayer};
use kratos::registry::etcd::EtcdRegistry;
use kratos::selector::Selector;
use kratos::selector::balancer::BalancerKind;
use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_examples_api::helloworld::v1::greeter_http;
use kratos_transport::ClientBuilder;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::child::Server;
use crate::load::Call;

/// The operation prefix of the greeter, on both transports.
const GREETER: &str = "/helloworld.v1.Greeter/";
/// The HTTP binding generated for `SayHello` (and its operation).
const SAY_HELLO: &str = "/helloworld.v1.Greeter/SayHello";

/// Runs `scenario` on a fresh runtime, never alongside another scenario of
/// this binary (their load would share the two cores).
pub(crate) fn serial<F: Future<Output = ()>>(scenario: F) {
    static SERIAL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(scenario);
}

/// The transport a scenario calls over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Grpc,
    /// `HttpClient::invoke` by hand.
    Http,
    /// The generated `GreeterHttpClient` over an `HttpClient`.
    Generated,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
            Transport::Generated => "generated-http",
        })
    }
}

impl Transport {
    /// The address `server` serves this transport on.
    pub(crate) fn address<'a>(&self, server: &'a Server) -> &'a str {
        match self {
            Transport::Grpc => &server.grpc,
            Transport::Http | Transport::Generated => &server.http,
        }
    }
}

/// How the client under test is set up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientSpec {
    pub(crate) transport: Transport,
    pub(crate) balancer: BalancerKind,
    pub(crate) retry: bool,
    pub(crate) timeout: Duration,
}

impl fmt::Display for ClientSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retry = if self.retry { "retry" } else { "no-retry" };
        write!(f, "{} {} {retry}", self.transport, self.balancer)
    }
}

/// The retry under test: 3 attempts on 503 and 504, the greeter opted in as
/// idempotent, a budget that does not run dry in these scenarios.
fn retry_layer() -> RetryLayer {
    RetryLayer::new()
        .attempts(3)
        .retry_on([503, 504])
        .idempotent(Matcher::prefix(GREETER))
        .budget(RetryBudget::new(1.0, 100))
}

/// `builder` with the target, discovery and options `spec` gives.
fn configure<C>(
    builder: ClientBuilder<C>,
    spec: &ClientSpec,
    target: &str,
    registry: EtcdRegistry,
) -> ClientBuilder<C> {
    let builder = builder
        .endpoint(target)
        .discovery(registry)
        .balancer(spec.balancer)
        .timeout(spec.timeout)
        .block(true);
    if spec.retry {
        builder.layer(retry_layer())
    } else {
        builder
    }
}

/// A client of `discovery:///<service>` as `spec` says, once discovery
/// lists `instances` nodes: the call it makes and its selector.
pub(crate) async fn client(
    spec: ClientSpec,
    etcd: &str,
    service: &str,
    instances: usize,
) -> (Call, Selector) {
    let registry = EtcdRegistry::builder([etcd])
        .connect()
        .await
        .expect("etcd answers");
    let target = format!("discovery:///{service}");
    let (call, selector): (Call, Selector) = match spec.transport {
        Transport::Grpc => {
            let builder = configure(GrpcChannel::builder(), &spec, &target, registry);
            let channel = builder.connect().await.expect("the channel dials");
            let selector = channel.selector().clone();
            let call: Call = Arc::new(move || {
                let mut greeter = GreeterClient::new(channel.clone());
                Box::pin(async move {
                    greeter
                        .say_hello(HelloRequest {
                            name: "failover".into(),
                        })
                        .await
                        .map(|reply| reply.into_inner().message)
                        .map_err(|status| {
                            let error = kratos::Error::from_status(&status);
                            format!("{:?} {}", status.code(), error.reason())
                        })
                })
            });
            (call, selector)
        }
        Transport::Http | Transport::Generated => {
            let generated = spec.transport == Transport::Generated;
            let builder = configure(HttpClient::builder(), &spec, &target, registry);
            let client = builder.connect().await.expect("the client dials");
            let selector = client.selector().clone();
            let call: Call = Arc::new(move || {
                let client = client.clone();
                Box::pin(async move {
                    let request = HelloRequest {
                        name: "failover".into(),
                    };
                    if generated {
                        return greeter_http::GreeterHttpClient::from_client(client)
                            .say_hello(request)
                            .await
                            .map(|reply| reply.message)
                            .map_err(|e| format!("{} {}", e.code(), e.reason()));
                    }
                    client
                        .invoke::<_, kratos_examples_api::helloworld::v1::HelloReply>(
                            Method::POST,
                            SAY_HELLO,
                            &request,
                        )
                        .await
                        .map(|reply| reply.message)
                        .map_err(|e| format!("{} {}", e.code(), e.reason()))
                })
            });
            (call, selector)
        }
    };
    let mut updates = selector.subscribe();
    tokio::time::timeout(
        Duration::from_secs(10),
        updates.wait_for(|_| selector.nodes().len() >= instances),
    )
    .await
    .unwrap_or_else(|_| panic!("discovery lists {instances} `{service}` nodes within 10 s"))
    .expect("the selector lives");
    (call, selector)
}

/// What the watch saw of one node; times are since the load started.
#[derive(Debug, Default, Clone)]
pub(crate) struct Observed {
    /// When its pick count last grew.
    pub(crate) last_pick: Option<Duration>,
    /// Its pick count when [`NodeWatch::mark`] was called.
    pub(crate) picks_at_mark: u64,
    /// Its last pick count seen.
    pub(crate) picks: u64,
    /// When it was first missing from the node list.
    pub(crate) left_list: Option<Duration>,
    /// Whether it was ever seen ejected.
    pub(crate) ejected: bool,
    /// The most consecutive ejections seen.
    pub(crate) max_ejections: u32,
}

impl Observed {
    /// Picks after the mark (the kill or stop).
    pub(crate) fn picks_after_mark(&self) -> u64 {
        self.picks.saturating_sub(self.picks_at_mark)
    }
}

/// Samples one node's statistics every 2 ms, so the scenario can tell when
/// the selector last picked it and when discovery dropped it.
pub(crate) struct NodeWatch {
    selector: Selector,
    address: String,
    observed: Arc<Mutex<Observed>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl NodeWatch {
    pub(crate) fn start(selector: Selector, address: String, start: Instant) -> Self {
        let observed = Arc::new(Mutex::new(Observed::default()));
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn({
            let observed = observed.clone();
            let (selector, address) = (selector.clone(), address.clone());
            async move {
                let mut tick = tokio::time::interval(Duration::from_millis(2));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stopped.wait_for(|s| *s) => break,
                    }
                    let nodes = selector.nodes();
                    let node = nodes.iter().find(|w| w.node().address() == address);
                    let mut o = observed.lock().expect("observed");
                    match node {
                        Some(w) => {
                            let stats = w.stats();
                            if stats.requests() > o.picks {
                                o.picks = stats.requests();
                                o.last_pick = Some(start.elapsed());
                            }
                            o.ejected |= stats.is_ejected();
                            o.max_ejections = o.max_ejections.max(stats.ejections());
                        }
                        None => {
                            if o.left_list.is_none() {
                                o.left_list = Some(start.elapsed());
                            }
                        }
                    }
                }
            }
        });
        Self {
            selector,
            address,
            observed,
            stop,
            task,
        }
    }

    /// Marks the kill or stop: picks from now on count as after it.
    pub(crate) fn mark(&self) {
        let picks = self
            .selector
            .nodes()
            .iter()
            .find(|w| w.node().address() == self.address)
            .map_or(0, |w| w.stats().requests());
        self.observed.lock().expect("observed").picks_at_mark = picks;
    }

    pub(crate) async fn finish(self) -> Observed {
        self.stop.send_replace(true);
        self.task.await.expect("the node watch");
        self.observed.lock().expect("observed").clone()
    }
}

/// `d` as milliseconds, signed, relative to `zero`.
pub(crate) fn ms_after(d: Option<Duration>, zero: Duration) -> String {
    match d {
        Some(d) if d >= zero => format!("+{} ms", (d - zero).as_millis()),
        Some(d) => format!("-{} ms", (zero - d).as_millis()),
        None => "never".to_owned(),
    }
}

/// Three servers of `service` under load from a client set up as `spec`,
/// the first one's node watched, with `before` calls made: the moment a
/// scenario then does something to the victim (`servers[0]`).
pub(crate) struct UnderLoad {
    pub(crate) servers: Vec<Server>,
    pub(crate) load: crate::load::Load,
    pub(crate) node: NodeWatch,
    /// The victim's instance id.
    pub(crate) victim: String,
    /// When the `before`-th call was made, since the load started.
    pub(crate) at: Duration,
}

/// Starts three servers and the load, and returns once `before` calls were made.
pub(crate) async fn under_load(
    etcd: &str,
    service: &str,
    spec: ClientSpec,
    (before, total, cap): (usize, usize, Duration),
) -> UnderLoad {
    let servers = crate::child::start(etcd, service, 3).await;
    let (call, selector) = client(spec, etcd, service, 3).await;
    let address = spec.transport.address(&servers[0]).to_owned();
    let victim = servers[0].id.clone();
    let load = crate::load::Load::start(call, total, cap);
    let node = NodeWatch::start(selector, address, load.started());
    load.reached(before).await;
    node.mark();
    let at = load.elapsed();
    UnderLoad {
        servers,
        load,
        node,
        victim,
        at,
    }
}
