//! Commitments: `commit(netuid, data)` stores a short piece of data per (subnet, hotkey), the
//! analogue of the reference chain's commitments pallet.
//!
//! A subnet uses it to pin what its neurons will later reveal off chain: the training subnet's
//! miners commit the hash of the update they serve, and its validators the hash of the next
//! global model. The chain only stores the bytes and the block; what they mean is the subnet's
//! business.
//!
//! Rules, checked in this order before anything changes:
//! - the signer is a hotkey registered on the subnet (`NotRegistered`);
//! - the data is 1..=[`COMMITMENT_LEN_MAX`] bytes (`CommitmentEmpty`, `CommitmentTooLong`);
//! - the hotkey's previous commitment on this subnet is at least
//!   `Globals::commitment_rate_limit` blocks old (`CommitmentRateLimited`).
//!
//! A new commitment replaces the previous one. A pruned neuron's commitment goes with it, and
//! `swap_hotkey` moves it to the new hotkey.

use crate::{codec::BlockCodec, event::Event, state::State, Ctx};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, TxError, Uid};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Longest commitment, bytes: room for a 32-byte hash plus a subnet's own framing.
pub const COMMITMENT_LEN_MAX: usize = 128;

/// The reference's default rate limit between two commitments of one hotkey, blocks.
pub const COMMITMENT_RATE_LIMIT_DEFAULT: u64 = 100;

/// One stored commitment.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Commitment {
    /// Block it was committed in.
    #[codec(encoded_as = "BlockCodec")]
    pub block: BlockNumber,
    /// The committed bytes.
    pub data: Vec<u8>,
}

/// `commit(netuid, data)`, signed by the hotkey.
pub(crate) fn commit(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    data: &[u8],
) -> Result<Vec<Event>, TxError> {
    state.subnet_checked(netuid)?;
    state.uid_of(netuid, hotkey).ok_or(TxError::NotRegistered)?;
    if data.is_empty() {
        return Err(TxError::CommitmentEmpty);
    }
    if data.len() > COMMITMENT_LEN_MAX {
        return Err(TxError::CommitmentTooLong);
    }
    let limit = state.globals.commitment_rate_limit;
    if let Some(previous) = state.commitments.get(&(netuid, *hotkey)) {
        if ctx.block.0.saturating_sub(previous.block.0) < limit {
            return Err(TxError::CommitmentRateLimited);
        }
    }
    state.commitments.insert(
        (netuid, *hotkey),
        Commitment {
            block: ctx.block,
            data: data.to_vec(),
        },
    );
    Ok(vec![Event::Committed {
        netuid,
        hotkey: *hotkey,
    }])
}

impl State {
    /// The commitments of `netuid`'s registered hotkeys, in uid order.
    pub fn commitments(&self, netuid: NetUid) -> Vec<(Uid, AccountId, &Commitment)> {
        self.neurons_of(netuid)
            .filter_map(|(uid, neuron)| {
                self.commitments
                    .get(&(netuid, neuron.hotkey))
                    .map(|commitment| (uid, neuron.hotkey, commitment))
            })
            .collect()
    }

    /// The commitment of `hotkey` on `netuid`, if any.
    pub fn commitment(&self, netuid: NetUid, hotkey: &AccountId) -> Option<&Commitment> {
        self.commitments.get(&(netuid, *hotkey))
    }
}
