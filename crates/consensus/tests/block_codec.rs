//! The engine's view of a ledger block: codec round trip, canonical encoding, digest = header
//! hash, and validator key files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use commonware_codec::{DecodeExt, Encode};
use commonware_consensus::{Block as _, Heightable as _};
use commonware_cryptography::Digestible as _;
use hyphae_consensus::{
    block::{digest_of, hash_of, ChainBlock},
    keys::parse_public,
    ValidatorKey,
};
use hyphae_keys::Keypair;
use hyphae_ledger::{build_block, Call, ChainSpec, Transaction};
use hyphae_primitives::{AccountId, Rao};

fn sample() -> ChainBlock {
    let (mut state, genesis) = ChainSpec::dev().unwrap().build().unwrap();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap().account_id();
    let tx = Transaction::sign(
        &alice,
        &genesis.hash(),
        0,
        Rao(0),
        Call::Transfer {
            dest: bob,
            amount: Rao(5),
        },
    );
    let built = build_block(&mut state, vec![tx], 1_000, AccountId::default());
    assert_eq!(built.block.transactions.len(), 1);
    ChainBlock::new(built.block)
}

#[test]
fn round_trip_and_identity() {
    let block = sample();
    let bytes = block.encode();
    let decoded = ChainBlock::decode(bytes.to_vec()).unwrap();
    assert_eq!(decoded, block);
    assert_eq!(block.digest(), digest_of(block.block.header.hash()));
    assert_eq!(hash_of(&block.digest()), block.block.header.hash());
    assert_eq!(block.parent(), digest_of(block.block.header.parent_hash));
    assert_eq!(block.height().get(), 1);
}

#[test]
fn rejects_truncated_trailing_and_oversized() {
    let bytes = sample().encode().to_vec();
    assert!(ChainBlock::decode(bytes[..bytes.len() - 1].to_vec()).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(ChainBlock::decode(longer).is_err());
    // A length prefix past the bound is refused before any allocation.
    let oversized = vec![0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(ChainBlock::decode(oversized).is_err());
}

#[test]
fn a_body_its_header_does_not_commit_to_does_not_decode() {
    let genuine = sample();
    let mut tampered = genuine.clone();
    tampered.block.transactions.clear();
    // Same header, so same digest: decoding is where the swap must be caught.
    assert_eq!(tampered.digest(), genuine.digest());
    assert!(ChainBlock::decode(tampered.encode().to_vec()).is_err());
    assert!(ChainBlock::decode(genuine.encode().to_vec()).is_ok());
}

#[test]
fn key_files_round_trip_and_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    let key = ValidatorKey::generate();
    key.write(&path).unwrap();
    let read = ValidatorKey::read(&path).unwrap();
    assert_eq!(read.public(), key.public());
    assert_eq!(parse_public(&key.public_hex()).unwrap(), key.public());
    assert_ne!(ValidatorKey::generate().public(), key.public());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "{}").unwrap();
    assert!(ValidatorKey::read(&path).is_err());
}
