//! The axon: an HTTP server (axum) that serves synapses, wire-compatible with a Python
//! `bt.Axon` (bittensor 10.5.0).
//!
//! Per request: route check (404) → headers (431 oversized, 500 if a required
//! `bt_header_input_obj_*` placeholder is missing) → **blacklist** (403) → **verify** (401) →
//! [rate limit (429)] → nonce recorded → body (408 late, 413 too large, 422 not JSON, 500 wrong
//! types or body-hash mismatch) → **priority** and admission (503 queue full, 408 waited too
//! long) → **forward** (500 on error). Python takes the priority before the body; here the body
//! comes first, on purpose, so that a slow upload never holds a processing slot. Status codes,
//! status messages and the lower-case `bt_header_*` response headers are Python's.
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
//! * Every synapse header value is capped before anything decodes it (431, see
//!   [`HEADER_VALUE_MAX_BYTES`](crate::synapse::HEADER_VALUE_MAX_BYTES)), and a
//!   `bt_header_dendrite_uuid` over [`UUID_MAX_BYTES`] is refused (401).
//! * A request-body size limit (413). The body must arrive within
//!   [`AxonConfig::body_read_timeout`] (and the request's timeout), is read *before* the request
//!   takes a processing slot, and counts against [`AxonConfig::body_memory_max_bytes`] from its
//!   first byte until the request is answered.
//! * Rate limits and admission run after the signature is verified, so a forged hotkey cannot
//!   drain someone else's budget; the rate limit runs before the nonce is recorded, so refused
//!   requests use no nonce memory.
//! * The nonce is recorded under a lock together with its check, after the signature verified:
//!   two concurrent requests cannot both use one nonce. With a directory, unregistered hotkeys
//!   record theirs in a pool of their own ([`NoncePolicy::unregistered_capacity`]).
//! * `forward` sees the verified header values of the dendrite's hotkey, nonce, uuid,
//!   signature and version, not the unsigned copies in the JSON body (Python passes the body's).
//! * At most [`AxonConfig::connections_max`] open connections; at the cap the longest-idle one
//!   is closed for a newcomer. Request headers must arrive within
//!   [`AxonConfig::header_read_timeout`], which also bounds keep-alive idleness.
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

use axum::body::{Body, Bytes, HttpBody};
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
use crate::nonce::{Caller, NoncePolicy, NonceTracker};
use crate::pyrepr::{float_repr, PyValue};
use crate::synapse::{
    input_obj_headers, placeholder_body_hash, HeaderError, HeaderSynapse, MessageHead, Ping,
    Synapse, SynapseMessage, TerminalInfo, SDK_VERSION,
};

/// The longest accepted `bt_header_dendrite_uuid`, bytes. Python sends a uuid4 (36 characters);
/// the cap keeps the `hotkey:uuid` key built for every request small (nonce memory itself
/// stores a fixed-size hash of it).
pub const UUID_MAX_BYTES: usize = 64;

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
    /// Open connections at most. A newcomer at the cap closes the connection idle the longest;
    /// when every connection is busy it is held until one goes idle, and later arrivals wait
    /// in the listen backlog.
    pub connections_max: usize,
    /// Time a connection has to send a request's headers, and the longest it may stay idle
    /// between requests (keep-alive); 10 s by default. Must be above zero.
    pub header_read_timeout: Duration,
    /// Time a request body has to arrive once its headers have, whatever the request's own
    /// `timeout` (the shorter applies); 15 s by default.
    pub body_read_timeout: Duration,
    /// Request-body bytes held at once across all requests, from the first byte read until the
    /// request is answered; 256 MiB by default, and never less than `body_limit_bytes`. A
    /// request waits (within its body deadline) for room.
    pub body_memory_max_bytes: usize,
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
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(15),
            body_memory_max_bytes: 256 * 1024 * 1024,
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
    /// Tells registered callers from the rest (nonce pools); `None` treats all as registered.
    directory: Option<Arc<dyn NeuronDirectory>>,
    /// Request-body bytes in memory, as permits (see [`AxonConfig::body_memory_max_bytes`]).
    body_memory: Arc<tokio::sync::Semaphore>,
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
            .map(|limit| RateLimiter::new(limit, directory.clone()));
        let body_memory = config
            .body_memory_max_bytes
            .max(config.body_limit_bytes)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            hotkey: account.to_ss58(),
            keypair,
            uuid: uuid4(),
            nonces: Mutex::new(NonceTracker::new(config.nonce)),
            rate,
            directory,
            body_memory: Arc::new(tokio::sync::Semaphore::new(body_memory)),
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
        let handler = move |ConnectInfo(crate::server::PeerAddr(peer)): ConnectInfo<
            crate::server::PeerAddr,
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
        let serve_config = crate::server::ServeConfig {
            connections_max: self.shared.config.connections_max,
            header_read_timeout: self.shared.config.header_read_timeout,
        };
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
        let task = tokio::spawn(crate::server::serve(listener, router, serve_config, rx));
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

/// A request whose signature verified; its nonce is not recorded yet.
struct Verified {
    hotkey: String,
    endpoint_key: String,
    nonce: u64,
    now_ns: u64,
}

/// Checks the caller's identity: uuid size, ss58 hotkey, nonce (without recording it) and
/// signature. `Err` is the 401 reason.
fn authenticate(shared: &Shared, hs: &HeaderSynapse) -> Result<Verified, String> {
    let hotkey = hs
        .dendrite
        .hotkey
        .as_deref()
        .filter(|h| !h.is_empty())
        .ok_or("No SS58 formatted address or public key provided.")?;
    let uuid = hs.dendrite.uuid.as_deref().unwrap_or("None");
    // Before any other work: the uuid becomes part of the nonce memory's key.
    if uuid.len() > UUID_MAX_BYTES {
        return Err(format!(
            "uuid is {} bytes long, at most {UUID_MAX_BYTES} allowed",
            uuid.len()
        ));
    }
    let account =
        AccountId::from_ss58(hotkey).map_err(|e| format!("Invalid SS58 address {hotkey}: {e}"))?;
    let nonce = hs.dendrite.nonce.ok_or("Missing Nonce")?;
    let body_hash = hs.computed_body_hash.as_deref().unwrap_or("");
    let endpoint_key = format!("{hotkey}:{uuid}");
    let now_ns = now_ns();
    {
        let nonces = shared
            .nonces
            .lock()
            .map_err(|_| "nonce memory unavailable")?;
        nonces
            .check(&endpoint_key, nonce, hs.timeout, now_ns)
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
    Ok(Verified {
        hotkey: hotkey.to_owned(),
        endpoint_key,
        nonce,
        now_ns,
    })
}

/// Which nonce pool a caller's new endpoints go to: without a directory, everyone's.
fn caller_class(shared: &Shared, hotkey: &str) -> Caller {
    match &shared.directory {
        Some(directory) if directory.lookup(hotkey).is_none() => Caller::Unregistered,
        _ => Caller::Registered,
    }
}

/// Records a verified nonce (checked again under the lock: a concurrent request may have used
/// it). `Err` is the 401 reason.
fn record_nonce(shared: &Shared, hs: &HeaderSynapse, verified: &Verified) -> Result<(), String> {
    let caller = caller_class(shared, &verified.hotkey);
    let mut nonces = shared
        .nonces
        .lock()
        .map_err(|_| "nonce memory unavailable")?;
    nonces
        .check_and_record_as(
            &verified.endpoint_key,
            verified.nonce,
            hs.timeout,
            verified.now_ns,
            caller,
        )
        .map_err(|e| e.to_string())
}

/// Verify (401), rate limit (429), then record the nonce (401): a request the rate limit
/// refuses uses no nonce memory. `Err` is the status and message.
fn check_caller(shared: &Shared, hs: &HeaderSynapse) -> Result<(), (u16, String)> {
    let not_verified = |reason: String| (401, format!("Not Verified with error: {reason}"));
    let verified = authenticate(shared, hs).map_err(not_verified)?;
    if let Some(rate) = &shared.rate {
        let hotkey = verified.hotkey.as_str();
        if let Err(rate_per_s) = rate.try_acquire(hotkey, Instant::now()) {
            let message = format!(
                "Rate limit exceeded: {} requests/s for {hotkey}",
                float_repr(rate_per_s)
            );
            return Err((429, message));
        }
    }
    record_nonce(shared, hs, &verified).map_err(not_verified)
}

/// Why a request body was not received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum BodyError {
    /// Over [`AxonConfig::body_limit_bytes`] (announced or sent).
    #[error("request body larger than {limit_bytes} bytes")]
    TooLarge {
        /// The limit, bytes.
        limit_bytes: usize,
    },
    /// Not in full within the body deadline.
    #[error("request body not received within {deadline:?}")]
    TimedOut {
        /// The deadline that passed.
        deadline: Duration,
    },
    /// The connection failed mid-body.
    #[error("request body could not be read")]
    Unreadable,
}

/// A body's share of the body-memory budget; released when dropped.
type BodyMemory = Option<tokio::sync::OwnedSemaphorePermit>;

/// A request body in memory, with its share of the body-memory budget.
struct ReceivedBody {
    bytes: Bytes,
    memory: BodyMemory,
}

/// Reads a body of at most `limit` bytes within `deadline`. Budget permits are taken per chunk
/// as bytes actually arrive, so a caller that announces a large body but sends little holds
/// little, and nothing is reserved up front from a caller-chosen `Content-Length`.
async fn receive_body(
    budget: &Arc<tokio::sync::Semaphore>,
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<ReceivedBody, BodyError> {
    let too_large = BodyError::TooLarge { limit_bytes: limit };
    let announced = body.size_hint().lower();
    if usize::try_from(announced).map_or(true, |n| n > limit) {
        return Err(too_large);
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buffer = bytes::BytesMut::new();
        let mut memory: BodyMemory = None;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
            if chunk.len() > limit.saturating_sub(buffer.len()) {
                return Err(too_large);
            }
            // chunk ≤ limit ≤ budget, so the budget can always grant it eventually
            let n = u32::try_from(chunk.len()).map_err(|_| too_large)?;
            let permit = Arc::clone(budget)
                .acquire_many_owned(n)
                .await
                .map_err(|_| BodyError::Unreadable)?;
            match &mut memory {
                Some(held) => held.merge(permit),
                None => memory = Some(permit),
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(ReceivedBody {
            bytes: buffer.freeze(),
            memory,
        })
    };
    tokio::time::timeout(deadline, read)
        .await
        .map_err(|_| BodyError::TimedOut { deadline })?
}

/// Why a request was not served, turned into its response by [`reject`].
enum Rejection {
    /// A Python-shaped error response with this status and message.
    Status(u16, String),
    /// 500 `Internal Server Error #{id}`; the reason is logged, never sent.
    Internal(String),
    /// FastAPI's 422 for a body that is not JSON.
    Unprocessable(serde_json::Error),
}

impl From<BodyError> for Rejection {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge { limit_bytes } => {
                Self::Status(413, format!("Request body larger than {limit_bytes} bytes"))
            }
            BodyError::TimedOut { deadline } => {
                let seconds = float_repr(deadline.as_secs_f64());
                Self::Status(408, format!("Request body not received within {seconds}s"))
            }
            BodyError::Unreadable => Self::Status(400, "Request body could not be read".to_owned()),
        }
    }
}

/// The response for a rejected request (`name`: the synapse, for metrics).
fn reject(exchange: Exchange, shared: &Shared, rejection: Rejection, name: &str) -> Response {
    match rejection {
        Rejection::Status(status, message) => exchange.error(shared, status, message),
        Rejection::Internal(reason) => internal_error(exchange, shared, &reason),
        Rejection::Unprocessable(error) => unprocessable(shared, name, &error, exchange.start),
    }
}

/// The 500 Python answers for unusable synapse headers, or 431 for an oversized value.
fn header_rejection(error: &HeaderError) -> Rejection {
    match error {
        HeaderError::TooLong { .. } => Rejection::Status(431, error.to_string()),
        _ => Rejection::Internal(error.to_string()),
    }
}

/// The Python 408 message for a request that ran out of its own `timeout`.
fn response_timeout(hs: &HeaderSynapse) -> Rejection {
    Rejection::Status(
        408,
        format!("Response timeout after: {}s", float_repr(hs.timeout)),
    )
}

/// The exchange state known before the headers are parsed.
fn new_exchange<S: Synapse>(shared: &Shared, route: &RouteState<S>, peer: SocketAddr) -> Exchange {
    let mut exchange = Exchange {
        name: S::NAME.to_owned(),
        timeout: crate::synapse::DEFAULT_TIMEOUT_S,
        axon: TerminalInfo::default(),
        dendrite: TerminalInfo::default(),
        header_size: 0,
        total_size: 0,
        input_obj: input_obj_headers::<S>(),
        body_hash: route.placeholder_hash.clone(),
        start: Instant::now(),
    };
    exchange.axon.version = Some(SDK_VERSION);
    exchange.axon.uuid = Some(shared.uuid.clone());
    exchange.axon.nonce = Some(now_ns());
    exchange.axon.status_code = Some(100);
    exchange.dendrite.ip = Some(peer.ip().to_string());
    exchange.dendrite.port = Some(peer.port());
    exchange
}

/// Takes in what the parsed headers say, for error responses.
fn note_headers(exchange: &mut Exchange, hs: &HeaderSynapse) {
    let (ip, port) = (exchange.dendrite.ip.take(), exchange.dendrite.port);
    exchange.timeout = hs.timeout;
    exchange.header_size = hs.header_size;
    exchange.total_size = hs.total_size;
    exchange.dendrite = hs.dendrite.clone();
    exchange.dendrite.ip = ip;
    exchange.dendrite.port = port;
    exchange.axon.ip = hs.axon.ip.clone();
    exchange.axon.port = hs.axon.port;
    exchange.axon.hotkey = hs.axon.hotkey.clone();
}

async fn handle<S: Synapse>(
    shared: Arc<Shared>,
    route: Arc<RouteState<S>>,
    peer: SocketAddr,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let mut exchange = new_exchange(&shared, &route, peer);
    let parsed = HeaderSynapse::parse(
        parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes())),
    )
    .and_then(|hs| hs.check_placeholders::<S>().map(|()| hs));
    let hs = match parsed {
        Ok(hs) => hs,
        Err(error) => return reject(exchange, &shared, header_rejection(&error), S::NAME),
    };
    note_headers(&mut exchange, &hs);
    let start = exchange.start;
    match serve_request(&shared, &route, peer, &hs, body, start).await {
        Ok(response) => response,
        Err(rejection) => reject(exchange, &shared, rejection, S::NAME),
    }
}

/// After the headers: blacklist (403) → verify (401) → [rate limit (429)] → body →
/// priority/admission → forward. Python takes the priority before the body (see the module
/// docs for why this order differs).
async fn serve_request<S: Synapse>(
    shared: &Shared,
    route: &RouteState<S>,
    peer: SocketAddr,
    hs: &HeaderSynapse,
    body: Body,
    start: Instant,
) -> Result<Response, Rejection> {
    let info = RequestInfo {
        synapse: S::NAME.to_owned(),
        hotkey: hs.dendrite.hotkey.clone(),
        peer,
        timeout_s: hs.timeout,
    };
    if let Some(blacklist) = &route.hooks.blacklist {
        blacklist(&info).map_err(|reason| {
            Rejection::Status(403, format!("Forbidden. Key is blacklisted: {reason}."))
        })?;
    }
    check_caller(shared, hs).map_err(|(status, message)| Rejection::Status(status, message))?;
    let timeout = effective_timeout(hs.timeout, shared.config.timeout_max_s);
    // Read before taking a slot, so slow uploads hold no slot; the body's memory is budgeted.
    let (message, body_hash, body_memory) = read_message::<S>(shared, hs, body, timeout).await?;
    let priority = route.hooks.priority.as_ref().map_or(0.0, |p| p(&info));
    let slot = shared
        .admission
        .acquire(priority, timeout)
        .await
        .map_err(|error| match error {
            AdmissionError::TimedOut => response_timeout(hs),
            AdmissionError::QueueFull => Rejection::Status(503, error.to_string()),
        })?;
    // The answer reuses the request's head, so the request body is never copied.
    let mut head = MessageHead::of(&message);
    let reply = tokio::time::timeout(timeout, (route.forward)(message))
        .await
        .map_err(|_| response_timeout(hs))?
        .map_err(|error| Rejection::Internal(error.to_string()))?;
    drop(slot);
    head.axon.status_code = Some(200);
    head.axon.status_message = Some("Success".to_owned());
    head.axon.process_time = Some(start.elapsed().as_secs_f64());
    shared
        .metrics
        .observe(S::NAME, 200, start.elapsed().as_secs_f64());
    let response = success_response(head, reply, &body_hash);
    drop(body_memory);
    response
}

/// The request body: read within its deadline and budget, parsed, hash-checked, and given the
/// verified identity. Returns the message, its body hash and the body's memory permit.
async fn read_message<S: Synapse>(
    shared: &Shared,
    hs: &HeaderSynapse,
    body: Body,
    timeout: Duration,
) -> Result<(SynapseMessage<S>, String, BodyMemory), Rejection> {
    let deadline = timeout.min(shared.config.body_read_timeout);
    let limit = shared.config.body_limit_bytes;
    let received = receive_body(&shared.body_memory, body, limit, deadline).await?;
    let parsed = SynapseMessage::<S>::from_json(&received.bytes);
    // The raw bytes are not needed once parsed; the memory permit stays until the answer.
    let ReceivedBody { bytes, memory } = received;
    drop(bytes);
    let mut message = match parsed {
        Ok(message) => message,
        Err(error) if error.is_syntax() || error.is_eof() => {
            return Err(Rejection::Unprocessable(error))
        }
        Err(error) => return Err(Rejection::Internal(error.to_string())),
    };
    let body_hash = message.body.body_hash();
    if hs.computed_body_hash.as_deref() != Some(body_hash.as_str()) {
        return Err(Rejection::Internal(format!(
            "Hash mismatch between header body hash {:?} and body hash {body_hash}",
            hs.computed_body_hash
        )));
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
    Ok((message, body_hash, memory))
}

/// The 200 answer: the message as JSON, or the raw chunks of a stream.
fn success_response<S: Synapse>(
    head: MessageHead,
    reply: Reply<S>,
    body_hash: &str,
) -> Result<Response, Rejection> {
    let response = match reply {
        Reply::Message(body) => {
            let response_message = head.with_body(body);
            let headers = response_message.to_headers(body_hash);
            let json = serde_json::to_vec(&response_message)
                .map_err(|error| Rejection::Internal(error.to_string()))?;
            build_response(200, headers, "application/json", Body::from(json))
        }
        Reply::Stream(chunks) => {
            let headers = head.headers::<S>(body_hash);
            let stream = futures_util::StreamExt::map(chunks, Ok::<Bytes, Infallible>);
            build_response(200, headers, "text/event-stream", Body::from_stream(stream))
        }
    };
    Ok(response)
}
