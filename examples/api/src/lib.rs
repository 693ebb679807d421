//! The protobuf APIs the kratos-rs examples serve, generated at build time by
//! protox + tonic-prost-build, with serde derives for the HTTP/JSON side.
#![allow(missing_docs, clippy::all)]

/// `helloworld.v1`: the Greeter of the helloworld example.
pub mod helloworld {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("helloworld.v1");
    }
}

/// `echo.v1`: an Echo service with unary, server, client and bidi streaming
/// calls, used by the middleware tests.
pub mod echo {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("echo.v1");
    }
}
