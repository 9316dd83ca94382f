//! The redb store: persistence, atomicity, snapshots and determinism.

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use hyphae_keys::Keypair;
use hyphae_ledger::{
    apply_block, build_block, Block, Call, ChainSpec, State, StateStore, Transaction,
};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao};
use hyphae_store::{RedbStore, StoreError};

fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).unwrap()
}

/// A few blocks that touch accounts, registration, stake (added and fully removed) and epochs.
fn chain_blocks() -> (State, Vec<Block>) {
    let (genesis, _) = ChainSpec::dev().unwrap().build().unwrap();
    let mut state = genesis.clone();
    let genesis_hash = state.head().genesis_hash;
    let bob = key("//Bob");
    let hot = key("//Bob//hot").account_id();
    let calls = [
        Call::Transfer {
            dest: key("//Charlie").account_id(),
            amount: Rao(5),
        },
        Call::BurnedRegister {
            netuid: NetUid(1),
            hotkey: hot,
        },
        Call::AddStake {
            hotkey: hot,
            netuid: NetUid(1),
            amount: Rao(10_000_000_000),
        },
        Call::RemoveStake {
            hotkey: hot,
            netuid: NetUid(1),
            amount: Rao(10_000_000_000),
        },
    ];
    let mut blocks = Vec::new();
    for (nonce, call) in calls.into_iter().enumerate() {
        let tx = Transaction::sign(&bob, &genesis_hash, nonce as u64, Rao::ZERO, call);
        let built = build_block(
            &mut state,
            vec![tx],
            12_000 * (nonce as u64 + 1),
            AccountId::default(),
        );
        assert!(built
            .receipts
            .transactions
            .iter()
            .all(|r| r.error.is_none()));
        blocks.push(built.block);
    }
    for i in 0..12 {
        blocks.push(build_block(&mut state, Vec::new(), 100_000 + i, AccountId::default()).block);
    }
    (genesis, blocks)
}

fn replay(store: &mut RedbStore, genesis: &State, blocks: &[Block]) -> State {
    let (_, header) = ChainSpec::dev().unwrap().build().unwrap();
    store.commit_genesis(&header, genesis).unwrap();
    let mut state = genesis.clone();
    for block in blocks {
        let receipts = apply_block(&mut state, block).unwrap();
        store.commit_block(block, &receipts, &state).unwrap();
    }
    state
}

#[test]
fn persists_state_blocks_and_receipts_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let (genesis, blocks) = chain_blocks();
    let state = {
        let mut store = RedbStore::open(&path).unwrap();
        replay(&mut store, &genesis, &blocks)
    };
    let (store, opened) = RedbStore::open_with_state(&path).unwrap();
    assert_eq!(opened, Some(state.clone()));
    assert_eq!(store.load_state().unwrap(), Some(state.clone()));
    assert_eq!(store.head_number(), Some(BlockNumber(blocks.len() as u64)));
    let third = &blocks[2];
    assert_eq!(
        store.block_by_number(third.header.number).unwrap().as_ref(),
        Some(third)
    );
    assert_eq!(
        store.block_by_hash(&third.header.hash()).unwrap().as_ref(),
        Some(third)
    );
    let receipts = store.receipts(third.header.number).unwrap().unwrap();
    assert_eq!(receipts.transactions.len(), 1);
    assert_eq!(store.block_by_number(BlockNumber(999)).unwrap(), None);
}

/// Rewrites the last state row of the store at `path` with `change`.
fn tamper_last_row(path: &std::path::Path, change: impl FnOnce(&mut Vec<u8>)) {
    use redb::{ReadableTable, TableDefinition};
    const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(STATE).unwrap();
        let (key, mut value) = {
            let (key, value) = table.last().unwrap().unwrap();
            (key.value().to_vec(), value.value().to_vec())
        };
        assert_ne!(key[0], 0, "the head row is checked another way");
        change(&mut value);
        table.insert(key.as_slice(), value.as_slice()).unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn a_store_whose_rows_are_not_the_committed_state_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis, blocks) = chain_blocks();
    let write = |name: &str| {
        let path = dir.path().join(name);
        replay(&mut RedbStore::open(&path).unwrap(), &genesis, &blocks);
        path
    };
    // A value that decodes but is not what the head block committed to.
    let flipped = write("flipped.redb");
    tamper_last_row(&flipped, |value| {
        let last = value.last_mut().unwrap();
        *last ^= 1;
    });
    assert!(matches!(
        RedbStore::open(&flipped),
        Err(StoreError::Corrupt { what: "state", .. } | StoreError::State(_))
    ));
    // A value with bytes after its encoding.
    let longer = write("longer.redb");
    tamper_last_row(&longer, |value| value.push(0));
    assert!(matches!(
        RedbStore::open(&longer),
        Err(StoreError::State(_))
    ));
    // Untouched, it opens.
    assert!(RedbStore::open(write("intact.redb")).is_ok());
}

#[test]
fn same_blocks_on_two_fresh_stores_give_the_same_root() {
    let (genesis, blocks) = chain_blocks();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let roots: Vec<_> = dirs
        .iter()
        .map(|dir| {
            let mut store = RedbStore::open(dir.path().join("chain.redb")).unwrap();
            replay(&mut store, &genesis, &blocks);
            let snapshot = store.snapshot().unwrap();
            (
                snapshot.state().unwrap().unwrap().root(),
                snapshot.rows().unwrap(),
            )
        })
        .collect();
    assert_eq!(roots[0], roots[1]);
    assert_eq!(roots[0].0, blocks.last().unwrap().header.state_root);
}

#[test]
fn apply_then_drop_before_commit_then_reapply_gives_the_same_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let (genesis, blocks) = chain_blocks();
    let (last, earlier) = blocks.split_last().unwrap();
    {
        let mut store = RedbStore::open(&path).unwrap();
        replay(&mut store, &genesis, earlier);
        let mut state = store.load_state().unwrap().unwrap();
        apply_block(&mut state, last).unwrap();
        // Crash here: the store is dropped without committing `last`.
    }
    let mut store = RedbStore::open(&path).unwrap();
    let mut state = store.load_state().unwrap().unwrap();
    assert_eq!(state.head().number, earlier.last().unwrap().header.number);
    let receipts = apply_block(&mut state, last).unwrap();
    store.commit_block(last, &receipts, &state).unwrap();
    assert_eq!(
        store.load_state().unwrap().unwrap().root(),
        last.header.state_root
    );
}

#[test]
fn rejected_commits_leave_the_store_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis, blocks) = chain_blocks();
    let mut store = RedbStore::open(dir.path().join("chain.redb")).unwrap();
    let state = replay(&mut store, &genesis, &blocks[..3]);
    let before = store.snapshot().unwrap().rows().unwrap();
    let skipped = &blocks[4];
    assert!(matches!(
        store.commit_block(skipped, &Default::default(), &state),
        Err(StoreError::NotNext { .. })
    ));
    assert!(matches!(
        store.commit_block(&blocks[3], &Default::default(), &state),
        Err(StoreError::StateMismatch { .. })
    ));
    let (_, header) = ChainSpec::dev().unwrap().build().unwrap();
    assert!(matches!(
        store.commit_genesis(&header, &genesis),
        Err(StoreError::NotEmpty)
    ));
    assert_eq!(store.snapshot().unwrap().rows().unwrap(), before);
}

#[test]
fn snapshots_are_consistent_while_the_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (genesis, blocks) = chain_blocks();
    let mut store = RedbStore::open(dir.path().join("chain.redb")).unwrap();
    let mut state = replay(&mut store, &genesis, &blocks[..2]);
    let snapshot = store.snapshot().unwrap();
    let receipts = apply_block(&mut state, &blocks[2]).unwrap();
    store.commit_block(&blocks[2], &receipts, &state).unwrap();
    assert_eq!(snapshot.head_number().unwrap(), Some(2));
    assert_eq!(
        snapshot.state().unwrap().unwrap().head().number,
        BlockNumber(2)
    );
    assert_eq!(store.snapshot().unwrap().head_number().unwrap(), Some(3));
}
