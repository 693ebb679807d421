//! The gRPC server: any tonic service, served with the App's lifecycle, Kratos
//! errors as `google.rpc.ErrorInfo` details and the standard `grpc.health.v1`
//! service tied to the App's health.

mod health;
mod server;

pub use health::HealthService;
pub use server::{GrpcServer, GrpcServerBuilder};
