//! The hyphae explorer: a single web page, embedded in the binary, that shows a running chain —
//! head and finality, recent blocks, subnets, each subnet's metagraph, emission and incentive per
//! uid over epochs, a neuron's `explain` receipt, and (when a training subnet reports through a
//! [`TrainingFeed`]) the global model's accuracy and loss and the adversaries' share.
//!
//! **Is:** an axum server bound to 127.0.0.1 by default that reads the node through its JSON-RPC
//! only ([`hyphae_rpc::Client`]), serves the page, a small JSON API (`/api/…`) and live updates
//! over a WebSocket (`/ws`). **Is not:** part of the node: it works against any node's RPC URL,
//! in process (`hyphae localnet`) or beside it (`hyphae explorer`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), hyphae_explorer::ExplorerError> {
//! use hyphae_explorer::{serve, ExplorerConfig, TrainingFeed};
//! let feed = TrainingFeed::new();
//! let explorer = serve(ExplorerConfig::new("http://127.0.0.1:9944"), feed.clone()).await?;
//! println!("explorer at http://{}/", explorer.local_addr());
//! explorer.stop().await;
//! # Ok(()) }
//! ```
//!
//! Routes: `/` (the page), `/assets/{file}`, `/api/chain`, `/api/subnets`,
//! `/api/subnets/{netuid}`, `/api/subnets/{netuid}/neurons/{uid}`, `/api/training`, `/ws`.

mod api;
mod assets;
pub mod feed;
mod follower;
pub mod history;
mod link;
mod live;

pub use feed::{TrainingEpoch, TrainingFeed, TrainingSnapshot};

use axum::{extract::ws::Utf8Bytes, routing::get, Router};
use history::History;
use link::NodeLink;
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};
use tokio::{
    sync::{broadcast, watch, Semaphore},
    task::JoinHandle,
};

/// Default listen port of the explorer.
pub const DEFAULT_PORT: u16 = 9980;

/// How long [`ExplorerHandle::stop`] waits for open requests before cutting them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Bounds of the explorer; each has a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExplorerLimits {
    /// Blocks kept for the recent-blocks table.
    pub recent_blocks_max: usize,
    /// Epochs kept per subnet for the charts.
    pub history_epochs_max: usize,
    /// Live messages buffered for the open pages; a page further behind is told to reload.
    pub live_queue_len_max: usize,
    /// Open live sockets.
    pub live_sockets_max: usize,
    /// API calls in flight; more get 503.
    pub api_requests_max: usize,
}

impl Default for ExplorerLimits {
    fn default() -> Self {
        Self {
            recent_blocks_max: 32,
            history_epochs_max: 128,
            live_queue_len_max: 64,
            live_sockets_max: 64,
            api_requests_max: 32,
        }
    }
}

/// Where the explorer listens and which node it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplorerConfig {
    /// Listen address; 127.0.0.1 by default. Port 0 picks a free one.
    pub addr: SocketAddr,
    /// The node's JSON-RPC URL (`http://…` or `ws://…`).
    pub rpc_url: String,
    /// Bounds.
    pub limits: ExplorerLimits,
}

impl ExplorerConfig {
    /// Listens on 127.0.0.1:[`DEFAULT_PORT`] and reads the node at `rpc_url`.
    pub fn new(rpc_url: impl Into<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            rpc_url: rpc_url.into(),
            limits: ExplorerLimits::default(),
        }
    }
}

/// Why the explorer could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The node did not answer at start (the source names the URL).
    #[error("{source}")]
    Node {
        /// The node's RPC URL.
        url: String,
        /// Why.
        source: hyphae_rpc::ClientError,
    },
}

/// State shared by the handlers, the live sockets and the follower.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) link: NodeLink,
    pub(crate) feed: TrainingFeed,
    pub(crate) limits: ExplorerLimits,
    history: Mutex<History>,
    /// Messages for every open page; bounded (a lagging receiver skips ahead).
    pub(crate) live: broadcast::Sender<Utf8Bytes>,
    pub(crate) live_slots: Arc<Semaphore>,
    pub(crate) api_slots: Arc<Semaphore>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// The recorded blocks and epochs (never held across an await).
    pub(crate) fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells every open page; nobody listening is fine.
    pub(crate) fn publish(&self, message: &serde_json::Value) {
        let _ = self.live.send(Utf8Bytes::from(message.to_string()));
    }
}

/// A running explorer.
#[derive(Debug)]
pub struct ExplorerHandle {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    follower: JoinHandle<()>,
}

impl ExplorerHandle {
    /// The address it listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The page's URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Stops serving: closes the live sockets, lets open requests finish (at most a few
    /// seconds), and stops following the node.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let mut server = self.server;
        if tokio::time::timeout(STOP_GRACE, &mut server).await.is_err() {
            server.abort();
        }
        let _ = self.follower.await;
    }
}

/// Connects to the node at `config.rpc_url`, binds `config.addr` and serves the explorer in the
/// background until [`ExplorerHandle::stop`] (or until the handle is dropped).
pub async fn serve(
    config: ExplorerConfig,
    feed: TrainingFeed,
) -> Result<ExplorerHandle, ExplorerError> {
    let client = hyphae_rpc::Client::connect(&config.rpc_url)
        .await
        .map_err(|source| ExplorerError::Node {
            url: config.rpc_url.clone(),
            source,
        })?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ExplorerError::Bind {
            addr: config.addr,
            source,
        })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| ExplorerError::Bind {
            addr: config.addr,
            source,
        })?;
    let limits = config.limits;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (live, _) = broadcast::channel(limits.live_queue_len_max.max(1));
    let shared = Arc::new(Shared {
        link: NodeLink::new(config.rpc_url, Some(client)),
        feed,
        limits,
        history: Mutex::new(History::new(
            limits.recent_blocks_max,
            limits.history_epochs_max,
        )),
        live,
        live_slots: Arc::new(Semaphore::new(limits.live_sockets_max)),
        api_slots: Arc::new(Semaphore::new(limits.api_requests_max)),
        shutdown: shutdown_rx.clone(),
    });
    let router = Router::new()
        .route("/", get(assets::index))
        .route("/assets/{name}", get(assets::file))
        .route("/api/chain", get(api::chain))
        .route("/api/subnets", get(api::subnets))
        .route("/api/subnets/{netuid}", get(api::subnet))
        .route("/api/subnets/{netuid}/neurons/{uid}", get(api::neuron))
        .route("/api/training", get(api::training))
        .route("/ws", get(live::upgrade))
        .with_state(Arc::clone(&shared));
    let follower = tokio::spawn(follower::follow(Arc::clone(&shared), shutdown_rx.clone()));
    let mut server_shutdown = shutdown_rx;
    let server = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { follower::stopped(&mut server_shutdown).await })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "explorer server stopped");
        }
    });
    Ok(ExplorerHandle {
        local_addr,
        shutdown,
        server,
        follower,
    })
}
