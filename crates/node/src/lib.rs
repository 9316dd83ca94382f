//! The hyphae node: a one-node chain (dev mode) with a bounded mempool, a block producer behind
//! the [`engine::Engine`] boundary, a redb store, JSON-RPC over HTTP and WebSocket, and
//! Prometheus metrics.
//!
//! **Is:** composition and I/O around the pure ledger: it decides *when* to build a block and
//! persists and serves the result. **Is not:** business logic (that is `hyphae-ledger`) or a
//! consensus protocol (a BFT engine replaces [`engine::InstantFinality`] later).
//!
//! ```no_run
//! # async fn demo() -> Result<(), hyphae_node::NodeError> {
//! use hyphae_node::{Node, NodeConfig};
//! let mut config = NodeConfig::dev("/tmp/hyphae-dev".into());
//! config.rpc_addr = "127.0.0.1:0".parse().unwrap();
//! let node = Node::start(config, hyphae_ledger::ChainSpec::dev()?).await?;
//! println!("RPC on {}", node.rpc_addr());
//! node.stop().await;
//! # Ok(()) }
//! ```

pub mod chain;
pub mod config;
pub mod engine;
pub mod mempool;
pub mod metrics;
pub mod producer;
pub mod server;

pub use config::{NodeConfig, RpcLimits};
pub use mempool::{Mempool, MempoolConfig, MempoolError};

use chain::{ChainFacts, Shared};
use engine::InstantFinality;
use hyphae_ledger::{genesis::GenesisError, ChainSpec};
use hyphae_primitives::Hash;
use hyphae_store::StoreError;
use std::{net::SocketAddr, path::PathBuf, sync::Arc};
use tokio::{sync::watch, task::JoinHandle};
use tracing::info;

/// Why the node cannot start or serve.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The chain spec does not build.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// The base path holds another chain.
    #[error("the base path holds chain {stored}, not this chain spec's {spec}")]
    GenesisMismatch {
        /// Genesis hash in the store.
        stored: Hash,
        /// Genesis hash of the spec.
        spec: Hash,
    },
    /// A committed block is missing from the store.
    #[error("block {number} is missing from the store")]
    MissingBlock {
        /// Its height.
        number: u64,
    },
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The base path cannot be created.
    #[error("cannot create {path}: {source}")]
    BasePath {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A method name was registered twice (a programming error).
    #[error("RPC registration: {0}")]
    Register(#[from] jsonrpsee::core::RegisterMethodError),
    /// The node is stopping.
    #[error("the node is stopping")]
    Stopped,
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    rpc_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    producer: JoinHandle<()>,
    metrics_server: Option<JoinHandle<()>>,
    rpc: jsonrpsee::server::ServerHandle,
}

impl Node {
    /// Opens (or creates) the chain under `config.base_path`, binds RPC and metrics, and
    /// starts producing blocks.
    pub async fn start(config: NodeConfig, spec: ChainSpec) -> Result<Self, NodeError> {
        std::fs::create_dir_all(&config.base_path).map_err(|source| NodeError::BasePath {
            path: config.base_path.clone(),
            source,
        })?;
        let facts = ChainFacts {
            name: spec.name.clone(),
            dev: true,
            block_time_ms: u64::try_from(config.block_time.as_millis()).unwrap_or(u64::MAX),
        };
        let author = spec
            .validators
            .first()
            .and_then(|validator| validator.account)
            .unwrap_or(spec.root_key);
        let path = config.base_path.join("chain.redb");
        let (shared, state) = Shared::open(
            &path,
            &spec,
            facts,
            Mempool::new(config.mempool),
            config.notification_capacity,
        )?;
        let shared = Arc::new(shared);
        info!(base_path = %config.base_path.display(), best = state.head().number.0, "chain opened");

        let module = server::module(Arc::clone(&shared))?;
        let (rpc_addr, rpc) = server::start(config.rpc_addr, config.rpc, module).await?;
        let metrics_server = match config.metrics_addr {
            Some(addr) => Some(serve_metrics(addr, Arc::clone(&shared)).await?),
            None => None,
        };
        let (metrics_addr, metrics_server) = match metrics_server {
            Some((addr, handle)) => (Some(addr), Some(handle)),
            None => (None, None),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let producer = tokio::spawn(producer::run(
            Arc::clone(&shared),
            state,
            Box::new(InstantFinality::new(author)),
            config.block_time,
            config.block_transactions_max,
            shutdown_rx,
        ));
        info!(%rpc_addr, ?metrics_addr, "node started");
        Ok(Self {
            rpc_addr,
            metrics_addr,
            shared,
            shutdown,
            producer,
            metrics_server,
            rpc,
        })
    }

    /// Where JSON-RPC listens.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc_addr
    }

    /// Where metrics are served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The shared chain (for embedding and tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops producing (after the block in progress is committed), then stops the servers.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.producer.await;
        let _ = self.rpc.stop();
        self.rpc.stopped().await;
        if let Some(metrics) = self.metrics_server {
            metrics.abort();
            let _ = metrics.await;
        }
        info!("node stopped");
    }
}

async fn serve_metrics(
    addr: SocketAddr,
    shared: Arc<Shared>,
) -> Result<(SocketAddr, JoinHandle<()>), NodeError> {
    use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
    async fn render(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
        let body = shared.metrics.render();
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| NodeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| NodeError::Bind { addr, source })?;
    let router = Router::new()
        .route("/metrics", get(render))
        .with_state(shared);
    let handle = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "metrics server stopped");
        }
    });
    Ok((local, handle))
}
