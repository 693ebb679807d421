//! The protobuf APIs the kratos-rs examples serve, generated at build time by
//! kratos-build (protox + tonic-prost-build + pbjson): proto3 JSON serde,
//! tonic server/client, and HTTP routes, client, error helpers and OpenAPI
//! from the `google.api.http` and `errors` annotations.
#![allow(missing_docs, clippy::all)]

mod validate;

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

/// `kinds.v1`: a message with one field of every kind, for the JSON
/// fixtures against Go Kratos's encoding.
pub mod kinds {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kinds.v1");
    }
}

/// `api.*.v1`: the shop system of the `user_service`, `product_service`,
/// `order_service`, `gateway` and `chat_service` examples. Each service is served over gRPC
/// and HTTP/JSON from one implementation (`order_service_http::router`,
/// `order_service_grpc::server`), with error helpers (`ErrorReason`,
/// `is_order_not_found`) and `OPENAPI_JSON`.
pub mod api {
    /// Orders.
    pub mod order {
        /// Version 1.
        pub mod v1 {
            tonic::include_proto!("api.order.v1");
        }
    }

    /// Users.
    pub mod user {
        /// Version 1.
        pub mod v1 {
            tonic::include_proto!("api.user.v1");
        }
    }

    /// Products.
    pub mod product {
        /// Version 1.
        pub mod v1 {
            tonic::include_proto!("api.product.v1");
        }
    }

    /// The gateway: the shop's public JSON API.
    pub mod gateway {
        /// Version 1.
        pub mod v1 {
            tonic::include_proto!("api.gateway.v1");
        }
    }

    /// Chat rooms over a bidirectional stream.
    pub mod chat {
        /// Version 1.
        pub mod v1 {
            tonic::include_proto!("api.chat.v1");
        }
    }
}
