//! TLS for both servers and both clients (feature `tls`): the types of
//! `kratos_net::tls`, re-exported.
//!
//! - Servers: [`HttpServerBuilder::tls`](crate::http::HttpServerBuilder::tls)
//!   and [`GrpcServerBuilder::tls`](crate::grpc::GrpcServerBuilder::tls) take
//!   a [`ServerTls`]; the server then advertises `https://` / `grpcs://`,
//!   offers ALPN `h2` (+ `http/1.1` for HTTP), completes each handshake in
//!   the connection's own task within the header-read timeout (10 s by
//!   default, [`Limits`](crate::Limits)), and asks its [`Identity`] for the
//!   certificate at each handshake (a file identity is re-read when its files
//!   change, so a rotated certificate needs no restart).
//! - Clients: [`ClientBuilder::tls`](crate::ClientBuilder::tls) takes a
//!   [`ClientTls`] (CA roots, client certificate, server name). Nodes
//!   registered as `grpcs://` or `https://` — or in Go Kratos's older form
//!   `grpc://host:port?isSecure=true` — are dialled over TLS, with that
//!   `ClientTls` or, without one, the system's roots; plain `grpc://` and
//!   `http://` nodes stay plaintext.
//!
//! ```no_run
//! use kratos_transport::grpc::GrpcServer;
//! use kratos_transport::tls::{Identity, ServerTls};
//!
//! # fn demo() -> Result<(), kratos_transport::tls::TlsError> {
//! let identity = Identity::from_pem_files("/etc/svc/tls.crt", "/etc/svc/tls.key")?;
//! let grpc = GrpcServer::builder()
//!     .address(([0, 0, 0, 0], 9000))
//!     .tls(ServerTls::new(identity).client_ca_pem_file("/etc/svc/clients-ca.pem"))
//!     .build();
//! # let _ = grpc;
//! # Ok(())
//! # }
//! ```

pub use kratos_net::tls::{ALPN_H2, ALPN_HTTP1, ClientTls, Identity, ServerTls, TlsError};
