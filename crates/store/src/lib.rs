//! The redb implementation of [`hyphae_ledger::StateStore`].
//!
//! **Is:** one redb file holding the ledger's state rows ([`hyphae_ledger::State::rows`]), every
//! block by number and by hash, and every block's receipts. **Is not:** a cache or a consensus
//! participant: it persists what the node decided.
//!
//! Each [`StateStore::commit_block`] is one redb write transaction: the block, its receipts and
//! the changed state rows become visible together or not at all, and redb's commit is durable
//! (fsync) when it returns. A crash before the commit leaves the previous block's state.
//! Readers take a [`Snapshot`]: a redb read transaction that sees one committed block throughout,
//! even while the writer commits the next.
//!
//! Only changed rows are written: the store keeps a digest of every committed row and compares.
//!
//! ```
//! use hyphae_ledger::{build_block, ChainSpec, StateStore};
//! use hyphae_store::RedbStore;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let (mut state, genesis) = ChainSpec::dev().unwrap().build().unwrap();
//! let mut store = RedbStore::open(dir.path().join("chain.redb")).unwrap();
//! store.commit_genesis(&genesis, &state).unwrap();
//! let built = build_block(&mut state, Vec::new(), 12_000, Default::default());
//! store.commit_block(&built.block, &built.receipts, &state).unwrap();
//! drop(store); // one process holds the file at a time
//!
//! let reopened = RedbStore::open(dir.path().join("chain.redb")).unwrap();
//! assert_eq!(reopened.load_state().unwrap().unwrap().root(), state.root());
//! ```

mod store;

pub use hyphae_ledger::StateStore;
pub use store::{RedbStore, Snapshot, StoreError};
