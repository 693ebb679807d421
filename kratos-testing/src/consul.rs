//! An in-process stand-in for a Consul agent (no Consul binary can be
//! installed on the machines the tests run on).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

/// The longest `wait` a blocking query may ask for (Consul's limit).
const MAX_WAIT: Duration = Duration::from_secs(600);
/// The `wait` of a blocking query that names none (Consul's default).
const DEFAULT_WAIT: Duration = Duration::from_secs(300);
const NODE: &str = "kratos-standin";

/// A stand-in Consul agent: an axum HTTP server on `127.0.0.1:<free port>`
/// that follows the documented Consul HTTP API closely enough for clients
/// to be tested against it. Shut down when dropped.
///
/// # Endpoints
///
/// Agent (state local to this agent, forgotten by [`ConsulAgent::restart`]):
///
/// - `PUT /v1/agent/service/register`: `ID` (defaults to `Name`), `Name`,
///   `Tags`, `Address`, `Port`, `Meta`, `TaggedAddresses`
///   (`{"lan": {"Address", "Port"}}`), `Check` or `Checks`. A check with a
///   `TTL` (a Go duration such as `"10s"`) starts `critical` (or its
///   `Status`) and turns `critical` when no update arrives within the TTL;
///   `DeregisterCriticalServiceAfter` removes the service once a check has
///   been critical that long. Check ids default to `service:<ID>` (with one
///   check) or `service:<ID>:<n>` (with several). Other check kinds (HTTP,
///   TCP, ...) are not run and count as `passing`.
/// - `PUT /v1/agent/service/deregister/<id>`: 404 `Unknown service ID` when
///   the agent does not know it.
/// - `PUT /v1/agent/check/update/<check_id>` (`{"Status","Output"}`) and
///   `PUT /v1/agent/check/{pass,warn,fail}/<check_id>`: 404
///   `Unknown check ID` when the agent does not know the check (after a
///   restart, say), as Consul ≥ 1.11 answers.
/// - `GET /v1/agent/services`: the registered services by id.
///
/// Health and catalog:
///
/// - `GET /v1/health/service/<name>?passing&tag=&index=&wait=`: an array of
///   `{Node, Service, Checks}`; `passing` keeps only entries whose checks
///   all pass.
/// - `GET /v1/catalog/services`: `{name: [tags]}`.
/// - `GET /v1/status/leader`.
///
/// KV store (kept across [`ConsulAgent::restart`], as it lives on the
/// servers):
///
/// - `GET /v1/kv/<key>`: `[{LockIndex, Key, Flags, Value (base64),
///   CreateIndex, ModifyIndex}]`, or 404 when nothing matches; `?recurse`
///   reads every key under the prefix, `?keys` (with optional `separator`)
///   lists key names, `?raw` answers the bare value.
/// - `PUT /v1/kv/<key>` with the raw value as body (`?flags=`, `?cas=`):
///   answers `true`, or `false` when the check-and-set failed.
/// - `DELETE /v1/kv/<key>` (`?recurse`, `?cas=`): answers `true`/`false`.
///
/// # Blocking queries
///
/// Every answer carries `X-Consul-Index`: the raft-like index of the last
/// write that touched what the query reads (the service's registrations and
/// check states, or the KV keys under the prefix, deletions included), never
/// less than 1. A `GET` with `index=N` (N > 0) waits until that index
/// exceeds N or `wait` elapses (a Go duration, default 5 min, at most
/// 10 min) and then answers the current state, changed or not.
///
/// # Options
///
/// [`ConsulAgent::builder`] sets an ACL token every request must carry
/// (`X-Consul-Token`, `Authorization: Bearer` or `?token=`; 403 otherwise)
/// and the datacenter name (`dc1`; `?dc=` naming another one is a 500
/// `No path to datacenter`).
#[derive(Debug)]
pub struct ConsulAgent {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
    expiry: tokio::task::JoinHandle<()>,
}

/// Options of a [`ConsulAgent`].
#[derive(Debug, Default)]
pub struct ConsulAgentBuilder {
    token: Option<String>,
    datacenter: Option<String>,
}

impl ConsulAgentBuilder {
    /// Requires this ACL token on every request.
    pub fn acl_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Names the datacenter (default `dc1`).
    pub fn datacenter(mut self, dc: impl Into<String>) -> Self {
        self.datacenter = Some(dc.into());
        self
    }

    /// Starts the agent on `127.0.0.1` and a free port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start(self) -> ConsulAgent {
        let shared = Arc::new(Shared {
            state: Mutex::new(AgentState {
                index: 1,
                ..AgentState::default()
            }),
            changed: watch::channel(1).0,
            token: self.token,
            datacenter: self.datacenter.unwrap_or_else(|| "dc1".to_owned()),
            down: AtomicBool::new(false),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the stand-in Consul agent");
        let addr = listener.local_addr().expect("a bound address");
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let expiry = tokio::spawn(expire_checks(shared.clone()));
        ConsulAgent {
            addr,
            shared,
            server,
            expiry,
        }
    }
}

impl ConsulAgent {
    /// Starts an agent with default options.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Options: ACL token, datacenter.
    pub fn builder() -> ConsulAgentBuilder {
        ConsulAgentBuilder::default()
    }

    /// The agent's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Simulates an agent restart without persisted state: every registered
    /// service and check is forgotten (the KV store is kept). Watchers see
    /// the services leave; registrars find out when their next TTL update is
    /// answered with 404.
    pub fn restart(&self) {
        let mut st = self.shared.lock();
        let names: Vec<String> = st.services.values().map(|s| s.name.clone()).collect();
        st.services.clear();
        let index = st.bump();
        for name in names {
            st.service_index.insert(name, index);
        }
        drop(st);
        self.shared.notify();
    }

    /// While `down` is true every request is answered with 500 `No cluster
    /// leader`, as an agent that lost its servers does.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
        self.shared.notify();
    }

    /// The ids of the registered services (a test helper).
    pub fn service_ids(&self) -> Vec<String> {
        self.shared.lock().services.keys().cloned().collect()
    }

    /// The status (`passing`, `warning`, `critical`) of a check (a test helper).
    pub fn check_status(&self, check_id: &str) -> Option<String> {
        let st = self.shared.lock();
        st.services
            .values()
            .flat_map(|s| s.checks.iter())
            .find(|c| c.id == check_id)
            .map(|c| c.status.clone())
    }

    /// The current index (a test helper).
    pub fn index(&self) -> u64 {
        self.shared.lock().index
    }
}

impl Drop for ConsulAgent {
    fn drop(&mut self) {
        self.server.abort();
        self.expiry.abort();
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<AgentState>,
    changed: watch::Sender<u64>,
    token: Option<String>,
    datacenter: String,
    down: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, AgentState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        let index = self.lock().index;
        self.changed.send_replace(index);
    }
}

#[derive(Debug, Default)]
struct AgentState {
    index: u64,
    services: BTreeMap<String, AgentService>,
    service_index: HashMap<String, u64>,
    kv: BTreeMap<String, KvEntry>,
    kv_tombstones: BTreeMap<String, u64>,
}

impl AgentState {
    fn bump(&mut self) -> u64 {
        self.index += 1;
        self.index
    }

    fn touch_service(&mut self, name: &str) {
        let index = self.bump();
        self.service_index.insert(name.to_owned(), index);
    }
}

#[derive(Debug, Clone)]
struct AgentService {
    id: String,
    name: String,
    tags: Vec<String>,
    address: String,
    port: u16,
    meta: BTreeMap<String, String>,
    tagged_addresses: BTreeMap<String, Value>,
    checks: Vec<AgentCheck>,
    create_index: u64,
}

#[derive(Debug, Clone)]
struct AgentCheck {
    id: String,
    name: String,
    status: String,
    output: String,
    ttl: Option<Duration>,
    /// When a TTL check turns critical without an update.
    deadline: Option<Instant>,
    deregister_after: Option<Duration>,
    critical_since: Option<Instant>,
}

impl AgentCheck {
    fn set_status(&mut self, status: &str, output: String, now: Instant) {
        if status == "critical" {
            if self.status != "critical" || self.critical_since.is_none() {
                self.critical_since = Some(now);
            }
        } else {
            self.critical_since = None;
        }
        self.status = status.to_owned();
        self.output = output;
        self.deadline = self.ttl.map(|ttl| now + ttl);
    }
}

#[derive(Debug, Clone)]
struct KvEntry {
    value: Vec<u8>,
    flags: u64,
    create_index: u64,
    modify_index: u64,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RegisterBody {
    #[serde(rename = "ID")]
    id: Option<String>,
    name: String,
    tags: Option<Vec<String>>,
    address: Option<String>,
    port: Option<u16>,
    meta: Option<BTreeMap<String, String>>,
    tagged_addresses: Option<BTreeMap<String, Value>>,
    check: Option<CheckBody>,
    checks: Option<Vec<CheckBody>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckBody {
    #[serde(rename = "CheckID")]
    check_id: Option<String>,
    name: Option<String>,
    #[serde(rename = "TTL")]
    ttl: Option<String>,
    deregister_critical_service_after: Option<String>,
    status: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckUpdateBody {
    status: Option<String>,
    output: Option<String>,
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/agent/service/register", put(register))
        .route("/v1/agent/service/deregister/{id}", put(deregister))
        .route("/v1/agent/check/update/{id}", put(check_update))
        .route("/v1/agent/check/pass/{id}", put(check_as("passing")))
        .route("/v1/agent/check/warn/{id}", put(check_as("warning")))
        .route("/v1/agent/check/fail/{id}", put(check_as("critical")))
        .route("/v1/agent/services", get(agent_services))
        .route("/v1/health/service/{name}", get(health_service))
        .route("/v1/catalog/services", get(catalog_services))
        .route("/v1/status/leader", get(|| async { "\"127.0.0.1:8300\"" }))
        .route("/v1/kv", get(kv_get).put(kv_put).delete(kv_delete))
        .route("/v1/kv/", get(kv_get).put(kv_put).delete(kv_delete))
        .route("/v1/kv/{*key}", get(kv_get).put(kv_put).delete(kv_delete))
        .with_state(shared)
}

/// Parsed query string; flags without a value (`?passing&recurse`) count as present.
#[derive(Debug, Default)]
struct Query(HashMap<String, String>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        let mut map = HashMap::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.insert(percent_decode(k), percent_decode(v));
        }
        Self(map)
    }

    fn has(&self, key: &str) -> bool {
        self.0
            .get(key)
            .is_some_and(|v| v.is_empty() || v == "true" || v == "1")
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn index(&self) -> u64 {
        self.get("index").and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    fn wait(&self) -> Duration {
        self.get("wait")
            .and_then(parse_go_duration)
            .unwrap_or(DEFAULT_WAIT)
            .min(MAX_WAIT)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a Go duration such as `10s`, `1.5s`, `300ms`, `1m30s`.
fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    Some(Duration::from_secs_f64(total))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

/// Checks the ACL token, the datacenter and the simulated outage; `Some`
/// is the refusal to answer.
fn admit(shared: &Shared, headers: &HeaderMap, query: &Query) -> Option<Response> {
    if shared.down.load(Ordering::SeqCst) {
        return Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No cluster leader",
        ));
    }
    if let Some(dc) = query.get("dc")
        && !dc.is_empty()
        && dc != shared.datacenter
    {
        return Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("No path to datacenter {dc:?}"),
        ));
    }
    if let Some(required) = &shared.token {
        let given = headers
            .get("x-consul-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_owned)
            })
            .or_else(|| query.get("token").map(str::to_owned));
        if given.as_deref() != Some(required.as_str()) {
            return Some(error(StatusCode::FORBIDDEN, "ACL not found"));
        }
    }
    None
}

/// The query of a request the agent admitted (see [`admit`]): what every
/// endpoint starts with; a request that is not admitted gets its error.
struct Admitted(Query);

impl FromRequestParts<Arc<Shared>> for Admitted {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let query = Query::parse(parts.uri.query().map(str::to_owned));
        match admit(shared, &parts.headers, &query) {
            Some(rejection) => Err(rejection),
            None => Ok(Admitted(query)),
        }
    }
}

fn with_index(index: u64, body: Response) -> Response {
    let mut resp = body;
    let headers = resp.headers_mut();
    headers.insert("x-consul-index", HeaderValue::from(index.max(1)));
    headers.insert("x-consul-knownleader", HeaderValue::from_static("true"));
    headers.insert("x-consul-lastcontact", HeaderValue::from_static("0"));
    resp
}

fn json_response(value: Value) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Runs a (possibly blocking) read: answers at once when `index` is 0 or
/// older than the state, else waits for a change or `wait`.
async fn blocking_read<T>(
    shared: &Shared,
    query: &Query,
    read: impl Fn(&AgentState) -> (T, u64),
) -> (T, u64) {
    let want = query.index();
    let deadline = Instant::now() + query.wait();
    let mut rx = shared.changed.subscribe();
    loop {
        rx.borrow_and_update();
        let (value, index) = read(&shared.lock());
        if want == 0 || index.max(1) > want {
            return (value, index.max(1));
        }
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return (value, index.max(1));
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let (value, index) = read(&shared.lock());
                return (value, index.max(1));
            }
        }
    }
}

async fn register(State(shared): State<Arc<Shared>>, _: Admitted, body: Bytes) -> Response {
    let body: RegisterBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Request decode failed: {e}"),
            );
        }
    };
    if body.name.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Missing service name");
    }
    let id = body
        .id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| body.name.clone());
    let mut defs: Vec<CheckBody> = body.checks.unwrap_or_default();
    if let Some(c) = body.check {
        defs.insert(0, c);
    }
    let now = Instant::now();
    let many = defs.len() > 1;
    let mut checks = Vec::with_capacity(defs.len());
    for (n, def) in defs.into_iter().enumerate() {
        let ttl = match def.ttl.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => match parse_go_duration(t) {
                Some(d) => Some(d),
                None => return error(StatusCode::BAD_REQUEST, format!("Invalid TTL {t:?}")),
            },
            None => None,
        };
        let check_id = def.check_id.filter(|c| !c.is_empty()).unwrap_or_else(|| {
            if many {
                format!("service:{id}:{}", n + 1)
            } else {
                format!("service:{id}")
            }
        });
        let status = def
            .status
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| if ttl.is_some() { "critical" } else { "passing" }.to_owned());
        let mut check = AgentCheck {
            id: check_id,
            name: def
                .name
                .unwrap_or_else(|| format!("Service '{}' check", body.name)),
            status: String::new(),
            output: String::new(),
            ttl,
            deadline: None,
            deregister_after: def
                .deregister_critical_service_after
                .as_deref()
                .and_then(parse_go_duration),
            critical_since: None,
        };
        check.set_status(&status, String::new(), now);
        checks.push(check);
    }
    let mut st = shared.lock();
    let create_index = st.index + 1;
    let service = AgentService {
        id: id.clone(),
        name: body.name.clone(),
        tags: body.tags.unwrap_or_default(),
        address: body.address.unwrap_or_default(),
        port: body.port.unwrap_or(0),
        meta: body.meta.unwrap_or_default(),
        tagged_addresses: body.tagged_addresses.unwrap_or_default(),
        checks,
        create_index,
    };
    if let Some(old) = st.services.insert(id, service)
        && old.name != body.name
    {
        st.touch_service(&old.name);
    }
    st.touch_service(&body.name);
    drop(st);
    shared.notify();
    StatusCode::OK.into_response()
}

async fn deregister(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    _: Admitted,
) -> Response {
    let mut st = shared.lock();
    let Some(old) = st.services.remove(&id) else {
        return error(StatusCode::NOT_FOUND, format!("Unknown service ID {id:?}"));
    };
    st.touch_service(&old.name);
    drop(st);
    shared.notify();
    StatusCode::OK.into_response()
}

fn update_check(shared: &Shared, id: &str, status: &str, output: String) -> Response {
    if !matches!(status, "passing" | "warning" | "critical") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Unknown check status {status:?}"),
        );
    }
    let mut st = shared.lock();
    let now = Instant::now();
    let mut touched = None;
    for service in st.services.values_mut() {
        if let Some(check) = service.checks.iter_mut().find(|c| c.id == id) {
            if check.ttl.is_none() {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("CheckID {id:?} does not have associated TTL"),
                );
            }
            let changed = check.status != status || check.output != output;
            check.set_status(status, output, now);
            touched = Some((service.name.clone(), changed));
            break;
        }
    }
    match touched {
        None => error(StatusCode::NOT_FOUND, format!("Unknown check ID {id:?}")),
        Some((name, changed)) => {
            if changed {
                st.touch_service(&name);
            }
            drop(st);
            shared.notify();
            StatusCode::OK.into_response()
        }
    }
}

async fn check_update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    _: Admitted,
    body: Bytes,
) -> Response {
    let body: CheckUpdateBody = if body.is_empty() {
        CheckUpdateBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("Request decode failed: {e}"),
                );
            }
        }
    };
    let status = body.status.unwrap_or_else(|| "passing".to_owned());
    update_check(&shared, &id, &status, body.output.unwrap_or_default())
}

/// The handler of a check shortcut setting `status`.
fn check_as(
    status: &'static str,
) -> impl Fn(State<Arc<Shared>>, Path<String>, Admitted) -> std::future::Ready<Response>
+ Clone
+ Send
+ Sync
+ 'static {
    move |State(shared), Path(id), Admitted(query)| {
        std::future::ready(check_shortcut(&shared, &id, &query, status))
    }
}

/// `/v1/agent/check/{pass,warn,fail}/{id}`: sets the check to `status`,
/// with the `note` query parameter as its output.
fn check_shortcut(shared: &Shared, id: &str, query: &Query, status: &str) -> Response {
    let note = query.get("note").unwrap_or_default().to_owned();
    update_check(shared, id, status, note)
}

fn service_json(s: &AgentService, dc: &str) -> Value {
    json!({
        "ID": s.id,
        "Service": s.name,
        "Tags": s.tags,
        "Address": s.address,
        "Port": s.port,
        "Meta": s.meta,
        "TaggedAddresses": s.tagged_addresses,
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": false,
        "Datacenter": dc,
        "CreateIndex": s.create_index,
    })
}

async fn agent_services(State(shared): State<Arc<Shared>>, _: Admitted) -> Response {
    let st = shared.lock();
    let map: serde_json::Map<String, Value> = st
        .services
        .values()
        .map(|s| (s.id.clone(), service_json(s, &shared.datacenter)))
        .collect();
    json_response(Value::Object(map))
}

async fn catalog_services(
    State(shared): State<Arc<Shared>>,
    Admitted(query): Admitted,
) -> Response {
    let (value, index) = blocking_read(&shared, &query, |st| {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in st.services.values() {
            let tags = map.entry(s.name.clone()).or_default();
            for t in &s.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
        }
        (json!(map), st.index)
    })
    .await;
    with_index(index, json_response(value))
}

async fn health_service(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Admitted(query): Admitted,
) -> Response {
    let passing = query.has("passing");
    let tag = query.get("tag").map(str::to_owned);
    let dc = shared.datacenter.clone();
    let (value, index) = blocking_read(&shared, &query, |st| {
        let entries: Vec<Value> = st
            .services
            .values()
            .filter(|s| s.name == name)
            .filter(|s| tag.as_ref().is_none_or(|t| s.tags.contains(t)))
            .filter(|s| !passing || s.checks.iter().all(|c| c.status == "passing"))
            .map(|s| {
                let mut checks = vec![json!({
                    "Node": NODE, "CheckID": "serfHealth", "Name": "Serf Health Status",
                    "Status": "passing", "Output": "Agent alive and reachable",
                    "ServiceID": "", "ServiceName": "",
                })];
                checks.extend(s.checks.iter().map(|c| {
                    json!({
                        "Node": NODE, "CheckID": c.id, "Name": c.name, "Status": c.status,
                        "Output": c.output, "ServiceID": s.id, "ServiceName": s.name,
                    })
                }));
                json!({
                    "Node": {"ID": "00000000-0000-0000-0000-000000000001", "Node": NODE,
                             "Address": "127.0.0.1", "Datacenter": dc,
                             "TaggedAddresses": {}, "Meta": {}},
                    "Service": service_json(s, &dc),
                    "Checks": checks,
                })
            })
            .collect();
        let index = st.service_index.get(&name).copied().unwrap_or(1);
        (Value::Array(entries), index)
    })
    .await;
    with_index(index, json_response(value))
}

fn kv_matches(key: &str, target: &str, recurse: bool) -> bool {
    if recurse {
        key.starts_with(target)
    } else {
        key == target
    }
}

async fn kv_get(
    State(shared): State<Arc<Shared>>,
    key: Option<Path<String>>,
    Admitted(query): Admitted,
) -> Response {
    // `/v1/kv` and `/v1/kv/` have no key.
    let key = key.map(|Path(key)| key).unwrap_or_default();
    let keys_only = query.has("keys");
    let recurse = query.has("recurse") || keys_only;
    let separator = query.get("separator").map(str::to_owned);
    let (entries, index) = blocking_read(&shared, &query, |st| {
        let entries: Vec<(String, KvEntry)> = st
            .kv
            .range(key.clone()..)
            .take_while(|(k, _)| !recurse || k.starts_with(&key))
            .filter(|(k, _)| kv_matches(k, &key, recurse))
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        let live = entries
            .iter()
            .map(|(_, e)| e.modify_index)
            .max()
            .unwrap_or(0);
        let dead = st
            .kv_tombstones
            .iter()
            .filter(|(k, _)| kv_matches(k, &key, recurse))
            .map(|(_, i)| *i)
            .max()
            .unwrap_or(0);
        (entries, live.max(dead))
    })
    .await;
    if entries.is_empty() {
        return with_index(index, StatusCode::NOT_FOUND.into_response());
    }
    if keys_only {
        let mut names: Vec<String> = Vec::new();
        for (k, _) in &entries {
            let name = match separator.as_deref().filter(|s| !s.is_empty()) {
                Some(sep) => match k[key.len()..].find(sep) {
                    Some(pos) => k[..key.len() + pos + sep.len()].to_owned(),
                    None => k.clone(),
                },
                None => k.clone(),
            };
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        return with_index(index, json_response(json!(names)));
    }
    if query.has("raw") {
        return with_index(index, entries[0].1.value.clone().into_response());
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let body: Vec<Value> = entries
        .iter()
        .map(|(k, e)| {
            json!({
                "LockIndex": 0,
                "Key": k,
                "Flags": e.flags,
                "Value": if e.value.is_empty() { Value::Null } else { json!(engine.encode(&e.value)) },
                "CreateIndex": e.create_index,
                "ModifyIndex": e.modify_index,
            })
        })
        .collect();
    with_index(index, json_response(Value::Array(body)))
}

async fn kv_put(
    State(shared): State<Arc<Shared>>,
    key: Option<Path<String>>,
    Admitted(query): Admitted,
    body: Bytes,
) -> Response {
    // `/v1/kv` and `/v1/kv/` have no key.
    let key = key.map(|Path(key)| key).unwrap_or_default();
    if key.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Missing key name");
    }
    let flags = query.get("flags").and_then(|f| f.parse().ok()).unwrap_or(0);
    let cas: Option<u64> = query.get("cas").and_then(|c| c.parse().ok());
    let mut st = shared.lock();
    let current = st.kv.get(&key).map(|e| e.modify_index);
    if let Some(cas) = cas {
        let ok = match current {
            None => cas == 0,
            Some(m) => cas == m,
        };
        if !ok {
            return json_response(json!(false));
        }
    }
    let index = st.bump();
    let create_index = st.kv.get(&key).map_or(index, |e| e.create_index);
    st.kv.insert(
        key.clone(),
        KvEntry {
            value: body.to_vec(),
            flags,
            create_index,
            modify_index: index,
        },
    );
    st.kv_tombstones.remove(&key);
    drop(st);
    shared.notify();
    json_response(json!(true))
}

async fn kv_delete(
    State(shared): State<Arc<Shared>>,
    key: Option<Path<String>>,
    Admitted(query): Admitted,
) -> Response {
    // `/v1/kv` and `/v1/kv/` have no key.
    let key = key.map(|Path(key)| key).unwrap_or_default();
    let recurse = query.has("recurse");
    let cas: Option<u64> = query.get("cas").and_then(|c| c.parse().ok());
    let mut st = shared.lock();
    if let Some(cas) = cas {
        if recurse {
            return error(StatusCode::BAD_REQUEST, "Conflicting flags: cas=&recurse");
        }
        if st.kv.get(&key).map(|e| e.modify_index) != Some(cas) {
            return json_response(json!(false));
        }
    }
    let doomed: Vec<String> = st
        .kv
        .keys()
        .filter(|k| kv_matches(k, &key, recurse))
        .cloned()
        .collect();
    if !doomed.is_empty() {
        let index = st.bump();
        for k in doomed {
            st.kv.remove(&k);
            st.kv_tombstones.insert(k, index);
        }
        drop(st);
        shared.notify();
    }
    json_response(json!(true))
}

/// Turns TTL checks critical when their TTL passed without an update, and
/// removes services critical for longer than `DeregisterCriticalServiceAfter`.
async fn expire_checks(shared: Arc<Shared>) {
    let mut rx = shared.changed.subscribe();
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut changed = false;
        {
            let mut st = shared.lock();
            let mut touched = Vec::new();
            let mut removed = Vec::new();
            for service in st.services.values_mut() {
                for check in &mut service.checks {
                    if let Some(deadline) = check.deadline
                        && check.status != "critical"
                    {
                        if deadline <= now {
                            check.set_status("critical", "TTL expired".to_owned(), now);
                            check.deadline = None;
                            touched.push(service.name.clone());
                        } else {
                            next = Some(next.map_or(deadline, |n| n.min(deadline)));
                        }
                    }
                    if let (Some(since), Some(after)) =
                        (check.critical_since, check.deregister_after)
                        && check.status == "critical"
                    {
                        let at = since + after;
                        if at <= now {
                            removed.push(service.id.clone());
                        } else {
                            next = Some(next.map_or(at, |n| n.min(at)));
                        }
                    }
                }
            }
            for id in removed {
                if let Some(s) = st.services.remove(&id) {
                    touched.push(s.name);
                }
            }
            for name in touched {
                st.touch_service(&name);
                changed = true;
            }
        }
        if changed {
            shared.notify();
            rx.borrow_and_update();
            continue;
        }
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            _ = sleep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Answer {
        status: u16,
        index: u64,
        body: String,
    }

    impl Answer {
        fn json(&self) -> Value {
            serde_json::from_str(&self.body).unwrap_or(Value::Null)
        }
    }

    /// A one-shot HTTP/1.1 exchange (`Connection: close`), enough for tests.
    async fn call(agent: &ConsulAgent, method: &str, path: &str, body: &str) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(agent.local_addr())
            .await
            .unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let index = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("x-consul-index")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        Answer {
            status,
            index,
            body,
        }
    }

    fn dechunk(mut s: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = s.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&rest[..n]);
            s = &rest[n + 2..];
        }
        out
    }

    #[tokio::test]
    async fn kv_put_get_recurse_keys_raw_cas_delete() {
        let agent = ConsulAgent::start().await;
        let missing = call(&agent, "GET", "/v1/kv/app/x", "").await;
        assert_eq!(missing.status, 404);
        assert!(missing.index >= 1);
        assert_eq!(
            call(&agent, "PUT", "/v1/kv/app/a", "one").await.body,
            "true"
        );
        assert_eq!(
            call(&agent, "PUT", "/v1/kv/app/sub/b?flags=7", "two")
                .await
                .body,
            "true"
        );
        assert_eq!(call(&agent, "PUT", "/v1/kv/other", "x").await.body, "true");

        let all = call(&agent, "GET", "/v1/kv/app/?recurse", "").await;
        assert_eq!(all.status, 200);
        let entries = all.json();
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0]["Key"], "app/a");
        assert_eq!(entries[0]["Value"], "b25l", "base64 of `one`");
        assert_eq!(entries[1]["Flags"], 7);
        assert_eq!(all.index, entries[1]["ModifyIndex"].as_u64().unwrap());

        let keys = call(&agent, "GET", "/v1/kv/app/?keys&separator=/", "").await;
        assert_eq!(keys.json(), json!(["app/a", "app/sub/"]));
        assert_eq!(
            call(&agent, "GET", "/v1/kv/app/a?raw", "").await.body,
            "one"
        );

        let modify = entries[0]["ModifyIndex"].as_u64().unwrap();
        let stale = format!("/v1/kv/app/a?cas={}", modify + 100);
        assert_eq!(call(&agent, "PUT", &stale, "no").await.body, "false");
        let fresh = format!("/v1/kv/app/a?cas={modify}");
        assert_eq!(call(&agent, "PUT", &fresh, "yes").await.body, "true");
        assert_eq!(
            call(&agent, "PUT", "/v1/kv/app/a?cas=0", "no").await.body,
            "false"
        );

        assert_eq!(
            call(&agent, "DELETE", "/v1/kv/app/?recurse", "").await.body,
            "true"
        );
        let gone = call(&agent, "GET", "/v1/kv/app/?recurse", "").await;
        assert_eq!(gone.status, 404);
        assert!(
            gone.index > all.index,
            "a deletion moves the prefix's index"
        );
        assert_eq!(call(&agent, "GET", "/v1/kv/other", "").await.status, 200);
    }

    #[tokio::test]
    async fn kv_blocking_query_waits_and_wakes_on_change() {
        let agent = Arc::new(ConsulAgent::start().await);
        call(&agent, "PUT", "/v1/kv/cfg/a", "1").await;
        let first = call(&agent, "GET", "/v1/kv/cfg/?recurse", "").await;

        // No change: answers after `wait` with the same index.
        let started = std::time::Instant::now();
        let path = format!("/v1/kv/cfg/?recurse&index={}&wait=200ms", first.index);
        let same = call(&agent, "GET", &path, "").await;
        assert!(started.elapsed() >= Duration::from_millis(190));
        assert_eq!(same.index, first.index);

        // A write to another prefix does not wake it; one under it does.
        let waiter = {
            let agent = agent.clone();
            let path = format!("/v1/kv/cfg/?recurse&index={}&wait=5s", first.index);
            tokio::spawn(async move { call(&agent, "GET", &path, "").await })
        };
        call(&agent, "PUT", "/v1/kv/elsewhere", "x").await;
        call(&agent, "PUT", "/v1/kv/cfg/b", "2").await;
        let woke = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("the blocking query woke on the change")
            .unwrap();
        assert!(woke.index > first.index);
        assert_eq!(woke.json().as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn ttl_check_goes_critical_and_passing_filter_follows() {
        let agent = Arc::new(ConsulAgent::start().await);
        let reg = r#"{"ID":"s1","Name":"web","Tags":["version=v1"],"Port":80,"Address":"10.0.0.1",
            "Meta":{"k":"v"},"TaggedAddresses":{"http":{"Address":"http://10.0.0.1:80","Port":80}},
            "Checks":[{"TTL":"300ms","DeregisterCriticalServiceAfter":"1m"}]}"#;
        assert_eq!(
            call(&agent, "PUT", "/v1/agent/service/register", reg)
                .await
                .status,
            200
        );
        assert_eq!(
            agent.check_status("service:s1").as_deref(),
            Some("critical")
        );
        let none = call(&agent, "GET", "/v1/health/service/web?passing", "").await;
        assert_eq!(none.json(), json!([]));
        let all = call(&agent, "GET", "/v1/health/service/web", "").await;
        assert_eq!(all.json()[0]["Service"]["Meta"]["k"], "v");

        let pass = r#"{"Status":"passing"}"#;
        assert_eq!(
            call(&agent, "PUT", "/v1/agent/check/update/service:s1", pass)
                .await
                .status,
            200
        );
        let one = call(&agent, "GET", "/v1/health/service/web?passing", "").await;
        assert_eq!(one.json()[0]["Service"]["ID"], "s1");
        assert_eq!(
            one.json()[0]["Service"]["TaggedAddresses"]["http"]["Address"],
            "http://10.0.0.1:80"
        );

        // Blocking on the health query: the TTL running out is a change.
        let path = format!("/v1/health/service/web?passing&index={}&wait=5s", one.index);
        let started = std::time::Instant::now();
        let expired = call(&agent, "GET", &path, "").await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(expired.index > one.index);
        assert_eq!(expired.json(), json!([]));
        assert_eq!(
            agent.check_status("service:s1").as_deref(),
            Some("critical")
        );

        let unknown = call(&agent, "PUT", "/v1/agent/check/update/service:nope", pass).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(
            call(&agent, "PUT", "/v1/agent/service/deregister/s1", "")
                .await
                .status,
            200
        );
        assert_eq!(
            call(&agent, "PUT", "/v1/agent/service/deregister/s1", "")
                .await
                .status,
            404
        );
    }

    #[tokio::test]
    async fn critical_services_are_removed_and_restart_forgets_services_only() {
        let agent = ConsulAgent::start().await;
        let reg =
            r#"{"Name":"job","Check":{"TTL":"100ms","DeregisterCriticalServiceAfter":"200ms"}}"#;
        call(&agent, "PUT", "/v1/agent/service/register", reg).await;
        assert_eq!(agent.service_ids(), ["job"]);
        let first = call(&agent, "GET", "/v1/health/service/job", "").await;
        let path = format!("/v1/health/service/job?index={}&wait=5s", first.index);
        let removed = call(&agent, "GET", &path, "").await;
        assert!(removed.index > first.index);
        assert_eq!(removed.json(), json!([]));

        call(
            &agent,
            "PUT",
            "/v1/agent/service/register",
            r#"{"ID":"w1","Name":"web"}"#,
        )
        .await;
        call(&agent, "PUT", "/v1/kv/keep", "1").await;
        let before = call(&agent, "GET", "/v1/health/service/web", "").await;
        agent.restart();
        assert!(agent.service_ids().is_empty());
        let after = call(&agent, "GET", "/v1/health/service/web", "").await;
        assert!(after.index > before.index);
        assert_eq!(call(&agent, "GET", "/v1/kv/keep", "").await.status, 200);
    }

    #[tokio::test]
    async fn token_datacenter_and_outage() {
        let agent = ConsulAgent::builder()
            .acl_token("t")
            .datacenter("eu1")
            .start()
            .await;
        assert_eq!(call(&agent, "GET", "/v1/kv/x", "").await.status, 403);
        assert_eq!(
            call(&agent, "GET", "/v1/kv/x?token=t", "").await.status,
            404
        );
        assert_eq!(
            call(&agent, "GET", "/v1/kv/x?token=t&dc=eu1", "")
                .await
                .status,
            404
        );
        assert_eq!(
            call(&agent, "GET", "/v1/kv/x?token=t&dc=us1", "")
                .await
                .status,
            500
        );
        agent.set_down(true);
        assert_eq!(
            call(&agent, "GET", "/v1/kv/x?token=t", "").await.status,
            500
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("x"), None);
    }

    #[test]
    fn query_flags_and_decoding() {
        let q = Query::parse(Some("passing&index=7&wait=2s&key=a%2Fb".to_owned()));
        assert!(q.has("passing"));
        assert!(!q.has("recurse"));
        assert_eq!(q.index(), 7);
        assert_eq!(q.wait(), Duration::from_secs(2));
        assert_eq!(q.get("key"), Some("a/b"));
    }
}
