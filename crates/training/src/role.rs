//! Roles a neuron plays in a simulation: the honest miner and validator, and the
//! adversaries the subnet must defeat (see the spec's "Adversaries" list).

use serde::{Deserialize, Serialize};

/// What a neuron does each round. The serialized names are the report's `role` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Trains on its shard and serves its compressed pseudo-gradient.
    Honest,
    /// Sends a tiny random Δ without training.
    FreeRider,
    /// Trains on flipped labels.
    Poisoner,
    /// Trains honestly, then sends the Δ sign-flipped (odd rounds) or scaled ×10 (even rounds).
    Manipulator,
    /// Re-serves another miner's Δ: the same round's on even rounds, the previous round's on odd.
    Copier,
    /// Evaluates every update on its own held-out data.
    Validator,
    /// Copies the previous epoch's consensus instead of evaluating.
    LazyValidator,
    /// Puts all its weight on the adversarial miners (its own, useless ones).
    CabalValidator,
}

impl Role {
    /// Whether the role is a miner's.
    #[must_use]
    pub fn is_miner(self) -> bool {
        !self.is_validator()
    }

    /// Whether the role is a validator's.
    #[must_use]
    pub fn is_validator(self) -> bool {
        matches!(
            self,
            Self::Validator | Self::LazyValidator | Self::CabalValidator
        )
    }

    /// Whether the role is an adversarial miner's (one that must earn nothing).
    #[must_use]
    pub fn is_adversarial_miner(self) -> bool {
        self.is_miner() && self != Self::Honest
    }

    /// The report's name for the role.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            Self::FreeRider => "free_rider",
            Self::Poisoner => "poisoner",
            Self::Manipulator => "manipulator",
            Self::Copier => "copier",
            Self::Validator => "validator",
            Self::LazyValidator => "lazy_validator",
            Self::CabalValidator => "cabal_validator",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Self::Honest,
            Self::FreeRider,
            Self::Poisoner,
            Self::Manipulator,
            Self::Copier,
            Self::Validator,
            Self::LazyValidator,
            Self::CabalValidator,
        ]
        .into_iter()
        .find(|role| role.as_str() == text)
        .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// A role name that is not one of [`Role`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() -> Result<(), Box<dyn std::error::Error>> {
        for role in [Role::Honest, Role::FreeRider, Role::CabalValidator] {
            let json = serde_json::to_string(&role)?;
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(role.as_str().parse::<Role>()?, role);
        }
        assert!("miner".parse::<Role>().is_err());
        assert!(Role::Copier.is_adversarial_miner() && !Role::Honest.is_adversarial_miner());
        assert!(Role::LazyValidator.is_validator() && !Role::LazyValidator.is_miner());
        Ok(())
    }
}
