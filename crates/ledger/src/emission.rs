//! Block emission: the halving schedule of §4.2 and the equal split among emitting subnets.
//!
//! `emission(X) = floor(10⁹ / 2ᵏ)` with `k = floor(log2(1 / (1 − X/cap)))`, cap = 21 M TAO.
//! In integers: k is the largest k with `(cap − X) · 2ᵏ ≤ cap`, i.e. the number of thresholds
//! `cap · (1 − 2⁻ᵏ)` (10.5 M, 15.75 M, …) that issuance X has crossed. This is exact; the
//! reference's I96F32 logarithm can differ only within an ulp of a threshold.

use crate::state::State;
use hyphae_primitives::{NetUid, Rao};

/// The supply cap: 21 M TAO.
pub const TOTAL_SUPPLY: Rao = Rao(21_000_000 * 1_000_000_000);
/// Emission per block before the first halving: 1 TAO.
pub const BASE_BLOCK_EMISSION: Rao = Rao(1_000_000_000);

/// TAO minted per block at issuance `issuance` (never past the cap).
pub fn block_emission(issuance: Rao) -> Rao {
    let Some(remaining) = TOTAL_SUPPLY.0.checked_sub(issuance.0).filter(|r| *r > 0) else {
        return Rao::ZERO;
    };
    let mut halvings = 0u32;
    while halvings < 63
        && u128::from(remaining) << (halvings.saturating_add(1)) <= u128::from(TOTAL_SUPPLY.0)
    {
        halvings = halvings.saturating_add(1);
    }
    let emission = BASE_BLOCK_EMISSION.0.checked_shr(halvings).unwrap_or(0);
    Rao(emission.min(remaining))
}

/// Subnets that receive emission: `start_call` made and registration open, ascending netuid.
pub fn emitting_subnets(state: &State) -> Vec<NetUid> {
    state
        .subnets
        .iter()
        .filter(|(_, subnet)| {
            subnet.first_emission_block.is_some() && subnet.params.registration_allowed
        })
        .map(|(netuid, _)| *netuid)
        .collect()
}

/// Mints this block's emission into the emitting subnets' pending pools, the owner cut apart.
/// Returns the amount minted. The indivisible remainder of the equal split is not minted.
pub(crate) fn distribute_block_emission(state: &mut State) -> Rao {
    let emitting = emitting_subnets(state);
    let Ok(count) = u64::try_from(emitting.len()) else {
        return Rao::ZERO;
    };
    let Some(share) = block_emission(state.globals.issuance).0.checked_div(count) else {
        return Rao::ZERO;
    };
    let owner_cut = u128::from(state.globals.owner_cut);
    let mut minted = 0u64;
    for netuid in emitting {
        let Some(subnet) = state.subnets.get_mut(&netuid) else {
            continue;
        };
        let cut = if subnet.params.owner_cut_enabled {
            u64::try_from(u128::from(share).saturating_mul(owner_cut) / 65_535).unwrap_or(0)
        } else {
            0
        };
        subnet.pending_owner_cut = Rao(subnet.pending_owner_cut.0.saturating_add(cut));
        subnet.pending_emission = Rao(subnet
            .pending_emission
            .0
            .saturating_add(share.saturating_sub(cut)));
        minted = minted.saturating_add(share);
    }
    state.globals.issuance = Rao(state.globals.issuance.0.saturating_add(minted));
    Rao(minted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_at_thresholds() {
        let tao = |t: u64| Rao(t * 1_000_000_000);
        assert_eq!(block_emission(Rao::ZERO), tao(1));
        assert_eq!(block_emission(Rao(tao(10_500_000).0 - 1)), tao(1));
        assert_eq!(block_emission(tao(10_500_000)), Rao(500_000_000));
        assert_eq!(block_emission(tao(15_750_000)), Rao(250_000_000));
        assert_eq!(block_emission(tao(18_375_000)), Rao(125_000_000));
        assert_eq!(block_emission(TOTAL_SUPPLY), Rao::ZERO);
        assert_eq!(block_emission(Rao(TOTAL_SUPPLY.0 - 1)), Rao::ZERO);
    }
}
