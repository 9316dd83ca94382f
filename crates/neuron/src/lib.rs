//! The neuron SDK: what miners and validators use to talk to each other, wire-compatible with the
//! Bittensor Python SDK (bittensor 10.5.0).
//!
//! * [`synapse`]: the [`Synapse`](synapse::Synapse) trait, [`impl_synapse!`], the full Python JSON
//!   form ([`SynapseMessage`](synapse::SynapseMessage)) and the `bt_header_*` headers;
//! * [`body_hash`] and [`pyrepr`]: `computed_body_hash`, with CPython `str()`/`repr()` rendering;
//! * [`axon`]: the server (blacklist → verify → priority → forward), with the limits it adds
//!   over Python documented there and in [`nonce`];
//! * [`dendrite`]: the client (signing, nonces, concurrent queries, Python's error mapping);
//! * [`guard`]: blacklist helpers over a metagraph-like [`NeuronDirectory`](guard::NeuronDirectory),
//!   stake-weighted rate limits and the priority admission queue.
//!
//! * [`metagraph`]: a subnet's metagraph from the node's RPC, refreshed on finalized heads; it is
//!   the [`NeuronDirectory`](guard::NeuronDirectory) that blacklists and rate limits use;
//! * [`runtime`]: [`run_miner`](runtime::run_miner) and [`run_validator`](runtime::run_validator)
//!   run a subnet's [`Miner`](runtime::Miner) or [`Validator`](runtime::Validator) against a node:
//!   registration check, `serve_axon`, metagraph sync, bounded query rounds and rate-limited
//!   weights with commit-reveal.
//!
//! A synapse, an axon serving it and a dendrite calling it:
//!
//! ```
//! use hyphae_keys::Keypair;
//! use hyphae_neuron::axon::{Axon, AxonConfig, ForwardError};
//! use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig};
//! use hyphae_neuron::synapse::{Synapse, SynapseMessage};
//! use serde::{Deserialize, Serialize};
//!
//! /// Python: `class DummyMath(bt.Synapse): a: int; b: int; c: int = 0; result: Optional[int] = None`
//! #[derive(Debug, Clone, Serialize, Deserialize, Synapse)]
//! #[synapse(hash(a, b, c))]
//! struct DummyMath {
//!     a: i64,
//!     b: i64,
//!     #[serde(default)]
//!     c: i64,
//!     result: Option<i64>,
//! }
//!
//! async fn forward(message: SynapseMessage<DummyMath>) -> Result<DummyMath, ForwardError> {
//!     let mut math = message.body;
//!     math.result = math.a.checked_mul(math.b).and_then(|p| p.checked_add(math.c));
//!     Ok(math)
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = AxonConfig { bind: "127.0.0.1:0".parse()?, ..AxonConfig::default() };
//! let axon = Axon::new(Keypair::from_uri("//Alice")?, config).attach(forward).serve().await?;
//! let target = AxonInfo {
//!     ip: "127.0.0.1".into(),
//!     port: axon.local_addr().port(),
//!     hotkey: axon.hotkey().into(),
//! };
//! let dendrite = Dendrite::new(Keypair::from_uri("//Bob")?, DendriteConfig::default())?;
//! let answer = dendrite.call(&target, DummyMath { a: 6, b: 7, c: -5, result: None }, 12.0).await;
//! assert!(answer.is_success());
//! assert_eq!(answer.body.result, Some(37));
//! axon.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The body hash alone:
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

pub mod axon;
pub mod body_hash;
pub mod dendrite;
pub mod guard;
pub mod metagraph;
pub mod nonce;
pub mod pyrepr;
pub mod runtime;
mod server;
pub mod synapse;
