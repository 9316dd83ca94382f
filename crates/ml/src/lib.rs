//! Machine learning for the hyphae training subnet: tasks and data, an MLP on candle,
//! training and evaluation, and the protocol layer that miners and validators share —
//! flat parameter deltas, top-k + 8-bit compression with error feedback, a versioned wire
//! codec with a BLAKE2b-256 content hash, and median-norm-clipped aggregation.
//!
//! This crate is not the chain: it never depends on the ledger, and it knows uids only as
//! plain `u16`s handed in by the caller.
//!
//! The protocol layer ([`params`], [`compress`], [`codec`], [`aggregate`]) is plain Rust over
//! `&[f32]` with a fixed iteration order, so any node given the same inputs computes the
//! same bits; candle is used only to train and evaluate.
//!
//! # Example: one federated round on the digits task
//!
//! ```
//! use hyphae_ml::aggregate::{aggregate, Contribution};
//! use hyphae_ml::compress::{CompressedUpdate, CompressionConfig, Compressor};
//! use hyphae_ml::params::{apply_update, delta};
//! use hyphae_ml::task::{DigitsTask, Task};
//! use hyphae_ml::train::{train, OptimizerConfig, TrainConfig};
//! use hyphae_ml::Mlp;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = hyphae_ml::default_device()?;
//! let task = DigitsTask::new(0.2, 7)?;
//! let global = task.build_model(42, &device)?;
//! let theta = global.params()?;
//!
//! // A miner trains locally, forms Δ = θ − θ_local, compresses and encodes it.
//! let shard = &task.miner_shards(2, 0.5, 3)?[0];
//! let local = Mlp::from_params(task.model_spec(), &theta, &device)?;
//! let config = TrainConfig { optimizer: OptimizerConfig::Adam { learning_rate: 0.01 }, batch_size: 32, steps: 20, seed: 1 };
//! train(&local, shard, &config)?;
//! let pseudo_gradient = delta(theta.values(), local.params()?.values())?;
//! let mut compressor = Compressor::new(CompressionConfig { chunk_len: 1024, k_per_chunk: 8 }, theta.values().len())?;
//! let bytes = compressor.compress(&pseudo_gradient)?.encode();
//! assert!(bytes.len() * 100 < theta.values().len() * 4);
//!
//! // Anyone holding the bytes and the incentive computes the same next model.
//! let received = CompressedUpdate::decode(&bytes, theta.values().len())?.to_dense();
//! let sum = aggregate(received.len(), &[Contribution { uid: 0, incentive: 1.0, delta: &received }])?;
//! let mut next = theta.values().to_vec();
//! apply_update(&mut next, &sum, 1.0)?;
//! # Ok(())
//! # }
//! ```

// This crate is numeric: floats are the point of ML, and tensor/chunk code indexes and
// does arithmetic everywhere. Determinism comes from seeded RNGs and a fixed iteration
// order (uid order, index order, f64 accumulation), not from avoiding floats. Indexing is
// guarded by lengths validated at each API boundary. unwrap/expect/panic stay denied.
#![allow(
    clippy::float_arithmetic,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]

pub mod aggregate;
pub mod codec;
pub mod compress;
pub mod data;
pub mod model;
pub mod params;
pub mod rng;
pub mod task;
pub mod train;

pub use model::{default_device, Mlp, MlpSpec, ModelError};
