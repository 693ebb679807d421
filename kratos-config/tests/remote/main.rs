//! Remote config sources against stand-ins that follow each service's
//! documented HTTP protocol, long polls included.

mod apollo;
mod consul;
mod etcd;
mod nacos;

use std::time::Duration;

use tokio::sync::mpsc;

/// Serves `router` on a free loopback port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Waits (bounded) for the next observed value.
pub async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the observer fired in time")
        .expect("the observer is alive")
}
