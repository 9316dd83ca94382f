//! The BFT engine adapter: the only crate that names commonware.
//!
//! **Is:** a mapping of commonware `simplex` (BFT agreement on digests) and `marshal` (ordered
//! delivery of whole blocks, relay and backfill) onto ledger blocks: proposers build a block from
//! the node's mempool on the parent's state, verifiers execute it on the parent's state and vote
//! only if the state root it commits to is the one they computed, and finalized blocks are handed
//! to the node in height order to commit. **Is not:** the mempool, the store or the RPC (those are
//! the node's, behind [`Host`]), or economics.
//!
//! [`engine::run`] is generic over runtime and network; [`validator::Validator`] runs it on a
//! dedicated thread with commonware's tokio runtime and authenticated TCP p2p.

pub mod app;
pub mod block;
pub mod engine;
pub mod host;
pub mod keys;
pub mod validator;

pub use app::BuildParams;
pub use host::{Finalized, Host, HostError};
pub use keys::{KeyError, ValidatorKey};
pub use validator::{Validator, ValidatorConfig};

/// Deliberate misbehaviour of a proposer, for fault tests. Honest nodes use [`Fault::None`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Honest.
    #[default]
    None,
    /// Proposes blocks whose header commits to a wrong state root.
    BadStateRoot,
    /// Proposes blocks holding a transaction that cannot be applied.
    BadTransaction,
}

/// A validator's consensus public key (ed25519).
pub use commonware_cryptography::ed25519::PublicKey;
pub use engine::Timeouts;
