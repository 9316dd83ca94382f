//! Blocks: the [`Header`], [`apply_block`] for a received block, and [`build_block`] for a
//! proposer, both running the same execution: block hooks first (burn decay, emission, due
//! epochs), then every transaction, then the state root.
//!
//! A transaction that fails validity (signature, nonce, fee) makes the whole block invalid:
//! a builder never includes one. A valid transaction whose call fails still pays its fee and
//! consumes its nonce, and its receipt carries the [`TxError`].

use crate::{
    call::dispatch,
    codec::{blake2_256, AccountCodec, BlockCodec, HashCodec},
    emission::distribute_block_emission,
    epoch::run_due_epochs,
    event::Event,
    registration::decay_burns,
    state::State,
    tx::Transaction,
    Ctx,
};
use hyphae_primitives::{AccountId, BlockNumber, Hash, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    /// Hash of the parent header.
    #[codec(encoded_as = "HashCodec")]
    pub parent_hash: Hash,
    /// Height.
    #[codec(encoded_as = "BlockCodec")]
    pub number: BlockNumber,
    /// Milliseconds since the Unix epoch, chosen by the proposer; never decreases.
    pub timestamp_ms: u64,
    /// [`State::root`] after this block.
    #[codec(encoded_as = "HashCodec")]
    pub state_root: Hash,
    /// blake2-256 of the SCALE-encoded transaction list.
    #[codec(encoded_as = "HashCodec")]
    pub extrinsics_root: Hash,
    /// Receives the tips.
    #[codec(encoded_as = "AccountCodec")]
    pub author: AccountId,
}

impl Header {
    /// blake2-256 of the SCALE-encoded header.
    pub fn hash(&self) -> Hash {
        blake2_256(&self.encode())
    }
}

/// Most transactions in one block.
pub const BLOCK_TRANSACTIONS_MAX: usize = 20_000;
/// Most SCALE-encoded transaction bytes in one block.
pub const BLOCK_BYTES_MAX: usize = 16 * 1024 * 1024;

/// A header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions, in execution order.
    pub transactions: Vec<Transaction>,
}

/// The bytes `transactions` count against [`BLOCK_BYTES_MAX`]: the sum of their encodings,
/// without the list's length prefix. Building and applying use this one rule, so that a
/// block its builder filled to the limit is never refused by those who apply it.
pub fn transactions_bytes(transactions: &[Transaction]) -> usize {
    transactions
        .iter()
        .map(Encode::encoded_size)
        .fold(0, usize::saturating_add)
}

/// The extrinsics root of a transaction list.
pub fn extrinsics_root(transactions: &[Transaction]) -> Hash {
    blake2_256(&transactions.encode())
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct Receipt {
    /// blake2-256 of the SCALE-encoded transaction.
    pub tx_hash: [u8; 32],
    /// `None` on success, else the error code ([`TxError::code`]).
    pub error: Option<u16>,
    /// Events, fee payment first.
    pub events: Vec<Event>,
}

impl Receipt {
    /// The typed error, if the call failed.
    pub fn tx_error(&self) -> Option<TxError> {
        self.error.and_then(TxError::from_code)
    }
}

/// Everything a block produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct Receipts {
    /// Events of the block hooks (epochs).
    pub hook_events: Vec<Event>,
    /// One receipt per transaction, in order.
    pub transactions: Vec<Receipt>,
}

/// Why a block is rejected. The state must then be discarded: it may be partly changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Not the next height.
    #[error("block {got} does not follow head {head}")]
    WrongNumber {
        /// Head height.
        head: u64,
        /// Block height.
        got: u64,
    },
    /// Parent hash is not the head's hash.
    #[error("parent {got} is not the head {head}")]
    WrongParent {
        /// Head hash.
        head: Hash,
        /// Given parent.
        got: Hash,
    },
    /// Timestamp went backwards.
    #[error("timestamp {got} ms is before the parent's {parent} ms")]
    TimestampBackwards {
        /// Parent's.
        parent: u64,
        /// Given.
        got: u64,
    },
    /// More than [`BLOCK_TRANSACTIONS_MAX`] transactions or [`BLOCK_BYTES_MAX`] bytes.
    #[error("block holds {transactions} transactions in {bytes} bytes, over the limit")]
    TooLarge {
        /// Transactions.
        transactions: usize,
        /// Encoded bytes.
        bytes: usize,
    },
    /// Extrinsics root does not match the transactions.
    #[error("extrinsics root mismatch")]
    ExtrinsicsRoot,
    /// A transaction is not valid at its position.
    #[error("transaction {index} is invalid: {error}")]
    InvalidTransaction {
        /// Position in the block.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// The state root after execution differs from the header's.
    #[error("state root mismatch: header {header}, computed {computed}")]
    StateRoot {
        /// In the header.
        header: Hash,
        /// Computed.
        computed: Hash,
    },
}

fn check_header(state: &State, header: &Header) -> Result<(), BlockError> {
    let head = state.head;
    if Some(header.number) != head.number.checked_next() {
        return Err(BlockError::WrongNumber {
            head: head.number.0,
            got: header.number.0,
        });
    }
    if header.parent_hash != head.hash {
        return Err(BlockError::WrongParent {
            head: head.hash,
            got: header.parent_hash,
        });
    }
    if header.timestamp_ms < head.timestamp_ms {
        return Err(BlockError::TimestampBackwards {
            parent: head.timestamp_ms,
            got: header.timestamp_ms,
        });
    }
    Ok(())
}

/// Block hooks (the reference's `on_initialize`): burn decay, emission, due epochs.
fn on_initialize(state: &mut State, ctx: &Ctx) -> Vec<Event> {
    if ctx.block.0 > 1 {
        decay_burns(state);
    }
    distribute_block_emission(state, ctx.block);
    run_due_epochs(state, ctx.block)
}

/// Executes one transaction that passed [`Transaction::check`].
fn execute(state: &mut State, ctx: &Ctx, tx: &Transaction, fee: Rao) -> Receipt {
    let mut events = Vec::with_capacity(2);
    // Bump the nonce first: the account then always exists and is never reaped by the fee.
    let account = state.accounts.entry(tx.signer).or_default();
    account.nonce = account.nonce.saturating_add(1);
    // check() proved the balance covers fee + tip, so these steps cannot fail.
    let paid = state
        .burn_from(&tx.signer, fee)
        .and_then(|()| state.withdraw(&tx.signer, tx.tip));
    let paid = paid.and_then(|()| state.deposit(&ctx.author, tx.tip));
    debug_assert!(paid.is_ok(), "fee was checked");
    events.push(Event::FeePaid {
        who: tx.signer,
        fee,
        tip: tx.tip,
    });
    let error = match dispatch(state, ctx, &tx.signer, &tx.call) {
        Ok(call_events) => {
            events.extend(call_events);
            None
        }
        Err(error) => Some(error.code()),
    };
    Receipt {
        tx_hash: blake2_256(&tx.encode()).0,
        error,
        events,
    }
}

/// Applies a received block. On `Err` the state may be partly changed and must be discarded
/// (a store re-loads its last committed state).
pub fn apply_block(state: &mut State, block: &Block) -> Result<Receipts, BlockError> {
    check_header(state, &block.header)?;
    let bytes = transactions_bytes(&block.transactions);
    if block.transactions.len() > BLOCK_TRANSACTIONS_MAX || bytes > BLOCK_BYTES_MAX {
        return Err(BlockError::TooLarge {
            transactions: block.transactions.len(),
            bytes,
        });
    }
    if extrinsics_root(&block.transactions) != block.header.extrinsics_root {
        return Err(BlockError::ExtrinsicsRoot);
    }
    let ctx = Ctx {
        block: block.header.number,
        author: block.header.author,
    };
    let hook_events = on_initialize(state, &ctx);
    let mut receipts = Vec::with_capacity(block.transactions.len());
    for (index, tx) in block.transactions.iter().enumerate() {
        let fee = tx
            .check(state)
            .map_err(|error| BlockError::InvalidTransaction { index, error })?;
        receipts.push(execute(state, &ctx, tx, fee));
    }
    let computed = state.root();
    if computed != block.header.state_root {
        return Err(BlockError::StateRoot {
            header: block.header.state_root,
            computed,
        });
    }
    advance_head(state, &block.header);
    Ok(Receipts {
        hook_events,
        transactions: receipts,
    })
}

fn advance_head(state: &mut State, header: &Header) {
    state.head.number = header.number;
    state.head.hash = header.hash();
    state.head.timestamp_ms = header.timestamp_ms;
}

/// What [`build_block`] produced.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The sealed block, ready to propose.
    pub block: Block,
    /// Its receipts.
    pub receipts: Receipts,
    /// Candidates left out, with why (index into the candidate list).
    pub rejected: Vec<(usize, TxError)>,
}

/// Builds the next block on `state` from `candidates`, skipping the invalid ones, and applies
/// it to `state`. `timestamp_ms` is clamped up to the parent's. Candidates beyond the block
/// limits are neither included nor rejected: they wait for the next block.
pub fn build_block(
    state: &mut State,
    candidates: Vec<Transaction>,
    timestamp_ms: u64,
    author: AccountId,
) -> BuiltBlock {
    let number = state
        .head
        .number
        .checked_next()
        .unwrap_or(state.head.number);
    let ctx = Ctx {
        block: number,
        author,
    };
    let hook_events = on_initialize(state, &ctx);
    let mut included = Vec::with_capacity(candidates.len());
    let mut receipts = Vec::with_capacity(candidates.len());
    let mut rejected = Vec::new();
    // Grows as `transactions_bytes(&included)` would, one transaction at a time.
    let mut bytes = 0usize;
    for (index, tx) in candidates.into_iter().enumerate() {
        let size = tx.encoded_size();
        if included.len() >= BLOCK_TRANSACTIONS_MAX || bytes.saturating_add(size) > BLOCK_BYTES_MAX
        {
            // Full: the rest waits for the next block (they are not rejected).
            break;
        }
        match tx.check(state) {
            Ok(fee) => {
                bytes = bytes.saturating_add(size);
                receipts.push(execute(state, &ctx, &tx, fee));
                included.push(tx);
            }
            Err(error) => rejected.push((index, error)),
        }
    }
    let header = Header {
        parent_hash: state.head.hash,
        number,
        timestamp_ms: timestamp_ms.max(state.head.timestamp_ms),
        state_root: state.root(),
        extrinsics_root: extrinsics_root(&included),
        author,
    };
    advance_head(state, &header);
    BuiltBlock {
        block: Block {
            header,
            transactions: included,
        },
        receipts: Receipts {
            hook_events,
            transactions: receipts,
        },
        rejected,
    }
}
