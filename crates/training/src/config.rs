//! The simulation's configuration: who plays which role, how miners train, how validators
//! score, and the chain's emission. [`SimulationConfig::default`] is the spec's default
//! demo: 8 miners of which 3 adversarial, 3 validators, 10 epochs, digits.

use hyphae_ml::compress::CompressionConfig;
use serde::{Deserialize, Serialize};

use crate::error::TrainingError;
use crate::role::Role;

/// A validator and its stake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSpec {
    /// `Validator`, `LazyValidator` or `CabalValidator`.
    pub role: Role,
    /// Alpha stake, in rao.
    pub stake_rao: u64,
}

/// The inner optimizer (miners' and the central baseline's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// Plain SGD.
    Sgd,
    /// Adam.
    Adam,
}

/// A miner's inner loop (DiLoCo's H local steps).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalTraining {
    /// Optimizer steps per round (H).
    pub inner_steps: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// Its learning rate.
    pub learning_rate: f64,
}

impl LocalTraining {
    /// The optimizer as `hyphae-ml` takes it.
    #[must_use]
    pub fn optimizer_config(&self) -> hyphae_ml::train::OptimizerConfig {
        use hyphae_ml::train::OptimizerConfig;
        match self.optimizer {
            Optimizer::Sgd => OptimizerConfig::Sgd {
                learning_rate: self.learning_rate,
            },
            Optimizer::Adam => OptimizerConfig::Adam {
                learning_rate: self.learning_rate,
            },
        }
    }
}

/// How validators score updates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoringConfig {
    /// η in loss(θ) − loss(θ − η·Δ).
    pub eval_step: f32,
    /// Weight of the newest improvement in the score's moving average.
    pub score_ema: f64,
    /// An update whose norm exceeds this multiple of the round's median norm is rejected.
    pub norm_ratio_max: f64,
    /// Top-k index overlap at or above which two updates may be copies.
    pub copy_overlap_min: f64,
    /// Cosine similarity at or above which two overlapping updates are copies.
    pub copy_cosine_min: f64,
    /// An update whose cosine with the sum of the round's others is below this is rejected.
    pub direction_cosine_min: f64,
}

/// Everything a simulation run needs; with the same config it produces the same report
/// (apart from wall times).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationConfig {
    /// Seeds the data split, the shards, the model and every random choice.
    pub seed: u64,
    /// Epochs (= rounds) to run.
    pub n_epochs: u32,
    /// Epochs at the start during which honest false positives and adversary emission are
    /// reported but not held against the targets.
    pub warm_up_epochs: u32,
    /// Validators, uids `0..V`.
    pub validators: Vec<ValidatorSpec>,
    /// Miner roles, uids `V..V+M`.
    pub miners: Vec<Role>,
    /// Fraction of the task's data held out as the public test set (accuracy, LOO).
    pub test_fraction: f64,
    /// Fraction of the remaining data given to validators as private held-out sets.
    pub validator_fraction: f64,
    /// Dirichlet concentration of the miners' non-IID label split.
    pub dirichlet_alpha: f64,
    /// The miners' inner loop.
    pub local: LocalTraining,
    /// η_outer in θ_{t+1} = θ_t − η_outer · Σ I_j · clip(Δ_j).
    pub outer_learning_rate: f32,
    /// Values per compression chunk.
    pub chunk_len: usize,
    /// Entries kept per chunk.
    pub k_per_chunk: usize,
    /// Validator scoring.
    pub scoring: ScoringConfig,
    /// Rao emitted per epoch.
    pub emission_rao: u64,
    /// Serve updates from real axons and fetch them with a real dendrite, on 127.0.0.1.
    #[serde(default)]
    pub networked: bool,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        let miners = [
            [Role::Honest; 5].as_slice(),
            &[Role::Poisoner, Role::Manipulator, Role::Copier],
        ]
        .concat();
        Self {
            seed: 1,
            n_epochs: 10,
            warm_up_epochs: 2,
            // The honest validator alone holds a majority; lazy + cabal < 50 %.
            validators: vec![
                ValidatorSpec {
                    role: Role::Validator,
                    stake_rao: 550_000_000_000,
                },
                ValidatorSpec {
                    role: Role::LazyValidator,
                    stake_rao: 150_000_000_000,
                },
                ValidatorSpec {
                    role: Role::CabalValidator,
                    stake_rao: 300_000_000_000,
                },
            ],
            miners,
            test_fraction: 0.2,
            validator_fraction: 0.15,
            dirichlet_alpha: 1.0,
            local: LocalTraining {
                inner_steps: 15,
                batch_size: 32,
                optimizer: Optimizer::Adam,
                learning_rate: 0.01,
            },
            outer_learning_rate: 2.0,
            // One chunk: a global top-120 (377 bytes, 102x smaller than dense fp32). Per-chunk
            // top-k at the same size spreads the budget evenly over the first layer and
            // measured 2-5 points less accurate after 10 rounds.
            chunk_len: 9610,
            k_per_chunk: 120,
            scoring: ScoringConfig {
                eval_step: 0.5,
                score_ema: 0.5,
                norm_ratio_max: 4.0,
                copy_overlap_min: 0.9,
                copy_cosine_min: 0.99,
                direction_cosine_min: 0.05,
            },
            emission_rao: 1_000_000_000,
            networked: false,
        }
    }
}

impl SimulationConfig {
    /// The compression settings, checked.
    pub fn compression(&self) -> Result<CompressionConfig, TrainingError> {
        let config = CompressionConfig {
            chunk_len: self.chunk_len,
            k_per_chunk: self.k_per_chunk,
        };
        config.validate().map_err(|_| TrainingError::Config {
            reason: "chunk_len must be in 1..=65536 and k_per_chunk in 1..=chunk_len",
        })?;
        Ok(config)
    }

    /// Checks the invariants the simulation relies on.
    pub fn validate(&self) -> Result<(), TrainingError> {
        let fail = |reason| Err(TrainingError::Config { reason });
        if self.n_epochs == 0 {
            return fail("n_epochs must be positive");
        }
        if self.validators.iter().any(|v| !v.role.is_validator()) {
            return fail("validators must have a validator role");
        }
        if self.miners.iter().any(|role| !role.is_miner()) {
            return fail("miners must have a miner role");
        }
        if !self.miners.contains(&Role::Honest) {
            return fail("at least one honest miner is needed");
        }
        if !self.validators.iter().any(|v| v.role == Role::Validator) {
            return fail("at least one evaluating validator is needed");
        }
        if self.local.inner_steps == 0 || self.local.batch_size == 0 {
            return fail("inner_steps and batch_size must be positive");
        }
        let stake_total: u128 = self
            .validators
            .iter()
            .map(|v| u128::from(v.stake_rao))
            .sum();
        if stake_total == 0 {
            return fail("validators need stake");
        }
        self.compression().map(|_| ())
    }

    /// Uids of the validators, then the miners: `(uid, role)` in uid order.
    pub fn uid_roles(&self) -> Result<Vec<(u16, Role)>, TrainingError> {
        self.validators
            .iter()
            .map(|v| v.role)
            .chain(self.miners.iter().copied())
            .enumerate()
            .map(|(index, role)| {
                u16::try_from(index)
                    .map(|uid| (uid, role))
                    .map_err(|_| TrainingError::Uid { index })
            })
            .collect()
    }
}
