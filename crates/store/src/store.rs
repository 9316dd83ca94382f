//! [`RedbStore`] and [`Snapshot`].

use hyphae_ledger::{
    codec::blake2_256,
    state::{Row, RowError},
    Block, Header, Receipts, State, StateStore,
};
use hyphae_primitives::{BlockNumber, Hash};
use parity_scale_codec::{Decode, DecodeAll, Encode};
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use std::{collections::BTreeMap, path::Path};

const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_NUMBERS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_numbers");
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb failed (I/O, corruption, a lock held by another process).
    #[error("redb: {0}")]
    Redb(#[from] redb::Error),
    /// Stored bytes do not decode.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// What was being decoded.
        what: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// Stored state rows do not make a state.
    #[error("corrupt state: {0}")]
    State(#[from] RowError),
    /// Genesis committed into a non-empty store.
    #[error("store already holds a chain")]
    NotEmpty,
    /// A block committed out of order.
    #[error("block {got} does not follow the stored head {head:?}")]
    NotNext {
        /// Stored head height.
        head: Option<u64>,
        /// Given height.
        got: u64,
    },
    /// The state given with a block is not the state after that block.
    #[error("state head {state} is not block {block}")]
    StateMismatch {
        /// The state's head hash.
        state: Hash,
        /// The block's hash.
        block: Hash,
    },
}

fn redb_error(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Redb(error.into())
}

/// A redb-backed [`StateStore`].
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    /// Digest of every committed state row, to write only what changed.
    committed: BTreeMap<Vec<u8>, Hash>,
    head: Option<u64>,
}

impl RedbStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_state(path).map(|(store, _)| store)
    }

    /// Opens (or creates) the store at `path` and returns its state (`None` when empty),
    /// checked against the stored head block ([`Snapshot::check_head`]). The rows are read and
    /// decoded once, for both the check and the caller.
    pub fn open_with_state(path: impl AsRef<Path>) -> Result<(Self, Option<State>), StoreError> {
        let db = Database::create(path).map_err(redb_error)?;
        let setup = db.begin_write().map_err(redb_error)?;
        open_all(&setup)?;
        setup.commit().map_err(redb_error)?;
        let mut store = Self {
            db,
            committed: BTreeMap::new(),
            head: None,
        };
        let snapshot = store.snapshot()?;
        let rows = snapshot.rows()?;
        store.committed = rows
            .iter()
            .map(|(k, v)| (k.clone(), blake2_256(v)))
            .collect();
        store.head = snapshot.head_number()?;
        let state = if rows.is_empty() {
            None
        } else {
            let state = State::from_rows(rows)?;
            snapshot.check_head(&state)?;
            Some(state)
        };
        Ok((store, state))
    }

    /// A consistent read view of the last committed block.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            txn: self.db.begin_read().map_err(redb_error)?,
        })
    }

    /// The height of the last committed block.
    pub fn head_number(&self) -> Option<BlockNumber> {
        self.head.map(BlockNumber)
    }

    fn write(
        &mut self,
        block: &Block,
        receipts: &Receipts,
        state: &State,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(redb_error)?;
        let number = block.header.number.0;
        let rows = state.rows();
        {
            let (mut blocks, mut numbers, mut receipt_table, mut state_table) = open_all(&txn)?;
            blocks
                .insert(number, block.encode().as_slice())
                .map_err(redb_error)?;
            numbers
                .insert(&block.header.hash().0, number)
                .map_err(redb_error)?;
            receipt_table
                .insert(number, receipts.encode().as_slice())
                .map_err(redb_error)?;
            write_rows(&mut state_table, &self.committed, &rows)?;
        }
        // Dropping `txn` without this commit (an error above, a crash) leaves the store as it was.
        txn.commit().map_err(redb_error)?;
        self.committed = rows.into_iter().map(|(k, v)| (k, blake2_256(&v))).collect();
        self.head = Some(number);
        Ok(())
    }
}

type Tables<'txn> = (
    redb::Table<'txn, u64, &'static [u8]>,
    redb::Table<'txn, &'static [u8; 32], u64>,
    redb::Table<'txn, u64, &'static [u8]>,
    redb::Table<'txn, &'static [u8], &'static [u8]>,
);

fn open_all(txn: &WriteTransaction) -> Result<Tables<'_>, StoreError> {
    Ok((
        txn.open_table(BLOCKS).map_err(redb_error)?,
        txn.open_table(BLOCK_NUMBERS).map_err(redb_error)?,
        txn.open_table(RECEIPTS).map_err(redb_error)?,
        txn.open_table(STATE).map_err(redb_error)?,
    ))
}

/// Writes rows whose digest changed and removes rows that disappeared.
fn write_rows(
    table: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    committed: &BTreeMap<Vec<u8>, Hash>,
    rows: &[Row],
) -> Result<(), StoreError> {
    let mut live = std::collections::BTreeSet::new();
    for (key, value) in rows {
        live.insert(key.as_slice());
        if committed.get(key) != Some(&blake2_256(value)) {
            table
                .insert(key.as_slice(), value.as_slice())
                .map_err(redb_error)?;
        }
    }
    for key in committed
        .keys()
        .filter(|key| !live.contains(key.as_slice()))
    {
        table.remove(key.as_slice()).map_err(redb_error)?;
    }
    Ok(())
}

impl StateStore for RedbStore {
    type Error = StoreError;

    fn commit_genesis(&mut self, header: &Header, state: &State) -> Result<(), Self::Error> {
        if self.head.is_some() {
            return Err(StoreError::NotEmpty);
        }
        let block = Block {
            header: *header,
            transactions: Vec::new(),
        };
        self.write(&block, &Receipts::default(), state)
    }

    fn commit_block(
        &mut self,
        block: &Block,
        receipts: &Receipts,
        state: &State,
    ) -> Result<(), Self::Error> {
        let number = block.header.number.0;
        if self.head.and_then(|head| head.checked_add(1)) != Some(number) {
            return Err(StoreError::NotNext {
                head: self.head,
                got: number,
            });
        }
        if state.head().hash != block.header.hash() {
            return Err(StoreError::StateMismatch {
                state: state.head().hash,
                block: block.header.hash(),
            });
        }
        self.write(block, receipts, state)
    }

    fn load_state(&self) -> Result<Option<State>, Self::Error> {
        self.snapshot()?.state()
    }

    fn block_by_number(&self, number: BlockNumber) -> Result<Option<Block>, Self::Error> {
        self.snapshot()?.block_by_number(number)
    }

    fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, Self::Error> {
        self.snapshot()?.block_by_hash(hash)
    }

    fn receipts(&self, number: BlockNumber) -> Result<Option<Receipts>, Self::Error> {
        self.snapshot()?.receipts(number)
    }
}

/// A read view of one committed block: every read sees the same state.
#[derive(Debug)]
pub struct Snapshot {
    txn: ReadTransaction,
}

/// Decodes a whole stored value: trailing bytes mean it is not what this version wrote.
fn decode<T: Decode>(what: &'static str, mut bytes: &[u8]) -> Result<T, StoreError> {
    T::decode_all(&mut bytes).map_err(|error| StoreError::Corrupt {
        what,
        reason: error.to_string(),
    })
}

impl Snapshot {
    /// Every state row, in key order.
    pub fn rows(&self) -> Result<Vec<Row>, StoreError> {
        let table = self.txn.open_table(STATE).map_err(redb_error)?;
        let mut rows = Vec::new();
        for entry in table.iter().map_err(redb_error)? {
            let (key, value) = entry.map_err(redb_error)?;
            rows.push((key.value().to_vec(), value.value().to_vec()));
        }
        Ok(rows)
    }

    /// Checks that `state`, loaded from this snapshot's rows, is the state the stored head
    /// block commits to (its hash and its state root), so that damaged or foreign rows fail
    /// at open with a typed error instead of loading as a different state.
    pub fn check_head(&self, state: &State) -> Result<(), StoreError> {
        let number = state.head().number;
        let header = self
            .block_by_number(number)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "store",
                reason: format!("the state's head block {} is not stored", number.0),
            })?
            .header;
        if header.hash() != state.head().hash || header.state_root != state.root() {
            return Err(StoreError::Corrupt {
                what: "state",
                reason: format!(
                    "the stored rows do not make the state block {} commits to",
                    number.0
                ),
            });
        }
        Ok(())
    }

    /// The state, or `None` for an empty store.
    pub fn state(&self) -> Result<Option<State>, StoreError> {
        let rows = self.rows()?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(State::from_rows(rows)?))
    }

    /// The last committed height.
    pub fn head_number(&self) -> Result<Option<u64>, StoreError> {
        let table = self.txn.open_table(BLOCKS).map_err(redb_error)?;
        let last = table.last().map_err(redb_error)?;
        Ok(last.map(|(number, _)| number.value()))
    }

    /// A block by height.
    pub fn block_by_number(&self, number: BlockNumber) -> Result<Option<Block>, StoreError> {
        let table = self.txn.open_table(BLOCKS).map_err(redb_error)?;
        let bytes = table.get(number.0).map_err(redb_error)?;
        bytes
            .map(|guard| decode("block", guard.value()))
            .transpose()
    }

    /// A block by header hash.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        let table = self.txn.open_table(BLOCK_NUMBERS).map_err(redb_error)?;
        let number = table
            .get(&hash.0)
            .map_err(redb_error)?
            .map(|guard| guard.value());
        number.map_or(Ok(None), |number| self.block_by_number(BlockNumber(number)))
    }

    /// A block's receipts.
    pub fn receipts(&self, number: BlockNumber) -> Result<Option<Receipts>, StoreError> {
        let table = self.txn.open_table(RECEIPTS).map_err(redb_error)?;
        let bytes = table.get(number.0).map_err(redb_error)?;
        bytes
            .map(|guard| decode("receipts", guard.value()))
            .transpose()
    }
}
