//! [`State`]: the whole ledger as sorted maps, its canonical rows, and the state root.
//!
//! The state is a handful of `BTreeMap` tables. [`State::rows`] flattens them into
//! `(key, value)` pairs in one global byte order: the key is a one-byte table tag followed by
//! the big-endian fields of the map key (so byte order equals map order), and the value is the
//! SCALE encoding of the entry. The state root is blake2-256 over the SCALE encoding of that
//! row sequence. A store persists exactly these rows, and [`State::from_rows`] rebuilds a state
//! from them, so the root is a property of the persisted bytes.
//!
//! Cost: one pass over all rows per block. Neurons are one row each (weights and bonds
//! included), so a 4096-uid subnet with 64 validators of 4096 weights hashes about 2 MB.
//! An incremental (cached leaf-hash) root is a drop-in change behind [`State::root`].

use crate::{
    accounts::Account,
    codec::{AccountCodec, Blake2Writer, BlockCodec, HashCodec, RaoCodec},
    commitments::Commitment,
    epoch::EpochRecord,
    neurons::Neuron,
    pool::{Pool, SubnetPool},
    stake::Delegate,
    subnets::Subnet,
    weights::WeightCommit,
};
use hyphae_primitives::{AccountId, BlockNumber, Hash, NetUid, Rao, Uid};
use parity_scale_codec::{Decode, DecodeAll, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Chain-wide parameters and counters (one row).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Globals {
    /// The sudo key: may set any hyperparameter.
    #[codec(encoded_as = "AccountCodec")]
    pub root_key: AccountId,
    /// Total TAO in existence: balances + pool TAO reserves.
    #[codec(encoded_as = "RaoCodec")]
    pub issuance: Rao,
    /// Total destroyed by fees and registration burns.
    #[codec(encoded_as = "RaoCodec")]
    pub burned: Rao,
    /// Total TAO returned unminted. Epoch dust and owner incentive are alpha now and are
    /// recycled per subnet (`SubnetPool::alpha_recycled`), so nothing adds to this yet.
    #[codec(encoded_as = "RaoCodec")]
    pub recycled: Rao,
    /// Blocks between two subnet creations.
    pub network_rate_limit: u64,
    /// Floor of the subnet lock cost.
    #[codec(encoded_as = "RaoCodec")]
    pub network_min_lock: Rao,
    /// Blocks over which the doubled lock cost decays back.
    pub network_lock_reduction_interval: u64,
    /// The lock paid by the last subnet creation.
    #[codec(encoded_as = "RaoCodec")]
    pub network_last_lock: Rao,
    /// When the last subnet was created (`None` before the first).
    pub network_last_lock_block: Option<u64>,
    /// Most subnets (root excluded).
    pub subnet_limit: u16,
    /// Most epochs run in one block; later ones wait a block.
    pub max_epochs_per_block: u8,
    /// Minimum stake weight to set weights and to count in the epoch.
    pub stake_threshold: u64,
    /// Owner share of each subnet's emission, parts of 65535.
    pub owner_cut: u16,
    /// Take of a new delegate, parts of 65535.
    pub default_take: u16,
    /// Highest take, parts of 65535.
    pub max_take: u16,
    /// Blocks between two take increases.
    pub take_rate_limit: u64,
    /// Smallest add/remove stake amount.
    #[codec(encoded_as = "RaoCodec")]
    pub min_stake: Rao,
    /// Fee of every transaction, burned.
    #[codec(encoded_as = "RaoCodec")]
    pub base_fee: Rao,
    /// Extra fee per byte of encoded call, burned.
    #[codec(encoded_as = "RaoCodec")]
    pub byte_fee: Rao,
    /// Owner hyperparameter changes: tempos between two changes of one parameter.
    pub owner_hyperparameter_rate_limit_tempos: u16,
    /// `TaoWeight`: the weight of root TAO stake against alpha, `tao_weight / u64::MAX`.
    pub tao_weight: u64,
    /// Blocks between two `commit`s of one hotkey on one subnet.
    pub commitment_rate_limit: u64,
}

impl Globals {
    /// The reference chain's defaults (§7), with `root_key` as sudo.
    pub fn with_root(root_key: AccountId) -> Self {
        Self {
            root_key,
            issuance: Rao::ZERO,
            burned: Rao::ZERO,
            recycled: Rao::ZERO,
            network_rate_limit: 7200,
            network_min_lock: Rao(1_000_000_000_000),
            network_lock_reduction_interval: 100_800,
            network_last_lock: Rao(1_000_000_000_000),
            network_last_lock_block: None,
            subnet_limit: 128,
            max_epochs_per_block: 2,
            stake_threshold: 0,
            owner_cut: 11_796,
            default_take: 11_796,
            max_take: 11_796,
            take_rate_limit: 216_000,
            min_stake: Rao(2_000_000),
            base_fee: Rao(100_000),
            byte_fee: Rao(1_000),
            owner_hyperparameter_rate_limit_tempos: 2,
            tao_weight: 971_718_665_099_567_868,
            commitment_rate_limit: crate::commitments::COMMITMENT_RATE_LIMIT_DEFAULT,
        }
    }
}

/// The chain's head as this state knows it (one row).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Head {
    /// Hash of the genesis header: bound into every signature.
    #[codec(encoded_as = "HashCodec")]
    pub genesis_hash: Hash,
    /// Number of the last applied block.
    #[codec(encoded_as = "BlockCodec")]
    pub number: BlockNumber,
    /// Hash of the last applied block.
    #[codec(encoded_as = "HashCodec")]
    pub hash: Hash,
    /// Timestamp of the last applied block, milliseconds.
    pub timestamp_ms: u64,
}

/// The ledger state. Construct it with [`crate::genesis::ChainSpec::build`] or
/// [`State::from_rows`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub(crate) head: Head,
    pub(crate) globals: Globals,
    pub(crate) accounts: BTreeMap<AccountId, Account>,
    /// hotkey → owning coldkey.
    pub(crate) hotkey_owners: BTreeMap<AccountId, AccountId>,
    pub(crate) delegates: BTreeMap<AccountId, Delegate>,
    /// (netuid, hotkey, coldkey) → stake.
    pub(crate) stakes: BTreeMap<(NetUid, AccountId, AccountId), Rao>,
    pub(crate) subnets: BTreeMap<NetUid, Subnet>,
    pub(crate) neurons: BTreeMap<(NetUid, Uid), Neuron>,
    pub(crate) commits: BTreeMap<(NetUid, AccountId), Vec<WeightCommit>>,
    /// (netuid, epoch block) → the epoch's record; the last [`crate::epoch::EPOCH_HISTORY`]
    /// epochs of each subnet.
    pub(crate) epochs: BTreeMap<(NetUid, BlockNumber), EpochRecord>,
    /// netuid → the subnet's alpha pool and alpha accounting.
    pub(crate) pools: BTreeMap<NetUid, SubnetPool>,
    /// (root staker coldkey, hotkey, netuid) → root dividends accrued as alpha of `netuid`,
    /// not yet claimed (`claim_root`). Outstanding alpha of `netuid`.
    pub(crate) root_claimable: BTreeMap<(AccountId, AccountId, NetUid), Rao>,
    /// (netuid, hotkey) → the hotkey's commitment (`commit`).
    pub(crate) commitments: BTreeMap<(NetUid, AccountId), Commitment>,
    /// Derived index, not part of the root: (netuid, hotkey) → uid.
    pub(crate) uid_index: BTreeMap<(NetUid, AccountId), Uid>,
}

/// Table tags, the first byte of every row key. Never renumber.
mod tag {
    pub const HEAD: u8 = 0;
    pub const GLOBALS: u8 = 1;
    pub const ACCOUNT: u8 = 2;
    pub const HOTKEY_OWNER: u8 = 3;
    pub const DELEGATE: u8 = 4;
    pub const STAKE: u8 = 5;
    pub const SUBNET: u8 = 6;
    pub const NEURON: u8 = 7;
    pub const COMMITS: u8 = 8;
    pub const EPOCH: u8 = 9;
    pub const POOL: u8 = 10;
    pub const ROOT_CLAIMABLE: u8 = 11;
    pub const COMMITMENT: u8 = 12;
}

/// A row's key and value bytes.
pub type Row = (Vec<u8>, Vec<u8>);

/// Why rows do not make a state.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RowError {
    /// A key is too short or has an unknown table tag.
    #[error("malformed row key {key:02x?}")]
    BadKey {
        /// The key.
        key: Vec<u8>,
    },
    /// A value does not decode.
    #[error("row value for table {tag} does not decode: {reason}")]
    BadValue {
        /// Table tag.
        tag: u8,
        /// Decoder message.
        reason: String,
    },
    /// The head or globals row is missing.
    #[error("state rows lack the {table} row")]
    Missing {
        /// Which.
        table: &'static str,
    },
}

fn key_with(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(
        parts
            .iter()
            .map(|p| p.len())
            .sum::<usize>()
            .saturating_add(1),
    );
    key.push(tag);
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

impl State {
    pub(crate) fn empty(globals: Globals) -> Self {
        Self {
            head: Head::default(),
            globals,
            accounts: BTreeMap::new(),
            hotkey_owners: BTreeMap::new(),
            delegates: BTreeMap::new(),
            stakes: BTreeMap::new(),
            subnets: BTreeMap::new(),
            neurons: BTreeMap::new(),
            commits: BTreeMap::new(),
            epochs: BTreeMap::new(),
            pools: BTreeMap::new(),
            root_claimable: BTreeMap::new(),
            commitments: BTreeMap::new(),
            uid_index: BTreeMap::new(),
        }
    }

    /// The chain-wide parameters and counters.
    pub fn globals(&self) -> &Globals {
        &self.globals
    }

    /// The head this state was last advanced to.
    pub fn head(&self) -> Head {
        self.head
    }

    /// Every row, in key order. This is what a store persists and what the root hashes.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        rows.push((vec![tag::HEAD], self.head.encode()));
        rows.push((vec![tag::GLOBALS], self.globals.encode()));
        for (id, account) in &self.accounts {
            rows.push((key_with(tag::ACCOUNT, &[&id.0]), account.encode()));
        }
        for (hotkey, coldkey) in &self.hotkey_owners {
            rows.push((
                key_with(tag::HOTKEY_OWNER, &[&hotkey.0]),
                coldkey.0.encode(),
            ));
        }
        for (hotkey, delegate) in &self.delegates {
            rows.push((key_with(tag::DELEGATE, &[&hotkey.0]), delegate.encode()));
        }
        for ((netuid, hotkey, coldkey), stake) in &self.stakes {
            let key = key_with(
                tag::STAKE,
                &[&netuid.0.to_be_bytes(), &hotkey.0, &coldkey.0],
            );
            rows.push((key, stake.0.encode()));
        }
        for (netuid, subnet) in &self.subnets {
            rows.push((
                key_with(tag::SUBNET, &[&netuid.0.to_be_bytes()]),
                subnet.encode(),
            ));
        }
        for ((netuid, uid), neuron) in &self.neurons {
            let key = key_with(
                tag::NEURON,
                &[&netuid.0.to_be_bytes(), &uid.0.to_be_bytes()],
            );
            rows.push((key, neuron.encode()));
        }
        for ((netuid, hotkey), commits) in &self.commits {
            let key = key_with(tag::COMMITS, &[&netuid.0.to_be_bytes(), &hotkey.0]);
            rows.push((key, commits.encode()));
        }
        for ((netuid, block), record) in &self.epochs {
            rows.push((
                key_with(
                    tag::EPOCH,
                    &[&netuid.0.to_be_bytes(), &block.0.to_be_bytes()],
                ),
                record.encode(),
            ));
        }
        for (netuid, pool) in &self.pools {
            rows.push((
                key_with(tag::POOL, &[&netuid.0.to_be_bytes()]),
                pool.encode(),
            ));
        }
        for ((coldkey, hotkey, netuid), alpha) in &self.root_claimable {
            let key = key_with(
                tag::ROOT_CLAIMABLE,
                &[&coldkey.0, &hotkey.0, &netuid.0.to_be_bytes()],
            );
            rows.push((key, alpha.0.encode()));
        }
        for ((netuid, hotkey), commitment) in &self.commitments {
            let key = key_with(tag::COMMITMENT, &[&netuid.0.to_be_bytes(), &hotkey.0]);
            rows.push((key, commitment.encode()));
        }
        rows
    }

    /// The state root: blake2-256 over the SCALE encoding of [`State::rows`].
    ///
    /// The head row is excluded: the root is committed in the header that *becomes* the head,
    /// so including the head would be circular.
    pub fn root(&self) -> Hash {
        let mut writer = Blake2Writer::default();
        for (key, value) in self.rows().iter().skip(1) {
            key.encode_to(&mut writer);
            value.encode_to(&mut writer);
        }
        writer.finish()
    }

    /// Rebuilds a state from rows (any order).
    pub fn from_rows(rows: impl IntoIterator<Item = Row>) -> Result<Self, RowError> {
        let mut head = None;
        let mut globals = None;
        let mut state = State::empty(Globals::with_root(AccountId::default()));
        for (key, value) in rows {
            let (&tag, rest) = key
                .split_first()
                .ok_or(RowError::BadKey { key: key.clone() })?;
            let bad_key = || RowError::BadKey { key: key.clone() };
            match tag {
                tag::HEAD => head = Some(decode::<Head>(tag, &value)?),
                tag::GLOBALS => globals = Some(decode::<Globals>(tag, &value)?),
                tag::ACCOUNT => {
                    state.accounts.insert(
                        account_at(rest, 0).ok_or_else(bad_key)?,
                        decode(tag, &value)?,
                    );
                }
                tag::HOTKEY_OWNER => {
                    let coldkey = AccountId(decode::<[u8; 32]>(tag, &value)?);
                    state
                        .hotkey_owners
                        .insert(account_at(rest, 0).ok_or_else(bad_key)?, coldkey);
                }
                tag::DELEGATE => {
                    state.delegates.insert(
                        account_at(rest, 0).ok_or_else(bad_key)?,
                        decode(tag, &value)?,
                    );
                }
                tag::STAKE => {
                    let netuid = u16_at(rest, 0).ok_or_else(bad_key)?;
                    let hotkey = account_at(rest, 2).ok_or_else(bad_key)?;
                    let coldkey = account_at(rest, 34).ok_or_else(bad_key)?;
                    state
                        .stakes
                        .insert((NetUid(netuid), hotkey, coldkey), Rao(decode(tag, &value)?));
                }
                tag::SUBNET => {
                    state.subnets.insert(
                        NetUid(u16_at(rest, 0).ok_or_else(bad_key)?),
                        decode(tag, &value)?,
                    );
                }
                tag::NEURON => {
                    let netuid = NetUid(u16_at(rest, 0).ok_or_else(bad_key)?);
                    let uid = Uid(u16_at(rest, 2).ok_or_else(bad_key)?);
                    state.neurons.insert((netuid, uid), decode(tag, &value)?);
                }
                tag::COMMITS => {
                    let netuid = NetUid(u16_at(rest, 0).ok_or_else(bad_key)?);
                    let hotkey = account_at(rest, 2).ok_or_else(bad_key)?;
                    state.commits.insert((netuid, hotkey), decode(tag, &value)?);
                }
                tag::EPOCH => {
                    // Older stores keyed the single record by netuid alone; its block is in
                    // the record.
                    let netuid = NetUid(u16_at(rest, 0).ok_or_else(bad_key)?);
                    let record: EpochRecord = decode(tag, &value)?;
                    if rest.len() != 2 && u64_at(rest, 2) != Some(record.block.0) {
                        return Err(bad_key());
                    }
                    state.epochs.insert((netuid, record.block), record);
                }
                tag::POOL => {
                    state.pools.insert(
                        NetUid(u16_at(rest, 0).ok_or_else(bad_key)?),
                        decode(tag, &value)?,
                    );
                }
                tag::ROOT_CLAIMABLE => {
                    let coldkey = account_at(rest, 0).ok_or_else(bad_key)?;
                    let hotkey = account_at(rest, 32).ok_or_else(bad_key)?;
                    let netuid = NetUid(u16_at(rest, 64).ok_or_else(bad_key)?);
                    state
                        .root_claimable
                        .insert((coldkey, hotkey, netuid), Rao(decode(tag, &value)?));
                }
                tag::COMMITMENT => {
                    let netuid = NetUid(u16_at(rest, 0).ok_or_else(bad_key)?);
                    let hotkey = account_at(rest, 2).ok_or_else(bad_key)?;
                    state
                        .commitments
                        .insert((netuid, hotkey), decode(tag, &value)?);
                }
                _ => return Err(bad_key()),
            }
        }
        state.head = head.ok_or(RowError::Missing { table: "head" })?;
        state.globals = globals.ok_or(RowError::Missing { table: "globals" })?;
        state.rebuild_indexes();
        Ok(state)
    }

    /// Recomputes the derived (netuid, hotkey) → uid index.
    pub(crate) fn rebuild_indexes(&mut self) {
        self.uid_index = self
            .neurons
            .iter()
            .map(|((netuid, uid), neuron)| ((*netuid, neuron.hotkey), *uid))
            .collect();
    }

    pub(crate) fn note_burned(&mut self, amount: Rao) {
        // Issuance always covers what is burned (it was counted when minted), so the
        // saturation here can only trigger on a broken invariant, which the tests check.
        self.globals.issuance = Rao(self.globals.issuance.0.saturating_sub(amount.0));
        self.globals.burned = Rao(self.globals.burned.0.saturating_add(amount.0));
    }

    /// Where all TAO is: Σ balances + Σ pool TAO reserves + Σ root stake. Must equal issuance.
    ///
    /// Subnet stake and pending emission are alpha, not TAO; the TAO behind them sits in the
    /// pools. Root stake (netuid 0) is TAO, 1:1. A subnet's lock seeded its pool, so
    /// `Subnet::locked` is a record, not a separate sum.
    pub fn accounted_total(&self) -> u128 {
        let balances: u128 = self
            .accounts
            .values()
            .map(|a| u128::from(a.balance.0))
            .sum();
        balances
            .saturating_add(self.pool_tao_total())
            .saturating_add(u128::from(self.root_stake_total().0))
    }

    /// Σ TAO reserves of every pool.
    pub fn pool_tao_total(&self) -> u128 {
        self.pools
            .values()
            .map(|pool| u128::from(pool.amm.tao_reserve().0))
            .sum()
    }

    /// The pool of `netuid`.
    pub fn pool(&self, netuid: NetUid) -> Option<&SubnetPool> {
        self.pools.get(&netuid)
    }

    /// Checks the alpha books of `netuid`: outstanding = Σ stake + pending + Σ claimable root
    /// dividends, and minted =
    /// reserve + outstanding + recycled. Returns the first broken equation.
    pub fn alpha_books_error(&self, netuid: NetUid) -> Option<String> {
        let pool = self.pools.get(&netuid)?;
        let subnet = self.subnets.get(&netuid)?;
        let staked: u128 = self
            .stakes
            .range((netuid, AccountId([0; 32]), AccountId([0; 32]))..)
            .take_while(|((n, _, _), _)| *n == netuid)
            .map(|(_, stake)| u128::from(stake.0))
            .sum();
        let held = staked
            .saturating_add(u128::from(subnet.pending_emission.0))
            .saturating_add(u128::from(subnet.pending_owner_cut.0))
            .saturating_add(u128::from(pool.pending_root_alpha.0))
            .saturating_add(self.root_claimable_total(netuid));
        if held != u128::from(pool.alpha_outstanding.0) {
            return Some(format!(
                "netuid {netuid}: outstanding {} != stake + pending + claimable {held}",
                pool.alpha_outstanding.0
            ));
        }
        let parts = u128::from(pool.amm.alpha_reserve().0)
            .saturating_add(u128::from(pool.alpha_outstanding.0))
            .saturating_add(u128::from(pool.alpha_recycled.0));
        (parts != u128::from(pool.alpha_minted.0)).then(|| {
            format!(
                "netuid {netuid}: minted {} != reserve + outstanding + recycled {parts}",
                pool.alpha_minted.0
            )
        })
    }
}

/// Decodes a whole row value: trailing bytes mean the row is not what this version wrote.
fn decode<T: Decode>(tag: u8, mut value: &[u8]) -> Result<T, RowError> {
    T::decode_all(&mut value).map_err(|error| RowError::BadValue {
        tag,
        reason: error.to_string(),
    })
}

fn account_at(bytes: &[u8], at: usize) -> Option<AccountId> {
    let end = at.checked_add(32)?;
    bytes.get(at..end)?.try_into().ok().map(AccountId)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let end = at.checked_add(8)?;
    if bytes.len() != end {
        return None;
    }
    Some(u64::from_be_bytes(bytes.get(at..end)?.try_into().ok()?))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    Some(u16::from_be_bytes(bytes.get(at..end)?.try_into().ok()?))
}
