//! The stored key and bytes are exactly what Go Kratos writes and reads.

use kratos_registry::etcd::EtcdRegistry;
use kratos_registry::{Discovery, Registrar, ServiceInstance};
use kratos_testing::EtcdServer;

use crate::common::{TTL, raw, registry};

/// What Go Kratos's `contrib/registry/etcd` stores for this instance:
/// `json.Marshal(ServiceInstance)` under `/microservices/<name>/<id>`.
const GO_KEY: &str = "/microservices/helloworld/6f3a9f3e-1b8e-4c1f-9d2a-000000000001";
const GO_VALUE: &str = r#"{"id":"6f3a9f3e-1b8e-4c1f-9d2a-000000000001","name":"helloworld","version":"v1.0.0","metadata":{"region":"sh","weight":"10"},"endpoints":["grpc://127.0.0.1:9000","http://127.0.0.1:8000"]}"#;

fn fixture() -> ServiceInstance {
    ServiceInstance::new("6f3a9f3e-1b8e-4c1f-9d2a-000000000001", "helloworld")
        .with_version("v1.0.0")
        .with_metadata("weight", "10")
        .with_metadata("region", "sh")
        .with_endpoint("grpc://127.0.0.1:9000")
        .with_endpoint("http://127.0.0.1:8000")
}

#[tokio::test]
async fn key_and_json_bytes_match_go_kratos() {
    let etcd = EtcdServer::start().await;
    let registry = registry(&etcd, TTL).await;
    registry.register(&fixture()).await.unwrap();

    let mut client = raw(&etcd).await;
    let resp = client
        .get(
            "/microservices/",
            Some(kratos_registry::etcd::etcd_client::GetOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    assert_eq!(resp.kvs().len(), 1);
    let kv = &resp.kvs()[0];
    assert_eq!(kv.key_str().unwrap(), GO_KEY);
    assert_eq!(kv.value_str().unwrap(), GO_VALUE);
    assert_ne!(kv.lease(), 0, "the key lives on a lease");
    let ttl = client.lease_time_to_live(kv.lease(), None).await.unwrap();
    assert_eq!(ttl.granted_ttl(), TTL.as_secs() as i64);
}

#[tokio::test]
async fn reads_what_go_kratos_wrote_nil_fields_included() {
    let etcd = EtcdServer::start().await;
    let mut client = raw(&etcd).await;
    client.put(GO_KEY, GO_VALUE, None).await.unwrap();
    client
        .put(
            "/microservices/helloworld/go-nil",
            r#"{"id":"go-nil","name":"helloworld","version":"","metadata":null,"endpoints":null}"#,
            None,
        )
        .await
        .unwrap();
    client
        .put("/microservices/helloworld/garbage", "not json", None)
        .await
        .unwrap();
    let registry = registry(&etcd, TTL).await;
    let list = registry.get_service("helloworld").await.unwrap();
    assert_eq!(list.len(), 2, "the invalid record is skipped: {list:?}");
    assert_eq!(list[0], fixture());
    assert_eq!(list[1], ServiceInstance::new("go-nil", "helloworld"));
}

#[tokio::test]
async fn custom_namespace_is_used_for_keys() {
    let etcd = EtcdServer::start().await;
    let registry = EtcdRegistry::builder([etcd.endpoint()])
        .namespace("/custom/")
        .ttl(TTL)
        .connect()
        .await
        .unwrap();
    assert_eq!(
        registry.key(&fixture()),
        format!("/custom/helloworld/{}", fixture().id)
    );
    registry.register(&fixture()).await.unwrap();
    let resp = raw(&etcd)
        .await
        .get(registry.key(&fixture()), None)
        .await
        .unwrap();
    assert_eq!(resp.kvs().len(), 1);
}
