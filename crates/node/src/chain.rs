//! [`Shared`]: what the block producer writes and the RPC server reads: the best state, the
//! store, the mempool and the block notifications.
//!
//! Lock order: `mempool` before `view`. The producer publishes a new view and prunes the mempool
//! under one mempool lock, so a transaction is never admitted against a state older than the
//! mempool's.

use crate::{mempool::Mempool, metrics::Metrics, NodeError};
use hyphae_ledger::{Block, ChainSpec, Header, Receipts, State, StateStore};
use hyphae_primitives::{BlockNumber, Hash, NetUid, TxError};
use hyphae_rpc::types::{BlockEvents, EventRecord, MetagraphOptions, MetagraphView};
use hyphae_store::RedbStore;
use serde_json::value::RawValue;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::broadcast;

/// The chain as of the best block.
#[derive(Debug)]
pub struct ChainView {
    /// State after the best block.
    pub state: State,
    /// Best header.
    pub best: Header,
    /// Finalized header.
    pub finalized: Header,
}

/// What subscribers hear about each new block.
#[derive(Debug)]
pub struct BlockNotice {
    /// The header.
    pub header: Header,
    /// Whether it is final.
    pub finalized: bool,
    /// Every included transaction's hash and error code.
    pub transactions: Vec<(Hash, Option<u16>)>,
    /// Transactions the mempool dropped after this block, with why.
    pub dropped: Vec<(Hash, TxError)>,
    /// The block's events.
    pub events: BlockEvents,
}

/// Static facts about the running chain.
#[derive(Clone, Debug)]
pub struct ChainFacts {
    /// Chain spec name.
    pub name: String,
    /// Whether this is a dev chain (dev keys, instant finality).
    pub dev: bool,
    /// Target block interval, ms.
    pub block_time_ms: u64,
}

/// State shared by the producer and the RPC handlers.
#[derive(Debug)]
pub struct Shared {
    view: RwLock<Arc<ChainView>>,
    store: RwLock<RedbStore>,
    mempool: Mutex<Mempool>,
    /// Block notifications (bounded; slow subscribers skip ahead).
    pub notices: broadcast::Sender<Arc<BlockNotice>>,
    /// Metrics.
    pub metrics: Metrics,
    /// Chain facts.
    pub facts: ChainFacts,
    /// Serialized metagraphs of the best block, newest last (see [`Shared::metagraph_json`]).
    metagraph_cache: Mutex<Vec<(MetagraphKey, Arc<Box<RawValue>>)>>,
}

/// What a cached metagraph answer depends on: the block, the subnet and the options.
type MetagraphKey = (Hash, NetUid, MetagraphOptions);

/// Most cached metagraph answers (each a few MiB at 4096 uids).
const METAGRAPH_CACHE_LEN_MAX: usize = 8;

fn recover<T>(result: Result<T, std::sync::PoisonError<T>>) -> T {
    // A panic elsewhere never leaves these values half-written (each update is one
    // assignment or one mempool call), so a poisoned lock's value is still usable.
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Opens the store under `base_path`, writing genesis into an empty one, and checks that a
    /// non-empty one holds this chain.
    pub fn open(
        path: &std::path::Path,
        spec: &ChainSpec,
        facts: ChainFacts,
        mempool: Mempool,
        notification_capacity: usize,
    ) -> Result<(Self, State), NodeError> {
        let (mut store, stored) = RedbStore::open_with_state(path)?;
        let (genesis_state, genesis_header) = spec.build()?;
        let state = match stored {
            Some(state) => {
                if state.head().genesis_hash != genesis_header.hash() {
                    return Err(NodeError::GenesisMismatch {
                        stored: state.head().genesis_hash,
                        spec: genesis_header.hash(),
                    });
                }
                state
            }
            None => {
                store.commit_genesis(&genesis_header, &genesis_state)?;
                genesis_state
            }
        };
        let head = state.head().number;
        let best = store
            .block_by_number(head)?
            .ok_or(NodeError::MissingBlock { number: head.0 })?
            .header;
        let metrics = Metrics::new();
        metrics.heights(best.number.0, best.number.0);
        let view = ChainView {
            state: state.clone(),
            best,
            finalized: best,
        };
        let (notices, _) = broadcast::channel(notification_capacity.max(1));
        let shared = Self {
            view: RwLock::new(Arc::new(view)),
            store: RwLock::new(store),
            mempool: Mutex::new(mempool),
            notices,
            metrics,
            facts,
            metagraph_cache: Mutex::new(Vec::new()),
        };
        Ok((shared, state))
    }

    /// The current view.
    pub fn view(&self) -> Arc<ChainView> {
        let guard = recover(self.view.read());
        Arc::clone(&guard)
    }

    /// Replaces the view (hold the mempool lock while calling, see the module docs).
    pub fn set_view(&self, view: ChainView) {
        *recover(self.view.write()) = Arc::new(view);
    }

    /// The mempool, locked.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        recover(self.mempool.lock())
    }

    /// The store for writing (the producer only).
    pub fn store_mut(&self) -> RwLockWriteGuard<'_, RedbStore> {
        recover(self.store.write())
    }

    fn store(&self) -> RwLockReadGuard<'_, RedbStore> {
        recover(self.store.read())
    }

    /// The `subnet_metagraph` answer as JSON, computed once per (block, netuid, options): validators
    /// poll the metagraph far more often than blocks come, and serializing a 4096-uid snapshot
    /// (8,192 SS58 addresses) costs more than copying it.
    pub fn metagraph_json(
        &self,
        netuid: NetUid,
        options: MetagraphOptions,
        build: impl FnOnce(&State) -> Option<MetagraphView>,
    ) -> Result<Box<RawValue>, serde_json::Error> {
        let view = self.view();
        let key = (view.best.hash(), netuid, options);
        let cached = recover(self.metagraph_cache.lock())
            .iter()
            .find(|(cached, _)| *cached == key)
            .map(|(_, json)| Arc::clone(json));
        if let Some(json) = cached {
            // A copy of the bytes, outside the lock; no re-parse.
            return Ok((*json).clone());
        }
        let json = Arc::new(serde_json::value::to_raw_value(&build(&view.state))?);
        let mut cache = recover(self.metagraph_cache.lock());
        cache.retain(|((hash, _, _), _)| *hash == key.0);
        if cache.len() >= METAGRAPH_CACHE_LEN_MAX {
            cache.remove(0);
        }
        cache.push((key, Arc::clone(&json)));
        drop(cache);
        Ok((*json).clone())
    }

    /// A committed block and its receipts.
    pub fn block(&self, number: BlockNumber) -> Result<Option<(Block, Receipts)>, NodeError> {
        let snapshot = self.store().snapshot()?;
        let Some(block) = snapshot.block_by_number(number)? else {
            return Ok(None);
        };
        let receipts = snapshot.receipts(number)?.unwrap_or_default();
        Ok(Some((block, receipts)))
    }

    /// A committed block by hash, with its receipts.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<(Block, Receipts)>, NodeError> {
        let snapshot = self.store().snapshot()?;
        let Some(block) = snapshot.block_by_hash(hash)? else {
            return Ok(None);
        };
        let receipts = snapshot.receipts(block.header.number)?.unwrap_or_default();
        Ok(Some((block, receipts)))
    }
}

/// The events of a block in order, hooks first.
pub fn block_events(header: &Header, receipts: &Receipts) -> BlockEvents {
    let hooks = receipts.hook_events.iter().map(|event| EventRecord {
        tx_index: None,
        tx_hash: None,
        event: event.clone(),
    });
    let transactions = receipts
        .transactions
        .iter()
        .enumerate()
        .flat_map(|(index, receipt)| {
            let tx_index = u32::try_from(index).ok();
            receipt.events.iter().map(move |event| EventRecord {
                tx_index,
                tx_hash: Some(Hash(receipt.tx_hash)),
                event: event.clone(),
            })
        });
    BlockEvents {
        number: header.number.0,
        hash: header.hash(),
        events: hooks.chain(transactions).collect(),
    }
}
