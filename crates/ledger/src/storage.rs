//! [`StateStore`]: how the node persists blocks and state, and [`MemoryStore`], the in-memory
//! test double. The redb implementation lives in `hyphae-store`.

use crate::{
    block::{Block, Header, Receipts},
    state::State,
};
use hyphae_primitives::{BlockNumber, Hash};
use std::collections::BTreeMap;

/// Persistent storage for the ledger. Every commit is atomic: after a crash the store holds
/// the state of the last committed block, never a mixture.
pub trait StateStore {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Persists the genesis header and state. Fails if the store is not empty.
    fn commit_genesis(&mut self, header: &Header, state: &State) -> Result<(), Self::Error>;

    /// Atomically persists `block`, its `receipts`, and `state` (the state after the block).
    fn commit_block(
        &mut self,
        block: &Block,
        receipts: &Receipts,
        state: &State,
    ) -> Result<(), Self::Error>;

    /// The last committed state, or `None` for an empty store.
    fn load_state(&self) -> Result<Option<State>, Self::Error>;

    /// A committed block by height (genesis has no transactions).
    fn block_by_number(&self, number: BlockNumber) -> Result<Option<Block>, Self::Error>;

    /// A committed block by header hash.
    fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, Self::Error>;

    /// The receipts of a committed block.
    fn receipts(&self, number: BlockNumber) -> Result<Option<Receipts>, Self::Error>;
}

/// Errors of [`MemoryStore`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MemoryStoreError {
    /// Genesis committed twice.
    #[error("store already has a genesis")]
    NotEmpty,
}

/// A [`StateStore`] in memory: keeps every block and the latest state.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    blocks: BTreeMap<u64, (Block, Receipts)>,
    by_hash: BTreeMap<Hash, u64>,
    state: Option<State>,
}

impl StateStore for MemoryStore {
    type Error = MemoryStoreError;

    fn commit_genesis(&mut self, header: &Header, state: &State) -> Result<(), Self::Error> {
        if self.state.is_some() {
            return Err(MemoryStoreError::NotEmpty);
        }
        let block = Block {
            header: *header,
            transactions: Vec::new(),
        };
        self.by_hash.insert(header.hash(), header.number.0);
        self.blocks
            .insert(header.number.0, (block, Receipts::default()));
        self.state = Some(state.clone());
        Ok(())
    }

    fn commit_block(
        &mut self,
        block: &Block,
        receipts: &Receipts,
        state: &State,
    ) -> Result<(), Self::Error> {
        self.by_hash
            .insert(block.header.hash(), block.header.number.0);
        self.blocks
            .insert(block.header.number.0, (block.clone(), receipts.clone()));
        self.state = Some(state.clone());
        Ok(())
    }

    fn load_state(&self) -> Result<Option<State>, Self::Error> {
        Ok(self.state.clone())
    }

    fn block_by_number(&self, number: BlockNumber) -> Result<Option<Block>, Self::Error> {
        Ok(self.blocks.get(&number.0).map(|(block, _)| block.clone()))
    }

    fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, Self::Error> {
        Ok(self
            .by_hash
            .get(hash)
            .and_then(|n| self.blocks.get(n))
            .map(|(block, _)| block.clone()))
    }

    fn receipts(&self, number: BlockNumber) -> Result<Option<Receipts>, Self::Error> {
        Ok(self
            .blocks
            .get(&number.0)
            .map(|(_, receipts)| receipts.clone()))
    }
}
