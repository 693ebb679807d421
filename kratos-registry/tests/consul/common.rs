//! Helpers shared by the Consul tests.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kratos_registry::ServiceInstance;
use kratos_registry::consul::{ConsulRegistry, ConsulRegistryBuilder};
use kratos_testing::ConsulAgent;

/// The heartbeat the tests use (the check TTL is twice this).
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(250);

/// The agent under test: the stand-in, or a real one from `CONSUL_HTTP_ADDR`.
pub(crate) enum Agent {
    StandIn(ConsulAgent),
    Real(String),
}

impl Agent {
    pub(crate) async fn start() -> Self {
        match std::env::var("CONSUL_HTTP_ADDR") {
            Ok(addr) if !addr.is_empty() => Agent::Real(addr),
            _ => Agent::StandIn(ConsulAgent::start().await),
        }
    }

    pub(crate) fn address(&self) -> String {
        match self {
            Agent::StandIn(a) => a.address(),
            Agent::Real(addr) => addr.clone(),
        }
    }

    /// The stand-in, or `None` (and a note) against a real agent.
    pub(crate) fn stand_in(&self, test: &str) -> Option<&ConsulAgent> {
        match self {
            Agent::StandIn(a) => Some(a),
            Agent::Real(_) => {
                eprintln!("{test}: needs the stand-in agent; skipped against CONSUL_HTTP_ADDR");
                None
            }
        }
    }

    pub(crate) fn builder(&self) -> ConsulRegistryBuilder {
        let mut b = ConsulRegistry::builder(self.address())
            .heartbeat(HEARTBEAT)
            .deregister_critical_after(Duration::from_secs(60))
            .blocking_wait(Duration::from_secs(5))
            .request_timeout(Duration::from_secs(1))
            .retry_backoff(Duration::from_millis(50), Duration::from_millis(500));
        if let Ok(token) = std::env::var("CONSUL_HTTP_TOKEN")
            && !token.is_empty()
        {
            b = b.token(token);
        }
        b
    }

    pub(crate) fn registry(&self) -> ConsulRegistry {
        self.builder().build()
    }
}

/// A service name unique to this run, so tests sharing a real agent do not meet.
pub(crate) fn unique_name(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "kratos-test-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn instance(name: &str, id: &str) -> ServiceInstance {
    ServiceInstance::new(format!("{name}-{id}"), name)
        .with_version("v1")
        .with_metadata("zone", "z1")
        .with_endpoint(format!("grpc://127.0.0.1:{}", 9000 + id.len()))
        .with_endpoint(format!("http://127.0.0.1:{}", 8000 + id.len()))
}

pub(crate) fn ids(list: &[ServiceInstance]) -> Vec<String> {
    list.iter().map(|i| i.id.clone()).collect()
}
