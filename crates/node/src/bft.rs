//! The node side of the BFT engine: [`NodeHost`] hands the engine the mempool's candidates,
//! commits and publishes the blocks it finalizes, and admits the transactions peers gossip.

use crate::{chain::Shared, mempool::signature_valid, producer::commit_and_publish};
use hyphae_consensus::{Finalized, Host, HostError};
use hyphae_ledger::Transaction;
use std::{sync::Arc, time::Instant};
use tracing::debug;

/// The engine's view of the node.
#[derive(Debug)]
pub(crate) struct NodeHost {
    shared: Arc<Shared>,
}

impl NodeHost {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl Host for NodeHost {
    fn candidates(&self, max: usize) -> Vec<Transaction> {
        self.shared.mempool().ready(max)
    }

    fn finalized(&self, finalized: Finalized<'_>) -> Result<(), HostError> {
        commit_and_publish(
            &self.shared,
            finalized.block,
            finalized.receipts,
            finalized.state,
            finalized.rejected,
            true,
            Instant::now(),
        )
        .map_err(|error| HostError(error.to_string()))
    }

    fn peer_transactions(&self, transactions: Vec<Transaction>) {
        let genesis = self.shared.view().state.head().genesis_hash;
        // Signatures are pure CPU: check them before taking the lock.
        let valid: Vec<Transaction> = transactions
            .into_iter()
            .filter(|tx| signature_valid(tx, &genesis))
            .collect();
        let mut mempool = self.shared.mempool();
        let view = self.shared.view();
        let mut admitted = 0usize;
        for tx in valid {
            if mempool.insert_from_peer(tx, &view.state).is_ok() {
                admitted = admitted.saturating_add(1);
            }
        }
        self.shared.metrics.mempool(mempool.len());
        debug!(admitted, "gossiped transactions");
    }
}
