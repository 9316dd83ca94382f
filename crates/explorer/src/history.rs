//! What the explorer remembers about the chain between page loads: the last few blocks and, per
//! subnet, each uid's emission and incentive over the last epochs (the chain itself keeps only
//! the current values and 8 explainable epochs). Everything here is bounded.

use hyphae_primitives::{AccountId, Hash, NetUid};
use hyphae_rpc::types::{BlockView, MetagraphView};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// Most subnets whose epoch history is kept (the lowest netuids win).
pub const SUBNETS_MAX: usize = 64;

/// A block as the recent-blocks table shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockSummary {
    /// Height.
    pub number: u64,
    /// Header hash.
    pub hash: Hash,
    /// Proposer's timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Receives the tips.
    pub author: AccountId,
    /// Transactions in the block.
    pub tx_count: usize,
    /// Transactions whose call failed (their fee was still paid).
    pub failed_tx_count: usize,
    /// Call names, in order (`transfer`, `set_weights`, …).
    pub calls: Vec<String>,
    /// Subnets whose epoch ran in this block.
    pub epochs: Vec<NetUid>,
    /// Whether the block is final.
    pub finalized: bool,
}

/// Most call names listed per block summary (the count stays exact).
const CALLS_LISTED_MAX: usize = 16;

impl BlockSummary {
    /// Summarises a block.
    pub fn of(block: &BlockView) -> Self {
        Self {
            number: block.header.number,
            hash: block.header.hash,
            timestamp_ms: block.header.timestamp_ms,
            author: block.header.author,
            tx_count: block.transactions.len(),
            failed_tx_count: block
                .transactions
                .iter()
                .filter(|tx| tx.error.is_some())
                .count(),
            calls: block
                .transactions
                .iter()
                .take(CALLS_LISTED_MAX)
                .map(|tx| tx.call.clone())
                .collect(),
            epochs: epochs_in(block),
            finalized: block.finalized,
        }
    }
}

/// The subnets whose epoch ran in `block`.
pub fn epochs_in(block: &BlockView) -> Vec<NetUid> {
    block
        .hook_events
        .iter()
        .filter_map(|event| match event {
            hyphae_ledger::Event::EpochRun { netuid, .. } => Some(*netuid),
            _ => None,
        })
        .collect()
}

/// One subnet's per-uid results after one epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EpochPoint {
    /// The subnet's epoch index.
    pub epoch_index: u64,
    /// Block of the epoch.
    pub block: u64,
    /// Uids, in order.
    pub uids: Vec<u16>,
    /// Emission of each uid in the epoch, rao (alpha).
    pub emission_rao: Vec<u64>,
    /// Incentive of each uid (u16 storage form).
    pub incentive: Vec<u16>,
    /// Dividends of each uid (u16 storage form).
    pub dividends: Vec<u16>,
}

impl EpochPoint {
    /// The point a metagraph read after the epoch shows.
    pub fn of(epoch_index: u64, block: u64, graph: &MetagraphView) -> Self {
        Self {
            epoch_index,
            block,
            uids: graph.uids.clone(),
            emission_rao: graph.emission_rao.iter().map(|rao| rao.0).collect(),
            incentive: graph.incentive.clone(),
            dividends: graph.dividends.clone(),
        }
    }
}

/// The bounded memory of recent blocks and epochs.
#[derive(Debug)]
pub struct History {
    blocks: VecDeque<BlockSummary>,
    blocks_max: usize,
    epochs: BTreeMap<NetUid, VecDeque<EpochPoint>>,
    epochs_max: usize,
}

impl History {
    /// Keeps `blocks_max` blocks and `epochs_max` epochs per subnet (each at least 1).
    pub fn new(blocks_max: usize, epochs_max: usize) -> Self {
        Self {
            blocks: VecDeque::new(),
            blocks_max: blocks_max.max(1),
            epochs: BTreeMap::new(),
            epochs_max: epochs_max.max(1),
        }
    }

    /// Records a block; a block of the same height replaces the older one.
    pub fn record_block(&mut self, summary: BlockSummary) {
        self.blocks.retain(|kept| kept.number != summary.number);
        let at = self
            .blocks
            .iter()
            .position(|kept| kept.number > summary.number)
            .unwrap_or(self.blocks.len());
        self.blocks.insert(at, summary);
        while self.blocks.len() > self.blocks_max {
            self.blocks.pop_front();
        }
    }

    /// The newest recorded height.
    pub fn last_block(&self) -> Option<u64> {
        self.blocks.back().map(|block| block.number)
    }

    /// Recent blocks, newest first.
    pub fn recent_blocks(&self) -> Vec<BlockSummary> {
        self.blocks.iter().rev().cloned().collect()
    }

    /// Records `netuid`'s results after an epoch; the same epoch index replaces the older.
    /// Returns false when the subnet is beyond [`SUBNETS_MAX`].
    pub fn record_epoch(&mut self, netuid: NetUid, point: EpochPoint) -> bool {
        if !self.epochs.contains_key(&netuid) && self.epochs.len() >= SUBNETS_MAX {
            return false;
        }
        let points = self.epochs.entry(netuid).or_default();
        points.retain(|kept| kept.epoch_index != point.epoch_index);
        let at = points
            .iter()
            .position(|kept| kept.epoch_index > point.epoch_index)
            .unwrap_or(points.len());
        points.insert(at, point);
        while points.len() > self.epochs_max {
            points.pop_front();
        }
        true
    }

    /// Whether `netuid`'s epoch `epoch_index` is recorded.
    pub fn has_epoch(&self, netuid: NetUid, epoch_index: u64) -> bool {
        self.epochs
            .get(&netuid)
            .is_some_and(|points| points.iter().any(|p| p.epoch_index == epoch_index))
    }

    /// `netuid`'s recorded epochs, oldest first.
    pub fn epochs(&self, netuid: NetUid) -> Vec<EpochPoint> {
        self.epochs
            .get(&netuid)
            .map(|points| points.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn block(number: u64) -> BlockSummary {
        BlockSummary {
            number,
            hash: Hash::default(),
            timestamp_ms: 0,
            author: AccountId([0; 32]),
            tx_count: 0,
            failed_tx_count: 0,
            calls: Vec::new(),
            epochs: Vec::new(),
            finalized: true,
        }
    }

    fn point(epoch_index: u64) -> EpochPoint {
        EpochPoint {
            epoch_index,
            block: epoch_index,
            uids: vec![0],
            emission_rao: vec![epoch_index],
            incentive: vec![1],
            dividends: vec![0],
        }
    }

    #[test]
    fn blocks_stay_ordered_unique_and_bounded() {
        let mut history = History::new(3, 2);
        for number in [1, 2, 4, 3, 3, 5] {
            history.record_block(block(number));
        }
        let numbers: Vec<u64> = history.recent_blocks().iter().map(|b| b.number).collect();
        assert_eq!(numbers, vec![5, 4, 3]);
        assert_eq!(history.last_block(), Some(5));
    }

    #[test]
    fn epochs_stay_ordered_unique_and_bounded_per_subnet() {
        let mut history = History::new(3, 2);
        for index in [1, 3, 2, 3] {
            assert!(history.record_epoch(NetUid(1), point(index)));
        }
        let kept: Vec<u64> = history
            .epochs(NetUid(1))
            .iter()
            .map(|p| p.epoch_index)
            .collect();
        assert_eq!(kept, vec![2, 3]);
        assert!(history.has_epoch(NetUid(1), 3) && !history.has_epoch(NetUid(1), 1));
        assert!(history.epochs(NetUid(2)).is_empty());
        for netuid in 100..(100 + SUBNETS_MAX as u16) {
            history.record_epoch(NetUid(netuid), point(1));
        }
        assert!(!history.record_epoch(NetUid(9999), point(1)));
    }
}
