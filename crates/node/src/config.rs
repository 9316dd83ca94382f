//! [`NodeConfig`]: ports, paths and limits, validated once at start-up.

use crate::mempool::MempoolConfig;
use hyphae_consensus::{Fault, PublicKey, ValidatorKey};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Limits of the RPC server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body, bytes (HTTP body or WebSocket message).
    pub request_body_len_max: u32,
    /// Largest response body, bytes.
    pub response_body_len_max: u32,
    /// Most simultaneous connections.
    pub connections_max: u32,
    /// Most subscriptions per WebSocket connection.
    pub subscriptions_per_connection_max: u32,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            // A signed transaction with 4096 weights is about 16 KiB of hex; 1 MiB is ample.
            request_body_len_max: 1024 * 1024,
            // A 4096-uid metagraph with full weight rows is tens of MiB.
            response_body_len_max: 64 * 1024 * 1024,
            connections_max: 256,
            subscriptions_per_connection_max: 64,
        }
    }
}

/// Everything the node needs to start.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Folder of the chain's files (`chain.redb`).
    pub base_path: PathBuf,
    /// JSON-RPC listen address (HTTP and WebSocket); port 0 picks a free one.
    pub rpc_addr: SocketAddr,
    /// Prometheus listen address; `None` disables metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Target interval between blocks.
    pub block_time: Duration,
    /// Most transactions per block.
    pub block_transactions_max: usize,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// RPC bounds.
    pub rpc: RpcLimits,
    /// Capacity of each notification channel (blocks kept for slow subscribers).
    pub notification_capacity: usize,
    /// How blocks become final.
    pub finality: Finality,
}

impl NodeConfig {
    /// A dev configuration under `base_path` with the default ports and limits: a validator
    /// set of one (the dev key).
    pub fn dev(base_path: PathBuf) -> Self {
        Self {
            base_path,
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 9944)),
            metrics_addr: Some(SocketAddr::from(([127, 0, 0, 1], 9615))),
            block_time: Duration::from_millis(1000),
            block_transactions_max: 4096,
            mempool: MempoolConfig::default(),
            rpc: RpcLimits::default(),
            notification_capacity: 256,
            finality: Finality::Bft(Box::new(BftConfig::dev())),
        }
    }
}

/// How blocks become final.
#[derive(Clone, Debug)]
pub enum Finality {
    /// The node builds every block alone and finalizes it at once, with no engine. Kept for
    /// embedding without p2p; `hyphae node` always runs [`Finality::Bft`].
    Instant,
    /// The BFT engine (commonware simplex), as one validator of a fixed set.
    Bft(Box<BftConfig>),
}

/// This node's place in the validator set.
#[derive(Clone, Debug)]
pub struct BftConfig {
    /// This validator's consensus key.
    pub key: ValidatorKey,
    /// Every validator's consensus key and dialable p2p address, in the chain spec's order.
    pub validators: Vec<(PublicKey, SocketAddr)>,
    /// Where this validator's p2p listens.
    pub listen: SocketAddr,
    /// How far ahead of this node's clock a block's timestamp may be, ms.
    pub future_drift_ms: u64,
    /// Misbehaviour, for fault tests only.
    pub fault: Fault,
}

/// Why the chain spec's validator set cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorSetError {
    /// The chain spec lists no validators.
    #[error("the chain spec lists no validators")]
    Empty,
    /// A consensus key does not parse.
    #[error("validator {index}: {source}")]
    Key {
        /// Position in the spec.
        index: usize,
        /// Why.
        source: hyphae_consensus::KeyError,
    },
    /// A p2p address does not parse.
    #[error("validator {index}: p2p address {address:?} is not ip:port")]
    Address {
        /// Position in the spec.
        index: usize,
        /// The text.
        address: String,
    },
    /// The key is not one of the spec's validators.
    #[error("the validator key {0} is not in the chain spec's validator set")]
    NotAValidator(String),
}

/// Default bound on a block timestamp's lead over the local clock, ms.
pub const FUTURE_DRIFT_MS: u64 = 10_000;

impl BftConfig {
    /// The dev chain: one validator with the well-known dev key (seed 0), p2p on a free
    /// loopback port. Anyone can derive the key: for development only.
    pub fn dev() -> Self {
        let key = ValidatorKey::from_seed(0);
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            validators: vec![(key.public(), any)],
            key,
            listen: any,
            future_drift_ms: FUTURE_DRIFT_MS,
            fault: Fault::None,
        }
    }

    /// The spec's validator set, with `key` as this node; p2p listens on `listen`, or on this
    /// validator's address in the spec.
    pub fn from_spec(
        spec: &hyphae_ledger::ChainSpec,
        key: ValidatorKey,
        listen: Option<SocketAddr>,
    ) -> Result<Self, ValidatorSetError> {
        if spec.validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let validators = spec
            .validators
            .iter()
            .enumerate()
            .map(|(index, validator)| {
                let public = hyphae_consensus::keys::parse_public(&validator.consensus_key)
                    .map_err(|source| ValidatorSetError::Key { index, source })?;
                let address = validator.p2p_address.parse::<SocketAddr>().map_err(|_| {
                    ValidatorSetError::Address {
                        index,
                        address: validator.p2p_address.clone(),
                    }
                })?;
                Ok((public, address))
            })
            .collect::<Result<Vec<_>, ValidatorSetError>>()?;
        let me = key.public();
        let own = validators
            .iter()
            .find(|(public, _)| *public == me)
            .map(|(_, address)| *address)
            .ok_or_else(|| ValidatorSetError::NotAValidator(key.public_hex()))?;
        Ok(Self {
            key,
            validators,
            listen: listen.unwrap_or(own),
            future_drift_ms: FUTURE_DRIFT_MS,
            fault: Fault::None,
        })
    }
}
