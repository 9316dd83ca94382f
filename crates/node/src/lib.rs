//! The hyphae node: a bounded mempool, the BFT engine's host (block building from the mempool,
//! commit of finalized blocks), a redb store, JSON-RPC over HTTP and WebSocket, and Prometheus
//! metrics.
//!
//! **Is:** composition and I/O around the pure ledger: it persists and serves what the engine
//! finalizes. **Is not:** business logic (that is `hyphae-ledger`) or a consensus protocol (that
//! is `hyphae-consensus`, commonware simplex). A dev node is a validator set of one
//! ([`BftConfig::dev`]); [`Finality::Instant`] keeps the engine-free one-node producer for
//! embedding.
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

mod bft;
pub mod chain;
pub mod config;
pub mod engine;
pub mod mempool;
pub mod metrics;
pub mod producer;
pub mod server;

pub use config::{BftConfig, Finality, NodeConfig, RpcLimits, ValidatorSetError};
pub use mempool::{Mempool, MempoolConfig, MempoolError};

use chain::{ChainFacts, Shared};
use engine::InstantFinality;
use hyphae_consensus::{BuildParams, Timeouts, Validator, ValidatorConfig};
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
    /// A fresh chain would have to delete a `consensus/` folder that no hyphae node made.
    #[error(
        "{} was not made by a hyphae node (it has no {CONSENSUS_MARKER} file), and a new chain \
         here would delete it: move it away or choose another base path",
        path.display()
    )]
    ForeignConsensusDir {
        /// The folder.
        path: PathBuf,
    },
    /// A method name was registered twice (a programming error).
    #[error("RPC registration: {0}")]
    Register(#[from] jsonrpsee::core::RegisterMethodError),
    /// The node is stopping.
    #[error("the node is stopping")]
    Stopped,
    /// The consensus engine cannot start.
    #[error("consensus: {0}")]
    Consensus(#[from] hyphae_consensus::validator::ValidatorError),
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    rpc_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    producer: Option<JoinHandle<()>>,
    validator: Option<Validator>,
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
        // Dev keys (//Alice …) are expected wherever //Alice is root: the dev chain and the
        // localnet specs built from the dev preset, whatever their validator count.
        let dev = hyphae_keys::Keypair::from_uri("//Alice")
            .is_ok_and(|alice| alice.account_id() == spec.root_key);
        let facts = ChainFacts {
            name: spec.name.clone(),
            dev,
            block_time_ms: u64::try_from(config.block_time.as_millis()).unwrap_or(u64::MAX),
        };
        // Tips go to this validator's account in the spec (dev: the first validator's).
        let own_key = match &config.finality {
            Finality::Bft(bft) => Some(bft.key.public_hex()),
            Finality::Instant => None,
        };
        let author = spec
            .validators
            .iter()
            .find(|validator| Some(&validator.consensus_key) == own_key.as_ref())
            .or_else(|| spec.validators.first())
            .and_then(|validator| validator.account)
            .unwrap_or(spec.root_key);
        let path = config.base_path.join("chain.redb");
        let fresh = !path.exists();
        if matches!(config.finality, Finality::Bft(_)) {
            // Before the chain file is created, so a refusal leaves the base path as it was.
            claim_consensus_dir(&config.base_path.join(CONSENSUS_DIR), fresh)?;
        }
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
        let (producer, validator) = match config.finality {
            Finality::Instant => {
                let producer = tokio::spawn(producer::run(
                    Arc::clone(&shared),
                    state,
                    Box::new(InstantFinality::new(author)),
                    config.block_time,
                    config.block_transactions_max,
                    shutdown_rx,
                ));
                (Some(producer), None)
            }
            Finality::Bft(bft) => {
                let validator = start_validator(
                    &shared,
                    &config.base_path,
                    *bft,
                    BuildParams {
                        block_time_ms: facts_block_time(&config.block_time),
                        block_transactions_max: config.block_transactions_max,
                        author,
                        future_drift_ms: 0,
                        fault: hyphae_consensus::Fault::None,
                    },
                    config.block_time,
                    state,
                )
                .await?;
                (None, Some(validator))
            }
        };
        info!(%rpc_addr, ?metrics_addr, "node started");
        Ok(Self {
            rpc_addr,
            metrics_addr,
            shared,
            shutdown,
            producer,
            validator,
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
        if let Some(producer) = self.producer {
            let _ = producer.await;
        }
        if let Some(validator) = self.validator {
            // Joining the engine's thread blocks: keep it off the async workers.
            let _ = tokio::task::spawn_blocking(move || validator.stop()).await;
        }
        let _ = self.rpc.stop();
        self.rpc.stopped().await;
        if let Some(metrics) = self.metrics_server {
            metrics.abort();
            let _ = metrics.await;
        }
        info!("node stopped");
    }
}

fn facts_block_time(block_time: &std::time::Duration) -> u64 {
    u64::try_from(block_time.as_millis()).unwrap_or(u64::MAX)
}

/// The engine's folder under the base path.
const CONSENSUS_DIR: &str = "consensus";
/// The file that marks a `consensus/` folder as this node's, so the only folder a fresh start
/// ever deletes is one a hyphae node made, never one the base path happened to contain.
const CONSENSUS_MARKER: &str = ".hyphae-consensus";

/// Makes `dir` the engine's folder: created and marked; on a fresh chain, emptied first when it
/// is marked, refused when it is not.
fn claim_consensus_dir(dir: &std::path::Path, fresh: bool) -> Result<(), NodeError> {
    let marker = dir.join(CONSENSUS_MARKER);
    let io = |source| NodeError::BasePath {
        path: dir.to_path_buf(),
        source,
    };
    if fresh && dir.symlink_metadata().is_ok() {
        if marker.symlink_metadata().is_err() {
            return Err(NodeError::ForeignConsensusDir {
                path: dir.to_path_buf(),
            });
        }
        // A new chain file under an old engine folder: the folder's progress belongs to a chain
        // that is gone, and keeping it would make the engine wait for blocks it never sees.
        std::fs::remove_dir_all(dir).map_err(io)?;
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    // A new folder, or (beside an existing chain file) an engine folder from before markers.
    if marker.symlink_metadata().is_err() {
        std::fs::write(
            &marker,
            b"made by a hyphae node; removed with the chain it belongs to\n",
        )
        .map_err(io)?;
    }
    Ok(())
}

/// Starts this node's validator: the engine's storage lives under `base_path/consensus`.
async fn start_validator(
    shared: &Arc<Shared>,
    base_path: &std::path::Path,
    bft: BftConfig,
    mut build: BuildParams,
    block_time: std::time::Duration,
    state: hyphae_ledger::State,
) -> Result<Validator, NodeError> {
    let storage_dir = base_path.join(CONSENSUS_DIR);
    let genesis = shared
        .block(hyphae_primitives::BlockNumber(0))?
        .ok_or(NodeError::MissingBlock { number: 0 })?
        .0
        .header;
    build.future_drift_ms = bft.future_drift_ms;
    build.fault = bft.fault;
    let config = ValidatorConfig {
        key: bft.key,
        validators: bft.validators,
        listen: bft.listen,
        storage_dir,
        genesis,
        build,
        timeouts: Timeouts::for_block_time(block_time),
        gossip_capacity: 65_536,
    };
    let host: Arc<dyn hyphae_consensus::Host> = Arc::new(bft::NodeHost::new(Arc::clone(shared)));
    let validator = tokio::task::spawn_blocking(move || Validator::start(config, host, state))
        .await
        .map_err(|_| NodeError::Stopped)??;
    shared.mempool().set_announcer(validator.gossip());
    Ok(validator)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_chain_clears_only_a_consensus_folder_it_marked() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join(CONSENSUS_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), b"not the node's").unwrap();
        let refused = claim_consensus_dir(&dir, true);
        assert!(matches!(
            refused,
            Err(NodeError::ForeignConsensusDir { .. })
        ));
        assert!(dir.join("notes.txt").exists());

        // Beside an existing chain file an unmarked folder is adopted, and nothing is removed.
        claim_consensus_dir(&dir, false).unwrap();
        assert!(dir.join("notes.txt").exists());
        assert!(dir.join(CONSENSUS_MARKER).exists());

        // Marked and fresh: the old engine state goes, and the new folder is marked again.
        claim_consensus_dir(&dir, true).unwrap();
        assert!(!dir.join("notes.txt").exists());
        assert!(dir.join(CONSENSUS_MARKER).exists());
    }
}
