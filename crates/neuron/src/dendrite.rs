//! The dendrite: an async HTTP client that queries axons, wire-compatible with a Python
//! `bt.Dendrite` (bittensor 10.5.0).
//!
//! Each request is signed over `"{nonce}.{dendrite hotkey}.{axon hotkey}.{uuid}.{body hash}"`
//! (`0x` hex sr25519). The uuid is drawn once per [`Dendrite`]; nonces are `time_ns()`, bumped
//! by one when the clock would not make them strictly increasing. Results come back as the
//! [`SynapseMessage`] the axon answered, with `dendrite.status_code`, `status_message` and
//! `process_time` set as Python sets them, including its client-side mapping (503 connection
//! refused, 408 timeout, 422 unparsable response).
//!
//! Connections are pooled by one `reqwest` client; at most
//! [`DendriteConfig::in_flight_max`] requests run at once across all targets.
//!
//! As with Python, concurrent requests from one dendrite to the *same* axon share one nonce
//! sequence and may overtake each other in flight; the axon then refuses the overtaken one as a
//! replay (401). Querying many axons at once is safe; for parallel streams to one axon use one
//! [`Dendrite`] per stream (each has its own uuid).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hyphae_keys::Keypair;
use tokio::sync::Semaphore;

use crate::axon::{now_ns, uuid4, ChunkStream};
use crate::pyrepr::float_repr;
use crate::synapse::{HeaderSynapse, Synapse, SynapseMessage, TerminalInfo, SDK_VERSION};

/// Where an axon listens (the parts of Python `AxonInfo` a dendrite uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonInfo {
    /// IP address as text (IPv6 without brackets).
    pub ip: String,
    /// Port.
    pub port: u16,
    /// The axon's hotkey (ss58): part of the signed message.
    pub hotkey: String,
}

/// Dendrite settings.
#[derive(Debug, Clone)]
pub struct DendriteConfig {
    /// Sent as `bt_header_dendrite_ip` (Python: the external ip).
    pub external_ip: String,
    /// Requests in flight at once, across all axons.
    pub in_flight_max: usize,
    /// Idle pooled connections kept per axon.
    pub idle_per_host_max: usize,
    /// TCP connect timeout (the request timeout still bounds the whole call).
    pub connect_timeout: Duration,
    /// Largest response body read from an axon, bytes (16 MiB by default, the axon's request
    /// limit); a larger one answers [`RESPONSE_TOO_LARGE_STATUS`] without being read further.
    /// Streamed 200 answers ([`Dendrite::call_stream`]) are left to the caller to bound.
    pub response_body_max_bytes: usize,
}

impl Default for DendriteConfig {
    fn default() -> Self {
        Self {
            external_ip: "127.0.0.1".to_owned(),
            in_flight_max: 256,
            idle_per_host_max: 32,
            connect_timeout: Duration::from_secs(5),
            response_body_max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The status a call reports when the axon's response body is over
/// [`DendriteConfig::response_body_max_bytes`] (HTTP's "content too large").
pub const RESPONSE_TOO_LARGE_STATUS: i64 = 413;

/// A response body that could not be read in full.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    /// Over the configured limit (announced or actually sent).
    #[error("Response body larger than {limit_bytes} bytes")]
    TooLarge {
        /// The limit, bytes.
        limit_bytes: usize,
    },
    /// The connection failed or timed out while reading.
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

/// Reads a response body, refusing more than `limit_bytes`: an announced `Content-Length` over
/// the limit is refused before reading, and reading stops as soon as the limit is passed, so a
/// hostile axon cannot make the validator buffer more than the limit plus one chunk.
async fn read_body_capped(
    mut response: reqwest::Response,
    limit_bytes: usize,
) -> Result<bytes::Bytes, BodyError> {
    let too_large = BodyError::TooLarge { limit_bytes };
    let announced = response.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > limit_bytes) {
        return Err(too_large);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > limit_bytes.saturating_sub(body.len()) {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The dendrite could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct DendriteError(#[from] reqwest::Error);

/// A signed request, ready to send (exposed so tests can tamper with it).
#[derive(Debug, Clone)]
pub struct PreparedRequest<S> {
    /// `http://{ip}:{port}/{Name}`.
    pub url: String,
    /// Lower-case headers, Python order.
    pub headers: Vec<(String, String)>,
    /// The message as sent.
    pub message: SynapseMessage<S>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// A streaming answer: the terminal info from the response headers and the raw chunks.
pub struct StreamReply<S> {
    /// The request message with `dendrite`/`axon` status filled from the headers.
    pub message: SynapseMessage<S>,
    /// The chunks, when the axon answered 200.
    pub chunks: Option<ChunkStream>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for StreamReply<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReply")
            .field("message", &self.message)
            .field("chunks", &self.chunks.is_some())
            .finish()
    }
}

/// An async client for axons.
#[derive(Debug, Clone)]
pub struct Dendrite {
    inner: Arc<Inner>,
}

struct Inner {
    keypair: Keypair,
    hotkey: String,
    uuid: String,
    config: DendriteConfig,
    client: reqwest::Client,
    last_nonce: AtomicU64,
    in_flight: Semaphore,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dendrite")
            .field("hotkey", &self.hotkey)
            .field("uuid", &self.uuid)
            .finish()
    }
}

fn url_host(ip: &str) -> String {
    if ip.contains(':') && !ip.starts_with('[') {
        format!("[{ip}]")
    } else {
        ip.to_owned()
    }
}

impl Dendrite {
    /// A dendrite signing with `keypair`.
    pub fn new(keypair: Keypair, config: DendriteConfig) -> Result<Self, DendriteError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(config.idle_per_host_max)
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .build()?;
        let hotkey = keypair.account_id().to_ss58();
        Ok(Self {
            inner: Arc::new(Inner {
                keypair,
                hotkey,
                uuid: uuid4(),
                in_flight: Semaphore::new(config.in_flight_max.max(1)),
                config,
                client,
                last_nonce: AtomicU64::new(0),
            }),
        })
    }

    /// The signing hotkey (ss58).
    pub fn hotkey(&self) -> &str {
        &self.inner.hotkey
    }

    /// This dendrite's uuid (constant for its lifetime).
    pub fn uuid(&self) -> &str {
        &self.inner.uuid
    }

    /// A strictly increasing nonce: `time_ns()`, or last + 1.
    pub fn next_nonce(&self) -> u64 {
        let now = now_ns();
        let mut last = self.inner.last_nonce.load(Ordering::Relaxed);
        loop {
            let next = if now > last {
                now
            } else {
                last.saturating_add(1)
            };
            match self.inner.last_nonce.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Builds and signs a request exactly as the Python dendrite does.
    pub fn prepare<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: S,
        timeout_s: f64,
    ) -> PreparedRequest<S> {
        self.prepare_with_nonce(target, synapse, timeout_s, self.next_nonce())
    }

    /// [`Dendrite::prepare`] with a chosen nonce (tests of the replay rules).
    pub fn prepare_with_nonce<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: S,
        timeout_s: f64,
        nonce: u64,
    ) -> PreparedRequest<S> {
        let mut message = SynapseMessage::new(synapse);
        message.timeout = timeout_s;
        message.dendrite = TerminalInfo {
            ip: Some(self.inner.config.external_ip.clone()),
            version: Some(SDK_VERSION),
            nonce: Some(nonce),
            uuid: Some(self.inner.uuid.clone()),
            hotkey: Some(self.inner.hotkey.clone()),
            ..TerminalInfo::default()
        };
        message.axon = TerminalInfo {
            ip: Some(target.ip.clone()),
            port: Some(target.port),
            hotkey: Some(target.hotkey.clone()),
            ..TerminalInfo::default()
        };
        let body_hash = message.body.body_hash();
        let to_sign = format!(
            "{nonce}.{}.{}.{}.{body_hash}",
            self.inner.hotkey, target.hotkey, self.inner.uuid
        );
        message.dendrite.signature = Some(self.inner.keypair.sign(to_sign.as_bytes()).to_hex());
        let headers = message.to_headers(&body_hash);
        let body = serde_json::to_vec(&message).unwrap_or_default();
        PreparedRequest {
            url: format!(
                "http://{}:{}/{}",
                url_host(&target.ip),
                target.port,
                S::NAME
            ),
            headers,
            message,
            body,
        }
    }

    async fn send<S: Synapse>(
        &self,
        prepared: &PreparedRequest<S>,
        timeout_s: f64,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let timeout = Duration::try_from_secs_f64(timeout_s).unwrap_or(Duration::from_secs(12));
        let mut request = self
            .inner
            .client
            .post(&prepared.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(prepared.body.clone());
        for (name, value) in &prepared.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.send().await
    }

    /// Queries one axon and returns the answered synapse (never fails: errors become status
    /// codes, as in Python).
    pub async fn call<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: S,
        timeout_s: f64,
    ) -> SynapseMessage<S> {
        let start = Instant::now();
        // Sign only once a slot is free, so queued requests do not carry stale nonces.
        let _permit = self.inner.in_flight.acquire().await;
        let prepared = self.prepare(target, synapse, timeout_s);
        self.exchange(prepared, timeout_s, start).await
    }

    /// Sends an already prepared (possibly tampered) request.
    pub async fn send_prepared<S: Synapse>(
        &self,
        prepared: PreparedRequest<S>,
        timeout_s: f64,
    ) -> SynapseMessage<S> {
        let start = Instant::now();
        let _permit = self.inner.in_flight.acquire().await;
        self.exchange(prepared, timeout_s, start).await
    }

    async fn exchange<S: Synapse>(
        &self,
        prepared: PreparedRequest<S>,
        timeout_s: f64,
        start: Instant,
    ) -> SynapseMessage<S> {
        let sent = self.send(&prepared, timeout_s).await;
        let mut message = prepared.message;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let header_terminal = header_axon_terminal(response.headers());
                let limit = self.inner.config.response_body_max_bytes;
                match read_body_capped(response, limit).await {
                    Ok(bytes) => absorb_response(&mut message, status, header_terminal, &bytes),
                    Err(error) => set_body_error(&mut message, &error, timeout_s, S::NAME),
                }
            }
            Err(error) => set_client_error(&mut message, &error, timeout_s, S::NAME),
        }
        message.dendrite.process_time = Some(start.elapsed().as_secs_f64());
        message
    }

    /// Queries many axons concurrently (bounded by `in_flight_max`); results in target order.
    pub async fn query<S: Synapse>(
        &self,
        targets: &[AxonInfo],
        synapse: &S,
        timeout_s: f64,
    ) -> Vec<SynapseMessage<S>> {
        futures_util::future::join_all(
            targets
                .iter()
                .map(|target| self.call(target, synapse.clone(), timeout_s)),
        )
        .await
    }

    /// Queries a streaming synapse: terminal info from the headers, then the raw chunks.
    pub async fn call_stream<S: Synapse>(
        &self,
        target: &AxonInfo,
        synapse: S,
        timeout_s: f64,
    ) -> StreamReply<S> {
        let start = Instant::now();
        let prepared = self.prepare(target, synapse, timeout_s);
        let permit = self.inner.in_flight.acquire().await;
        let sent = self.send(&prepared, timeout_s).await;
        drop(permit);
        let mut message = prepared.message;
        let chunks = match sent {
            Ok(response) if response.status().as_u16() == 200 => {
                message.axon =
                    merge_terminal(message.axon, header_axon_terminal(response.headers()));
                message.dendrite.status_code = message.axon.status_code;
                message.dendrite.status_message = message.axon.status_message.clone();
                let stream = response
                    .bytes_stream()
                    .take_while(|chunk| std::future::ready(chunk.is_ok()))
                    .filter_map(|chunk| std::future::ready(chunk.ok()));
                Some(Box::pin(stream) as ChunkStream)
            }
            Ok(response) => {
                let status = response.status().as_u16();
                let header_terminal = header_axon_terminal(response.headers());
                let limit = self.inner.config.response_body_max_bytes;
                match read_body_capped(response, limit).await {
                    Ok(bytes) => absorb_response(&mut message, status, header_terminal, &bytes),
                    Err(error) => set_body_error(&mut message, &error, timeout_s, S::NAME),
                }
                None
            }
            Err(error) => {
                set_client_error(&mut message, &error, timeout_s, S::NAME);
                None
            }
        };
        message.dendrite.process_time = Some(start.elapsed().as_secs_f64());
        StreamReply { message, chunks }
    }
}

fn header_axon_terminal(headers: &reqwest::header::HeaderMap) -> TerminalInfo {
    // The Python dendrite matches `bt_header_axon_` case-sensitively; hyper lower-cases names.
    let pairs = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("bt_header_axon_"))
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    let mut terminal = TerminalInfo::default();
    for (name, value) in pairs {
        if let (Some(field), Ok(text)) = (
            name.strip_prefix("bt_header_axon_"),
            std::str::from_utf8(value),
        ) {
            let _ = terminal.set_from_header(field, text);
        }
    }
    terminal
}

fn merge_terminal(mut base: TerminalInfo, over: TerminalInfo) -> TerminalInfo {
    macro_rules! take {
        ($($f:ident),*) => {$( if over.$f.is_some() { base.$f = over.$f; } )*};
    }
    take!(
        status_code,
        status_message,
        process_time,
        ip,
        port,
        version,
        nonce,
        uuid,
        hotkey,
        signature
    );
    base
}

fn absorb_response<S: Synapse>(
    message: &mut SynapseMessage<S>,
    status: u16,
    header_terminal: TerminalInfo,
    bytes: &[u8],
) {
    if status == 200 {
        match SynapseMessage::<S>::from_json(bytes) {
            Ok(answer) => {
                message.body = answer.body;
                message.axon = merge_terminal(answer.axon, header_terminal);
                message.dendrite.status_code = message.axon.status_code;
                message.dendrite.status_message = message.axon.status_message.clone();
            }
            Err(error) => {
                message.dendrite.status_code = Some(422);
                message.dendrite.status_message =
                    Some(format!("Failed to parse response: {error}"));
            }
        }
        return;
    }
    message.axon = merge_terminal(message.axon.clone(), header_terminal);
    let text = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned));
    match text {
        Some(text) => {
            message.dendrite.status_code = Some(i64::from(status));
            message.dendrite.status_message = Some(text);
        }
        None => {
            message.dendrite.status_code = Some(422);
            message.dendrite.status_message = Some(format!(
                "Failed to parse response: HTTP {status} without a JSON message"
            ));
        }
    }
}

fn set_body_error<S>(
    message: &mut SynapseMessage<S>,
    error: &BodyError,
    timeout_s: f64,
    name: &str,
) {
    match error {
        BodyError::TooLarge { .. } => {
            message.dendrite.status_code = Some(RESPONSE_TOO_LARGE_STATUS);
            message.dendrite.status_message = Some(error.to_string());
        }
        BodyError::Transport(error) => set_client_error(message, error, timeout_s, name),
    }
}

fn set_client_error<S>(
    message: &mut SynapseMessage<S>,
    error: &reqwest::Error,
    timeout_s: f64,
    name: &str,
) {
    let target = format!(
        "{}:{}/{name}",
        message.axon.ip.as_deref().unwrap_or("None"),
        message
            .axon
            .port
            .map_or_else(|| "None".to_owned(), |p| p.to_string())
    );
    let (code, text) = if error.is_timeout() {
        (
            408,
            format!("Request timeout after {} seconds", float_repr(timeout_s)),
        )
    } else if error.is_connect() || error.is_request() {
        (503, format!("Service unavailable at {target}"))
    } else if error.is_body() || error.is_decode() {
        (400, format!("Payload error: {error}"))
    } else {
        (422, format!("Failed to parse response: {error}"))
    };
    message.dendrite.status_code = Some(code);
    message.dendrite.status_message = Some(text);
}

/// Parses the `bt_header_*` headers of any response or request (exposed for tests and fuzzing).
pub fn parse_headers(
    headers: &reqwest::header::HeaderMap,
) -> Result<HeaderSynapse, crate::synapse::HeaderError> {
    HeaderSynapse::parse(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
}
