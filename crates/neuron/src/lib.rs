//! The neuron SDK: what miners and validators use to talk to each other, wire-compatible with the
//! Bittensor Python SDK (bittensor 10.5.0).
//!
//! Today it holds the synapse body hash and the Python-repr formatter it needs; the axon, dendrite,
//! metagraph and neuron runtime land with the neuron-SDK issue.
//!
//! ```
//! use hyphae_neuron::{body_hash::body_hash, pyrepr::PyValue};
//!
//! let fields = [PyValue::Int(6), PyValue::Int(7), PyValue::Int(-5)];
//! assert_eq!(
//!     body_hash(&fields),
//!     "4fe11401d642ebf1a50cea9fd3816718122f80c87d3257d17e2896e40942645e"
//! );
//! ```

pub mod body_hash;
pub mod pyrepr;
