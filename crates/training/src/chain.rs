//! The chain as the subnet sees it: a narrow [`Chain`] trait, and [`InProcessChain`], an
//! implementation over [`hyphae_yuma::epoch`] for simulations and tests.
//!
//! The subnet never touches chain internals. It commits update and model hashes, reads
//! commitments back, sets weights, runs (or, on a live network, awaits) the epoch and reads
//! each neuron's incentive. [`crate::chain_rpc::RpcChain`] implements the same trait on a
//! running node, and the miner, validator and aggregation code is unchanged.
//!
//! The in-process chain keeps the state the epoch reads (stake, weights, bonds, permits)
//! and carries bonds and permits from one epoch to the next exactly as
//! `hyphae_yuma::simulate` does. A commitment is only accepted for the open round: a hash
//! committed late is refused, so its update is never scored.

use std::collections::BTreeMap;

use hyphae_ml::codec::UpdateHash;
use hyphae_ml::params::ModelHash;
use hyphae_yuma::{EpochInput, EpochOutput, NeuronInput, NeuronOutput, RowEntry};

/// Why the chain refused or failed a call.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChainError {
    /// No neuron has this uid.
    #[error("uid {uid} is not registered")]
    NotRegistered { uid: u16 },
    /// A commitment for a round that is not open (too late or too early).
    #[error("round {round} is not open (the open round is {open})")]
    RoundClosed { round: u64, open: u64 },
    /// A uid committed twice in one round.
    #[error("uid {uid} already committed for round {round}")]
    AlreadyCommitted { uid: u16, round: u64 },
    /// A weight row names a uid that does not exist.
    #[error("weights of uid {uid} name unknown uid {target}")]
    WeightTarget { uid: u16, target: u16 },
    /// The epoch computation refused its input.
    #[error("epoch failed: {0}")]
    Epoch(#[from] hyphae_yuma::YumaError),
    /// A live chain's RPC call failed (connection, transport or a JSON-RPC error).
    #[error("chain RPC: {reason}")]
    Rpc { reason: String },
    /// A live chain refused a transaction: the ledger's `TxError` code and name.
    #[error("{call} refused by the chain: {name} (code {code})")]
    Refused {
        call: &'static str,
        code: u16,
        name: String,
    },
    /// A live chain did not reach a condition in time.
    #[error("timed out waiting for {what}")]
    Timeout { what: &'static str },
    /// The run was asked to stop.
    #[error("stopped")]
    Stopped,
}

/// One update commitment, as the chain records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment {
    /// The committing miner.
    pub uid: u16,
    /// The round it commits for.
    pub round: u64,
    /// The hash of its encoded, compressed Δ.
    pub hash: UpdateHash,
    /// Position in the chain's commit order (global, strictly increasing): the later of two
    /// near-identical updates is the one with the larger sequence.
    pub sequence: u64,
}

/// The subnet's view of the chain.
pub trait Chain {
    /// The round whose commitments are open.
    fn open_round(&self) -> u64;

    /// Records `uid`'s update hash for `round`; refused unless `round` is open.
    fn commit_update(
        &mut self,
        uid: u16,
        round: u64,
        hash: UpdateHash,
    ) -> Result<Commitment, ChainError>;

    /// All update commitments for `round`, in commit order. A live chain first waits for the
    /// round's commits to be final, so it needs `&mut self` and may fail.
    fn update_commitments(&mut self, round: u64) -> Result<Vec<Commitment>, ChainError>;

    /// Records a validator's weight row (max-upscaled u16s).
    fn set_weights(&mut self, uid: u16, weights: Vec<RowEntry>) -> Result<(), ChainError>;

    /// Runs the epoch (a live chain would await the tempo boundary), closes the open round
    /// and opens the next; returns the per-neuron outcome.
    fn run_epoch(&mut self) -> Result<Vec<NeuronOutput>, ChainError>;

    /// The last epoch's outcome per uid (empty before the first epoch).
    fn last_epoch(&self) -> &[NeuronOutput];

    /// Records the hash of the next global model a validator computed for `round`.
    fn commit_model(&mut self, uid: u16, round: u64, hash: ModelHash) -> Result<(), ChainError>;

    /// Model hashes committed for `round`, by uid.
    fn model_commitments(&self, round: u64) -> BTreeMap<u16, ModelHash>;
}

/// Blocks between epochs.
const TEMPO_BLOCKS: u16 = 100;
/// The first epoch's block: far enough from registration (block 0) that weights count.
const FIRST_EPOCH_BLOCK: u64 = 1000;

/// A chain in memory, whose epoch is the real [`hyphae_yuma::epoch`].
#[derive(Debug, Clone)]
pub struct InProcessChain {
    input: EpochInput,
    open_round: u64,
    next_sequence: u64,
    commitments: BTreeMap<u64, Vec<Commitment>>,
    models: BTreeMap<u64, BTreeMap<u16, ModelHash>>,
    last_epoch: Vec<NeuronOutput>,
}

impl InProcessChain {
    /// A subnet whose neuron `uid` has `stakes_rao[uid]`; neurons with stake start with a
    /// validator permit (as if an earlier epoch had given it). Round `first_round` is open.
    #[must_use]
    pub fn new(stakes_rao: &[u64], emission_rao: u64, first_round: u64) -> Self {
        let neurons = stakes_rao
            .iter()
            .map(|&stake| NeuronInput {
                stake,
                tao_stake: 0,
                commit_block: None,
                last_update: 0,
                registered_at: 0,
                validator_permit: stake > 0,
                weights: Vec::new(),
                bonds: Vec::new(),
            })
            .collect();
        Self {
            input: EpochInput {
                block: FIRST_EPOCH_BLOCK,
                last_epoch_block: 0,
                owner_uid: None,
                emission_rao,
                params: default_params(),
                neurons,
            },
            open_round: first_round,
            next_sequence: 0,
            commitments: BTreeMap::new(),
            models: BTreeMap::new(),
            last_epoch: Vec::new(),
        }
    }

    fn check_uid(&self, uid: u16) -> Result<(), ChainError> {
        if usize::from(uid) < self.input.neurons.len() {
            Ok(())
        } else {
            Err(ChainError::NotRegistered { uid })
        }
    }

    fn carry_over(&mut self, output: &EpochOutput) {
        for (neuron, out) in self.input.neurons.iter_mut().zip(&output.neurons) {
            neuron.bonds.clone_from(&out.bonds);
            neuron.validator_permit = out.validator_permit;
        }
        self.input.last_epoch_block = self.input.block;
        self.input.block = self
            .input
            .block
            .saturating_add(u64::from(self.input.params.tempo));
    }
}

/// Mainnet-like hyperparameters: κ = ½, Yuma3 bonds, no commit-reveal (the simulation
/// commits update hashes itself; weights are revealed in the same epoch).
fn default_params() -> hyphae_yuma::Params {
    hyphae_yuma::Params {
        tempo: TEMPO_BLOCKS,
        activity_cutoff_blocks: 5000,
        kappa: 32_767,
        bonds_penalty: 65_535,
        bonds_moving_average: 900_000,
        yuma3: true,
        liquid_alpha: false,
        alpha_low: 45_875,
        alpha_high: 58_982,
        alpha_sigmoid_steepness: 1000,
        max_allowed_validators: 64,
        stake_threshold: 0,
        tao_weight: 0,
        commit_reveal: false,
    }
}

impl Chain for InProcessChain {
    fn open_round(&self) -> u64 {
        self.open_round
    }

    fn commit_update(
        &mut self,
        uid: u16,
        round: u64,
        hash: UpdateHash,
    ) -> Result<Commitment, ChainError> {
        self.check_uid(uid)?;
        if round != self.open_round {
            return Err(ChainError::RoundClosed {
                round,
                open: self.open_round,
            });
        }
        let entries = self.commitments.entry(round).or_default();
        if entries.iter().any(|c| c.uid == uid) {
            return Err(ChainError::AlreadyCommitted { uid, round });
        }
        let commitment = Commitment {
            uid,
            round,
            hash,
            sequence: self.next_sequence,
        };
        self.next_sequence = self.next_sequence.saturating_add(1);
        entries.push(commitment);
        Ok(commitment)
    }

    fn update_commitments(&mut self, round: u64) -> Result<Vec<Commitment>, ChainError> {
        Ok(self.commitments.get(&round).cloned().unwrap_or_default())
    }

    fn set_weights(&mut self, uid: u16, weights: Vec<RowEntry>) -> Result<(), ChainError> {
        self.check_uid(uid)?;
        if let Some(&(target, _)) = weights
            .iter()
            .find(|(target, _)| self.check_uid(*target).is_err())
        {
            return Err(ChainError::WeightTarget { uid, target });
        }
        let block = self.input.block.saturating_sub(1);
        let neuron = self
            .input
            .neurons
            .get_mut(usize::from(uid))
            .ok_or(ChainError::NotRegistered { uid })?;
        neuron.weights = weights;
        neuron.last_update = block;
        Ok(())
    }

    fn run_epoch(&mut self) -> Result<Vec<NeuronOutput>, ChainError> {
        let output = hyphae_yuma::epoch(&self.input)?;
        self.carry_over(&output);
        self.open_round = self.open_round.saturating_add(1);
        self.last_epoch.clone_from(&output.neurons);
        Ok(output.neurons)
    }

    fn last_epoch(&self) -> &[NeuronOutput] {
        &self.last_epoch
    }

    fn commit_model(&mut self, uid: u16, round: u64, hash: ModelHash) -> Result<(), ChainError> {
        self.check_uid(uid)?;
        self.models.entry(round).or_default().insert(uid, hash);
        Ok(())
    }

    fn model_commitments(&self, round: u64) -> BTreeMap<u16, ModelHash> {
        self.models.get(&round).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_commitments_are_refused_and_order_is_recorded() -> Result<(), ChainError> {
        let mut chain = InProcessChain::new(&[1_000, 0, 0], 1_000_000, 1);
        let hash = UpdateHash([7; 32]);
        assert_eq!(chain.commit_update(2, 1, hash)?.sequence, 0);
        assert_eq!(chain.commit_update(1, 1, hash)?.sequence, 1);
        assert!(matches!(
            chain.commit_update(1, 1, hash),
            Err(ChainError::AlreadyCommitted { .. })
        ));
        chain.set_weights(0, vec![(1, 65_535), (2, 32_768)])?;
        let outcome = chain.run_epoch()?;
        assert!(outcome[1].incentive > outcome[2].incentive);
        assert_eq!(
            chain.commit_update(1, 1, hash),
            Err(ChainError::RoundClosed { round: 1, open: 2 })
        );
        let order: Vec<u16> = chain.update_commitments(1)?.iter().map(|c| c.uid).collect();
        assert_eq!(order, vec![2, 1]);
        assert!(chain.set_weights(0, vec![(9, 1)]).is_err());
        Ok(())
    }
}
