//! What every program of the shop system shares, so each service's `main`
//! is its wiring alone: the command line (`--conf FILE`, `--help`), the
//! config file (`registry`, `trace` and the service's own section), the
//! registry from config, tracing export, Prometheus, the default server and
//! client chains, and printing endpoints.
//!
//! Each example includes it with `#[path = "../support/mod.rs"] mod support;`.
#![allow(dead_code)] // each program uses its own part of it

pub mod client;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use kratos::config::{Config, EnvSource, FileSource};
use kratos::grpc::{GrpcChannel, GrpcServer, GrpcServerBuilder};
use kratos::http::{HttpServer, HttpServerBuilder};
use kratos::log::LogConfig;
use kratos::middleware::Matcher;
use kratos::middleware::circuitbreaker::CircuitBreakerLayer;
use kratos::middleware::logging::LoggingLayer;
use kratos::middleware::metrics::prometheus::Prometheus;
use kratos::middleware::retry::RetryLayer;
use kratos::registry::{Discovery, MemoryRegistry, Registrar};
use kratos::{AppBuilder, RunningApp};
use serde::Deserialize;

/// The error of a program's `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The command line every program takes.
#[derive(Debug)]
pub struct Cli {
    /// `--conf FILE`, when given.
    pub conf: Option<PathBuf>,
    /// `--smoke`: check a few calls and exit (order_service only).
    pub smoke: bool,
}

impl Cli {
    /// Parses the arguments; `--help` prints `usage` and exits 0, an unknown
    /// argument prints it to stderr and exits 2.
    pub fn parse(usage: &str) -> Self {
        let mut cli = Self {
            conf: None,
            smoke: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => {
                    println!("{usage}");
                    std::process::exit(0);
                }
                "--conf" | "-conf" => match args.next() {
                    Some(path) => cli.conf = Some(path.into()),
                    None => usage_error(usage, "--conf needs a file"),
                },
                "--smoke" => cli.smoke = true,
                other => usage_error(usage, &format!("unknown argument `{other}`")),
            }
        }
        cli
    }
}

fn usage_error(usage: &str, what: &str) -> ! {
    eprintln!("error: {what}\n\n{usage}");
    std::process::exit(2)
}

/// What a program starts from: its command line, config, registry, and
/// span export.
pub struct Boot {
    /// The command line.
    pub cli: Cli,
    /// The loaded config file.
    pub config: Config,
    /// The registry of the config's `registry` section.
    pub registry: Registry,
    /// Flushes exported spans when the program ends.
    pub trace: TraceGuard,
}

impl Boot {
    /// Parses the command line (`usage` for `--help`), loads `--conf`
    /// (default `examples/{default_conf}`), starts the logs, connects the
    /// registry and installs span export for `service`.
    pub async fn new(usage: &str, default_conf: &str, service: &str) -> Result<Self, BoxError> {
        let cli = Cli::parse(usage);
        let path = cli
            .conf
            .clone()
            .unwrap_or_else(|| example_file(default_conf));
        let config = load_config(&path).await?;
        init_logs(&config)?;
        tracing::info!(conf = %path.display(), "config loaded");
        let registry = Registry::connect(&section(&config, "registry")?).await?;
        let trace = trace(&config, service)?;
        Ok(Self {
            cli,
            config,
            registry,
            trace,
        })
    }
}

/// Logs to stderr as the config's `log` section says (`kratos::log`:
/// level, `text` or `json`, masked keys; default info, text), following
/// later changes of its level; `RUST_LOG` wins at start.
pub fn init_logs(config: &Config) -> Result<(), BoxError> {
    let conf: Option<LogConfig> = match config.get("log") {
        Err(e) if e.is_not_found() => None,
        other => Some(other.map_err(|e| format!("config `log`: {e}"))?),
    };
    let logger = conf.clone().unwrap_or_default().init()?;
    if conf.is_some() {
        logger.follow(config, "log")?;
    }
    Ok(())
}

/// A file of this repository's `examples/` directory.
pub fn example_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(path)
}

/// Loads the config file (values may use `${NAME:default}`), overlaid with
/// `SHOP_*` environment variables (`SHOP_REGISTRY_KIND=etcd`).
pub async fn load_config(path: &PathBuf) -> Result<Config, BoxError> {
    let config = Config::builder()
        .source(FileSource::new(path))
        .source(EnvSource::new("SHOP_"))
        .build();
    config
        .load()
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(config)
}

/// The config section `key`, typed, or an error naming the file's key.
pub fn section<T: serde::de::DeserializeOwned>(config: &Config, key: &str) -> Result<T, BoxError> {
    config
        .get(key)
        .map_err(|e| format!("config `{key}`: {e}").into())
}

/// The `registry` section.
#[derive(Debug, Clone, Deserialize)]
pub struct RegistryConf {
    /// `memory` (this process only), `etcd` or `consul`.
    pub kind: String,
    /// The etcd endpoints, with `kind: etcd`.
    #[serde(default)]
    pub etcd: Vec<String>,
    /// The lease TTL of an etcd registration in seconds (default 15).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// The Consul agent's address, with `kind: consul`.
    #[serde(default)]
    pub consul: Option<String>,
}

/// The registry of a program, in both of its roles.
#[derive(Clone)]
pub struct Registry {
    /// Where its apps register.
    pub registrar: Arc<dyn Registrar>,
    /// Where its clients look services up.
    pub discovery: Arc<dyn Discovery>,
}

impl Registry {
    /// The registry `conf` names.
    pub async fn connect(conf: &RegistryConf) -> Result<Self, BoxError> {
        match conf.kind.as_str() {
            "memory" => Ok(Self::of(MemoryRegistry::global())),
            #[cfg(feature = "etcd")]
            "etcd" => {
                let mut builder = kratos::registry::etcd::EtcdRegistry::builder(&conf.etcd);
                if let Some(ttl) = conf.ttl_seconds {
                    builder = builder.ttl(std::time::Duration::from_secs(ttl));
                }
                tracing::info!(endpoints = ?conf.etcd, "connecting to etcd");
                Ok(Self::of(builder.connect().await?))
            }
            #[cfg(feature = "consul")]
            "consul" => {
                let address = conf.consul.as_deref().unwrap_or("http://127.0.0.1:8500");
                Ok(Self::of(
                    kratos::registry::consul::ConsulRegistry::new(address),
                ))
            }
            // A guard, not a pattern: with both features these are handled above.
            kind if ["etcd", "consul"].contains(&kind) => Err(format!(
                "registry.kind is `{kind}`, but this build has no {kind} support: add `--features {kind}`"
            )
            .into()),
            other => {
                Err(format!("registry.kind: unknown registry `{other}` (memory, etcd or consul)").into())
            }
        }
    }

    fn of<R: Registrar + Discovery + Clone + 'static>(registry: R) -> Self {
        Self {
            registrar: Arc::new(registry.clone()),
            discovery: Arc::new(registry),
        }
    }
}

/// The `trace` section: spans go to an OTLP/gRPC collector when it names one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TraceConf {
    /// The collector, such as `http://127.0.0.1:4317`; empty: no export.
    #[serde(default)]
    pub otlp: String,
    /// The share of new traces sampled (default 1.0).
    #[serde(default)]
    pub ratio: Option<f64>,
}

/// Installs span export for `service` when the `trace` section names a
/// collector; keep the guard until the program exits (it flushes the last
/// spans).
pub fn trace(config: &Config, service: &str) -> Result<TraceGuard, BoxError> {
    let conf: TraceConf = match config.get("trace") {
        Err(e) if e.is_not_found() => TraceConf::default(),
        other => other.map_err(|e| format!("config `trace`: {e}"))?,
    };
    if conf.otlp.is_empty() {
        return Ok(TraceGuard::default());
    }
    #[cfg(feature = "otlp")]
    {
        let provider = kratos::middleware::tracing::otlp::Otlp::new(conf.otlp.clone(), service)
            .ratio(conf.ratio.unwrap_or(1.0))
            .install()?;
        tracing::info!(collector = %conf.otlp, "exporting spans over OTLP");
        Ok(TraceGuard(Some(provider)))
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = service;
        tracing::warn!(collector = %conf.otlp, "trace.otlp is set but this build has no OTLP export: add `--features otlp`");
        Ok(TraceGuard::default())
    }
}

/// Flushes exported spans when dropped.
#[derive(Default)]
pub struct TraceGuard(
    #[cfg(feature = "otlp")] Option<kratos::middleware::tracing::otlp::OtlpProvider>,
);

impl Drop for TraceGuard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.0.take() {
            let _ = provider.shutdown_blocking();
        }
    }
}

/// A page of a list: `page` from 1, `page_size` 1 to 100 (default 10), as
/// the list requests of the shop's protos give them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    skip: usize,
    size: usize,
}

impl Page {
    /// The page a request asks for; out-of-range values are clamped.
    pub fn new(page: i32, page_size: i32) -> Self {
        let size = if page_size <= 0 {
            10
        } else {
            page_size.min(100)
        } as usize;
        Self {
            skip: (page.max(1) as usize - 1) * size,
            size,
        }
    }

    /// This page of `items`.
    pub fn of<T>(&self, items: impl Iterator<Item = T>) -> Vec<T> {
        items.skip(self.skip).take(self.size).collect()
    }
}

/// The process's Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static Prometheus {
    static PROMETHEUS: OnceLock<Prometheus> = OnceLock::new();
    PROMETHEUS.get_or_init(|| Prometheus::install().expect("the first metrics recorder"))
}

/// An HTTP server on `address` with the default chain and request logs,
/// serving `/metrics` (outside the chain: scrapes are not requests) and, by
/// itself, `/health`.
pub fn http_server(address: std::net::SocketAddr) -> HttpServerBuilder {
    // Installed now, before the first request is counted.
    let metrics = prometheus();
    HttpServer::builder()
        .address(address)
        .handle(
            "/metrics",
            axum::routing::get(move || std::future::ready(metrics.render())),
        )
        .layer(kratos::middleware::server_defaults())
        .layer(LoggingLayer::server())
}

/// A gRPC server on `address` with the default chain and request logs.
pub fn grpc_server(address: std::net::SocketAddr) -> GrpcServerBuilder {
    GrpcServer::builder()
        .address(address)
        .layer(kratos::middleware::server_defaults())
        .layer(LoggingLayer::server())
}

/// The operations `{service}{method}` for each of `methods`, such as
/// `operations("/api.user.v1.UserService/", &["GetUser"])`.
pub fn operations(service: &str, methods: &[&str]) -> Matcher {
    methods
        .iter()
        .map(|m| Matcher::exact(format!("{service}{m}")))
        .reduce(Matcher::or)
        .expect("at least one method")
}

/// A channel to `discovery:///{service}` (smooth weighted round-robin),
/// with the default client chain, a circuit breaker, and retries of the
/// calls `idempotent` matches (on 502/503, to a node not tried yet).
pub async fn channel(
    registry: &Registry,
    service: &str,
    idempotent: Matcher,
) -> Result<GrpcChannel, BoxError> {
    Ok(GrpcChannel::builder()
        .endpoint(format!("discovery:///{service}"))
        .discovery_arc(registry.discovery.clone())
        .layer(kratos::middleware::client_defaults())
        .layer(CircuitBreakerLayer::new())
        .layer(RetryLayer::new().attempts(3).idempotent(idempotent))
        .block(true)
        .connect()
        .await?)
}

/// Starts `app` and prints `{name} listening on {endpoint}` for each
/// endpoint, the line the tests and operators wait for.
pub async fn start(app: AppBuilder, name: &str) -> Result<RunningApp, BoxError> {
    let running = app.build().spawn().await?;
    for endpoint in running.endpoints() {
        println!("{name} listening on {endpoint}");
    }
    Ok(running)
}

/// Serves one service until SIGINT/SIGTERM, then drains and deregisters it.
pub async fn serve(app: AppBuilder, name: &str) -> Result<(), BoxError> {
    start(app, name).await?.wait().await?;
    tracing::info!(service = name, "stopped");
    Ok(())
}
