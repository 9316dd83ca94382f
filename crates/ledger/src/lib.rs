//! The hyphae ledger: the chain's deterministic state machine.
//!
//! **Is:** [`State`] (sorted maps, no floats, no clocks), signed SCALE [`Transaction`]s carrying a
//! [`Call`], the block hooks (burn decay, halving emission, Yuma epochs and payout), and
//! [`apply_block`] / [`build_block`]. Every transaction ends in a [`Receipt`]: success with
//! events, or a stable [`TxError`] code. The [`StateStore`] trait says how a node persists it.
//!
//! **Is not:** async, networked, or persistent by itself (see `hyphae-store`), and it makes no
//! consensus decisions.
//!
//! **Fees** are `base_fee + byte_fee · len(SCALE(call))` rao and are **burned** (issuance
//! falls). The optional tip goes to the block author. Burning keeps the author from profiting
//! by stuffing its own blocks, and keeps the issuance invariant a pure function of the blocks.
//! A valid transaction whose call fails still pays its fee and uses its nonce.
//!
//! **Dynamic TAO.** Each subnet has an alpha token and a [`pool`] (TAO reserve, alpha reserve)
//! seeded at price 1 by the subnet's lock. Stake is alpha, bought and sold through the pool.
//! Each block's TAO emission is split across subnets by their moving prices and lands in the
//! pools; each subnet mints its own halving alpha emission, which the epochs pay out as alpha
//! stake (see [`emission`]).
//!
//! Root stake (netuid 0, see [`root`]) is TAO 1:1; it counts at `TaoWeight` in every epoch and
//! earns a share of each subnet's alpha emission.
//!
//! **Issuance invariant:** `issuance = Σ balances + Σ pool TAO reserves + Σ root stake`, where
//! fees and registration burns lower issuance (`Globals::burned`). Per subnet, alpha is
//! conserved: `alpha minted = pool alpha + Σ stake + pending + claimable root dividends + alpha
//! recycled` (epoch dust, the owner hotkey's incentive and the alpha the emission buys are
//! recycled). Root dividends accrue as claimable alpha until `claim_root` keeps or swaps them.
//!
//! **Code map.** [`tx`] signs and checks transactions; [`Call`] dispatches to the modules that
//! own each rule: `accounts` (transfer), [`subnets`] (creation, `start_call`, identity),
//! [`registration`] (burn price, pruning), [`weights`] (set, commit, reveal), [`serving`],
//! `stake` (stake as alpha, moves and takes), [`pool`] (the AMM), [`root`] (root stake and
//! dividends), `hotkeys` (ownership, `swap_hotkey`), [`hyperparameters`] (owner and root
//! setters). [`emission`] and [`epoch`] are the block hooks; [`explain`] reads
//! the last eight epochs back. [`state`] holds the tables and the root, [`genesis`] the chain
//! spec, and [`storage`] the persistence trait. Design decisions are in `DECISIONS.md`.
//!
//! ```
//! use hyphae_keys::Keypair;
//! use hyphae_ledger::{apply_block, build_block, Call, ChainSpec, Transaction};
//! use hyphae_primitives::Rao;
//!
//! let (mut state, _genesis) = ChainSpec::dev().unwrap().build().unwrap();
//! let alice = Keypair::from_uri("//Alice").unwrap();
//! let bob = Keypair::from_uri("//Bob").unwrap().account_id();
//! let genesis_hash = state.head().genesis_hash;
//! let tx = Transaction::sign(&alice, &genesis_hash, 0, Rao::ZERO, Call::Transfer { dest: bob, amount: Rao(5) });
//!
//! // A proposer builds the block; every other node applies it to its own copy.
//! let mut replica = state.clone();
//! let built = build_block(&mut state, vec![tx], 12_000, alice.account_id());
//! assert_eq!(built.receipts.transactions[0].error, None);
//! apply_block(&mut replica, &built.block).unwrap();
//! assert_eq!(replica.root(), state.root());
//! ```

mod accounts;
mod block;
mod call;
pub mod codec;
pub mod commitments;
pub mod emission;
pub mod epoch;
mod event;
pub mod explain;
pub mod genesis;
mod hotkeys;
pub mod hyperparameters;
mod neurons;
pub mod pool;
pub mod registration;
pub mod root;
pub mod serving;
mod stake;
pub mod state;
pub mod storage;
pub mod subnets;
pub mod tx;
pub mod weights;

pub use accounts::Account;
pub use block::{
    apply_block, build_block, extrinsics_root, transactions_bytes, Block, BlockError, BuiltBlock,
    Header, Receipt, Receipts, BLOCK_BYTES_MAX, BLOCK_TRANSACTIONS_MAX,
};
pub use call::Call;
pub use event::Event;
pub use genesis::ChainSpec;
pub use hyphae_primitives::TxError;
pub use neurons::{Neuron, NeuronView};
pub use pool::{ConstantProductPool, Pool, PoolView, Price, SubnetPool};
pub use root::{RootClaimMode, RootClaimable};
pub use stake::{Delegate, SwapQuote, SwapSide};
pub use state::State;
pub use storage::{MemoryStore, StateStore};
pub use tx::Transaction;

use hyphae_primitives::{AccountId, BlockNumber};

/// What a call sees of the block it runs in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    /// The block being applied.
    pub block: BlockNumber,
    /// Its author.
    pub author: AccountId,
}
