//! Compiles the example protos with kratos-build (protox inside: pure Rust,
//! no system protoc): prost messages with proto3 JSON, tonic server and
//! client, HTTP routes/client from `google.api.http`, error helpers, OpenAPI.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/helloworld/v1/greeter.proto",
        "proto/echo/v1/echo.proto",
        "proto/api/order/v1/order.proto",
        "proto/api/user/v1/user.proto",
        "proto/api/product/v1/product.proto",
        "proto/api/gateway/v1/gateway.proto",
        "proto/api/chat/v1/chat.proto",
        "proto/kinds/v1/kinds.proto",
    ];
    // This crate depends on kratos-transport, prost, tonic … itself (it is
    // shared by the sub-crates' tests), not on the facade.
    kratos_build::configure()
        .without_facade()
        .compile(&protos, &["proto"])?;
    Ok(())
}
