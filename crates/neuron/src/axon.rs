//! The axon: an HTTP server (axum) that serves synapses, wire-compatible with a Python
//! `bt.Axon` (bittensor 10.5.0).
//!
//! Per request, in Python's order: route check (404) → headers (500 if a required
//! `bt_header_input_obj_*` placeholder is missing) → **blacklist** (403) → **verify** (401) →
//! **priority** → body (422 not JSON, 500 wrong types or body-hash mismatch) → **forward**
//! (500 on error). Status codes, status messages and the lower-case `bt_header_*` response
//! headers are Python's.
//!
//! # Stricter than Python
//!
//! * Nonces: a bound on future nonces, a capped `timeout` in the first-nonce window, the window
//!   applied to every dendrite version, and bounded nonce memory (see [`crate::nonce`]).
//! * An empty `bt_header_dendrite_signature` counts as missing (`Missing Signature`); the
//!   signature must be `0x` + 128 hex digits.
//! * Per-hotkey rate limits weighted by stake (429 `Rate limit exceeded …`), opt-in.
//! * A concurrency limit with a bounded, priority-ordered waiting queue: a full queue answers
//!   503, a request that waits past its timeout answers 408 (Python's priority-timeout message).
//!   Python computes the priority and discards it.
//! * The server enforces the timeout on `forward` (408); Python leaves it to the client.
//! * A request-body size limit (413), and the body must arrive within the request's timeout.
//! * Rate limits and admission run after verification, so a forged hotkey cannot drain someone
//!   else's budget.
//! * The nonce is recorded under a lock together with its check, after the signature verified:
//!   two concurrent requests cannot both use one nonce.
//! * `forward` sees the verified header values of the dendrite's hotkey, nonce, uuid,
//!   signature and version, not the unsigned copies in the JSON body (Python passes the body's).
//! * At most [`AxonConfig::connections_max`] open connections.
//! * Binds 127.0.0.1 by default.
//!
//! Streaming synapses ([`Axon::attach_stream`]) answer `200`, `content-type:
//! text/event-stream`, chunked, raw chunks without SSE framing, like Python.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use futures_util::Stream;
use hyphae_keys::{verify, Keypair, Signature};
use hyphae_primitives::AccountId;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::guard::NeuronDirectory;
use crate::guard::{
    Admission, AdmissionError, BlacklistFn, PriorityFn, RateLimit, RateLimiter, RequestInfo,
};
use crate::nonce::{NoncePolicy, NonceTracker};
use crate::pyrepr::{float_repr, PyValue};
use crate::synapse::{
    input_obj_headers, placeholder_body_hash, HeaderSynapse, Ping, Synapse, SynapseMessage,
    TerminalInfo, SDK_VERSION,
};

/// Axon settings.
#[derive(Debug, Clone)]
pub struct AxonConfig {
    /// Listen address; 127.0.0.1:8091 by default.
    pub bind: SocketAddr,
    /// Nonce memory limits.
    pub nonce: NoncePolicy,
    /// Largest accepted request body, bytes.
    pub body_limit_bytes: usize,
    /// Cap on the server-side forward timeout, seconds.
    pub timeout_max_s: f64,
    /// Requests processed at once.
    pub slots: usize,
    /// Requests waiting for a slot, at most.
    pub waiting_max: usize,
    /// Per-hotkey rate limit; off when `None`.
    pub rate_limit: Option<RateLimit>,
    /// Serve Prometheus metrics at `GET /metrics` (otherwise use [`AxonHandle::metrics_text`]).
    pub metrics_route: bool,
    /// Open connections at most; further ones wait in the listen backlog.
    pub connections_max: usize,
}

impl Default for AxonConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8091)),
            nonce: NoncePolicy::default(),
            body_limit_bytes: 16 * 1024 * 1024,
            timeout_max_s: 120.0,
            slots: 256,
            waiting_max: 1024,
            rate_limit: None,
            metrics_route: false,
            connections_max: 1024,
        }
    }
}

/// A forward function failed; the caller sees only `Internal Server Error #{uuid}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forward failed: {reason}")]
pub struct ForwardError {
    /// Logged, never sent.
    pub reason: String,
}

impl ForwardError {
    /// A forward error with a reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// A boxed stream of response chunks.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

enum Reply<S> {
    Message(S),
    Stream(ChunkStream),
}

type ForwardFn<S> =
    Arc<dyn Fn(SynapseMessage<S>) -> BoxFuture<Result<Reply<S>, ForwardError>> + Send + Sync>;

/// Per-route hooks.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Blacklist (403 on `Err(reason)`).
    pub blacklist: Option<BlacklistFn>,
    /// Priority (higher first when saturated).
    pub priority: Option<PriorityFn>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("blacklist", &self.blacklist.is_some())
            .field("priority", &self.priority.is_some())
            .finish()
    }
}

struct Metrics {
    registry: Registry,
    requests: Family<Vec<(String, String)>, Counter>,
    latency: Family<Vec<(String, String)>, Histogram>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("hyphae_axon");
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        let latency = Family::<Vec<(String, String)>, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0001, 2.0, 18))) as fn() -> Histogram,
        );
        registry.register(
            "requests",
            "Requests answered, by synapse and status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request processing time, by synapse",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }

    fn observe(&self, synapse: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("synapse".to_owned(), synapse.to_owned()),
                ("status".to_owned(), status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("synapse".to_owned(), synapse.to_owned())])
            .observe(seconds);
    }
}

struct Shared {
    keypair: Keypair,
    hotkey: String,
    uuid: String,
    config: AxonConfig,
    nonces: Mutex<NonceTracker>,
    rate: Option<RateLimiter>,
    admission: Arc<Admission>,
    metrics: Metrics,
    names: Mutex<Vec<String>>,
}

/// An axon being configured; [`Axon::serve`] starts it.
pub struct Axon {
    shared: Arc<Shared>,
    router: Router,
    default_hooks: Hooks,
}

impl std::fmt::Debug for Axon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Axon")
            .field("hotkey", &self.shared.hotkey)
            .field("bind", &self.shared.config.bind)
            .finish()
    }
}

/// Nanoseconds since the Unix epoch (Python `time.time_ns()`).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A random RFC 4122 version-4 uuid string.
pub fn uuid4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// A running axon.
#[derive(Debug)]
pub struct AxonHandle {
    local_addr: SocketAddr,
    hotkey: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    shared: Arc<SharedHandle>,
}

/// The part of the axon state a handle exposes.
struct SharedHandle(Arc<Shared>);

impl std::fmt::Debug for SharedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedHandle")
    }
}

impl AxonHandle {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The axon's hotkey (ss58).
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// Prometheus text exposition of the axon's metrics.
    pub fn metrics_text(&self) -> String {
        metrics_text(&self.shared.0)
    }

    /// Stops accepting, finishes in-flight requests, and waits.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}

fn metrics_text(shared: &Shared) -> String {
    let mut out = String::new();
    let _ = encode(&mut out, &shared.metrics.registry);
    out
}

impl Axon {
    /// A new axon signing with `keypair` (its hotkey). Serves the `Synapse` ping route.
    pub fn new(keypair: Keypair, config: AxonConfig) -> Self {
        Self::with_directory(keypair, config, None)
    }

    /// A new axon whose rate limits weigh stake from `directory`.
    pub fn with_directory(
        keypair: Keypair,
        config: AxonConfig,
        directory: Option<Arc<dyn NeuronDirectory>>,
    ) -> Self {
        let account = keypair.account_id();
        let rate = config
            .rate_limit
            .map(|limit| RateLimiter::new(limit, directory));
        let shared = Arc::new(Shared {
            hotkey: account.to_ss58(),
            keypair,
            uuid: uuid4(),
            nonces: Mutex::new(NonceTracker::new(config.nonce)),
            rate,
            admission: Admission::new(config.slots, config.waiting_max),
            metrics: Metrics::new(),
            names: Mutex::new(Vec::new()),
            config,
        });
        let axon = Self {
            shared,
            router: Router::new(),
            default_hooks: Hooks::default(),
        };
        axon.attach_with::<Ping, _, _>(|message| async move { Ok(message.body) }, Hooks::default())
    }

    /// Hooks that later [`Axon::attach`] calls use (the ping route has none).
    pub fn default_hooks(mut self, hooks: Hooks) -> Self {
        self.default_hooks = hooks;
        self
    }

    /// The axon's hotkey (ss58).
    pub fn hotkey(&self) -> &str {
        &self.shared.hotkey
    }

    /// Serves `S` with `forward`, using the default hooks.
    pub fn attach<S, F, Fut>(self, forward: F) -> Self
    where
        S: Synapse,
        F: Fn(SynapseMessage<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, ForwardError>> + Send + 'static,
    {
        let hooks = self.default_hooks.clone();
        self.attach_with(forward, hooks)
    }

    /// Serves `S` with `forward` and these hooks.
    pub fn attach_with<S, F, Fut>(self, forward: F, hooks: Hooks) -> Self
    where
        S: Synapse,
        F: Fn(SynapseMessage<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, ForwardError>> + Send + 'static,
    {
        let forward = Arc::new(forward);
        let forward: ForwardFn<S> = Arc::new(move |message| {
            let forward = Arc::clone(&forward);
            Box::pin(async move { forward(message).await.map(Reply::Message) })
        });
        self.route::<S>(forward, hooks)
    }

    /// Serves a streaming synapse: `forward` returns the chunks, sent raw as
    /// `text/event-stream`.
    pub fn attach_stream<S, F, Fut>(self, forward: F, hooks: Hooks) -> Self
    where
        S: Synapse,
        F: Fn(SynapseMessage<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ChunkStream, ForwardError>> + Send + 'static,
    {
        let forward = Arc::new(forward);
        let forward: ForwardFn<S> = Arc::new(move |message| {
            let forward = Arc::clone(&forward);
            Box::pin(async move { forward(message).await.map(Reply::Stream) })
        });
        self.route::<S>(forward, hooks)
    }

    fn route<S: Synapse>(mut self, forward: ForwardFn<S>, hooks: Hooks) -> Self {
        if let Ok(mut names) = self.shared.names.lock() {
            names.push(S::NAME.to_owned());
        }
        let route = Arc::new(RouteState {
            forward,
            hooks,
            placeholder_hash: placeholder_body_hash::<S>().unwrap_or_default(),
        });
        let shared = Arc::clone(&self.shared);
        let handler = move |ConnectInfo(crate::listener::PeerAddr(peer)): ConnectInfo<
            crate::listener::PeerAddr,
        >,
                            request: Request<Body>| {
            let shared = Arc::clone(&shared);
            let route = Arc::clone(&route);
            async move { handle::<S>(shared, route, peer, request).await }
        };
        let path = format!("/{}", S::NAME);
        self.router = self
            .router
            .route(&path, axum::routing::get(handler.clone()).post(handler));
        self
    }

    /// Binds and serves in the background.
    pub async fn serve(self) -> std::io::Result<AxonHandle> {
        let listener = tokio::net::TcpListener::bind(self.shared.config.bind).await?;
        let local_addr = listener.local_addr()?;
        let listener =
            crate::listener::BoundedListener::new(listener, self.shared.config.connections_max);
        let shared = Arc::clone(&self.shared);
        let fallback_shared = Arc::clone(&self.shared);
        let mut router = self.router.fallback(move |request: Request<Body>| {
            let shared = Arc::clone(&fallback_shared);
            async move { not_found(&shared, request.uri().path()) }
        });
        if shared.config.metrics_route {
            let metrics_shared = Arc::clone(&shared);
            router = router.route(
                "/metrics",
                axum::routing::get(move || {
                    let shared = Arc::clone(&metrics_shared);
                    async move { metrics_text(&shared) }
                }),
            );
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let service = router.into_make_service_with_connect_info::<crate::listener::PeerAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(AxonHandle {
            local_addr,
            hotkey: shared.hotkey.clone(),
            shutdown: Some(tx),
            task,
            shared: Arc::new(SharedHandle(shared)),
        })
    }
}

struct RouteState<S> {
    forward: ForwardFn<S>,
    hooks: Hooks,
    placeholder_hash: String,
}

/// The header-side state of one request, used for error responses.
struct Exchange {
    name: String,
    timeout: f64,
    axon: TerminalInfo,
    dendrite: TerminalInfo,
    header_size: i64,
    total_size: i64,
    input_obj: Vec<(String, String)>,
    body_hash: String,
    start: Instant,
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| {
        let cleaned: String = text
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        HeaderValue::from_str(&cleaned).unwrap_or(HeaderValue::from_static(""))
    })
}

fn build_response(
    status: u16,
    headers: Vec<(String, String)>,
    content_type: &str,
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let map: &mut HeaderMap = response.headers_mut();
    for (name, value) in headers {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            map.append(name, header_value(&value));
        }
    }
    map.insert(axum::http::header::CONTENT_TYPE, header_value(content_type));
    response
}

fn message_body(message: &str) -> Body {
    Body::from(serde_json::json!({ "message": message }).to_string())
}

impl Exchange {
    fn process_time(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// A Python-shaped error response (403/401/408/429/500/503…).
    fn error(mut self, shared: &Shared, status: u16, message: String) -> Response {
        self.axon.status_code = Some(i64::from(status));
        self.axon.status_message = Some(message.clone());
        self.axon.process_time = Some(self.process_time());
        // Python signs "{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}"; clients never
        // check it, but it keeps the header set identical.
        let to_sign = format!(
            "{}.{}.{}.{}",
            self.axon.nonce.unwrap_or_default(),
            self.dendrite.hotkey.as_deref().unwrap_or("None"),
            self.axon.hotkey.as_deref().unwrap_or("None"),
            self.axon.uuid.as_deref().unwrap_or("None"),
        );
        self.axon.signature = Some(shared.keypair.sign(to_sign.as_bytes()).to_hex());
        let mut headers = vec![
            ("name".to_owned(), self.name.clone()),
            ("timeout".to_owned(), float_repr(self.timeout)),
        ];
        for (field, value) in self.axon.header_values() {
            headers.push((format!("bt_header_axon_{field}"), value));
        }
        for (field, value) in self.dendrite.header_values() {
            headers.push((format!("bt_header_dendrite_{field}"), value));
        }
        headers.extend(self.input_obj.iter().cloned());
        headers.push(("header_size".to_owned(), self.header_size.to_string()));
        headers.push(("total_size".to_owned(), self.total_size.to_string()));
        headers.push(("computed_body_hash".to_owned(), self.body_hash.clone()));
        shared
            .metrics
            .observe(&self.name, status, self.process_time());
        build_response(status, headers, "application/json", message_body(&message))
    }
}

fn internal_error(exchange: Exchange, shared: &Shared, reason: &dyn std::fmt::Display) -> Response {
    let id = uuid4();
    tracing::warn!(synapse = %exchange.name, error = %reason, id = %id, "internal server error");
    exchange.error(shared, 500, format!("Internal Server Error #{id}"))
}

fn not_found(shared: &Shared, path: &str) -> Response {
    let start = Instant::now();
    let requested = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let mut names = vec![PyValue::Str("Synapse".to_owned())];
    if let Ok(attached) = shared.names.lock() {
        names.extend(
            attached
                .iter()
                .filter(|n| n.as_str() != "Synapse")
                .map(|n| PyValue::Str(n.clone())),
        );
    }
    let message = format!(
        "Synapse name '{requested}' not found. Available synapses {}",
        PyValue::List(names).to_py_repr()
    );
    let headers = vec![
        ("name".to_owned(), "Synapse".to_owned()),
        ("timeout".to_owned(), "12.0".to_owned()),
        ("bt_header_axon_status_code".to_owned(), "404".to_owned()),
        ("bt_header_axon_status_message".to_owned(), message.clone()),
        (
            "bt_header_axon_process_time".to_owned(),
            float_repr(start.elapsed().as_secs_f64()),
        ),
        ("header_size".to_owned(), "0".to_owned()),
        ("total_size".to_owned(), "0".to_owned()),
        (
            "computed_body_hash".to_owned(),
            crate::body_hash::body_hash(std::iter::empty()),
        ),
    ];
    shared
        .metrics
        .observe("not_found", 404, start.elapsed().as_secs_f64());
    build_response(404, headers, "application/json", message_body(&message))
}

/// FastAPI's 422 for a body that is not JSON: `{"detail": [...]}`, no bt headers.
fn unprocessable(
    shared: &Shared,
    name: &str,
    error: &serde_json::Error,
    start: Instant,
) -> Response {
    let body = serde_json::json!({
        "detail": [{
            "type": "json_invalid",
            "loc": ["body", error.column()],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": error.to_string()},
        }]
    });
    shared
        .metrics
        .observe(name, 422, start.elapsed().as_secs_f64());
    build_response(
        422,
        Vec::new(),
        "application/json",
        Body::from(body.to_string()),
    )
}

#[allow(clippy::float_arithmetic)] // seconds: the effective server timeout is min(header, cap)
fn effective_timeout(timeout_s: f64, cap_s: f64) -> Duration {
    let seconds = if timeout_s.is_finite() && timeout_s > 0.0 {
        timeout_s.min(cap_s)
    } else {
        cap_s
    };
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(12))
}

fn verify_request(shared: &Shared, hs: &HeaderSynapse) -> Result<(), String> {
    let hotkey = hs
        .dendrite
        .hotkey
        .as_deref()
        .filter(|h| !h.is_empty())
        .ok_or("No SS58 formatted address or public key provided.")?;
    let account =
        AccountId::from_ss58(hotkey).map_err(|e| format!("Invalid SS58 address {hotkey}: {e}"))?;
    let nonce = hs.dendrite.nonce.ok_or("Missing Nonce")?;
    let uuid = hs.dendrite.uuid.as_deref().unwrap_or("None");
    let body_hash = hs.computed_body_hash.as_deref().unwrap_or("");
    let endpoint_key = format!("{hotkey}:{uuid}");
    let now = now_ns();
    {
        let nonces = shared
            .nonces
            .lock()
            .map_err(|_| "nonce memory unavailable")?;
        nonces
            .check(&endpoint_key, nonce, hs.timeout, now)
            .map_err(|e| e.to_string())?;
    }
    let signature_text = hs
        .dendrite
        .signature
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or("Missing Signature")?;
    let message = format!("{nonce}.{hotkey}.{}.{uuid}.{body_hash}", shared.hotkey);
    let mismatch = || format!("Signature mismatch with {message} and {signature_text}");
    if !signature_text.starts_with("0x") {
        return Err("Invalid signature format. Expected hex string.".to_owned());
    }
    let signature = Signature::from_hex(signature_text).map_err(|_| mismatch())?;
    if !verify(&account, message.as_bytes(), &signature) {
        return Err(mismatch());
    }
    let mut nonces = shared
        .nonces
        .lock()
        .map_err(|_| "nonce memory unavailable")?;
    nonces
        .check_and_record(&endpoint_key, nonce, hs.timeout, now)
        .map_err(|e| e.to_string())
}

async fn handle<S: Synapse>(
    shared: Arc<Shared>,
    route: Arc<RouteState<S>>,
    peer: SocketAddr,
    request: Request<Body>,
) -> Response {
    let start = Instant::now();
    let (parts, body) = request.into_parts();
    let parsed = HeaderSynapse::parse(
        parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    );
    let mut exchange = Exchange {
        name: S::NAME.to_owned(),
        timeout: crate::synapse::DEFAULT_TIMEOUT_S,
        axon: TerminalInfo::default(),
        dendrite: TerminalInfo::default(),
        header_size: 0,
        total_size: 0,
        input_obj: input_obj_headers::<S>(),
        body_hash: route.placeholder_hash.clone(),
        start,
    };
    exchange.axon.version = Some(SDK_VERSION);
    exchange.axon.uuid = Some(shared.uuid.clone());
    exchange.axon.nonce = Some(now_ns());
    exchange.axon.status_code = Some(100);
    let hs = match parsed.and_then(|hs| hs.check_placeholders::<S>().map(|()| hs)) {
        Ok(hs) => hs,
        Err(error) => {
            exchange.dendrite.ip = Some(peer.ip().to_string());
            exchange.dendrite.port = Some(peer.port());
            return internal_error(exchange, &shared, &error);
        }
    };
    exchange.timeout = hs.timeout;
    exchange.header_size = hs.header_size;
    exchange.total_size = hs.total_size;
    exchange.dendrite = hs.dendrite.clone();
    exchange.dendrite.ip = Some(peer.ip().to_string());
    exchange.dendrite.port = Some(peer.port());
    exchange.axon.ip = hs.axon.ip.clone();
    exchange.axon.port = hs.axon.port;
    exchange.axon.hotkey = hs.axon.hotkey.clone();

    let info = RequestInfo {
        synapse: S::NAME.to_owned(),
        hotkey: hs.dendrite.hotkey.clone(),
        peer,
        timeout_s: hs.timeout,
    };
    // 2. blacklist
    if let Some(blacklist) = &route.hooks.blacklist {
        if let Err(reason) = blacklist(&info) {
            return exchange.error(
                &shared,
                403,
                format!("Forbidden. Key is blacklisted: {reason}."),
            );
        }
    }
    // 3. verify
    if let Err(reason) = verify_request(&shared, &hs) {
        return exchange.error(&shared, 401, format!("Not Verified with error: {reason}"));
    }
    // 3b. rate limit (hyphae only)
    if let (Some(rate), Some(hotkey)) = (&shared.rate, hs.dendrite.hotkey.as_deref()) {
        if let Err(rate_per_s) = rate.try_acquire(hotkey, Instant::now()) {
            return exchange.error(
                &shared,
                429,
                format!(
                    "Rate limit exceeded: {} requests/s for {hotkey}",
                    float_repr(rate_per_s)
                ),
            );
        }
    }
    // 4. priority + admission
    let priority = route.hooks.priority.as_ref().map_or(0.0, |p| p(&info));
    let timeout = effective_timeout(hs.timeout, shared.config.timeout_max_s);
    let slot = match shared.admission.acquire(priority, timeout).await {
        Ok(slot) => slot,
        Err(AdmissionError::TimedOut) => {
            let message = format!("Response timeout after: {}s", float_repr(hs.timeout));
            return exchange.error(&shared, 408, message);
        }
        Err(error @ AdmissionError::QueueFull) => {
            return exchange.error(&shared, 503, error.to_string());
        }
    };
    // 5. body
    let read = tokio::time::timeout(
        timeout,
        axum::body::to_bytes(body, shared.config.body_limit_bytes),
    );
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Err(_) => {
            // a body trickling in slower than the request's timeout
            let message = format!("Response timeout after: {}s", float_repr(hs.timeout));
            return exchange.error(&shared, 408, message);
        }
        Ok(Err(_)) => {
            let limit = shared.config.body_limit_bytes;
            return exchange.error(
                &shared,
                413,
                format!("Request body larger than {limit} bytes"),
            );
        }
    };
    let mut message = match SynapseMessage::<S>::from_json(&bytes) {
        Ok(message) => message,
        Err(error) if error.is_syntax() || error.is_eof() => {
            return unprocessable(&shared, S::NAME, &error, start);
        }
        Err(error) => return internal_error(exchange, &shared, &error),
    };
    let body_hash = message.body.body_hash();
    if hs.computed_body_hash.as_deref() != Some(body_hash.as_str()) {
        let error = format!(
            "Hash mismatch between header body hash {:?} and body hash {body_hash}",
            hs.computed_body_hash
        );
        return internal_error(exchange, &shared, &error);
    }
    // The body's dendrite terminal is unsigned: replace the identity fields with the verified
    // header values so forward never sees a spoofed hotkey (identical for honest callers).
    message.dendrite.hotkey.clone_from(&hs.dendrite.hotkey);
    message.dendrite.nonce = hs.dendrite.nonce;
    message.dendrite.uuid.clone_from(&hs.dendrite.uuid);
    message
        .dendrite
        .signature
        .clone_from(&hs.dendrite.signature);
    message.dendrite.version = hs.dendrite.version;
    // 6. forward, with the server-side timeout
    let mut response_message = SynapseMessage {
        name: S::NAME.to_owned(),
        timeout: message.timeout,
        total_size: message.total_size,
        header_size: message.header_size,
        dendrite: message.dendrite.clone(),
        axon: message.axon.clone(),
        computed_body_hash: String::new(),
        body: message.body.clone(),
    };
    let reply = match tokio::time::timeout(timeout, (route.forward)(message)).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => return internal_error(exchange, &shared, &error),
        Err(_) => {
            let message = format!("Response timeout after: {}s", float_repr(hs.timeout));
            return exchange.error(&shared, 408, message);
        }
    };
    drop(slot);
    response_message.axon.status_code = Some(200);
    response_message.axon.status_message = Some("Success".to_owned());
    response_message.axon.process_time = Some(start.elapsed().as_secs_f64());
    shared
        .metrics
        .observe(S::NAME, 200, start.elapsed().as_secs_f64());
    match reply {
        Reply::Message(body) => {
            response_message.body = body;
            let headers = response_message.to_headers(&body_hash);
            match serde_json::to_vec(&response_message) {
                Ok(json) => build_response(200, headers, "application/json", Body::from(json)),
                Err(error) => internal_error(exchange, &shared, &error),
            }
        }
        Reply::Stream(chunks) => {
            let headers = response_message.to_headers(&body_hash);
            let stream = futures_util::StreamExt::map(chunks, Ok::<Bytes, Infallible>);
            build_response(200, headers, "text/event-stream", Body::from_stream(stream))
        }
    }
}
