//! Subnets: creation with a TAO lock, `start_call`, identity, and hyperparameters.
//!
//! Netuid 0 is the root subnet of the reference chain. hyphae never creates it as a subnet:
//! only `add_stake`/`remove_stake` accept netuid 0 (root TAO stake, see [`crate::root`]);
//! every other call that names it fails with `RootSubnetNotAllowed`.

use crate::{
    codec::{AccountCodec, BlockCodec, RaoCodec},
    event::Event,
    pool::SubnetPool,
    state::State,
    Ctx,
};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Longest identity field, bytes.
pub const IDENTITY_FIELD_LEN_MAX: usize = 256;

/// A subnet's hyperparameters (§7 of the reference spec), in their raw on-chain forms.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubnetParams {
    /// Blocks per epoch; 0 never runs an epoch.
    pub tempo: u16,
    /// Activity cutoff as per-mille of tempo.
    pub activity_cutoff_factor_milli: u32,
    /// Consensus majority, parts of 65535.
    pub kappa: u16,
    /// Unused by the epoch; kept for parity.
    pub rho: u16,
    /// Subnet size.
    pub max_allowed_uids: u16,
    /// Top-k validator permits.
    pub max_allowed_validators: u16,
    /// Minimum weights per set.
    pub min_allowed_weights: u16,
    /// Per-weight cap, parts of 65535 (65535 = off).
    pub max_weights_limit: u16,
    /// Blocks of immunity after registration.
    pub immunity_period: u16,
    /// Owner hotkeys never pruned.
    pub immune_owner_uids_limit: u16,
    /// Prune-pool floor.
    pub min_non_immune_uids: u16,
    /// Bond EMA keep-ratio × 10⁶.
    pub bonds_moving_average: u64,
    /// β in Wb = W + β(W̃ − W), parts of 65535.
    pub bonds_penalty: u16,
    /// Yuma3 bonds and dividends.
    pub yuma3: bool,
    /// Per-pair EMA alpha (Yuma3 only).
    pub liquid_alpha: bool,
    /// Liquid-alpha low, parts of 65535.
    pub alpha_low: u16,
    /// Liquid-alpha high, parts of 65535.
    pub alpha_high: u16,
    /// Liquid-alpha slope (/100).
    pub alpha_sigmoid_steepness: i16,
    /// Minimum client version for weights.
    pub weights_version_key: u64,
    /// Blocks between two `set_weights`.
    pub weights_set_rate_limit: u64,
    /// Weights only through commit and reveal.
    pub commit_reveal: bool,
    /// Epochs between a commit and its reveal.
    pub reveal_period_epochs: u64,
    /// Blocks between two `serve_axon`.
    pub serving_rate_limit: u64,
    /// Whether `burned_register` is open.
    pub registration_allowed: bool,
    /// Burn floor.
    #[codec(encoded_as = "RaoCodec")]
    pub min_burn: Rao,
    /// Burn ceiling.
    #[codec(encoded_as = "RaoCodec")]
    pub max_burn: Rao,
    /// Blocks for the burn to halve.
    pub burn_half_life: u16,
    /// Burn multiplier per registration, parts per million (1.26 = 1 260 000).
    pub burn_increase_mult_ppm: u64,
    /// Registrations accepted per block.
    pub max_registrations_per_block: u16,
    /// Whether the owner takes its cut of emission.
    pub owner_cut_enabled: bool,
}

impl Default for SubnetParams {
    /// What a freshly registered subnet gets ("eff." column of §7).
    fn default() -> Self {
        Self {
            tempo: 360,
            activity_cutoff_factor_milli: 13_889,
            kappa: 32_767,
            rho: 10,
            max_allowed_uids: 256,
            max_allowed_validators: 64,
            min_allowed_weights: 1,
            max_weights_limit: 65_535,
            immunity_period: 5000,
            immune_owner_uids_limit: 1,
            min_non_immune_uids: 10,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            yuma3: true,
            liquid_alpha: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1000,
            weights_version_key: 0,
            weights_set_rate_limit: 100,
            commit_reveal: true,
            reveal_period_epochs: 1,
            serving_rate_limit: 50,
            registration_allowed: true,
            min_burn: Rao(500_000),
            max_burn: Rao(100_000_000_000),
            burn_half_life: 360,
            burn_increase_mult_ppm: 1_260_000,
            max_registrations_per_block: 1,
            owner_cut_enabled: true,
        }
    }
}

impl SubnetParams {
    /// Activity cutoff in blocks: max(1, factor · tempo / 1000).
    pub fn activity_cutoff_blocks(&self) -> u64 {
        let product =
            u64::from(self.activity_cutoff_factor_milli).saturating_mul(u64::from(self.tempo));
        (product / 1000).max(1)
    }
}

/// Free-form subnet metadata, each field at most [`IDENTITY_FIELD_LEN_MAX`] bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SubnetIdentity {
    /// Display name.
    pub name: Vec<u8>,
    /// Source repository.
    pub github_repo: Vec<u8>,
    /// Contact.
    pub contact: Vec<u8>,
    /// Web site.
    pub url: Vec<u8>,
    /// Discord.
    pub discord: Vec<u8>,
    /// Description.
    pub description: Vec<u8>,
    /// Anything else.
    pub additional: Vec<u8>,
}

impl SubnetIdentity {
    fn fits(&self) -> bool {
        [
            &self.name,
            &self.github_repo,
            &self.contact,
            &self.url,
            &self.discord,
            &self.description,
            &self.additional,
        ]
        .iter()
        .all(|field| field.len() <= IDENTITY_FIELD_LEN_MAX)
    }
}

/// One subnet's row.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Subnet {
    /// The coldkey that created it.
    #[codec(encoded_as = "AccountCodec")]
    pub owner_coldkey: AccountId,
    /// The owner's hotkey: keeps its self-weight, always holds a permit, is never pruned.
    #[codec(encoded_as = "AccountCodec")]
    pub owner_hotkey: AccountId,
    /// TAO locked at creation. It seeded the pool and is held there, so it is a record of
    /// what the owner paid, not an amount counted apart from the pool.
    #[codec(encoded_as = "RaoCodec")]
    pub locked: Rao,
    /// Creation block.
    #[codec(encoded_as = "BlockCodec")]
    pub registered_at: BlockNumber,
    /// Hyperparameters.
    pub params: SubnetParams,
    /// Current registration price.
    #[codec(encoded_as = "RaoCodec")]
    pub burn: Rao,
    /// Registrations in the current block.
    pub registrations_this_block: u16,
    /// Block of `start_call`; `None` means the subnet does not emit yet.
    pub first_emission_block: Option<u64>,
    /// Block of the last epoch (creation block before the first).
    #[codec(encoded_as = "BlockCodec")]
    pub last_epoch_block: BlockNumber,
    /// Epochs run so far.
    pub epoch_index: u64,
    /// Alpha emission waiting for the next epoch (miners + validators), alpha rao.
    #[codec(encoded_as = "RaoCodec")]
    pub pending_emission: Rao,
    /// Owner cut waiting for the next epoch, alpha rao.
    #[codec(encoded_as = "RaoCodec")]
    pub pending_owner_cut: Rao,
    /// Neurons registered, `0..n` are the uids.
    pub n: u16,
    /// Metadata.
    pub identity: Option<SubnetIdentity>,
    /// Per hyperparameter, the block the owner last changed it (for the rate limit).
    pub owner_param_last_set: Vec<(u8, u64)>,
}

impl State {
    /// The subnet `netuid`, if it exists.
    pub fn subnet(&self, netuid: NetUid) -> Option<&Subnet> {
        self.subnets.get(&netuid)
    }

    /// Every subnet id, ascending.
    pub fn netuids(&self) -> Vec<NetUid> {
        self.subnets.keys().copied().collect()
    }

    pub(crate) fn subnet_checked(&self, netuid: NetUid) -> Result<&Subnet, TxError> {
        if netuid.0 == 0 {
            return Err(TxError::RootSubnetNotAllowed);
        }
        self.subnets.get(&netuid).ok_or(TxError::SubnetNotFound)
    }

    pub(crate) fn subnet_mut(&mut self, netuid: NetUid) -> Result<&mut Subnet, TxError> {
        if netuid.0 == 0 {
            return Err(TxError::RootSubnetNotAllowed);
        }
        self.subnets.get_mut(&netuid).ok_or(TxError::SubnetNotFound)
    }

    /// The lock `register_network` costs at `block` (§4.4):
    /// max(min_lock, 2·last_lock − last_lock/interval · blocks_since_last_lock).
    pub fn network_lock_cost(&self, block: BlockNumber) -> Rao {
        let g = &self.globals;
        let Some(last_block) = g.network_last_lock_block else {
            return g.network_min_lock;
        };
        let doubled = g.network_last_lock.0.saturating_mul(2);
        let per_block = g
            .network_last_lock
            .0
            .checked_div(g.network_lock_reduction_interval)
            .unwrap_or(0);
        let decay = per_block.saturating_mul(block.0.saturating_sub(last_block));
        Rao(doubled.saturating_sub(decay).max(g.network_min_lock.0))
    }

    fn next_netuid(&self) -> Option<NetUid> {
        (1..=u16::MAX)
            .map(NetUid)
            .find(|netuid| !self.subnets.contains_key(netuid))
    }
}

/// `register_network(hotkey)`: locks TAO and creates a subnet owned by the signer.
pub(crate) fn register_network(
    state: &mut State,
    ctx: &Ctx,
    coldkey: &AccountId,
    hotkey: &AccountId,
) -> Result<Vec<Event>, TxError> {
    if let Some(last) = state.globals.network_last_lock_block {
        if ctx.block.0.saturating_sub(last) < state.globals.network_rate_limit {
            return Err(TxError::NetworkRateLimited);
        }
    }
    if state.subnets.len() >= usize::from(state.globals.subnet_limit) {
        return Err(TxError::SubnetLimitReached);
    }
    state.check_hotkey_owner(coldkey, hotkey)?;
    let lock = state.network_lock_cost(ctx.block);
    if state.balance(coldkey) < lock {
        return Err(TxError::InsufficientBalance);
    }
    let netuid = state.next_netuid().ok_or(TxError::SubnetLimitReached)?;
    state.withdraw(coldkey, lock)?;
    state.claim_hotkey(coldkey, hotkey);
    state.globals.network_last_lock = lock;
    state.globals.network_last_lock_block = Some(ctx.block.0);
    state.subnets.insert(
        netuid,
        new_subnet(ctx.block, *coldkey, *hotkey, lock, SubnetParams::default()),
    );
    // The lock seeds the subnet's pool at price 1 (§4.4): the TAO moves into the pool.
    state.pools.insert(netuid, SubnetPool::seeded(lock));
    Ok(vec![Event::NetworkAdded { netuid, lock }])
}

pub(crate) fn new_subnet(
    block: BlockNumber,
    owner_coldkey: AccountId,
    owner_hotkey: AccountId,
    locked: Rao,
    params: SubnetParams,
) -> Subnet {
    Subnet {
        owner_coldkey,
        owner_hotkey,
        locked,
        registered_at: block,
        params,
        burn: Rao(1_000_000_000),
        registrations_this_block: 0,
        first_emission_block: None,
        last_epoch_block: block,
        epoch_index: 0,
        pending_emission: Rao::ZERO,
        pending_owner_cut: Rao::ZERO,
        n: 0,
        identity: None,
        owner_param_last_set: Vec::new(),
    }
}

/// `start_call(netuid)`: the owner switches emission on.
pub(crate) fn start_call(
    state: &mut State,
    ctx: &Ctx,
    who: &AccountId,
    netuid: NetUid,
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_mut(netuid)?;
    if subnet.owner_coldkey != *who {
        return Err(TxError::NotSubnetOwner);
    }
    if subnet.first_emission_block.is_some() {
        return Err(TxError::FirstEmissionAlreadySet);
    }
    subnet.first_emission_block = Some(ctx.block.0);
    Ok(vec![Event::FirstEmissionBlockNumberSet { netuid }])
}

/// `set_subnet_identity(netuid, identity)`: the owner sets metadata.
pub(crate) fn set_subnet_identity(
    state: &mut State,
    who: &AccountId,
    netuid: NetUid,
    identity: &SubnetIdentity,
) -> Result<Vec<Event>, TxError> {
    let subnet = state.subnet_mut(netuid)?;
    if subnet.owner_coldkey != *who {
        return Err(TxError::NotSubnetOwner);
    }
    if !identity.fits() {
        return Err(TxError::IdentityTooLong);
    }
    subnet.identity = Some(identity.clone());
    Ok(vec![Event::SubnetIdentitySet { netuid }])
}
