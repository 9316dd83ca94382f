//! [`TxError`]: why a transaction was rejected, with stable numeric codes.
//!
//! The codes cross the RPC boundary and are stored in receipts, so they never change meaning:
//! add new variants with new codes, never renumber. Codes are grouped by decade
//! (1–9 validity, 10–19 balances, 20–29 subnets, …) so that a client can tell the area at a glance.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! tx_errors {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        /// A transaction rejection. See the module docs for the numbering rule.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[repr(u16)]
        pub enum TxError {
            $($(#[$doc])* $name = $code,)*
        }

        impl TxError {
            /// Every variant, in code order.
            pub const ALL: &'static [TxError] = &[$(TxError::$name,)*];

            /// The stable numeric code.
            pub const fn code(self) -> u16 {
                self as u16
            }

            /// The variant with this code, if any.
            pub const fn from_code(code: u16) -> Option<TxError> {
                match code {
                    $($code => Some(TxError::$name),)*
                    _ => None,
                }
            }

            /// The variant name, as the reference chain spells the error where one exists.
            pub const fn name(self) -> &'static str {
                match self {
                    $(TxError::$name => stringify!($name),)*
                }
            }
        }
    };
}

tx_errors! {
    /// The signature does not verify for this signer, payload, chain and nonce.
    BadSignature = 1,
    /// The nonce was already used: a replay or a duplicate.
    NonceStale = 2,
    /// The nonce skips ahead of the account's next nonce.
    NonceFuture = 3,
    /// The signer cannot pay the fee and tip.
    CannotPayFee = 4,
    /// The transaction bytes do not decode.
    BadEncoding = 5,
    /// A full mempool dropped it for a transaction that tips more.
    Evicted = 6,
    /// The free balance is below the amount asked for.
    InsufficientBalance = 10,
    /// A zero amount where a positive one is needed.
    AmountZero = 11,
    /// An amount would overflow.
    ArithmeticOverflow = 12,
    /// Sender and destination are the same account.
    TransferToSelf = 13,
    /// The subnet does not exist.
    SubnetNotFound = 20,
    /// Only the subnet owner may do this.
    NotSubnetOwner = 21,
    /// A subnet was created too recently (`NetworkRateLimit`).
    NetworkRateLimited = 22,
    /// The chain already holds `SubnetLimit` subnets.
    SubnetLimitReached = 23,
    /// The call is not allowed on the root subnet.
    RootSubnetNotAllowed = 24,
    /// `start_call` was already made on this subnet.
    FirstEmissionAlreadySet = 25,
    /// Registration is switched off on this subnet.
    RegistrationDisabled = 26,
    /// The subnet identity has a field that is too long.
    IdentityTooLong = 27,
    /// The hotkey is already registered on this subnet.
    HotkeyAlreadyRegistered = 30,
    /// The hotkey belongs to another coldkey.
    NotHotkeyOwner = 31,
    /// The subnet is full and no uid may be pruned.
    NoNeuronIdAvailable = 32,
    /// The registration burn exceeds the caller's limit.
    MaxPriceExceeded = 33,
    /// `MaxRegistrationsPerBlock` was reached in this block.
    TooManyRegistrationsThisBlock = 34,
    /// `MaxAllowedUids` is zero.
    NoUidsAllowed = 35,
    /// The hotkey is not registered on this subnet.
    NotRegistered = 40,
    /// `uids` and `values` differ in length.
    WeightsLengthMismatch = 41,
    /// More weights than neurons.
    TooManyWeights = 42,
    /// The hotkey's stake is below `StakeThreshold`.
    NotEnoughStakeToSetWeights = 43,
    /// `version_key` is below `WeightsVersionKey`.
    IncorrectWeightVersionKey = 44,
    /// Weights were set too recently (`WeightsSetRateLimit`).
    WeightsRateLimited = 45,
    /// A validator permit is needed.
    NoValidatorPermit = 46,
    /// A uid appears twice.
    DuplicateUids = 47,
    /// A uid is not a neuron of this subnet.
    UidNotFound = 48,
    /// Fewer weights than `MinAllowedWeights`.
    WeightVecTooShort = 49,
    /// A weight exceeds `MaxWeightsLimit`.
    MaxWeightExceeded = 50,
    /// Commit-reveal is on: use `commit_weights` and `reveal_weights`.
    CommitRevealEnabled = 51,
    /// Commit-reveal is off: use `set_weights`.
    CommitRevealDisabled = 52,
    /// The hotkey already has the maximum number of unrevealed commits.
    TooManyUnrevealedCommits = 53,
    /// No commit matches the revealed weights.
    NoWeightsCommitFound = 54,
    /// The reveal comes before the commit's reveal epoch.
    RevealTooEarly = 55,
    /// The commit's reveal epoch has passed.
    ExpiredWeightCommit = 56,
    /// The axon's ip type is neither 4 nor 6.
    InvalidIpType = 60,
    /// The ip is zero, loopback or out of range.
    InvalidIpAddress = 61,
    /// The port is zero.
    InvalidPort = 62,
    /// The axon was served too recently (`ServingRateLimit`).
    ServingRateLimited = 63,
    /// The stake on this hotkey is below the amount asked for.
    NotEnoughStake = 70,
    /// The stake amount is below `MinStake`.
    StakeAmountTooLow = 71,
    /// The hotkey has no owner: it was never registered.
    HotkeyNotFound = 72,
    /// The take is above the maximum.
    TakeTooHigh = 80,
    /// `increase_take` with a take that is not higher.
    TakeNotIncreased = 81,
    /// `decrease_take` with a take that is not lower.
    TakeNotDecreased = 82,
    /// The take was raised too recently (`TxDelegateTakeRateLimit`).
    TakeRateLimited = 83,
    /// Only the root key may do this.
    NotRoot = 90,
    /// A hyperparameter value is outside its bounds.
    ValueOutOfBounds = 91,
    /// The owner changed this hyperparameter too recently.
    HyperparameterRateLimited = 92,
    /// The subnet owner may not set this hyperparameter.
    NotOwnerSettable = 93,
    /// The new hotkey is already in use.
    HotkeyAlreadyInUse = 100,
    /// Old and new hotkey are the same.
    SameHotkey = 101,
    /// The subnet's pool cannot make the swap (an empty reserve, or too little to buy one rao).
    InsufficientLiquidity = 110,
    /// The price would pass the caller's limit price (and a partial fill was not allowed or
    /// fills nothing).
    SlippageTooHigh = 111,
    /// Origin and destination subnets must differ (`swap_stake`).
    SameNetuid = 112,
    /// Origin and destination of a stake move are the same.
    SameStakeLocation = 113,
    /// `claim_root`: the coldkey has no claimable root dividends (on that subnet).
    NothingToClaim = 114,
    /// `commit` with more than the commitment size bound.
    CommitmentTooLong = 120,
    /// `commit` with no data.
    CommitmentEmpty = 121,
    /// The hotkey committed too recently (`CommitmentRateLimit`).
    CommitmentRateLimited = 122,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.name(), self.code())
    }
}

impl std::error::Error for TxError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for &error in TxError::ALL {
            assert!(seen.insert(error.code()), "duplicate code {}", error.code());
            assert_eq!(TxError::from_code(error.code()), Some(error));
        }
        assert_eq!(TxError::from_code(0), None);
    }

    #[test]
    fn stable_codes() {
        assert_eq!(TxError::BadSignature.code(), 1);
        assert_eq!(TxError::NotRegistered.code(), 40);
        assert_eq!(TxError::WeightsRateLimited.code(), 45);
        assert_eq!(
            TxError::InsufficientBalance.to_string(),
            "InsufficientBalance (code 10)"
        );
    }
}
