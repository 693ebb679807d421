//! A generated route's request body is bounded by the server's limit.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::start;

#[tokio::test]
async fn a_100_mb_body_to_a_generated_route_is_413_without_being_read() {
    let app = start().await;
    let url = format!("{}/api/v1/orders", app.http);
    let chunk = Bytes::from(vec![b' '; 1 << 20]);
    let body =
        StreamBody::new(tokio_stream::iter((0..100).map(move |_| {
            Ok::<_, std::io::Error>(http_body::Frame::data(chunk.clone()))
        })));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let req = http::Request::post(&url)
        .header("content-type", "application/json")
        .header("content-length", (100usize << 20).to_string())
        .body(body)
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(60), client.request(req))
        .await
        .expect("an answer")
        .expect("an answer before the body is sent");
    assert_eq!(res.status(), 413);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (body["code"].as_u64(), body["reason"].as_str()),
        (Some(413), Some("PAYLOAD_TOO_LARGE")),
        "{body}"
    );
    app.stop().await;
}
