//! [`NodeConfig`]: ports, paths and limits, validated once at start-up.

use crate::mempool::MempoolConfig;
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
}

impl NodeConfig {
    /// A dev configuration under `base_path` with the default ports and limits.
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
        }
    }
}
