//! Nacos: `GET /nacos/v1/cs/configs` and the long-polling
//! `POST /nacos/v1/cs/configs/listener`, as documented in Nacos's open API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kratos_config::Config;
use kratos_config::remote::NacosSource;
use md5::{Digest, Md5};
use tokio::sync::{Notify, mpsc};

use crate::{next, serve};

#[derive(Default)]
struct Nacos {
    /// (data id, group) → content
    configs: Mutex<HashMap<(String, String), String>>,
    changed: Notify,
}

impl Nacos {
    fn publish(&self, data_id: &str, group: &str, content: &str) {
        self.configs
            .lock()
            .unwrap()
            .insert((data_id.into(), group.into()), content.into());
        self.changed.notify_waiters();
    }
}

fn md5_hex(content: &str) -> String {
    Md5::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn get_config(
    State(nacos): State<Arc<Nacos>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let key = (query["dataId"].clone(), query["group"].clone());
    match nacos.configs.lock().unwrap().get(&key) {
        Some(content) => content.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "config data not exist").into_response(),
    }
}

async fn listener(
    State(nacos): State<Arc<Nacos>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let hold = headers
        .get("Long-Pulling-Timeout")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .map_or(Duration::from_secs(30), Duration::from_millis)
        // The stand-in holds at most 2 s so the test stays short.
        .min(Duration::from_secs(2));
    let listening = form.get("Listening-Configs").cloned().unwrap_or_default();
    let wanted: Vec<Vec<String>> = listening
        .split('\u{1}')
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\u{2}').map(str::to_owned).collect())
        .collect();
    let deadline = tokio::time::Instant::now() + hold;
    loop {
        let changed = nacos.changed.notified();
        let answer: String = {
            let configs = nacos.configs.lock().unwrap();
            wanted
                .iter()
                .filter(|w| w.len() >= 3)
                .filter(|w| {
                    let current = configs.get(&(w[0].clone(), w[1].clone()));
                    current.map(|c| md5_hex(c)) != Some(w[2].clone())
                })
                .map(|w| format!("{}\u{2}{}\u{1}", w[0], w[1]))
                .collect()
        };
        if !answer.is_empty() {
            return form_urlencoded::byte_serialize(answer.as_bytes())
                .collect::<String>()
                .into_response();
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return String::new().into_response();
        }
    }
}

#[tokio::test]
async fn nacos_loads_a_config_and_sees_a_change() {
    let nacos = Arc::new(Nacos::default());
    nacos.publish("orders.yaml", "DEFAULT_GROUP", "orders:\n  max: 10\n");
    let base = serve(
        axum::Router::new()
            .route("/nacos/v1/cs/configs", get(get_config))
            .route("/nacos/v1/cs/configs/listener", post(listener))
            .with_state(nacos.clone()),
    )
    .await;

    let config = Config::builder()
        .source(NacosSource::new(base, "orders.yaml"))
        .build();
    config.load().await.unwrap();
    assert_eq!(config.get::<u32>("orders.max").unwrap(), 10);

    let (tx, mut rx) = mpsc::unbounded_channel();
    config
        .watch("orders.max", move |max: Option<u32>| {
            let _ = tx.send(max);
        })
        .unwrap();
    nacos.publish("orders.yaml", "DEFAULT_GROUP", "orders:\n  max: 30\n");
    assert_eq!(next(&mut rx).await, Some(30));
}
