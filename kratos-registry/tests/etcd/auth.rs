//! Username and password reach etcd.

use kratos_registry::etcd::EtcdRegistry;
use kratos_registry::{Discovery, Registrar};
use kratos_testing::EtcdServer;

use crate::common::{TTL, instance, raw};

#[tokio::test]
async fn user_and_password_are_used() {
    let etcd = EtcdServer::start().await;
    let mut admin = raw(&etcd).await;
    admin.user_add("root", "pw", None).await.unwrap();
    admin.user_grant_role("root", "root").await.unwrap();
    admin.auth_enable().await.unwrap();

    let anonymous = EtcdRegistry::builder([etcd.endpoint()])
        .ttl(TTL)
        .connect()
        .await
        .unwrap();
    let err = anonymous.register(&instance("a")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");

    let wrong = EtcdRegistry::builder([etcd.endpoint()])
        .user("root", "nope")
        .connect()
        .await;
    assert!(wrong.is_err());

    let root = EtcdRegistry::builder([etcd.endpoint()])
        .user("root", "pw")
        .ttl(TTL)
        .connect()
        .await
        .unwrap();
    root.register(&instance("a")).await.unwrap();
    assert_eq!(root.get_service("svc").await.unwrap(), vec![instance("a")]);
    root.deregister(&instance("a")).await.unwrap();
}
