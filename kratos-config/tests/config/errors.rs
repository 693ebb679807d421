//! Bad input at start: errors that name the file, line, key and type.

use kratos_config::{Config, FileSource, KeyValue, MemorySource};

#[tokio::test]
async fn a_missing_file_is_named() {
    let config = Config::builder()
        .source(FileSource::new("/nonexistent/kratos/config.yaml"))
        .build();
    let err = config.load().await.unwrap_err();
    assert!(err.is_source());
    assert!(
        err.to_string().contains("/nonexistent/kratos/config.yaml"),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_yaml_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "server:\n  http:\n    addr: ':8000'\n  grpc: [unclosed\n",
    )
    .unwrap();
    let err = Config::builder()
        .source(FileSource::new(&path))
        .build()
        .load()
        .await
        .unwrap_err();
    assert!(err.is_parse());
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("line 5"), "{msg}");
}

#[tokio::test]
async fn missing_keys_and_wrong_types_name_the_key_and_type() {
    let config = Config::builder()
        .source(MemorySource::new([KeyValue::new(
            "m",
            "server: {port: abc}",
            "yaml",
        )]))
        .build();
    config.load().await.unwrap();

    let err = config.get::<String>("server.addr").unwrap_err();
    assert!(err.is_not_found());
    assert!(err.to_string().contains("server.addr"), "{err}");

    let err = config.get::<u16>("server.port").unwrap_err();
    assert!(err.is_type_mismatch());
    let msg = err.to_string();
    assert!(msg.contains("server.port") && msg.contains("u16"), "{msg}");

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Server {
        port: String,
        addr: String,
    }
    let err = config.get::<Server>("server").unwrap_err();
    assert!(err.to_string().contains("addr"), "{err}");
}
