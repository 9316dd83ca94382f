//! Why an epoch input (or a simulation scenario) is rejected.

use std::fmt;

/// The largest subnet an epoch accepts.
///
/// Uids are u16, and a full weight row of 32 768 entries at 65 535 sums to just under 2³¹, the
/// largest integer an I32F32 row sum holds: above this the reference's own sums could wrap.
pub const MAX_NEURONS: usize = 32_768;

/// The most epochs a simulation plays. Every epoch's output is kept, so the count bounds the
/// memory and time a scenario file can ask for; 100 000 is years of tempo-360 epochs.
pub const MAX_EPOCHS: u32 = 100_000;

/// The largest `bonds_moving_average` (parts per million): above 1 000 000 the EMA weight
/// `1 - bma/1e6` turns negative and the reference's conversion of it can panic.
pub const MAX_BONDS_MOVING_AVERAGE: u64 = 1_000_000;

/// Which sparse matrix of the input an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    /// A neuron's `weights` row.
    Weights,
    /// A neuron's `bonds` row.
    Bonds,
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Weights => "weights",
            Self::Bonds => "bonds",
        })
    }
}

/// An input the epoch (or the simulator) refuses, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum YumaError {
    /// More neurons than [`MAX_NEURONS`].
    #[error("{n} neurons exceed the limit of {max}")]
    TooManyNeurons {
        /// Neurons in the input.
        n: usize,
        /// The limit.
        max: usize,
    },
    /// A row names a uid that is not a neuron of the subnet.
    #[error("neuron {row}: {matrix} name uid {uid}, but the subnet has {n} neurons")]
    UidOutOfRange {
        /// Which row kind.
        matrix: Matrix,
        /// The neuron (row) whose entry is at fault.
        row: usize,
        /// The offending uid.
        uid: u16,
        /// Neurons in the input.
        n: usize,
    },
    /// A row names the same uid twice (the reference's `set_weights` never stores that).
    #[error("neuron {row}: {matrix} name uid {uid} twice")]
    DuplicateUid {
        /// Which row kind.
        matrix: Matrix,
        /// The neuron (row) whose entry is at fault.
        row: usize,
        /// The repeated uid.
        uid: u16,
    },
    /// `owner_uid` is not a neuron of the subnet.
    #[error("owner_uid {uid} is out of range for {n} neurons")]
    OwnerUidOutOfRange {
        /// The owner uid given.
        uid: u16,
        /// Neurons in the input.
        n: usize,
    },
    /// A hyperparameter outside the range the reference accepts.
    #[error("params.{name} is {value}, above its maximum {max}")]
    ParamOutOfRange {
        /// The parameter's field name.
        name: &'static str,
        /// The value given.
        value: u64,
        /// Its maximum.
        max: u64,
    },
    /// The stake weights add up past I64F64's range (2⁶³ units): no real subnet gets there,
    /// and the reference's sum would wrap.
    #[error("the total stake weight exceeds 2^63 units")]
    StakeOverflow,
    /// A simulation scenario refers to a neuron it does not define.
    #[error("scenario: {field} names neuron {uid}, but the scenario has {n} neurons")]
    ScenarioUidOutOfRange {
        /// Where the uid appears.
        field: &'static str,
        /// The offending uid.
        uid: u16,
        /// Neurons in the scenario.
        n: usize,
    },
    /// A simulation scenario asks for more than [`MAX_EPOCHS`] epochs.
    #[error("scenario: {epochs} epochs exceed the limit of {max}")]
    TooManyEpochs {
        /// Epochs asked for.
        epochs: u32,
        /// The limit.
        max: u32,
    },
    /// A simulation scenario whose list lengths disagree.
    #[error("scenario: {field} has {len} entries, expected {expected}")]
    ScenarioLengthMismatch {
        /// The list at fault.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The length it must have.
        expected: usize,
    },
}

impl YumaError {
    /// A number per variant that never changes meaning: what consensus state records of a
    /// refused epoch, so that rewording a message never changes a state root.
    pub const fn code(&self) -> u16 {
        match self {
            Self::TooManyNeurons { .. } => 1,
            Self::UidOutOfRange { .. } => 2,
            Self::DuplicateUid { .. } => 3,
            Self::OwnerUidOutOfRange { .. } => 4,
            Self::ParamOutOfRange { .. } => 5,
            Self::StakeOverflow => 6,
            Self::ScenarioUidOutOfRange { .. } => 7,
            Self::TooManyEpochs { .. } => 8,
            Self::ScenarioLengthMismatch { .. } => 9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(YumaError::TooManyNeurons { n: 1, max: 0 }.code(), 1);
        assert_eq!(YumaError::StakeOverflow.code(), 6);
        assert_eq!(
            YumaError::ScenarioLengthMismatch {
                field: "x",
                len: 0,
                expected: 1
            }
            .code(),
            9
        );
    }
}
