//! mTLS: a client without a certificate signed by the client CA is refused.

use kratos::registry::MemoryRegistry;
use kratos_testing::TestPki;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::common;

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_and_one_with_it_served() {
    let pki = TestPki::new();
    let registry = MemoryRegistry::new();
    let tls = common::server_tls(&pki).client_ca_pem_file(pki.ca_path());
    assert!(tls.requires_client_cert());
    let app = common::start(tls, &registry).await;

    // No client certificate: refused on both transports.
    let channel = common::grpc_channel(&registry, common::client_tls(&pki)).await;
    let status = common::health_check(channel).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    let client = common::http_client(&registry, common::client_tls(&pki)).await;
    let err = common::hello(&client).await.unwrap_err();
    assert_eq!(err.code(), 503, "{err:?}");
    // TLS 1.3: the server's refusal arrives as an alert after the
    // client's side of the handshake, on the first exchange.
    assert!(
        status.message().contains("CertificateRequired"),
        "{status:?}"
    );
    assert!(err.message().contains("CertificateRequired"), "{err:?}");

    // A certificate from another CA: refused too.
    let other = TestPki::new();
    let stranger = common::client_tls(&pki).identity(common::client_identity(&other));
    let client = common::http_client(&registry, stranger).await;
    let err = common::hello(&client).await.unwrap_err();
    assert_eq!(err.code(), 503, "{err:?}");
    assert!(err.message().contains("UnknownCA"), "{err:?}");

    // With the client certificate: served on both.
    let with_cert = common::client_tls(&pki).identity(common::client_identity(&pki));
    let channel = common::grpc_channel(&registry, with_cert.clone()).await;
    let status = common::health_check(channel)
        .await
        .expect("a health check with mTLS");
    assert_eq!(status, ServingStatus::Serving as i32);
    let client = common::http_client(&registry, with_cert).await;
    let reply = common::hello(&client).await.expect("GET /hello with mTLS");
    assert_eq!(reply, serde_json::json!({"hello": "tls"}));

    app.stop().await.unwrap();
}
