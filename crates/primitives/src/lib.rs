//! Primitive types shared by every hyphae crate: ids, amounts, account ids and hashes.
//!
//! This crate is pure: no I/O, no async, no floats. Every amount is [`Rao`] with checked
//! arithmetic, every id is a newtype, and every parse failure is a typed error.
//!
//! ```
//! use hyphae_primitives::{AccountId, Rao};
//!
//! let amount: Rao = "1.5".parse().unwrap();
//! assert_eq!(amount.as_u64(), 1_500_000_000);
//! assert_eq!(amount.to_string(), "1.500000000");
//!
//! let alice: AccountId = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".parse().unwrap();
//! assert_eq!(alice.to_ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
//! ```

mod account;
mod amount;
mod hash;
mod ids;
mod tx_error;

pub use account::{AccountId, Ss58Error, SS58_FORMAT};
pub use amount::{ParseRaoError, Rao, RAO_PER_TAO, TAO_DECIMALS};
pub use hash::{Hash, ParseHashError};
pub use ids::{BlockNumber, NetUid, Uid};
pub use tx_error::TxError;
