//! [`Event`]s: what a successful call or a block hook did, for receipts and subscribers.

use crate::codec::{AccountCodec, NetUidCodec, RaoCodec, UidCodec};
use hyphae_primitives::{AccountId, NetUid, Rao, Uid};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Something that happened while applying a block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The fee was burned and the tip paid to the block author.
    FeePaid {
        /// The signer.
        #[codec(encoded_as = "AccountCodec")]
        who: AccountId,
        /// Burned.
        #[codec(encoded_as = "RaoCodec")]
        fee: Rao,
        /// Paid to the author.
        #[codec(encoded_as = "RaoCodec")]
        tip: Rao,
    },
    /// Free balance moved.
    Transfer {
        /// Sender.
        #[codec(encoded_as = "AccountCodec")]
        from: AccountId,
        /// Receiver.
        #[codec(encoded_as = "AccountCodec")]
        to: AccountId,
        /// Amount.
        #[codec(encoded_as = "RaoCodec")]
        amount: Rao,
    },
    /// A subnet was created.
    NetworkAdded {
        /// The new subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The TAO locked.
        #[codec(encoded_as = "RaoCodec")]
        lock: Rao,
    },
    /// The owner called `start_call`: the subnet now emits.
    FirstEmissionBlockNumberSet {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
    },
    /// Subnet identity set.
    SubnetIdentitySet {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
    },
    /// A hyperparameter changed.
    HyperparameterSet {
        /// The subnet, or `None` for a global parameter.
        netuid: Option<u16>,
        /// The parameter name.
        name: String,
    },
    /// A neuron registered, replacing `pruned` if the subnet was full.
    NeuronRegistered {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The slot.
        #[codec(encoded_as = "UidCodec")]
        uid: Uid,
        /// The new hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// The hotkey that was pruned from this uid.
        pruned: Option<[u8; 32]>,
        /// The burn paid.
        #[codec(encoded_as = "RaoCodec")]
        burn: Rao,
    },
    /// Weights stored (directly or by a reveal).
    WeightsSet {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The setter.
        #[codec(encoded_as = "UidCodec")]
        uid: Uid,
    },
    /// A weight commit stored.
    WeightsCommitted {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The committer.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// The commit hash.
        hash: [u8; 32],
    },
    /// An axon served.
    AxonServed {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
    },
    /// Stake added: `amount` is the TAO paid (see `AlphaBought` for the alpha).
    StakeAdded {
        /// Coldkey.
        #[codec(encoded_as = "AccountCodec")]
        coldkey: AccountId,
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
    /// Stake removed: `amount` is the TAO received (see `AlphaSold` for the alpha).
    StakeRemoved {
        /// Coldkey.
        #[codec(encoded_as = "AccountCodec")]
        coldkey: AccountId,
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
    /// A delegate take changed.
    TakeSet {
        /// Hotkey.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// New take (parts of 65535).
        take: u16,
    },
    /// A hotkey was replaced everywhere.
    HotkeySwapped {
        /// Old hotkey.
        #[codec(encoded_as = "AccountCodec")]
        old: AccountId,
        /// New hotkey.
        #[codec(encoded_as = "AccountCodec")]
        new: AccountId,
    },
    /// An epoch ran.
    EpochRun {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Emission handed to the epoch, alpha rao.
        #[codec(encoded_as = "RaoCodec")]
        emission: Rao,
        /// Part of it not paid (rounding dust, owner incentive): recycled.
        #[codec(encoded_as = "RaoCodec")]
        recycled: Rao,
    },
    /// TAO swapped into a subnet's pool for alpha (staking).
    AlphaBought {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// TAO paid in.
        #[codec(encoded_as = "RaoCodec")]
        tao: Rao,
        /// Alpha paid out.
        #[codec(encoded_as = "RaoCodec")]
        alpha: Rao,
    },
    /// Alpha swapped into a subnet's pool for TAO (unstaking).
    AlphaSold {
        /// Subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Alpha paid in.
        #[codec(encoded_as = "RaoCodec")]
        alpha: Rao,
        /// TAO paid out.
        #[codec(encoded_as = "RaoCodec")]
        tao: Rao,
    },
    /// Stake moved between hotkeys, coldkeys or subnets (`move_stake`, `transfer_stake`,
    /// `swap_stake`).
    StakeMoved {
        /// The signer, owner of the origin stake.
        #[codec(encoded_as = "AccountCodec")]
        coldkey: AccountId,
        /// Origin hotkey.
        #[codec(encoded_as = "AccountCodec")]
        origin_hotkey: AccountId,
        /// Origin subnet.
        #[codec(encoded_as = "NetUidCodec")]
        origin_netuid: NetUid,
        /// Receiving coldkey.
        #[codec(encoded_as = "AccountCodec")]
        destination_coldkey: AccountId,
        /// Receiving hotkey.
        #[codec(encoded_as = "AccountCodec")]
        destination_hotkey: AccountId,
        /// Receiving subnet.
        #[codec(encoded_as = "NetUidCodec")]
        destination_netuid: NetUid,
        /// Origin alpha taken.
        #[codec(encoded_as = "RaoCodec")]
        alpha: Rao,
        /// TAO that crossed between the pools (zero within a subnet).
        #[codec(encoded_as = "RaoCodec")]
        tao: Rao,
        /// Destination alpha credited.
        #[codec(encoded_as = "RaoCodec")]
        alpha_out: Rao,
    },
    /// Claimable root dividends were claimed (`claim_root`); with `Swap`, an `AlphaSold` per
    /// subnet follows with the TAO paid.
    RootClaimed {
        /// The root staker.
        #[codec(encoded_as = "AccountCodec")]
        coldkey: AccountId,
        /// The hotkey its root stake is on.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
        /// Subnet of the alpha.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// Alpha claimed.
        #[codec(encoded_as = "RaoCodec")]
        alpha: Rao,
        /// Kept as stake or swapped to TAO.
        mode: crate::root::RootClaimMode,
    },
    /// A hotkey's commitment stored (`commit`); read it with `subnet_commitments`.
    Committed {
        /// The subnet.
        #[codec(encoded_as = "NetUidCodec")]
        netuid: NetUid,
        /// The committer.
        #[codec(encoded_as = "AccountCodec")]
        hotkey: AccountId,
    },
}
