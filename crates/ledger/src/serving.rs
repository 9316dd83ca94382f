//! Serving: `serve_axon` publishes where a neuron listens (§6.3).

use crate::{codec::BlockCodec, event::Event, state::State, Ctx};
use hyphae_primitives::{AccountId, BlockNumber, NetUid, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Axon endpoint as the caller gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct AxonArgs {
    /// Client version.
    pub version: u32,
    /// IPv4 (as u32 in a u128) or IPv6.
    pub ip: u128,
    /// Port, nonzero.
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

/// A stored axon: the arguments plus the block they were served at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct AxonInfo {
    /// Block of the serve (for the rate limit).
    #[codec(encoded_as = "BlockCodec")]
    pub block: BlockNumber,
    /// The endpoint.
    pub args: AxonArgs,
}

const IPV4_LOOPBACK: u128 = 0x7f00_0001;
const IPV6_LOOPBACK: u128 = 1;

/// The reference's validity rules: a known ip type, a nonzero routable ip, a nonzero port.
pub fn validate_axon(args: &AxonArgs) -> Result<(), TxError> {
    match args.ip_type {
        4 if args.ip >= 1u128 << 32 || args.ip == IPV4_LOOPBACK => {
            return Err(TxError::InvalidIpAddress)
        }
        6 if args.ip == IPV6_LOOPBACK || args.ip == u128::MAX => {
            return Err(TxError::InvalidIpAddress)
        }
        4 | 6 => {}
        _ => return Err(TxError::InvalidIpType),
    }
    if args.ip == 0 {
        return Err(TxError::InvalidIpAddress);
    }
    if args.port == 0 {
        return Err(TxError::InvalidPort);
    }
    Ok(())
}

/// `serve_axon(netuid, …)`, signed by the hotkey.
pub(crate) fn serve_axon(
    state: &mut State,
    ctx: &Ctx,
    hotkey: &AccountId,
    netuid: NetUid,
    args: &AxonArgs,
) -> Result<Vec<Event>, TxError> {
    let rate_limit = state.subnet_checked(netuid)?.params.serving_rate_limit;
    let uid = state.uid_of(netuid, hotkey).ok_or(TxError::NotRegistered)?;
    let neuron = state
        .neurons
        .get_mut(&(netuid, uid))
        .ok_or(TxError::NotRegistered)?;
    if let Some(previous) = neuron.axon {
        if ctx.block.0.saturating_sub(previous.block.0) < rate_limit {
            return Err(TxError::ServingRateLimited);
        }
    }
    validate_axon(args)?;
    neuron.axon = Some(AxonInfo {
        block: ctx.block,
        args: *args,
    });
    Ok(vec![Event::AxonServed {
        netuid,
        hotkey: *hotkey,
    }])
}
