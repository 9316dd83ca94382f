//! The application the engine drives: propose builds a ledger block from the mempool on the
//! parent's state, verify executes a proposed block on its parent's state (so a vote means
//! "this state root is right"), and the finalizer commits finalized blocks in height order.

use crate::{
    block::{hash_of, ChainBlock, Digest},
    host::{Finalized, Host},
    Fault,
};
use commonware_actor::Feedback;
use commonware_consensus::{
    marshal::{ancestry::Ancestry, Update},
    simplex::{scheme::ed25519, types::Context},
    Application, Heightable, Reporter,
};
use commonware_cryptography::{ed25519::PublicKey, Digested, Digestible};
use commonware_runtime::Clock;
use commonware_utils::Acknowledgement;
use futures_util::StreamExt;
use hyphae_ledger::{apply_block, build_block, extrinsics_root, Block, Receipts, State};
use hyphae_primitives::{AccountId, Hash, TxError};
use parity_scale_codec::Encode;
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{debug, error, warn};

/// The most unfinalized blocks replayed to rebuild a parent's state.
const REPLAY_BLOCKS_MAX: usize = 256;

/// A block executed on its parent's state, not yet final.
#[derive(Debug)]
struct Executed {
    number: u64,
    state: State,
    receipts: Receipts,
    rejected: Vec<(Hash, TxError)>,
}

/// The finalized state and the executed, unfinalized blocks above it.
#[derive(Debug)]
pub(crate) struct Chain {
    committed: State,
    pending: BTreeMap<Hash, Executed>,
}

impl Chain {
    pub(crate) fn new(committed: State) -> Self {
        Self {
            committed,
            pending: BTreeMap::new(),
        }
    }

    fn state_of(&self, hash: &Hash) -> Option<State> {
        if self.committed.head().hash == *hash {
            return Some(self.committed.clone());
        }
        self.pending
            .get(hash)
            .map(|executed| executed.state.clone())
    }
}

/// Block-building parameters every validator sets for itself.
#[derive(Clone, Copy, Debug)]
pub struct BuildParams {
    /// Target interval between blocks, ms: a proposer waits until its parent is this old.
    pub block_time_ms: u64,
    /// Most transactions per block.
    pub block_transactions_max: usize,
    /// Who a proposed block pays its tips to.
    pub author: AccountId,
    /// How far ahead of the local clock a block's timestamp may be, ms.
    pub future_drift_ms: u64,
    /// Misbehaviour, for fault tests.
    pub fault: Fault,
}

/// The application behind the engine (cheap to clone; clones share the chain).
#[derive(Clone)]
pub struct App {
    chain: Arc<Mutex<Chain>>,
    host: Arc<dyn Host>,
    params: BuildParams,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("params", &self.params).finish()
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    })
}

fn recover<T>(result: Result<T, std::sync::PoisonError<T>>) -> T {
    // Every update under this lock is a whole assignment: a poisoned value is still whole.
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl App {
    pub(crate) fn new(chain: Arc<Mutex<Chain>>, host: Arc<dyn Host>, params: BuildParams) -> Self {
        Self {
            chain,
            host,
            params,
        }
    }

    fn chain(&self) -> MutexGuard<'_, Chain> {
        recover(self.chain.lock())
    }

    /// The state after the first block `ancestry` yields, replaying unfinalized blocks this
    /// node has not executed yet. `None` when the ancestry ends or leaves the finalized chain.
    async fn state_after(&self, mut ancestry: impl Ancestry<ChainBlock>) -> Option<State> {
        let mut missing: Vec<Digested<ChainBlock>> = Vec::new();
        let mut state = loop {
            let block = ancestry.next().await?;
            let hash = hash_of(&block.digest());
            let (known, committed) = {
                let chain = self.chain();
                (chain.state_of(&hash), chain.committed.head().number.0)
            };
            if let Some(state) = known {
                break state;
            }
            if block.height().get() <= committed || missing.len() >= REPLAY_BLOCKS_MAX {
                return None;
            }
            missing.push(block);
        };
        while let Some(block) = missing.pop() {
            let receipts = apply_block(&mut state, &block.inner().block).ok()?;
            self.chain().pending.insert(
                block.inner().hash(),
                Executed {
                    number: block.inner().block.header.number.0,
                    state: state.clone(),
                    receipts,
                    rejected: Vec::new(),
                },
            );
        }
        Some(state)
    }

    /// Makes a built block invalid on purpose (fault tests only).
    fn corrupt(&self, block: &mut Block) {
        match self.params.fault {
            Fault::None => {}
            Fault::BadStateRoot => block.header.state_root = Hash([0xbd; 32]),
            Fault::BadTransaction => {
                // A transfer signed by nobody: the ledger rejects its signature.
                if let Some(tx) = self.host.candidates(1).into_iter().next() {
                    let mut forged = tx;
                    forged.nonce = forged.nonce.wrapping_add(1_000);
                    block.transactions.push(forged);
                    block.header.extrinsics_root = extrinsics_root(&block.transactions);
                } else {
                    block.header.state_root = Hash([0xbe; 32]);
                }
            }
        }
    }

    /// Builds the block on `state`, waiting until the parent is a block interval old.
    async fn build<E: Clock>(&self, runtime: &E, mut state: State) -> Digested<ChainBlock> {
        let parent_ms = state.head().timestamp_ms;
        let due = UNIX_EPOCH
            .checked_add(Duration::from_millis(
                parent_ms.saturating_add(self.params.block_time_ms),
            ))
            .unwrap_or(UNIX_EPOCH);
        if runtime.current() < due {
            runtime.sleep_until(due).await;
        }
        let now_ms = millis(runtime.current());
        let timestamp_ms = now_ms.max(parent_ms.saturating_add(1));
        let candidates = self.host.candidates(self.params.block_transactions_max);
        let hashes: Vec<Hash> = candidates
            .iter()
            .map(|tx| hyphae_ledger::codec::blake2_256(&tx.encode()))
            .collect();
        let built = build_block(&mut state, candidates, timestamp_ms, self.params.author);
        let rejected = built
            .rejected
            .iter()
            .filter_map(|(index, error)| hashes.get(*index).map(|hash| (*hash, *error)))
            .collect();
        let mut block = built.block;
        self.corrupt(&mut block);
        let chain_block = ChainBlock::new(block);
        let hash = chain_block.hash();
        debug!(number = chain_block.block.header.number.0, %hash, transactions = chain_block.block.transactions.len(), "proposing");
        self.chain().pending.insert(
            hash,
            Executed {
                number: chain_block.block.header.number.0,
                state,
                receipts: built.receipts,
                rejected,
            },
        );
        let digest = chain_block.digest();
        Digested::precomputed(chain_block, digest)
    }

    /// Executes `block` on its parent's `state`: the vote.
    fn check<E: Clock>(&self, runtime: &E, block: &ChainBlock, mut state: State) -> bool {
        let header = &block.block.header;
        let parent_ms = state.head().timestamp_ms;
        let now_ms = millis(runtime.current());
        if header.timestamp_ms <= parent_ms
            || header.timestamp_ms > now_ms.saturating_add(self.params.future_drift_ms)
        {
            warn!(
                number = header.number.0,
                timestamp_ms = header.timestamp_ms,
                parent_ms,
                now_ms,
                "block timestamp out of bounds"
            );
            return false;
        }
        match apply_block(&mut state, &block.block) {
            Ok(receipts) => {
                self.chain().pending.insert(
                    block.hash(),
                    Executed {
                        number: header.number.0,
                        state,
                        receipts,
                        rejected: Vec::new(),
                    },
                );
                true
            }
            Err(error) => {
                warn!(number = header.number.0, %error, "rejecting an invalid block");
                false
            }
        }
    }
}

impl<E> Application<E> for App
where
    E: Clock + Send + 'static,
{
    type SigningScheme = ed25519::Scheme;
    type Context = Context<Digest, PublicKey>;
    type Block = ChainBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, _context): (E, Self::Context),
        ancestry: impl Ancestry<Self::Block>,
        _input: (),
    ) -> Option<Digested<Self::Block>> {
        let state = self.state_after(ancestry).await?;
        Some(self.build(&runtime, state).await)
    }

    async fn verify(
        &mut self,
        (runtime, _context): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
    ) -> bool {
        let Some(block) = ancestry.next().await else {
            return false;
        };
        if let Some(state) = self.state_after(ancestry).await {
            return self.check(&runtime, block.inner(), state);
        }
        // The parent left the finalized chain or cannot be fetched: never vote for it.
        false
    }
}

/// Receives finalized blocks from marshal, in height order, and commits them.
#[derive(Clone)]
pub struct Finalizer {
    chain: Arc<Mutex<Chain>>,
    host: Arc<dyn Host>,
}

impl std::fmt::Debug for Finalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finalizer").finish_non_exhaustive()
    }
}

/// Why a finalized block could not be committed.
#[derive(Debug, thiserror::Error)]
enum FinalizeError {
    #[error("block {got} does not follow the committed head {head}")]
    Gap { head: u64, got: u64 },
    #[error("a quorum finalized a block this node cannot execute: {0}")]
    Execution(#[from] hyphae_ledger::BlockError),
    #[error("host: {0}")]
    Host(#[from] crate::host::HostError),
}

impl Finalizer {
    pub(crate) fn new(chain: Arc<Mutex<Chain>>, host: Arc<dyn Host>) -> Self {
        Self { chain, host }
    }

    fn commit(&self, block: &ChainBlock) -> Result<(), FinalizeError> {
        let mut chain = recover(self.chain.lock());
        let number = block.block.header.number.0;
        let head = chain.committed.head().number.0;
        if number <= head {
            // Marshal redelivers after a restart; this block is already committed.
            return Ok(());
        }
        if Some(number) != head.checked_add(1) {
            return Err(FinalizeError::Gap { head, got: number });
        }
        let hash = block.hash();
        let executed = match chain.pending.remove(&hash) {
            Some(executed) => executed,
            None => {
                let mut state = chain.committed.clone();
                let receipts = apply_block(&mut state, &block.block)?;
                Executed {
                    number,
                    state,
                    receipts,
                    rejected: Vec::new(),
                }
            }
        };
        self.host.finalized(Finalized {
            block: &block.block,
            receipts: &executed.receipts,
            state: &executed.state,
            rejected: &executed.rejected,
        })?;
        chain.committed = executed.state;
        chain.pending.retain(|_, pending| pending.number > number);
        Ok(())
    }
}

impl Reporter for Finalizer {
    type Activity = Update<ChainBlock>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Tip(_, height, _) => debug!(height = height.get(), "finalized tip"),
            Update::Block(block, ack) => match self.commit(block.inner()) {
                Ok(()) => ack.acknowledge(),
                Err(error) => {
                    // Without the acknowledgement marshal stops delivering: better halted than
                    // diverged.
                    error!(%error, "cannot commit a finalized block; this node stops following the chain");
                    drop(ack);
                }
            },
        }
        Feedback::Ok
    }
}
