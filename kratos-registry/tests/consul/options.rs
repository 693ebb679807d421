//! ACL token and datacenter options.

use kratos_registry::consul::ConsulRegistry;
use kratos_registry::{Discovery, Registrar};
use kratos_testing::ConsulAgent;

use crate::common::{instance, unique_name};

#[tokio::test]
async fn the_acl_token_is_sent() {
    let agent = ConsulAgent::builder().acl_token("s3cret").start().await;
    let name = unique_name("acl");
    let a = instance(&name, "a");

    let without = ConsulRegistry::new(agent.address());
    let err = without.register(&a).await.unwrap_err();
    assert!(err.to_string().contains("ACL token"), "{err}");

    let with = ConsulRegistry::builder(agent.address())
        .token("s3cret")
        .build();
    with.register(&a).await.unwrap();
    assert_eq!(with.get_service(&name).await.unwrap(), vec![a.clone()]);
    with.deregister(&a).await.unwrap();
}

#[tokio::test]
async fn the_datacenter_is_sent() {
    let agent = ConsulAgent::builder().datacenter("eu1").start().await;
    let name = unique_name("dc");
    let a = instance(&name, "a");

    let elsewhere = ConsulRegistry::builder(agent.address())
        .datacenter("us9")
        .build();
    let err = elsewhere.get_service(&name).await.unwrap_err();
    assert!(err.to_string().contains("No path to datacenter"), "{err}");

    let here = ConsulRegistry::builder(agent.address())
        .datacenter("eu1")
        .build();
    here.register(&a).await.unwrap();
    assert_eq!(here.get_service(&name).await.unwrap(), vec![a.clone()]);
}
