//! Merge order (file, then env, then memory) and placeholders, as a table.

use kratos_config::{Config, EnvSource, FileSource, KeyValue, MemorySource};

#[tokio::test]
async fn later_sources_override_and_placeholders_resolve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("10-base.yaml"),
        "server:\n  http:\n    addr: '${server.host}:${server.port:8000}'\n    timeout: 1s\n  host: 0.0.0.0\ndata:\n  dsn: '${KRATOS_TEST_MERGE_DSN:sqlite::memory:}'\n  pool: 4\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("20-override.json"),
        r#"{"data": {"pool": 8}}"#,
    )
    .unwrap();
    // SAFETY: set before any thread reads the environment in this test binary's
    // merge test; the variable names are unique to this test.
    unsafe {
        std::env::set_var("KRATOS_TEST_MERGE_SERVER__PORT", "9000");
        std::env::set_var("KRATOS_TEST_MERGE_DATA__POOL", "16");
    }
    let config = Config::builder()
        .source(FileSource::new(dir.path()))
        .source(EnvSource::new("KRATOS_TEST_MERGE_"))
        .source(MemorySource::new([KeyValue::new(
            "overrides",
            "server:\n  http:\n    timeout: 2s\n",
            "yaml",
        )]))
        .build();
    config.load().await.unwrap();

    let cases: [(&str, &str); 6] = [
        // A placeholder reads a key another source set (env), with a default unused.
        ("server.http.addr", "0.0.0.0:9000"),
        // The memory source is last: it wins over the file.
        ("server.http.timeout", "2s"),
        // Env (later) wins over the json file, which won over the yaml file.
        ("data.pool", "16"),
        // A placeholder with no key and no variable takes its default (with colons).
        ("data.dsn", "sqlite::memory:"),
        ("server.host", "0.0.0.0"),
        ("server.port", "9000"),
    ];
    for (key, want) in cases {
        assert_eq!(config.get::<String>(key).unwrap(), want, "{key}");
    }
    // Env values are strings; typed reads convert them.
    assert_eq!(config.get::<u32>("data.pool").unwrap(), 16);
}
