//! The code kratos-build generates from `examples/api/proto/api/order/v1/order.proto`:
//! one tonic implementation served over gRPC and HTTP/JSON, the HTTP client,
//! the error helpers, the OpenAPI document and request validation on both
//! transports.

mod client;
mod common;
mod decode;
mod errors;
mod json;
mod limits;
mod openapi;
mod operations;
mod reflection;
mod transports;
mod validate;
