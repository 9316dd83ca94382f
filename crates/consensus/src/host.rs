//! [`Host`]: what the engine needs from the node around it.

use hyphae_ledger::{Block, Receipts, State, Transaction};
use hyphae_primitives::{Hash, TxError};

/// A block the engine finalized, executed, ready to persist and publish.
#[derive(Debug)]
pub struct Finalized<'a> {
    /// The block.
    pub block: &'a Block,
    /// Its receipts.
    pub receipts: &'a Receipts,
    /// The state after it.
    pub state: &'a State,
    /// Candidates this node offered for the block and the block builder rejected, with why
    /// (empty when another validator proposed it).
    pub rejected: &'a [(Hash, TxError)],
}

/// Why the host could not take a finalized block.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HostError(pub String);

/// The node side of the engine: a mempool to build from, a store to commit to, and a sink for
/// transactions that peers gossip. Called from the engine's threads; keep each call short.
pub trait Host: Send + Sync + 'static {
    /// Up to `max` candidates for the next block, in the order to try them.
    fn candidates(&self, max: usize) -> Vec<Transaction>;
    /// Persists and publishes a finalized block. Blocks arrive once each, in height order.
    fn finalized(&self, finalized: Finalized<'_>) -> Result<(), HostError>;
    /// Transactions a peer gossiped (their signatures are not checked yet).
    fn peer_transactions(&self, transactions: Vec<Transaction>);
}
