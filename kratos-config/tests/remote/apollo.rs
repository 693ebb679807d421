//! Apollo: `GET /configs/{appId}/{cluster}/{namespace}` and the long-polling
//! `GET /notifications/v2`, as documented in Apollo's open API.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kratos_config::Config;
use kratos_config::remote::ApolloSource;
use serde_json::json;
use tokio::sync::{Notify, mpsc};

use crate::{next, serve};

/// How long the stand-in holds a poll with nothing new (Apollo: 60 s).
const HOLD: Duration = Duration::from_secs(2);

/// A namespace's configurations and its notification id.
type Namespace = (BTreeMap<String, String>, i64);

#[derive(Default)]
struct Apollo {
    namespaces: Mutex<HashMap<String, Namespace>>,
    changed: Notify,
}

impl Apollo {
    fn publish(&self, namespace: &str, configurations: &[(&str, &str)]) {
        let mut namespaces = self.namespaces.lock().unwrap();
        let entry = namespaces.entry(namespace.to_owned()).or_default();
        entry.0 = configurations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        entry.1 += 1;
        drop(namespaces);
        self.changed.notify_waiters();
    }
}

async fn configs(
    State(apollo): State<Arc<Apollo>>,
    Path((app_id, cluster, namespace)): Path<(String, String, String)>,
) -> Response {
    let namespaces = apollo.namespaces.lock().unwrap();
    match namespaces.get(&namespace) {
        Some((configurations, id)) => axum::Json(json!({
            "appId": app_id, "cluster": cluster, "namespaceName": namespace,
            "configurations": configurations, "releaseKey": format!("release-{id}"),
        }))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn notifications(
    State(apollo): State<Arc<Apollo>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Ok(known) = serde_json::from_str::<Vec<serde_json::Value>>(&query["notifications"]) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let deadline = tokio::time::Instant::now() + HOLD;
    loop {
        let changed = apollo.changed.notified();
        let current: Vec<serde_json::Value> = {
            let namespaces = apollo.namespaces.lock().unwrap();
            known
                .iter()
                .filter_map(|n| {
                    let name = n["namespaceName"].as_str()?;
                    let id = namespaces.get(name)?.1;
                    (id != n["notificationId"].as_i64()?)
                        .then(|| json!({"namespaceName": name, "notificationId": id}))
                })
                .collect()
        };
        if !current.is_empty() {
            return axum::Json(current).into_response();
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return StatusCode::NOT_MODIFIED.into_response();
        }
    }
}

#[tokio::test]
async fn apollo_loads_namespaces_and_sees_a_change() {
    let apollo = Arc::new(Apollo::default());
    apollo.publish(
        "application",
        &[("server.http.addr", ":8000"), ("log.level", "info")],
    );
    apollo.publish("orders.yaml", &[("content", "orders:\n  max: 10\n")]);
    let base = serve(
        axum::Router::new()
            .route("/configs/{app}/{cluster}/{namespace}", get(configs))
            .route("/notifications/v2", get(notifications))
            .with_state(apollo.clone()),
    )
    .await;

    let config = Config::builder()
        .source(ApolloSource::new(base, "orders").namespaces(["application", "orders.yaml"]))
        .build();
    config.load().await.unwrap();
    assert_eq!(config.get::<String>("server.http.addr").unwrap(), ":8000");
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 10);

    let (tx, mut rx) = mpsc::unbounded_channel();
    config
        .watch("orders.max", move |max: Option<u32>| {
            let _ = tx.send(max);
        })
        .unwrap();
    apollo.publish("orders.yaml", &[("content", "orders:\n  max: 25\n")]);
    assert_eq!(next(&mut rx).await, Some(25));
    assert_eq!(config.get::<String>("log.level").unwrap(), "info");
}
