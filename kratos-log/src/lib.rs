//! Logging setup for a kratos-rs service, as Go Kratos's `log` package
//! gives one: every [`tracing`] event as a line of text or JSON on stderr,
//! the level from the config file and changed at runtime when the file
//! changes, every line written inside a call carrying the call's
//! `trace_id` and `span_id`, and the values of secret keys masked.
//!
//! ```no_run
//! use kratos_config::{Config, FileSource};
//! use kratos_log::LogConfig;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder().source(FileSource::new("config.yaml")).build();
//! config.load().await?;
//! // log: {level: info, format: json, mask: [password, token, authorization]}
//! let conf: LogConfig = config.get("log")?;
//! let logger = conf.init()?;
//! logger.follow(&config, "log")?; // a new `log.level` in the file applies at once
//! tracing::info!(user = "alice", password = "hunter2", "logged in");
//! // {"ts":"…","level":"INFO","target":"my_service","msg":"logged in","user":"alice","password":"***"}
//! # Ok(())
//! # }
//! ```
//!
//! **Correlation.** The tracing layer of `kratos-middleware` runs every call
//! in a `call` span with `trace_id` and `span_id` fields (whether or not a
//! tracer provider is installed); a JSON line carries the fields of the
//! spans it was written in at top level, so each line of a call has them,
//! as Go's `log.With(logger, "trace.id", tracing.TraceID(), …)` does (Go
//! names the keys as the service chooses; here they are `trace_id` and
//! `span_id`). Text lines show them in the span prefix.
//!
//! **Masking**, as Go's `log.NewFilter(log.FilterKey(…))`: a field whose
//! name is one of [`LogConfig::mask`] (case-insensitive), or ends with
//! `_key` or `.key` (`access_token`, `req.password`), is written as `***`.
//! Values inside a message's text are not inspected.
//!
//! **The level** is a list of directives: `info`, or
//! `warn,my_service=debug` (a default level and `target=level` pairs, as
//! tracing-subscriber's [`Targets`] reads them; `RUST_LOG`'s span and field
//! filters are not supported, which keeps the regex engine out of a
//! service's build). `RUST_LOG`, when set, wins over the config at
//! start (as operators expect); a change of the config's level later
//! applies either way.

mod json;
mod mask;

use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;

use kratos_config::{Config, ConfigError};
use serde::Deserialize;
use tracing::Subscriber;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::{Registry, reload};

pub use mask::Mask;

/// The target and name of the span kratos-middleware's tracing layer runs
/// each call in (its fields are `trace_id` and `span_id`).
const CALL_SPAN_TARGET: &str = "kratos";
const CALL_SPAN_NAME: &str = "call";

/// The `log` section of a service's config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// The level directives (`info`, `warn,my_service=debug`); default
    /// `info`.
    pub level: String,
    /// `text` (default) or `json`.
    pub format: LogFormat,
    /// The field names whose values are masked; default `password`,
    /// `secret`, `token`, `authorization`.
    pub mask: Vec<String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
            mask: ["password", "secret", "token", "authorization"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// How each event is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-12-03T06:20:00.123Z  INFO call{trace_id=… span_id=…}: target: message key=value`.
    #[default]
    Text,
    /// One JSON object per line: `ts`, `level`, `target`, `msg`, the
    /// event's fields and its spans' fields.
    Json,
}

/// Why logging could not be set up.
#[derive(Debug, Clone)]
pub struct LogError(String);

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LogError {}

/// Parses `directives`, refusing what `Targets` would take as a target
/// name by mistake (`[span]` filters, typos with punctuation).
fn filter(directives: &str) -> Result<Targets, LogError> {
    let error = |why: String| LogError(format!("log.level `{directives}`: {why}"));
    for directive in directives
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (target, Some(level)),
            None if directive.parse::<LevelFilter>().is_ok() => continue,
            None => (directive, None),
        };
        let is_target = !target.is_empty()
            && target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-');
        if !is_target {
            return Err(error(format!(
                "`{directive}` is neither a level nor `target=level`"
            )));
        }
        if let Some(level) = level {
            level
                .parse::<LevelFilter>()
                .map_err(|e| error(format!("`{directive}`: {e}")))?;
        }
    }
    directives.parse().map_err(|e| error(format!("{e}")))
}

/// The running logger's level, changeable at runtime.
#[derive(Clone)]
pub struct Logger {
    reload: Arc<reload::Handle<Targets, Registry>>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger").finish_non_exhaustive()
    }
}

impl Logger {
    /// Changes the level (`debug`, `warn,my_service=debug`) of every
    /// subscriber this logger set up, at once.
    pub fn set_level(&self, directives: &str) -> Result<(), LogError> {
        let filter = filter(directives)?;
        self.reload
            .reload(filter)
            .map_err(|e| LogError(format!("the logger is gone: {e}")))
    }

    /// Applies each new `level` of the config's `key` section; a level that
    /// does not parse is logged and the old one kept. Fails if the section
    /// is not a [`LogConfig`] now.
    pub fn follow(&self, config: &Config, key: &str) -> Result<(), ConfigError> {
        let logger = self.clone();
        let key_name = key.to_owned();
        config.watch::<LogConfig, _>(key, move |conf| {
            let Some(conf) = conf else { return };
            match logger.set_level(&conf.level) {
                Ok(()) => tracing::info!(key = %key_name, level = %conf.level, "log level changed"),
                Err(e) => tracing::warn!(key = %key_name, error = %e, "log level not changed"),
            }
        })
    }
}

impl LogConfig {
    /// A subscriber writing to `writer` as this config says (no colours),
    /// and its [`Logger`]; for tests and for programs that install it
    /// themselves (`tracing::subscriber::set_global_default`).
    pub fn subscriber<W>(
        &self,
        writer: W,
    ) -> Result<(impl Subscriber + Send + Sync + use<W>, Logger), LogError>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.build(&self.level, writer, false)
    }

    /// Installs this config's logging on stderr as the process's
    /// subscriber (`RUST_LOG` wins over `level` when set); fails if one is
    /// installed already.
    pub fn init(&self) -> Result<Logger, LogError> {
        let level = std::env::var("RUST_LOG").unwrap_or_else(|_| self.level.clone());
        let (subscriber, logger) =
            self.build(&level, std::io::stderr, std::io::stderr().is_terminal())?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|e| LogError(format!("a logger is installed already: {e}")))?;
        Ok(logger)
    }

    fn build<W>(
        &self,
        level: &str,
        writer: W,
        ansi: bool,
    ) -> Result<(impl Subscriber + Send + Sync + use<W>, Logger), LogError>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let (level, reload) = reload::Layer::new(filter(level)?);
        // The call spans stay on whatever the level, so that a warning in
        // a call still carries its trace id.
        let calls = filter_fn(|meta| {
            meta.is_span() && meta.target() == CALL_SPAN_TARGET && meta.name() == CALL_SPAN_NAME
        });
        let mask = Mask::new(&self.mask);
        let format: Box<dyn Layer<Registry> + Send + Sync> = match self.format {
            LogFormat::Text => Box::new(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(ansi)
                    .fmt_fields(mask.text_fields()),
            ),
            LogFormat::Json => Box::new(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                    .event_format(json::JsonLine::new(mask)),
            ),
        };
        let subscriber = Registry::default().with(format.with_filter(level.or(calls)));
        Ok((
            subscriber,
            Logger {
                reload: Arc::new(reload),
            },
        ))
    }
}
