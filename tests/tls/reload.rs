//! The certificate file replaced on disk: new connections get the new
//! certificate, an open connection carries on.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use kratos::registry::MemoryRegistry;
use kratos::tls::{ALPN_HTTP1, Identity};
use kratos_testing::TestPki;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::common;

/// An HTTP/1.1 connection over TLS to `addr`, and the certificate the server
/// presented on it.
async fn connect(
    pki: &TestPki,
    addr: &str,
) -> (http1::SendRequest<Empty<Bytes>>, CertificateDer<'static>) {
    let config = common::client_tls(pki)
        .client_config(&[ALPN_HTTP1])
        .expect("a client config");
    let tcp = TcpStream::connect(addr).await.expect("TCP connect");
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(Arc::clone(&config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("a peer certificate")[0]
        .clone();
    let (send, conn) = http1::handshake(TokioIo::new(tls))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(conn);
    (send, presented)
}

/// `GET /health` on an open connection.
async fn health(send: &mut http1::SendRequest<Empty<Bytes>>) -> u16 {
    send.ready().await.expect("the connection is open");
    let req = http::Request::get("/health")
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.expect("an answer");
    let status = resp.status().as_u16();
    resp.into_body().collect().await.expect("a whole body");
    status
}

/// The leaf certificate in the PKI's server files now.
fn on_disk(pki: &TestPki) -> CertificateDer<'static> {
    Identity::from_pem_files(pki.server_cert_path(), pki.server_key_path())
        .unwrap()
        .certificate_chain()[0]
        .clone()
}

#[tokio::test]
async fn a_replaced_certificate_reaches_new_connections_and_open_ones_carry_on() {
    let pki = TestPki::new();
    let registry = MemoryRegistry::new();
    let app = common::start(common::server_tls(&pki), &registry).await;
    let addr = app
        .endpoints()
        .iter()
        .find_map(|e| e.strip_prefix("https://"))
        .expect("an https endpoint")
        .to_owned();

    let first = on_disk(&pki);
    let (mut open, presented) = connect(&pki, &addr).await;
    assert_eq!(presented, first);
    assert_eq!(health(&mut open).await, 200);

    pki.reissue_server("kratos-test-server-rotated");
    let second = on_disk(&pki);
    assert_ne!(second, first, "the reissued certificate differs");

    // A new connection sees the new certificate, without a restart.
    let (mut fresh, presented) = connect(&pki, &addr).await;
    assert_eq!(presented, second);
    assert_eq!(health(&mut fresh).await, 200);

    // The connection made before the rotation still works.
    assert_eq!(health(&mut open).await, 200);

    // The discovery clients dial the rotated server too.
    let client = common::http_client(&registry, common::client_tls(&pki)).await;
    common::hello(&client)
        .await
        .expect("GET /hello after the rotation");

    app.stop().await.unwrap();
}
