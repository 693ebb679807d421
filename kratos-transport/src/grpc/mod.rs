//! The gRPC server: any tonic service, served with the App's lifecycle, Kratos
//! errors as `google.rpc.ErrorInfo` details and the standard `grpc.health.v1`
//! service tied to the App's health, [`reflection`] (on by default); and
//! [`GrpcChannel`], the discovery-aware client channel.

mod client;
mod health;
pub(crate) mod methods;
pub mod reflection;
mod server;

pub use client::{BoxError, GrpcChannel, GrpcChannelBuilder, GrpcService};
pub use health::HealthService;
pub use server::{GrpcServer, GrpcServerBuilder};
