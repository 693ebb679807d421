//! `grpc.health.v1.Health`, answering from the App's [`HealthState`].

use std::pin::Pin;
use std::sync::Arc;

use kratos_core::{Health, HealthState};
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{self, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// The standard gRPC health service, reporting the App's health for the
/// whole server (`service: ""`) and for every service the server hosts.
///
/// It reads the App's [`HealthState`] on each call, so a check made right
/// after the App starts stopping already answers NOT_SERVING.
#[derive(Debug, Clone)]
pub struct HealthService {
    health: HealthState,
    services: Arc<[&'static str]>,
}

impl HealthService {
    /// A health service for `services` (their full names, `pkg.Service`).
    pub fn new(health: HealthState, services: impl Into<Arc<[&'static str]>>) -> Self {
        Self {
            health,
            services: services.into(),
        }
    }

    /// This service as a tonic server, ready to add to a router.
    pub fn into_server(self) -> HealthServer<Self> {
        HealthServer::new(self)
    }

    fn knows(&self, service: &str) -> bool {
        service.is_empty() || self.services.contains(&service)
    }
}

fn response(health: Health) -> HealthCheckResponse {
    let status = match health {
        Health::Serving => ServingStatus::Serving,
        // NotServing, and any state added later.
        _ => ServingStatus::NotServing,
    };
    HealthCheckResponse {
        status: status as i32,
    }
}

#[tonic::async_trait]
impl health_server::Health for HealthService {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = &request.get_ref().service;
        if !self.knows(service) {
            return Err(Status::not_found(format!("unknown service {service}")));
        }
        Ok(Response::new(response(self.health.get())))
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = &request.get_ref().service;
        if !self.knows(service) {
            return Err(Status::not_found(format!("unknown service {service}")));
        }
        let stream = WatchStream::new(self.health.subscribe()).map(|health| Ok(response(health)));
        Ok(Response::new(Box::pin(stream)))
    }
}
