//! gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), as Go Kratos
//! registers it by default: `grpcurl list` and `grpcurl describe` work
//! against a [`GrpcServer`](super::GrpcServer).
//!
//! Like Go's global proto registry, descriptors are registered process-wide:
//! the `<service>_grpc::server` functions kratos-build generates call
//! [`register`] with their `FILE_DESCRIPTOR_SET`. A server lists the services
//! added to it (and health and reflection) and resolves symbols from every
//! registered descriptor.

use std::sync::Mutex;

use kratos_core::Error;
use kratos_core::sync::LockExt;
use tonic_reflection::server::{v1, v1alpha};

/// The encoded `FileDescriptorSet`s registered so far.
static REGISTERED: Mutex<Vec<&'static [u8]>> = Mutex::new(Vec::new());

/// Registers an encoded `FileDescriptorSet` for reflection (idempotent:
/// the same set registered twice is kept once). Generated servers call it;
/// call it yourself for a plain tonic service, or use
/// [`GrpcServerBuilder::file_descriptor_set`](super::GrpcServerBuilder::file_descriptor_set).
pub fn register(file_descriptor_set: &'static [u8]) {
    let mut registered = REGISTERED.lock_unpoisoned();
    if !registered
        .iter()
        .any(|set| std::ptr::eq(*set, file_descriptor_set) || *set == file_descriptor_set)
    {
        registered.push(file_descriptor_set);
    }
}

/// The services the reflection service itself adds to a server.
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The v1 and v1alpha reflection services of a server hosting `services`
/// (health included by the caller), over every registered descriptor.
pub(crate) fn services(
    services: &[&str],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    Error,
> {
    let configure = || {
        // Health and both reflection versions: each version lists, and so
        // must describe, the other one too.
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            );
        for set in REGISTERED.lock_unpoisoned().iter() {
            builder = builder.register_encoded_file_descriptor_set(set);
        }
        for name in services.iter().chain(&REFLECTION_SERVICES) {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    let invalid = |err: tonic_reflection::server::Error| {
        Error::internal_server(
            "REFLECTION",
            format!("a registered file descriptor set is invalid: {err}"),
        )
    };
    Ok((
        configure().build_v1().map_err(invalid)?,
        configure().build_v1alpha().map_err(invalid)?,
    ))
}
