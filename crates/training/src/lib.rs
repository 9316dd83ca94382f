//! The training subnet: miners improve one shared model with data that never leaves them,
//! validators measure each contribution on their own private data, Yuma Consensus turns
//! the measurements into incentive, and the chain-decided aggregate of the paid
//! contributions becomes the next global model.
//!
//! - [`miner`]: H local steps on a private shard, Δ = θ_t − θ_local, top-k + 8-bit
//!   compression with error feedback, commit the hash, serve the bytes;
//! - [`adversary`]: free-rider, poisoner (label flip), manipulator (sign flip / scale),
//!   copier (same or previous round);
//! - [`validator`]: hash check, norm sanity check, copy detection by commit order, score =
//!   EMA of the positive loss improvement on private held-out data, weights ∝ scores; the
//!   lazy and cabal validators live there too;
//! - [`chain`]: the narrow [`chain::Chain`] trait the subnet needs (commit hashes, read
//!   commitments, set weights, run the epoch, read incentive) and [`chain::InProcessChain`]
//!   over [`hyphae_yuma::epoch`]. An RPC-backed implementation replaces it when the node
//!   lands; nothing else changes;
//! - [`simulation`]: the whole subnet in one process for N epochs, producing a
//!   [`report::Report`] (schema in `REPORT.md`).
//!
//! - [`network`]: the networked path — each miner's real `Axon` on 127.0.0.1 serves a
//!   `GetUpdate{round}` synapse and validators fetch with a real `Dendrite`; used when
//!   [`config::SimulationConfig::networked`] is set.
//!
//! This crate is not the chain and never reaches into it; it is not the ML stack either
//! (that is `hyphae-ml`, which owns deltas, compression, the codec and aggregation).
//!
//! # Example
//!
//! ```no_run
//! use hyphae_training::config::SimulationConfig;
//!
//! # fn main() -> Result<(), hyphae_training::TrainingError> {
//! let report = hyphae_training::simulation::run(&SimulationConfig { n_epochs: 3, ..SimulationConfig::default() })?;
//! assert_eq!(report.epochs.len(), 3);
//! println!("{}", report.epochs[2].accuracy);
//! # Ok(())
//! # }
//! ```

// Like hyphae-ml, this crate is numeric: scores, losses, correlations and shares are
// floats by nature, and the simulation indexes and counts throughout. Determinism comes
// from seeds and fixed (uid, commit) orders, not from avoiding floats. unwrap/expect/panic
// stay denied.
#![allow(
    clippy::float_arithmetic,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]

pub mod adversary;
pub mod chain;
pub mod chain_rpc;
pub mod config;
mod error;
pub mod live;
pub mod miner;
pub mod network;
pub mod report;
pub mod role;
pub mod simulation;
pub mod validator;

pub use error::TrainingError;
pub use simulation::run;
