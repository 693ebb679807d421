//! A watched YAML file, edited in place and by rename.

use std::path::Path;
use std::time::Duration;

use kratos_config::{Config, FileSource};
use tokio::sync::mpsc;

const INITIAL: &str = "server:\n  http:\n    addr: 0.0.0.0:8000\n  grpc:\n    addr: 0.0.0.0:9000\nlog:\n  level: info\n";

/// Waits (bounded) for the next observed value.
async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the observer fired in time")
        .expect("the observer is alive")
}

fn observe(config: &Config, key: &str) -> mpsc::UnboundedReceiver<Option<String>> {
    let (tx, rx) = mpsc::unbounded_channel();
    config
        .watch(key, move |value: Option<String>| {
            let _ = tx.send(value);
        })
        .unwrap();
    rx
}

fn rejections(config: &Config) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    config.on_rejected(move |err| {
        let _ = tx.send(err.to_string());
    });
    rx
}

fn write_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("yaml.tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn edits_in_place_and_by_rename_fire_only_the_changed_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, INITIAL).unwrap();
    let config = Config::builder().source(FileSource::new(&path)).build();
    config.load().await.unwrap();
    let mut http = observe(&config, "server.http.addr");
    let mut grpc = observe(&config, "server.grpc.addr");
    let mut level = observe(&config, "log.level");

    // In place.
    std::fs::write(&path, INITIAL.replace("0.0.0.0:8000", "0.0.0.0:8001")).unwrap();
    assert_eq!(next(&mut http).await.as_deref(), Some("0.0.0.0:8001"));

    // By rename, as editors do; only log.level changes.
    let text = INITIAL
        .replace("0.0.0.0:8000", "0.0.0.0:8001")
        .replace("info", "debug");
    write_by_rename(&path, &text);
    assert_eq!(next(&mut level).await.as_deref(), Some("debug"));
    // The http observer fired exactly once (its value did not change since);
    // the grpc one never did.
    assert!(http.try_recv().is_err());
    assert!(grpc.try_recv().is_err());
    assert_eq!(
        config.get::<String>("server.http.addr").unwrap(),
        "0.0.0.0:8001"
    );
}

#[tokio::test]
async fn a_broken_edit_keeps_the_old_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, INITIAL).unwrap();
    let config = Config::builder().source(FileSource::new(&path)).build();
    config.load().await.unwrap();
    let mut http = observe(&config, "server.http.addr");
    let mut rejected = rejections(&config);

    write_by_rename(&path, "server:\n  http:\n    addr: [broken\n");
    let err = next(&mut rejected).await;
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(
        http.try_recv().is_err(),
        "the broken edit must not reach observers"
    );
    assert_eq!(
        config.get::<String>("server.http.addr").unwrap(),
        "0.0.0.0:8000"
    );

    // The next good edit applies.
    write_by_rename(&path, &INITIAL.replace("0.0.0.0:8000", "0.0.0.0:8002"));
    assert_eq!(next(&mut http).await.as_deref(), Some("0.0.0.0:8002"));
}

#[tokio::test]
async fn a_removed_key_is_removed_and_observed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, INITIAL).unwrap();
    let config = Config::builder().source(FileSource::new(&path)).build();
    config.load().await.unwrap();
    let mut grpc = observe(&config, "server.grpc.addr");

    write_by_rename(
        &path,
        "server:\n  http:\n    addr: 0.0.0.0:8000\nlog:\n  level: info\n",
    );
    assert_eq!(next(&mut grpc).await, None);
    assert!(
        config
            .get::<String>("server.grpc.addr")
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn a_handle_rejects_an_update_of_the_wrong_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("limits.yaml");
    std::fs::write(&path, "limits:\n  rps: 100\nname: a\n").unwrap();
    let config = Config::builder().source(FileSource::new(&path)).build();
    config.load().await.unwrap();
    let rps = config.handle::<u32>("limits.rps").unwrap();
    let mut name = observe(&config, "name");

    let mut rejected = rejections(&config);

    // rps becomes a string that is no number: the whole update is rejected,
    // so the name change in the same edit is not applied either.
    write_by_rename(&path, "limits:\n  rps: lots\nname: b\n");
    let err = next(&mut rejected).await;
    assert!(err.contains("limits.rps"), "{err}");
    assert!(name.try_recv().is_err());
    assert_eq!(config.get::<String>("name").unwrap(), "a");

    write_by_rename(&path, "limits:\n  rps: 200\nname: c\n");
    assert_eq!(next(&mut name).await.as_deref(), Some("c"));
    assert_eq!(*rps.get(), 200);
}
