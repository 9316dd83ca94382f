//! The crate's error type: one enum, each variant carrying where it came from.

use crate::chain::ChainError;

/// Why a simulation, a miner or a validator step failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    /// The configuration is inconsistent; `reason` says how.
    #[error("invalid simulation config: {reason}")]
    Config { reason: &'static str },
    /// The task's data could not be loaded or split.
    #[error(transparent)]
    Task(#[from] hyphae_ml::task::TaskError),
    /// Data could not be selected or sharded.
    #[error(transparent)]
    Data(#[from] hyphae_ml::data::DataError),
    /// Training, evaluation or a model conversion failed.
    #[error(transparent)]
    Model(#[from] hyphae_ml::ModelError),
    /// Flat parameters did not line up.
    #[error(transparent)]
    Params(#[from] hyphae_ml::params::ParamsError),
    /// A Δ could not be compressed.
    #[error(transparent)]
    Compress(#[from] hyphae_ml::compress::CompressError),
    /// The aggregate could not be formed.
    #[error(transparent)]
    Aggregate(#[from] hyphae_ml::aggregate::AggregateError),
    /// A neuron key could not be derived.
    #[error(transparent)]
    Key(#[from] hyphae_keys::KeyError),
    /// The chain refused or failed a call.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The networked path could not start.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// A uid does not fit in `u16`.
    #[error("neuron index {index} does not fit a u16 uid")]
    Uid { index: usize },
}
