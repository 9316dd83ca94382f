//! The block producer: every block interval, take the mempool's candidates, let the
//! [`Engine`] build and finalize a block on a blocking thread, commit it to the store, then
//! publish the new view and notify subscribers.
//!
//! A failed commit leaves the store at the previous block; the producer then reloads its state
//! from the store and tries again at the next tick.

use crate::{
    chain::{block_events, BlockNotice, ChainView, Shared},
    engine::Engine,
    mempool::tx_hash,
    NodeError,
};
use hyphae_ledger::{Block, Event, Receipts, State, StateStore};
use hyphae_primitives::Hash;
use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::sync::watch;
use tracing::{debug, error, info};

/// Runs until `shutdown` turns true; returns after the block in progress is committed.
pub async fn run(
    shared: Arc<Shared>,
    mut state: State,
    mut engine: Box<dyn Engine>,
    block_time: Duration,
    block_transactions_max: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(block_time.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once; skip it so block 1 comes one interval after start.
    ticker.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            _ = ticker.tick() => {}
        }
        if *shutdown.borrow() {
            break;
        }
        let candidates = shared.mempool().ready(block_transactions_max);
        let task_shared = Arc::clone(&shared);
        let joined = tokio::task::spawn_blocking(move || {
            let outcome = produce(&task_shared, &mut state, engine.as_mut(), candidates);
            (state, engine, outcome)
        })
        .await;
        match joined {
            Ok((next_state, next_engine, outcome)) => {
                state = next_state;
                engine = next_engine;
                if let Err(error) = outcome {
                    error!(%error, "block production failed; reloading the last committed state");
                    match reload(&shared) {
                        Ok(reloaded) => state = reloaded,
                        Err(error) => {
                            error!(%error, "cannot reload the state; stopping block production");
                            break;
                        }
                    }
                }
            }
            Err(join_error) => {
                error!(%join_error, "block production panicked; stopping block production");
                break;
            }
        }
    }
    info!("block producer stopped");
}

fn reload(shared: &Shared) -> Result<State, NodeError> {
    let store = shared.store_mut();
    store
        .load_state()?
        .ok_or(NodeError::MissingBlock { number: 0 })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Builds, commits and publishes one block.
fn produce(
    shared: &Shared,
    state: &mut State,
    engine: &mut dyn Engine,
    candidates: Vec<hyphae_ledger::Transaction>,
) -> Result<(), NodeError> {
    let started = Instant::now();
    let candidate_hashes: Vec<Hash> = candidates.iter().map(tx_hash).collect();
    let produced = engine.produce(state, candidates, now_ms());
    let built = &produced.built;
    let rejected: Vec<(Hash, hyphae_primitives::TxError)> = built
        .rejected
        .iter()
        .filter_map(|(index, error)| candidate_hashes.get(*index).map(|hash| (*hash, *error)))
        .collect();
    commit_and_publish(
        shared,
        &built.block,
        &built.receipts,
        state,
        &rejected,
        produced.finalized,
        started,
    )
}

/// Commits an executed block to the store, then publishes the new view, prunes the mempool,
/// updates the metrics and notifies subscribers. `state` is the state after the block.
pub(crate) fn commit_and_publish(
    shared: &Shared,
    block: &Block,
    receipts: &Receipts,
    state: &State,
    rejected: &[(Hash, hyphae_primitives::TxError)],
    is_final: bool,
    started: Instant,
) -> Result<(), NodeError> {
    shared.store_mut().commit_block(block, receipts, state)?;
    let elapsed = started.elapsed();

    let header = block.header;
    let included: Vec<Hash> = receipts
        .transactions
        .iter()
        .map(|receipt| Hash(receipt.tx_hash))
        .collect();
    let epochs = receipts
        .hook_events
        .iter()
        .filter(|event| matches!(event, Event::EpochRun { .. }))
        .count();
    let transactions = receipts
        .transactions
        .iter()
        .map(|receipt| (Hash(receipt.tx_hash), receipt.error))
        .collect();
    let events = block_events(&header, receipts);

    let (dropped, mempool_len, finalized) = {
        let mut mempool = shared.mempool();
        let previous = shared.view();
        let finalized = if is_final { header } else { previous.finalized };
        shared.set_view(ChainView {
            state: state.clone(),
            best: header,
            finalized,
        });
        let dropped = mempool.on_block(state, &included, rejected);
        (dropped, mempool.len(), finalized)
    };
    shared.metrics.block(
        header.number.0,
        finalized.number.0,
        included.len(),
        elapsed,
        u64::try_from(epochs).unwrap_or(0),
    );
    shared.metrics.mempool(mempool_len);
    if included.is_empty() {
        debug!(number = header.number.0, "empty block");
    } else {
        info!(number = header.number.0, hash = %header.hash(), transactions = included.len(), elapsed_ms = elapsed.as_millis(), "block finalized");
    }
    for _ in 0..epochs {
        info!(number = header.number.0, "epoch run");
    }
    let notice = BlockNotice {
        header,
        finalized: is_final,
        transactions,
        dropped,
        events,
    };
    // No subscriber is fine: send only fails when nobody listens.
    let _ = shared.notices.send(Arc::new(notice));
    Ok(())
}
