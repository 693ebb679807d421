//! The light load client: HTTP/2 frames written straight with the `h2`
//! crate over one connection (as a tonic channel uses one), the URI, content
//! type and body built once (each call's head is assembled from them, as h2
//! takes it by value), each reply checked for its status,
//! its body and (gRPC) `grpc-status: 0`. No tower stack, no codec, no
//! per-call allocation but h2's own, so the client's CPU stays well under
//! its core where the tonic/hyper client saturates it.

use bytes::{Bytes, BytesMut};
use h2::client::SendRequest;
use http::{HeaderValue, Method, Request, Uri};

/// What one call sends and what its reply must be.
#[derive(Clone)]
pub struct Call {
    uri: Uri,
    content_type: HeaderValue,
    grpc: bool,
    body: Bytes,
    expect: Bytes,
}

impl Call {
    /// `SayHello{name: "load"}` as a unary gRPC call.
    pub fn grpc(port: u16) -> Self {
        Self {
            uri: format!("http://127.0.0.1:{port}/helloworld.v1.Greeter/SayHello")
                .parse()
                .expect("a URI"),
            content_type: HeaderValue::from_static("application/grpc"),
            grpc: true,
            body: grpc_frame(b"\x0a\x04load"),
            expect: grpc_frame(b"\x0a\x0aHello load"),
        }
    }

    /// `POST /hello {"name":"load"}` over HTTP/2 (prior knowledge).
    pub fn http(port: u16) -> Self {
        Self {
            uri: format!("http://127.0.0.1:{port}/hello")
                .parse()
                .expect("a URI"),
            content_type: HeaderValue::from_static("application/json"),
            grpc: false,
            body: Bytes::from_static(br#"{"name":"load"}"#),
            expect: Bytes::from_static(br#"{"message":"Hello load"}"#),
        }
    }

    fn request(&self) -> Request<()> {
        let mut req = Request::new(());
        *req.method_mut() = Method::POST;
        *req.uri_mut() = self.uri.clone();
        let headers = req.headers_mut();
        headers.insert(http::header::CONTENT_TYPE, self.content_type.clone());
        if self.grpc {
            headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        }
        req
    }
}

/// A length-prefixed, uncompressed gRPC message.
fn grpc_frame(message: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.extend_from_slice(&[0]);
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    frame.freeze()
}

/// One HTTP/2 connection; clones share it (one stream per call).
#[derive(Clone)]
pub struct H2 {
    send: SendRequest<Bytes>,
    call: Call,
}

impl H2 {
    pub async fn connect(port: u16, call: Call) -> Self {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connected");
        tcp.set_nodelay(true).expect("nodelay");
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 24)
            .handshake(tcp)
            .await
            .expect("an HTTP/2 handshake");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Self { send, call }
    }

    /// One call; `true` when the reply was exactly the expected one.
    pub async fn call(&mut self) -> bool {
        self.try_call().await.unwrap_or(false)
    }

    async fn try_call(&mut self) -> Result<bool, h2::Error> {
        let mut send = self.send.clone().ready().await?;
        let (reply, mut stream) = send.send_request(self.call.request(), false)?;
        stream.send_data(self.call.body.clone(), true)?;
        let reply = reply.await?;
        if reply.status() != http::StatusCode::OK {
            return Ok(false);
        }
        let mut body = reply.into_body();
        let mut matched = 0;
        let mut same = true;
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            same &= self.call.expect.get(matched..matched + chunk.len()) == Some(&chunk[..]);
            matched += chunk.len();
        }
        same &= matched == self.call.expect.len();
        if self.call.grpc {
            let trailers = body.trailers().await?;
            let status = trailers.as_ref().and_then(|t| t.get("grpc-status"));
            same &= status.is_some_and(|s| s == "0");
        }
        Ok(same)
    }
}
