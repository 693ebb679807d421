//! What the logger writes: JSON lines with the fields of their spans and
//! masked secrets, masked text lines, and a level that follows the config.

use std::time::Duration;

use kratos_config::{Config, KeyValue, MemorySource};
use kratos_log::{LogConfig, LogFormat};
use kratos_testing::CapturedLogs;
use serde_json::Value;

fn json_config(level: &str) -> LogConfig {
    LogConfig {
        level: level.into(),
        format: LogFormat::Json,
        ..LogConfig::default()
    }
}

#[test]
fn a_json_line_carries_its_call_s_trace_id_and_masks_secrets() {
    let out = CapturedLogs::default();
    let (subscriber, _) = json_config("warn").subscriber(out.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        // The span kratos-middleware's tracing layer runs a call in.
        let call = tracing::info_span!(target: "kratos", "call", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", span_id = "00f067aa0ba902b7");
        let _in_call = call.enter();
        tracing::info!("below the level: not written");
        tracing::warn!(
            user = "alice",
            password = "hunter2",
            access_token = "t0k",
            attempts = 3,
            "login failed"
        );
    });
    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["msg"], "login failed");
    assert_eq!(line["user"], "alice");
    assert_eq!(line["attempts"], 3);
    assert_eq!(line["password"], "***");
    assert_eq!(line["access_token"], "***");
    assert_eq!(
        line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "at warn too: {line}"
    );
    assert_eq!(line["span_id"], "00f067aa0ba902b7");
    assert!(
        line["ts"].as_str().is_some_and(|ts| ts.contains('T')),
        "{line}"
    );
}

#[test]
fn a_text_line_masks_secrets() {
    let out = CapturedLogs::default();
    let (subscriber, _) = LogConfig::default().subscriber(out.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(user = "alice", authorization = "Bearer abc", "call");
    });
    let text = out.text();
    assert!(text.contains("authorization=***"), "{text}");
    assert!(text.contains(r#"user="alice""#), "{text}");
    assert!(!text.contains("Bearer abc"), "{text}");
}

#[tokio::test]
async fn the_level_follows_the_config() {
    let out = CapturedLogs::default();
    let source = MemorySource::new([KeyValue::new(
        "app",
        "log: {level: info, format: json}",
        "yaml",
    )]);
    let config = Config::builder().source(source.clone()).build();
    config.load().await.unwrap();
    let conf: LogConfig = config.get("log").unwrap();
    let (subscriber, logger) = conf.subscriber(out.clone()).unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    logger.follow(&config, "log").unwrap();

    tracing::debug!("before: not written");
    source.set([KeyValue::new(
        "app",
        "log: {level: debug, format: json}",
        "yaml",
    )]);
    // The change applies when the watch delivers it: wait for it, bounded.
    let mut tries = 0;
    while !out.text().contains("log level changed") {
        tries += 1;
        assert!(
            tries < 500,
            "the new level applies within 5 s: {}",
            out.text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tracing::debug!("after: written");
    let text = out.text();
    assert!(!text.contains("before: not written"), "{text}");
    assert!(text.contains("after: written"), "{text}");

    // A level that does not parse keeps the old one and says why.
    assert!(logger.set_level("debug,[unclosed").is_err());
}

#[tokio::test]
async fn the_level_follows_the_config_file() {
    let dir = std::env::temp_dir().join(format!("kratos-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(&path, "log: {level: warn, format: json}\n").unwrap();
    let config = Config::builder()
        .source(kratos_config::FileSource::new(&path))
        .build();
    config.load().await.unwrap();
    let out = CapturedLogs::default();
    let conf: LogConfig = config.get("log").unwrap();
    let (subscriber, logger) = conf.subscriber(out.clone()).unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    logger.follow(&config, "log").unwrap();

    tracing::info!("at warn: not written");
    std::fs::write(&path, "log: {level: info, format: json}\n").unwrap();
    let mut tries = 0;
    while !out.text().contains("log level changed") {
        tries += 1;
        assert!(
            tries < 1000,
            "the edited file applies within 10 s: {}",
            out.text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tracing::info!("at info: written");
    let text = out.text();
    assert!(!text.contains("at warn: not written"), "{text}");
    assert!(text.contains("at info: written"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
