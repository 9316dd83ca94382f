//! Yuma Consensus, bit-exact with the reference chain (Bittensor's subtensor).
//!
//! [`epoch`] takes one subnet's stored state ([`EpochInput`]) and returns what the epoch writes
//! back ([`EpochOutput`]): consensus, incentive, dividends, validator trust, new permits, new
//! bonds and each neuron's share of the emission. It follows the reference's production
//! (sparse) path operation by operation, in the reference's fixed-point types and rounding,
//! so every u16 and every rao matches.
//!
//! This crate is pure: no I/O, no clock, no randomness, no floats. It is not the ledger: it
//! neither reads nor writes state, and it knows nothing of hotkeys or blocks beyond the
//! numbers it is handed. [`simulate`] runs many epochs of a synthetic subnet for studying
//! weight policies.
//!
//! # The epoch, in order
//!
//! 1. **Activity**: a neuron is inactive when `last_update + cutoff < block`.
//! 2. **Stake** S: `stake + tao_stake·tao_weight` in I64F64, zeroed below `stake_threshold`
//!    (not the owner's), normalized, narrowed to I32F32.
//! 3. **Permits**: the new permits P′ go to the top-k non-zero stakes (ties to the higher uid)
//!    plus the owner; the epoch itself masks with the *previous* permits P.
//! 4. **Active stake** A: S without inactive or non-permitted neurons, renormalized.
//! 5. **Weights** W: rows of permitted validators, without self-weights (the owner's is kept),
//!    without weights set before their target (re)registered, and under commit-reveal without
//!    weights committed before it; each row normalized.
//! 6. **Consensus** C: per column, the A-weighted κ-quantile of the weights (see `consensus`).
//! 7. **Clipping** W̃ = min(W, C); **validator trust** = row sums of W̃; **incentive** I =
//!    normalized Σᵢ Aᵢ·W̃ᵢⱼ.
//! 8. **Bonds**: Wb = W + β(W̃ − W); bonds to uids registered since the last epoch are dropped.
//!    Classic: B = α·norm(Wb∘A) + (1−α)·norm(B₀), column-normalized; D = B·I. Yuma3: B =
//!    α·Wb + (1−α)·B₀ with α fixed or per pair (liquid alpha); D = A∘(norm(B)·I).
//! 9. **Emission**: miners get I/Σ(I+D), validators D/Σ(I+D) of E; with Σ = 0, validators get
//!    A (or S). Amounts are floored to rao.
//! 10. **Storage**: proportions as `floor(x·65535)`; classic bonds column-max-upscaled first;
//!     a bond row is written only under the new permit (empty otherwise).
//!
//! # Example
//!
//! ```
//! use hyphae_yuma::{epoch, EpochInput, NeuronInput, Params};
//!
//! let params = Params {
//!     tempo: 360,
//!     activity_cutoff_blocks: 5000,
//!     kappa: 32_767,
//!     bonds_penalty: 65_535,
//!     bonds_moving_average: 900_000,
//!     yuma3: true,
//!     liquid_alpha: false,
//!     alpha_low: 45_875,
//!     alpha_high: 58_982,
//!     alpha_sigmoid_steepness: 1000,
//!     max_allowed_validators: 64,
//!     stake_threshold: 0,
//!     tao_weight: 0,
//!     commit_reveal: false,
//! };
//! let validator = NeuronInput {
//!     stake: 1_000_000_000,
//!     tao_stake: 0,
//!     commit_block: None,
//!     last_update: 1200,
//!     registered_at: 10,
//!     validator_permit: true,
//!     weights: vec![(1, 65_535)],
//!     bonds: vec![],
//! };
//! let miner = NeuronInput { stake: 0, weights: vec![], validator_permit: false, ..validator.clone() };
//! let input = EpochInput {
//!     block: 1234,
//!     last_epoch_block: 0,
//!     owner_uid: None,
//!     emission_rao: 1_000_000_000,
//!     params,
//!     neurons: vec![validator, miner],
//! };
//! let output = epoch(&input)?;
//! // The miner earns all the incentive, the validator all the dividends: half of E each.
//! assert_eq!(output.neurons[1].incentive, 65_535);
//! assert_eq!(output.neurons[0].dividends, 65_535);
//! assert_eq!(output.neurons[1].server_emission, 500_000_000);
//! # Ok::<(), hyphae_yuma::YumaError>(())
//! ```

mod bonds;
mod consensus;
mod contract;
mod epoch;
mod error;
mod fixed;
pub mod simulate;
mod sparse;
#[cfg(test)]
mod test_rng;
mod weights;

pub use contract::{EpochInput, EpochOutput, NeuronInput, NeuronOutput, Params, RowEntry};
pub use epoch::epoch;
pub use error::{Matrix, YumaError, MAX_BONDS_MOVING_AVERAGE, MAX_EPOCHS, MAX_NEURONS};
