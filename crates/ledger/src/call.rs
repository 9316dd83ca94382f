//! [`Call`]: every transaction's action, named as the reference chain names it, and dispatch.

use crate::{
    accounts,
    codec::{AccountCodec, HashCodec, NetUidCodec, RaoCodec},
    commitments,
    event::Event,
    hotkeys,
    hyperparameters::{self, GlobalParameter, SubnetHyperparameter},
    registration,
    root::{self, RootClaimMode},
    serving::{self, AxonArgs},
    stake,
    state::State,
    subnets::{self, SubnetIdentity},
    weights::{self, WeightsArgs},
    Ctx,
};
use hyphae_primitives::{AccountId, Hash, NetUid, Rao, TxError};
use parity_scale_codec::{Decode, Encode};

/// What a transaction asks the chain to do. The signer is the coldkey unless a variant says
/// it is signed by the hotkey.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Move free balance.
    Transfer {
        /// Receiver.
        #[codec(encoded_as = "AccountCodec")]
        dest: AccountId,
        /// Amount.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Move the whole free balance (after the fee).
    TransferAll {
        /// Receiver.
        #[codec(encoded_as = "AccountCodec")]
        dest: AccountId,
    },
    /// Create a subnet, locking TAO; `hotkey` becomes the owner hotkey.
    RegisterNetwork {
        /// Owner hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
    },
    /// Register `hotkey` on a subnet, burning the price.
    BurnedRegister {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
    },
    /// `burned_register` with a max price.
    RegisterLimit {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Highest burn accepted.
        #[codec(encoded_as = "RaoCodec")]
        max_price: Rao,
    },
    /// Publish an axon (signed by the hotkey).
    ServeAxon {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Endpoint.
        axon: AxonArgs,
    },
    /// Set weights (signed by the hotkey).
    SetWeights {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Weights.
        weights: WeightsArgs,
    },
    /// Commit a weights hash (signed by the hotkey).
    CommitWeights {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// [`weights::commit_hash`].
        #[codec(encoded_as = "HashCodec")]
        hash: Hash,
    },
    /// Reveal committed weights (signed by the hotkey).
    RevealWeights {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Weights.
        weights: WeightsArgs,
        /// The salt hashed into the commit.
        salt: Vec<u16>,
    },
    /// Stake `amount` TAO of free balance on a hotkey (swapped for alpha).
    AddStake {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Amount.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Unstake `amount` alpha back to free balance (everything if `amount` exceeds the stake).
    RemoveStake {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Amount.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Raise a hotkey's take (rate-limited).
    IncreaseTake {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// New take, parts of 65535.
        take: u16,
    },
    /// Lower a hotkey's take.
    DecreaseTake {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// New take, parts of 65535.
        take: u16,
    },
    /// Switch emission on for an owned subnet.
    StartCall {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
    },
    /// Set an owned subnet's identity.
    SetSubnetIdentity {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Metadata.
        identity: SubnetIdentity,
    },
    /// Owner or root: set a subnet hyperparameter.
    SudoSetHyperparameter {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Parameter and value.
        param: SubnetHyperparameter,
    },
    /// Root: set a global parameter.
    SudoSetGlobal {
        /// Parameter and value.
        param: GlobalParameter,
    },
    /// Replace a hotkey everywhere (signed by its coldkey).
    SwapHotkey {
        /// Current hotkey.
        #[codec(encoded_as = "AccountCodec")]
        old: AccountId,
        /// Replacement.
        #[codec(encoded_as = "AccountCodec")]
        new: AccountId,
    },
    /// `add_stake` that leaves the price at most `limit_price` rao per alpha.
    AddStakeLimit {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// TAO to stake.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
        /// Highest price after the swap, rao per alpha.
        limit_price: u64,
        /// Stake what the limit allows instead of failing.
        allow_partial: bool,
    },
    /// `remove_stake` that leaves the price at least `limit_price` rao per alpha.
    RemoveStakeLimit {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Alpha to unstake.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
        /// Lowest price after the swap, rao per alpha.
        limit_price: u64,
        /// Unstake what the limit allows instead of failing.
        allow_partial: bool,
    },
    /// Move the signer's alpha to another hotkey, on the same or another subnet.
    MoveStake {
        /// Origin hotkey.
        #[codec(encoded_as = "AccountCodec")]
        origin_hotkey: AccountId,
        /// Destination hotkey.
        #[codec(encoded_as = "AccountCodec")]
        destination_hotkey: AccountId,
        /// Origin subnet.
        #[codec(encoded_as = "NetUidCodec")]
        origin_netuid: NetUid,
        /// Destination subnet.
        #[codec(encoded_as = "NetUidCodec")]
        destination_netuid: NetUid,
        /// Origin alpha.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Give the signer's alpha on a hotkey to another coldkey, on the same or another subnet.
    TransferStake {
        /// Receiver.
        #[codec(encoded_as = "AccountCodec")]
        destination_coldkey: AccountId,
        /// Hotkey (same on both sides).
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Origin subnet.
        #[codec(encoded_as = "NetUidCodec")]
        origin_netuid: NetUid,
        /// Destination subnet.
        #[codec(encoded_as = "NetUidCodec")]
        destination_netuid: NetUid,
        /// Origin alpha.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Swap the signer's alpha on a hotkey from one subnet to another.
    SwapStake {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Origin subnet.
        #[codec(encoded_as = "NetUidCodec")]
        origin_netuid: NetUid,
        /// Destination subnet.
        #[codec(encoded_as = "NetUidCodec")]
        destination_netuid: NetUid,
        /// Origin alpha.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// Claim the signer's root dividends on one subnet (all subnets if `None`): keep them as
    /// stake or swap them to TAO.
    ClaimRoot {
        /// Subnet, or every subnet.
        netuid: Option<u16>,
        /// Keep or swap.
        mode: RootClaimMode,
    },
    /// Store up to [`crate::commitments::COMMITMENT_LEN_MAX`] bytes for this subnet (signed by
    /// the hotkey), replacing its previous commitment (the reference's commitments pallet).
    Commit {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The bytes, typically a hash.
        data: Vec<u8>,
    },
}

impl Call {
    /// The fee in rao: `base_fee + byte_fee · encoded length`. Larger calls (long weight
    /// vectors) cost more because they cost more to store and to hash.
    pub fn fee(&self, state: &State) -> Rao {
        let len = u64::try_from(self.encoded_size()).unwrap_or(u64::MAX);
        let bytes = state.globals.byte_fee.0.saturating_mul(len);
        Rao(state.globals.base_fee.0.saturating_add(bytes))
    }

    /// The reference chain's name for this call.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Transfer { .. } => "transfer",
            Call::TransferAll { .. } => "transfer_all",
            Call::RegisterNetwork { .. } => "register_network",
            Call::BurnedRegister { .. } => "burned_register",
            Call::RegisterLimit { .. } => "register_limit",
            Call::ServeAxon { .. } => "serve_axon",
            Call::SetWeights { .. } => "set_weights",
            Call::CommitWeights { .. } => "commit_weights",
            Call::RevealWeights { .. } => "reveal_weights",
            Call::AddStake { .. } => "add_stake",
            Call::RemoveStake { .. } => "remove_stake",
            Call::IncreaseTake { .. } => "increase_take",
            Call::DecreaseTake { .. } => "decrease_take",
            Call::StartCall { .. } => "start_call",
            Call::SetSubnetIdentity { .. } => "set_subnet_identity",
            Call::SudoSetHyperparameter { .. } => "sudo_set_hyperparameter",
            Call::SudoSetGlobal { .. } => "sudo_set_global",
            Call::SwapHotkey { .. } => "swap_hotkey",
            Call::AddStakeLimit { .. } => "add_stake_limit",
            Call::RemoveStakeLimit { .. } => "remove_stake_limit",
            Call::MoveStake { .. } => "move_stake",
            Call::TransferStake { .. } => "transfer_stake",
            Call::SwapStake { .. } => "swap_stake",
            Call::ClaimRoot { .. } => "claim_root",
            Call::Commit { .. } => "commit",
        }
    }
}

/// Runs `call` for `signer`. Each handler checks everything before it mutates, so an `Err`
/// leaves the state as it was (the fee has already been taken by the caller).
pub(crate) fn dispatch(
    state: &mut State,
    ctx: &Ctx,
    signer: &AccountId,
    call: &Call,
) -> Result<Vec<Event>, TxError> {
    match call {
        Call::Transfer { dest, amount } => accounts::transfer(state, signer, dest, *amount),
        Call::TransferAll { dest } => accounts::transfer_all(state, signer, dest),
        Call::RegisterNetwork { hotkey } => subnets::register_network(state, ctx, signer, hotkey),
        Call::BurnedRegister { netuid, hotkey } => {
            registration::burned_register(state, ctx, signer, *netuid, hotkey, None)
        }
        Call::RegisterLimit {
            netuid,
            hotkey,
            max_price,
        } => registration::burned_register(state, ctx, signer, *netuid, hotkey, Some(*max_price)),
        Call::ServeAxon { netuid, axon } => serving::serve_axon(state, ctx, signer, *netuid, axon),
        Call::SetWeights { netuid, weights } => {
            weights::set_weights(state, ctx, signer, *netuid, weights)
        }
        Call::CommitWeights { netuid, hash } => {
            weights::commit_weights(state, ctx, signer, *netuid, *hash)
        }
        Call::RevealWeights {
            netuid,
            weights,
            salt,
        } => weights::reveal_weights(state, ctx, signer, *netuid, weights, salt),
        Call::AddStake {
            hotkey,
            netuid,
            amount,
        } => stake::add_stake(state, signer, hotkey, *netuid, *amount),
        Call::RemoveStake {
            hotkey,
            netuid,
            amount,
        } => stake::remove_stake(state, signer, hotkey, *netuid, *amount),
        Call::IncreaseTake { hotkey, take } => {
            stake::increase_take(state, ctx, signer, hotkey, *take)
        }
        Call::DecreaseTake { hotkey, take } => stake::decrease_take(state, signer, hotkey, *take),
        Call::StartCall { netuid } => subnets::start_call(state, ctx, signer, *netuid),
        Call::SetSubnetIdentity { netuid, identity } => {
            subnets::set_subnet_identity(state, signer, *netuid, identity)
        }
        Call::SudoSetHyperparameter { netuid, param } => {
            hyperparameters::set_subnet_hyperparameter(state, ctx, signer, *netuid, param)
        }
        Call::SudoSetGlobal { param } => {
            hyperparameters::set_global_parameter(state, signer, param)
        }
        Call::SwapHotkey { old, new } => hotkeys::swap_hotkey(state, signer, old, new),
        Call::AddStakeLimit {
            hotkey,
            netuid,
            amount,
            limit_price,
            allow_partial,
        } => stake::add_stake_limit(
            state,
            signer,
            hotkey,
            *netuid,
            *amount,
            *limit_price,
            *allow_partial,
        ),
        Call::RemoveStakeLimit {
            hotkey,
            netuid,
            amount,
            limit_price,
            allow_partial,
        } => stake::remove_stake_limit(
            state,
            signer,
            hotkey,
            *netuid,
            *amount,
            *limit_price,
            *allow_partial,
        ),
        Call::MoveStake {
            origin_hotkey,
            destination_hotkey,
            origin_netuid,
            destination_netuid,
            amount,
        } => stake::move_stake(
            state,
            signer,
            (*origin_hotkey, *origin_netuid),
            (*destination_hotkey, *destination_netuid),
            *amount,
        ),
        Call::TransferStake {
            destination_coldkey,
            hotkey,
            origin_netuid,
            destination_netuid,
            amount,
        } => stake::transfer_stake(
            state,
            signer,
            destination_coldkey,
            hotkey,
            (*origin_netuid, *destination_netuid),
            *amount,
        ),
        Call::SwapStake {
            hotkey,
            origin_netuid,
            destination_netuid,
            amount,
        } => stake::swap_stake(
            state,
            signer,
            hotkey,
            (*origin_netuid, *destination_netuid),
            *amount,
        ),
        Call::ClaimRoot { netuid, mode } => {
            root::claim_root(state, signer, netuid.map(NetUid), *mode)
        }
        Call::Commit { netuid, data } => commitments::commit(state, ctx, signer, *netuid, data),
    }
}
