//! The miner: fetch θ_t, run H local steps on the private shard, form Δ = θ_t − θ_local,
//! compress it with error feedback, commit its hash, serve it.
//!
//! Adversarial miners ([`crate::adversary`]) share this type; their [`Role`] decides
//! which step they fake.

use std::collections::BTreeMap;

use hyphae_ml::codec::UpdateHash;
use hyphae_ml::compress::{CompressionConfig, Compressor};
use hyphae_ml::data::Dataset;
use hyphae_ml::params::{delta, Params};
use hyphae_ml::train::{train, TrainConfig};
use hyphae_ml::{Mlp, MlpSpec};

use crate::adversary;
use crate::config::LocalTraining;
use crate::error::TrainingError;
use crate::role::Role;

/// Encoded updates each miner serves from its axon, by `(round, uid)`.
pub type ServedUpdates = BTreeMap<(u64, u16), Vec<u8>>;

/// Where a validator gets a miner's encoded update: the in-process map, or a dendrite
/// querying the miner's axon.
pub trait UpdateSource {
    /// Hands `uid`'s committed update for `round` to whatever serves it.
    fn publish(&mut self, uid: u16, round: u64, bytes: &[u8]);

    /// The bytes `uid` serves for `round`, if it answers.
    fn fetch(&mut self, uid: u16, round: u64) -> Option<Vec<u8>>;
}

impl UpdateSource for ServedUpdates {
    fn publish(&mut self, uid: u16, round: u64, bytes: &[u8]) {
        self.insert((round, uid), bytes.to_vec());
    }

    fn fetch(&mut self, uid: u16, round: u64) -> Option<Vec<u8>> {
        self.get(&(round, uid)).cloned()
    }
}

/// What one round asks of a miner.
#[derive(Debug, Clone, Copy)]
pub struct RoundInput<'a> {
    /// The round (= epoch) number, from 1.
    pub round: u64,
    /// The global model θ_t.
    pub theta: &'a Params,
    /// Its shape.
    pub spec: &'a MlpSpec,
    /// The inner loop.
    pub local: LocalTraining,
}

/// One miner: its uid, role, private shard and compressor state.
#[derive(Debug)]
pub struct Miner {
    uid: u16,
    role: Role,
    shard: Dataset,
    compressor: Compressor,
    seed: u64,
    copy_victim: Option<u16>,
}

impl Miner {
    /// A miner with a zero residual, whose encoded updates are at most `bytes_max` bytes
    /// when given. A poisoner's shard is label-flipped here, once.
    pub fn new(
        uid: u16,
        role: Role,
        shard: Dataset,
        compression: CompressionConfig,
        n_params: usize,
        bytes_max: Option<usize>,
        seed: u64,
    ) -> Result<Self, TrainingError> {
        let needs_data = matches!(role, Role::Honest | Role::Poisoner | Role::Manipulator);
        if needs_data && shard.n_rows() == 0 {
            return Err(TrainingError::Config {
                reason:
                    "a training miner's shard is empty; raise dirichlet_alpha or use fewer miners",
            });
        }
        let shard = if role == Role::Poisoner {
            adversary::flip_labels(&shard)?
        } else {
            shard
        };
        Ok(Self {
            uid,
            role,
            shard,
            compressor: match bytes_max {
                Some(bytes_max) => Compressor::with_byte_budget(compression, n_params, bytes_max)?,
                None => Compressor::new(compression, n_params)?,
            },
            seed,
            copy_victim: None,
        })
    }

    /// Makes a copier re-serve `victim`'s updates.
    #[must_use]
    pub fn copying(mut self, victim: u16) -> Self {
        self.copy_victim = Some(victim);
        self
    }

    /// The miner's uid.
    #[must_use]
    pub fn uid(&self) -> u16 {
        self.uid
    }

    /// The miner's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The private shard it trains on (flipped, for a poisoner).
    #[must_use]
    pub fn shard(&self) -> &Dataset {
        &self.shard
    }

    /// The encoded update this miner serves for the round, or `None` when it has nothing
    /// (a copier before its victim has served). `served` is what other miners serve so far.
    pub fn produce(
        &mut self,
        input: &RoundInput<'_>,
        served: &ServedUpdates,
    ) -> Result<Option<Vec<u8>>, TrainingError> {
        let pseudo_gradient = match self.role {
            Role::Honest | Role::Poisoner => self.train_delta(input)?,
            Role::Manipulator => {
                // The attack is on the message: the honest pipeline (error feedback
                // included) runs as usual, then the sent update is flipped or scaled and
                // re-encoded. Exact, because a vector with at most k entries per chunk
                // re-compresses to the same positions.
                let honest = self.compressor.compress(&self.train_delta(input)?)?;
                let mut sent = honest.to_dense();
                adversary::manipulate(&mut sent, input.round);
                let mut one_shot = Compressor::new(honest.config(), sent.len())?;
                return Ok(Some(one_shot.compress(&sent)?.encode()));
            }
            Role::FreeRider => {
                adversary::free_ride(input.theta.values().len(), self.seed, input.round)
            }
            Role::Copier => return Ok(self.copy(input.round, served)),
            Role::Validator | Role::LazyValidator | Role::CabalValidator => return Ok(None),
        };
        Ok(Some(self.compressor.compress(&pseudo_gradient)?.encode()))
    }

    /// DiLoCo's inner loop: H Adam steps from θ_t on the shard; Δ = θ_t − θ_local.
    fn train_delta(&self, input: &RoundInput<'_>) -> Result<Vec<f32>, TrainingError> {
        let device = hyphae_ml::default_device()?;
        let local = Mlp::from_params(input.spec.clone(), input.theta, &device)?;
        let config = TrainConfig {
            optimizer: input.local.optimizer_config(input.round),
            batch_size: input.local.batch_size,
            steps: input.local.inner_steps,
            seed: self.seed ^ input.round,
        };
        train(&local, &self.shard, &config)?;
        Ok(delta(input.theta.values(), local.params()?.values())?)
    }

    fn copy(&self, round: u64, served: &ServedUpdates) -> Option<Vec<u8>> {
        let victim = self.copy_victim?;
        let source = adversary::copy_source_round(round);
        served
            .get(&(source, victim))
            .or_else(|| served.get(&(round, victim)))
            .cloned()
    }
}

/// The hash a miner commits for its encoded update.
#[must_use]
pub fn commitment_hash(bytes: &[u8]) -> UpdateHash {
    hyphae_ml::codec::hash_bytes(bytes)
}
