//! A proptest "fuzz" of transaction decoding and admission: arbitrary bytes, and valid
//! transactions with bytes flipped, truncated or extended, never panic; whatever decodes is
//! either admitted or refused with a typed error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use hyphae_keys::Keypair;
use hyphae_ledger::{weights::WeightsArgs, Call, ChainSpec, State, Transaction};
use hyphae_node::{mempool::signature_valid, Mempool, MempoolConfig};
use hyphae_primitives::{NetUid, Rao};
use parity_scale_codec::Encode;
use proptest::prelude::*;
use std::sync::OnceLock;

fn fixture() -> &'static (State, Vec<Vec<u8>>) {
    static FIXTURE: OnceLock<(State, Vec<Vec<u8>>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (state, _) = ChainSpec::dev().unwrap().build().unwrap();
        let alice = Keypair::from_uri("//Alice").unwrap();
        let genesis = state.head().genesis_hash;
        let bob = Keypair::from_uri("//Bob").unwrap().account_id();
        let calls = [
            Call::Transfer {
                dest: bob,
                amount: Rao(5),
            },
            Call::SetWeights {
                netuid: NetUid(1),
                weights: WeightsArgs {
                    uids: vec![0, 1, 2],
                    values: vec![1, 2, 3],
                    version_key: 0,
                },
            },
            Call::AddStake {
                hotkey: bob,
                netuid: NetUid(1),
                amount: Rao(10),
            },
        ];
        let samples = calls
            .into_iter()
            .map(|call| Transaction::sign(&alice, &genesis, 0, Rao(1), call).encode())
            .collect();
        (state, samples)
    })
}

fn admit(bytes: &[u8]) {
    let (state, _) = fixture();
    if let Ok(tx) = Transaction::from_bytes(bytes) {
        let mut pool = Mempool::new(MempoolConfig::default());
        let _ = signature_valid(&tx, &state.head().genesis_hash);
        let _ = pool.insert(tx, state, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        admit(&bytes);
    }

    #[test]
    fn mutated_transactions_never_panic(
        sample in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
        tail in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let (_, samples) = fixture();
        let mut bytes = samples[sample].clone();
        for (at, mask) in flips {
            let len = bytes.len();
            bytes[at % len] ^= mask;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        bytes.extend(tail);
        admit(&bytes);
    }
}

#[test]
fn valid_samples_decode_and_verify() {
    let (state, samples) = fixture();
    for bytes in samples {
        let tx = Transaction::from_bytes(bytes).unwrap();
        assert!(signature_valid(&tx, &state.head().genesis_hash));
    }
}
