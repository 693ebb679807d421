//! With sampling off: no span is exported, yet the client layer still
//! injects a (not sampled) `traceparent` and the server continues its trace.

use kratos_examples_api::helloworld::v1::HelloRequest;
use kratos_examples_api::helloworld::v1::greeter_client::GreeterClient;
use kratos_middleware::tracing::otlp::Sampling;

use crate::servers::message;

/// `trace=<id> sampled=false traceparent=00-<id>-<span>-00`, the same id twice.
fn assert_unsampled_propagation(reply: &str) {
    let (seen, header) = reply
        .split_once(" sampled=false traceparent=")
        .unwrap_or_else(|| panic!("not an unsampled reply: {reply}"));
    let trace = seen.strip_prefix("trace=").unwrap();
    let parts: Vec<&str> = header.split('-').collect();
    assert_eq!(parts.len(), 4, "{header}");
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        ("00", trace, "00"),
        "{reply}"
    );
    assert_ne!(trace, "00000000000000000000000000000000");
    assert_eq!(parts[2].len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_off_exports_nothing_but_still_propagates() {
    let crate::Traced {
        guard: _globals,
        collector,
        provider,
        servers,
        channel,
        http,
    } = crate::traced(Sampling::Never).await;

    let reply = GreeterClient::new(channel)
        .say_hello(HelloRequest { name: "ada".into() })
        .await
        .expect("hello")
        .into_inner()
        .message;
    assert_unsampled_propagation(&reply);

    let reply: serde_json::Value = http
        .invoke(http::Method::GET, "/hello/bob", &())
        .await
        .expect("hello over http");
    assert_unsampled_propagation(message(&reply));

    // A flush exports every finished span before it returns: none.
    crate::flush(&provider).await;
    servers.stop().await;
    crate::shutdown(provider).await;
    assert!(collector.spans().is_empty(), "{:#?}", collector.spans());
}
