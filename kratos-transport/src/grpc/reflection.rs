//! gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), as Go Kratos
//! registers it by default: `grpcurl list` and `grpcurl describe` work
//! against a [`GrpcServer`](super::GrpcServer).
//!
//! Like Go's global proto registry, descriptors are registered process-wide:
//! the `<service>_grpc::server` functions kratos-build generates call
//! [`register`] with their `FILE_DESCRIPTOR_SET`. A server lists the services
//! added to it (and health and reflection) and resolves symbols from every
//! registered descriptor. The index is built on the first reflection request,
//! not when the server starts (so a set registered after the start is seen
//! too, and an invalid one is answered as 500 `REFLECTION` to that request).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};

use futures_util::future::Either;
use kratos_core::Error;
use kratos_core::sync::LockExt;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic_reflection::server::{v1, v1alpha};
use tower_service::Service;

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

/// The encoded `FileDescriptorSet`s registered so far.
pub(crate) fn registered() -> Vec<&'static [u8]> {
    REGISTERED.lock_unpoisoned().clone()
}

/// The services the reflection service itself adds to a server.
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The v1 and v1alpha reflection services of a server hosting `services`
/// (health included by the caller), over every registered descriptor.
/// Each is built on its first request: decoding every registered descriptor
/// set took 1.6 ms and 0.4 MiB of a release helloworld's 4.1 ms start, for
/// an endpoint only tools call.
pub(crate) fn services(
    services: Vec<&'static str>,
) -> (
    Lazy<v1::ServerReflectionServer<impl v1::ServerReflection>>,
    Lazy<v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>>,
) {
    let services: Arc<[&'static str]> = services.into();
    let names = services.clone();
    (
        Lazy::new(move || configure(&names).build_v1().map_err(invalid)),
        Lazy::new(move || configure(&services).build_v1alpha().map_err(invalid)),
    )
}

/// A reflection builder over every registered descriptor, listing
/// `services`.
fn configure(services: &[&'static str]) -> tonic_reflection::server::Builder<'static> {
    // Health and both reflection versions: each version lists, and so
    // must describe, the other one too.
    let mut builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET);
    for set in REGISTERED.lock_unpoisoned().iter() {
        builder = builder.register_encoded_file_descriptor_set(set);
    }
    for name in services.iter().chain(&REFLECTION_SERVICES) {
        builder = builder.with_service_name(*name);
    }
    builder
}

fn invalid(err: tonic_reflection::server::Error) -> Error {
    Error::internal_server(
        "REFLECTION",
        format!("a registered file descriptor set is invalid: {err}"),
    )
}

/// A service built on its first call and shared by every clone after; a
/// build that failed answers each call with its error.
pub(crate) struct Lazy<S>(Arc<LazyLock<Result<S, Error>, Build<S>>>);

type Build<S> = Box<dyn FnOnce() -> Result<S, Error> + Send>;

impl<S> Lazy<S> {
    fn new(build: impl FnOnce() -> Result<S, Error> + Send + 'static) -> Self {
        Self(Arc::new(LazyLock::new(Box::new(build))))
    }
}

impl<S> Clone for Lazy<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: NamedService> NamedService for Lazy<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for Lazy<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<http::Response<Body>, Infallible>>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The reflection servers are always ready (tonic's generated
        // servers are), and the built one is cloned per call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        match &**self.0 {
            Ok(service) => Either::Left(service.clone().call(req)),
            Err(err) => Either::Right(ready(Ok(tonic::Status::from(err.clone()).into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tower::util::BoxCloneService;

    use super::*;

    type Svc = BoxCloneService<http::Request<Body>, http::Response<Body>, Infallible>;

    fn ok() -> Svc {
        BoxCloneService::new(tower::service_fn(|_req| async {
            Ok::<_, Infallible>(http::Response::new(Body::empty()))
        }))
    }

    #[tokio::test]
    async fn built_once_on_the_first_call_and_shared_by_clones() {
        static BUILDS: AtomicUsize = AtomicUsize::new(0);
        let first = Lazy::new(|| {
            BUILDS.fetch_add(1, Ordering::SeqCst);
            Ok(ok())
        });
        let second = first.clone();
        assert_eq!(BUILDS.load(Ordering::SeqCst), 0, "built before any call");
        for mut service in [first.clone(), second, first] {
            let res = service
                .call(http::Request::new(Body::empty()))
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        assert_eq!(BUILDS.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_build_answers_its_error() {
        let mut service = Lazy::<Svc>::new(|| {
            Err(Error::internal_server(
                "REFLECTION",
                "a registered file descriptor set is invalid",
            ))
        });
        let res = service
            .call(http::Request::new(Body::empty()))
            .await
            .unwrap();
        let status = tonic::Status::from_header_map(res.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::Internal);
        let err = Error::from_status(&status);
        assert_eq!(
            (err.reason(), err.message()),
            ("REFLECTION", "a registered file descriptor set is invalid")
        );
    }
}
