//! The consensus boundary: how a block is produced and finalized.
//!
//! The node hands an [`Engine`] the state at its best block and the mempool's candidates; the
//! engine builds (or receives) the next block, applies it, and says whether it is final. A
//! one-node chain needs no votes, so [`InstantFinality`] finalizes every block it builds. A BFT
//! engine replaces it behind the same trait: it proposes, collects votes, and reports the
//! block final when the quorum certifies it.

use hyphae_ledger::{build_block, BuiltBlock, State, Transaction};
use hyphae_primitives::AccountId;

/// A block the engine produced, applied to the state it was given.
#[derive(Debug)]
pub struct Produced {
    /// The block, its receipts, and the candidates left out.
    pub built: BuiltBlock,
    /// Whether the block is final (a one-node chain: always).
    pub finalized: bool,
}

/// Produces and finalizes blocks. Runs on a blocking thread: it may take CPU time (epochs).
pub trait Engine: Send + 'static {
    /// Builds the next block on `state` from `candidates` at `timestamp_ms`, advancing `state`.
    fn produce(
        &mut self,
        state: &mut State,
        candidates: Vec<Transaction>,
        timestamp_ms: u64,
    ) -> Produced;
}

/// The one-node engine: the node is the only author and every block is final at once.
#[derive(Clone, Copy, Debug)]
pub struct InstantFinality {
    author: AccountId,
}

impl InstantFinality {
    /// An engine whose blocks pay their tips to `author`.
    pub fn new(author: AccountId) -> Self {
        Self { author }
    }
}

impl Engine for InstantFinality {
    fn produce(
        &mut self,
        state: &mut State,
        candidates: Vec<Transaction>,
        timestamp_ms: u64,
    ) -> Produced {
        Produced {
            built: build_block(state, candidates, timestamp_ms, self.author),
            finalized: true,
        }
    }
}
