//! etcd (real, started by the test): a put is seen, and watching survives a
//! restart of etcd.

use std::time::Duration;

use etcd_client::Client;
use kratos_config::Config;
use kratos_config::remote::EtcdSource;
use kratos_testing::EtcdServer;
use tokio::sync::mpsc;

use crate::next;

const KEY: &str = "/configs/orders/config.yaml";

async fn put(etcd: &EtcdServer, value: &str) {
    // A fresh client each time: the test's own connection must not depend on
    // the one under test.
    let mut client = Client::connect([etcd.endpoint()], None).await.unwrap();
    client.put(KEY, value, None).await.unwrap();
}

#[tokio::test]
async fn a_put_is_observed_and_watching_survives_a_restart() {
    let mut etcd = EtcdServer::start().await;
    put(&etcd, "orders:\n  max: 10\n").await;
    let source = EtcdSource::connect([etcd.endpoint()], KEY).await.unwrap();
    let config = Config::builder().source(source).build();
    config.load().await.unwrap();
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 10);

    let (tx, mut rx) = mpsc::unbounded_channel();
    config
        .watch("orders.max", move |max: Option<u32>| {
            let _ = tx.send(max);
        })
        .unwrap();

    let started = tokio::time::Instant::now();
    put(&etcd, "orders:\n  max: 20\n").await;
    assert_eq!(next(&mut rx).await, Some(20));
    eprintln!("etcd put -> observer: {:?}", started.elapsed());

    // Down, then back on the same data: the last good value answers meanwhile.
    etcd.kill();
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 20);
    etcd.restart().await;
    put(&etcd, "orders:\n  max: 30\n").await;
    assert_eq!(next(&mut rx).await, Some(30));

    // Back with all state lost: the revision starts over and is still followed.
    etcd.restart_fresh().await;
    put(&etcd, "orders:\n  max: 40\n").await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .expect("seen after a fresh restart"),
        Some(Some(40))
    );
}
