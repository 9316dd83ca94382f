//! sr25519 keys, BIP39 mnemonics, Bittensor keyfiles and the on-disk wallet layout.
//!
//! Keys are derived exactly as Substrate and bittensor-wallet derive them, so a mnemonic,
//! a `//Alice` URI or a wallet directory gives the same addresses here as in `btcli`:
//!
//! * [`Keypair`]: from a mnemonic, a secret URI, a 32-byte seed or 64 secret-key bytes; signs
//!   in the `"substrate"` context. [`verify`] checks a [`Signature`].
//! * [`keyfile`]: the keyfile JSON ([`keyfile::KeyfileData`]) and its `$NACL` encryption.
//! * [`wallet`]: `<root>/<wallet>/{coldkey, coldkeypub.txt, hotkeys/<hotkey>}`.
//!
//! This crate is not a chain client and holds no state beyond the files it is asked to touch.
//! Secrets are zeroized on drop and never appear in `Debug` output or errors.
//!
//! ```
//! use hyphae_keys::{verify, Keypair};
//!
//! let alice = Keypair::from_uri("//Alice").unwrap();
//! assert_eq!(alice.account_id().to_ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
//! let signature = alice.sign(b"hello");
//! assert!(verify(&alice.account_id(), b"hello", &signature));
//! assert!(!verify(&alice.account_id(), b"hullo", &signature));
//! ```

mod error;
pub mod keyfile;
mod keypair;
mod mnemonic;
mod signature;
mod uri;
pub mod wallet;

pub use error::KeyError;
pub use keypair::{Keypair, SECRET_KEY_LEN};
pub use mnemonic::{Mnemonic, WORD_COUNTS};
pub use signature::{verify, Signature, SIGNATURE_LEN, SIGNING_CONTEXT};
pub use uri::DEV_PHRASE;
pub use wallet::{list_wallets, Wallet};
