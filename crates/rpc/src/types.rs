//! Request and response types of every method. Amounts are rao (`*_rao`, integers), hashes are
//! `0x` hex, accounts are SS58, and the u16 storage forms of Yuma results are kept as they are
//! stored (divide by 65535 for a proportion).

use hyphae_ledger::{serving::AxonInfo, subnets::SubnetParams, Event, Header};
use hyphae_primitives::{AccountId, Hash, NetUid, Rao, TxError, Uid};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A block header as RPC shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderView {
    /// Height.
    pub number: u64,
    /// Header hash.
    pub hash: Hash,
    /// Parent's hash.
    pub parent_hash: Hash,
    /// State root after the block.
    pub state_root: Hash,
    /// blake2-256 of the SCALE transaction list.
    pub extrinsics_root: Hash,
    /// Proposer's timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Receives the tips.
    pub author: AccountId,
}

impl From<&Header> for HeaderView {
    fn from(header: &Header) -> Self {
        Self {
            number: header.number.0,
            hash: header.hash(),
            parent_hash: header.parent_hash,
            state_root: header.state_root,
            extrinsics_root: header.extrinsics_root,
            timestamp_ms: header.timestamp_ms,
            author: header.author,
        }
    }
}

/// `chain_getHead`: the best block and the finalized block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The newest block.
    pub best: HeaderView,
    /// The newest finalized block (equal to `best` on a one-node chain).
    pub finalized: HeaderView,
}

/// One transaction of a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxSummary {
    /// blake2-256 of the SCALE transaction.
    pub hash: Hash,
    /// Signer.
    pub signer: AccountId,
    /// Nonce.
    pub nonce: u64,
    /// Tip paid to the author.
    pub tip_rao: Rao,
    /// The call's name (`transfer`, `set_weights`, …).
    pub call: String,
    /// `None` on success, else the [`TxError`] code.
    pub error: Option<u16>,
    /// The error's name.
    pub error_name: Option<String>,
    /// Events of the transaction, fee first.
    pub events: Vec<Event>,
}

/// `chain_getBlockByNumber` / `chain_getBlockByHash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The header.
    #[serde(flatten)]
    pub header: HeaderView,
    /// Whether the block is final.
    pub finalized: bool,
    /// Events of the block hooks (epochs).
    pub hook_events: Vec<Event>,
    /// Transactions, in execution order.
    pub transactions: Vec<TxSummary>,
}

/// `system_info`: what a client needs to sign and to preview fees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    /// Chain name from the chain spec.
    pub chain: String,
    /// Genesis hash, bound into every signature.
    pub genesis_hash: Hash,
    /// Whether dev keys (`//Alice`) are expected here.
    pub dev: bool,
    /// Target block interval.
    pub block_time_ms: u64,
    /// Best height.
    pub best: u64,
    /// Finalized height.
    pub finalized: u64,
    /// Fee of every transaction, burned.
    pub base_fee_rao: Rao,
    /// Extra fee per byte of SCALE call.
    pub byte_fee_rao: Rao,
    /// What `register_network` locks at the next block.
    pub network_lock_cost_rao: Rao,
    /// Smallest stake movement.
    pub min_stake_rao: Rao,
    /// Transactions waiting in the mempool.
    pub mempool_len: u64,
    /// Node version.
    pub version: String,
}

impl SystemInfo {
    /// The fee of a call whose SCALE encoding is `call_len` bytes.
    pub fn fee_for_len(&self, call_len: usize) -> Rao {
        let len = u64::try_from(call_len).unwrap_or(u64::MAX);
        Rao(self
            .base_fee_rao
            .0
            .saturating_add(self.byte_fee_rao.0.saturating_mul(len)))
    }
}

/// `account_get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// SS58 address.
    pub address: AccountId,
    /// Free balance.
    pub free_rao: Rao,
    /// The nonce the chain expects next.
    pub nonce: u64,
    /// The nonce to sign with now: `nonce` plus this account's transactions in the mempool.
    pub next_nonce: u64,
    /// Best block the answer was read at.
    pub block: u64,
}

/// One stake position (`account_stakes`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeEntry {
    /// Subnet.
    pub netuid: NetUid,
    /// Hotkey staked on.
    pub hotkey: AccountId,
    /// Amount.
    pub stake_rao: Rao,
}

/// Claimable root dividends on one (hotkey, subnet) (`account_rootClaimable`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootClaimableEntry {
    /// Subnet whose alpha it is.
    pub netuid: NetUid,
    /// The hotkey the root stake is on.
    pub hotkey: AccountId,
    /// Claimable alpha, alpha rao.
    pub alpha: Rao,
    /// Its value at the subnet's spot price, rao (a swap pays less, by the slippage).
    pub tao_value_rao: Rao,
}

/// A subnet and its hyperparameters (`subnet_list`, `subnet_get`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    /// Id.
    pub netuid: NetUid,
    /// Creator.
    pub owner_coldkey: AccountId,
    /// Owner hotkey.
    pub owner_hotkey: AccountId,
    /// Registered neurons.
    pub n: u16,
    /// Current registration burn.
    pub burn_rao: Rao,
    /// TAO locked at creation.
    pub locked_rao: Rao,
    /// Whether `start_call` ran (the subnet emits).
    pub emitting: bool,
    /// Creation block.
    pub registered_at: u64,
    /// Block of the last epoch.
    pub last_epoch_block: u64,
    /// Epochs run so far.
    pub epoch_index: u64,
    /// Emission waiting for the next epoch.
    pub pending_emission_rao: Rao,
    /// Identity name, if set (lossy UTF-8).
    pub name: Option<String>,
    /// Every hyperparameter in its on-chain form.
    pub hyperparameters: SubnetParams,
    /// Spot price of the subnet's alpha, rao per alpha (floored; `tao_reserve_rao /
    /// alpha_reserve`). Root (netuid 0) has no pool: 1 TAO.
    pub price_rao_per_alpha: u64,
    /// Moving (EMA) price, rao per alpha (floored); it splits the TAO emission.
    pub moving_price_rao_per_alpha: u64,
    /// TAO in the pool.
    pub tao_reserve_rao: Rao,
    /// Alpha in the pool (alpha rao).
    pub alpha_reserve: Rao,
    /// Alpha outside the pool: stake and pending emission (alpha rao).
    pub alpha_outstanding: Rao,
    /// Share of each block's TAO emission, parts per billion (Σ over subnets ≈ 10⁹).
    pub emission_share_ppb: u64,
    /// TAO the last block put into this subnet.
    pub tao_emission_rao: Rao,
    /// Alpha the last block minted for participants (alpha rao).
    pub alpha_emission: Rao,
}

/// An axon endpoint (Python `AxonInfo`, with the ip as a string).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonView {
    /// Block it was served at.
    pub block: u64,
    /// Client version (`major·10⁶ + minor·10³ + patch`).
    pub version: u32,
    /// Dotted IPv4 or IPv6 text.
    pub ip: String,
    /// Port.
    pub port: u16,
    /// 4 or 6.
    pub ip_type: u8,
    /// Wire protocol.
    pub protocol: u8,
    /// Reserved.
    pub placeholder1: u8,
    /// Reserved.
    pub placeholder2: u8,
}

impl From<&AxonInfo> for AxonView {
    fn from(info: &AxonInfo) -> Self {
        let args = &info.args;
        let ip = match (args.ip_type, u32::try_from(args.ip)) {
            (4, Ok(v4)) => Ipv4Addr::from(v4).to_string(),
            _ => Ipv6Addr::from(args.ip).to_string(),
        };
        Self {
            block: info.block.0,
            version: args.version,
            ip,
            port: args.port,
            ip_type: args.ip_type,
            protocol: args.protocol,
            placeholder1: args.placeholder1,
            placeholder2: args.placeholder2,
        }
    }
}

/// `subnet_metagraph`: one snapshot, every array indexed by uid (the Python SDK's metagraph).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetagraphView {
    /// Subnet.
    pub netuid: NetUid,
    /// Best block the snapshot was read at.
    pub block: u64,
    /// Number of neurons.
    pub n: u16,
    /// `uids`.
    pub uids: Vec<u16>,
    /// `hotkeys`.
    pub hotkeys: Vec<AccountId>,
    /// `coldkeys`.
    pub coldkeys: Vec<AccountId>,
    /// `S`: total stake on each hotkey in this subnet (alpha rao).
    pub stake_rao: Vec<Rao>,
    /// `alpha_stake`: the same alpha stake, under its dynamic-TAO name (alpha rao).
    pub alpha_stake: Vec<Rao>,
    /// `tao_stake`: each hotkey's root stake (TAO rao), which counts at `TaoWeight` in epochs.
    pub tao_stake_rao: Vec<Rao>,
    /// Each hotkey's alpha stake valued at the spot price (TAO rao, floored; selling would pay
    /// less, by the slippage).
    pub stake_tao_value_rao: Vec<Rao>,
    /// Spot price, rao per alpha (floored).
    pub price_rao_per_alpha: u64,
    /// Moving (EMA) price, rao per alpha (floored).
    pub moving_price_rao_per_alpha: u64,
    /// TAO in the subnet's pool.
    pub tao_reserve_rao: Rao,
    /// Alpha in the subnet's pool (alpha rao).
    pub alpha_reserve: Rao,
    /// Share of each block's TAO emission, parts per billion.
    pub emission_share_ppb: u64,
    /// `I` (u16 storage form).
    pub incentive: Vec<u16>,
    /// `C` (u16).
    pub consensus: Vec<u16>,
    /// `D` (u16).
    pub dividends: Vec<u16>,
    /// `Tv` (u16).
    pub validator_trust: Vec<u16>,
    /// `E`, rao per epoch.
    pub emission_rao: Vec<Rao>,
    /// `last_update`.
    pub last_update: Vec<u64>,
    /// `validator_permit`.
    pub validator_permit: Vec<bool>,
    /// `active`.
    pub active: Vec<bool>,
    /// `block_at_registration`.
    pub block_at_registration: Vec<u64>,
    /// `axons` (`None` where no axon is served).
    pub axons: Vec<Option<AxonView>>,
    /// `W` as stored (sparse `(uid, u16)` rows), when asked for.
    pub weights: Option<Vec<Vec<(u16, u16)>>>,
    /// `B` as stored (sparse rows), when asked for.
    pub bonds: Option<Vec<Vec<(u16, u16)>>>,
}

/// `subnet_metagraph` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetagraphOptions {
    /// Include the weight rows.
    pub weights: bool,
    /// Include the bond rows.
    pub bonds: bool,
}

/// `subnet_neuron`: one neuron in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronInfo {
    /// Subnet.
    pub netuid: NetUid,
    /// Slot.
    pub uid: Uid,
    /// Hotkey.
    pub hotkey: AccountId,
    /// Owner coldkey.
    pub coldkey: AccountId,
    /// Total stake on the hotkey here.
    pub stake_rao: Rao,
    /// Each coldkey's stake on it.
    pub stakers: Vec<(AccountId, Rao)>,
    /// `BlockAtRegistration`.
    pub registered_at: u64,
    /// `LastUpdate`.
    pub last_update: u64,
    /// Active in the last epoch.
    pub active: bool,
    /// Holds a validator permit.
    pub validator_permit: bool,
    /// Stake weight (u16).
    pub stake_weight: u16,
    /// Consensus (u16).
    pub consensus: u16,
    /// Incentive (u16).
    pub incentive: u16,
    /// Dividends (u16).
    pub dividends: u16,
    /// Validator trust (u16).
    pub validator_trust: u16,
    /// Emission of the last epoch.
    pub emission_rao: Rao,
    /// Served axon.
    pub axon: Option<AxonView>,
    /// Stored weights.
    pub weights: Vec<(u16, u16)>,
    /// Stored bonds.
    pub bonds: Vec<(u16, u16)>,
}

/// `subnet_epochTiming`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochTiming {
    /// Subnet.
    pub netuid: NetUid,
    /// Best block.
    pub block: u64,
    /// Blocks per epoch (0: never).
    pub tempo: u16,
    /// Epochs so far.
    pub epoch_index: u64,
    /// Block of the last epoch.
    pub last_epoch_block: u64,
    /// Block at which the next epoch is due (`None` when tempo is 0).
    pub next_epoch_block: Option<u64>,
    /// Blocks from the best block to the next epoch.
    pub blocks_until_next_epoch: Option<u64>,
    /// Blocks between two `set_weights` of one hotkey.
    pub weights_set_rate_limit: u64,
    /// Whether weights go through commit-reveal.
    pub commit_reveal: bool,
    /// The hotkey asked about, if any.
    pub hotkey: Option<HotkeyTiming>,
}

/// The weight-setting timing of one hotkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyTiming {
    /// The hotkey.
    pub hotkey: AccountId,
    /// Its uid, if registered.
    pub uid: Option<Uid>,
    /// Its `LastUpdate`.
    pub last_update: Option<u64>,
    /// The first block whose `set_weights` the rate limit lets through.
    pub next_weights_block: Option<u64>,
}

/// One hotkey's commitment (`subnet_commitments`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentView {
    /// The committing hotkey.
    pub hotkey: AccountId,
    /// Its uid on the subnet.
    pub uid: Uid,
    /// Block the commitment was included in.
    pub block: u64,
    /// The committed bytes, `0x` hex.
    pub data: String,
}

impl CommitmentView {
    /// The committed bytes, or `None` if `data` is not `0x` hex.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        hex::decode(self.data.strip_prefix("0x")?).ok()
    }
}

/// One event with where it came from (`chain_subscribeEvents`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// `None` for a block hook, else the transaction's index in the block.
    pub tx_index: Option<u32>,
    /// The transaction's hash.
    pub tx_hash: Option<Hash>,
    /// The event.
    pub event: Event,
}

/// A block's events (`chain_subscribeEvents` notification).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEvents {
    /// Height.
    pub number: u64,
    /// Header hash.
    pub hash: Hash,
    /// Every event in order: hooks first.
    pub events: Vec<EventRecord>,
}

/// A watched transaction's progress (`tx_submitAndWatch` notifications).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// Accepted into the mempool.
    Ready {
        /// Transaction hash.
        hash: Hash,
    },
    /// In a block (not yet final).
    Included {
        /// Transaction hash.
        hash: Hash,
        /// Height.
        block: u64,
        /// Block hash.
        block_hash: Hash,
        /// `None` if the call succeeded, else its [`TxError`] code (the fee was still paid).
        error: Option<u16>,
    },
    /// In a final block.
    Finalized {
        /// Transaction hash.
        hash: Hash,
        /// Height.
        block: u64,
        /// Block hash.
        block_hash: Hash,
        /// `None` if the call succeeded, else its [`TxError`] code.
        error: Option<u16>,
    },
    /// Left the mempool without being included (it became invalid).
    Dropped {
        /// Transaction hash.
        hash: Hash,
        /// Why, as a [`TxError`] code.
        error: u16,
    },
}

impl TxStatus {
    /// The transaction hash.
    pub fn hash(&self) -> Hash {
        match self {
            Self::Ready { hash }
            | Self::Included { hash, .. }
            | Self::Finalized { hash, .. }
            | Self::Dropped { hash, .. } => *hash,
        }
    }
}

/// The typed data of a rejected transaction's JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRejection {
    /// The [`TxError`] code, when the ledger's rules rejected it.
    pub tx_error: Option<u16>,
    /// Its name.
    pub name: String,
}

impl TxRejection {
    /// From a ledger error.
    pub fn from_tx_error(error: TxError) -> Self {
        Self {
            tx_error: Some(error.code()),
            name: error.name().to_owned(),
        }
    }
}
