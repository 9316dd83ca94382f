//! Block-apply benchmarks: `cargo bench -p hyphae-ledger --bench block`.

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use divan::{counter::ItemsCount, Bencher};
use hyphae_keys::Keypair;
use hyphae_ledger::{
    apply_block, build_block,
    genesis::{GenesisAccount, GenesisNeuron, GenesisSubnet},
    subnets::SubnetParams,
    weights::WeightsArgs,
    Block, Call, ChainSpec, State, Transaction,
};
use hyphae_primitives::{AccountId, NetUid, Rao, RAO_PER_TAO};

fn main() {
    divan::main();
}

fn keypair(seed: u32) -> Keypair {
    let mut bytes = [0u8; 32];
    bytes[..4].copy_from_slice(&seed.to_le_bytes());
    Keypair::from_mini_secret(bytes)
}

fn spec(accounts: &[AccountId], subnet: GenesisSubnet) -> ChainSpec {
    let root = keypair(u32::MAX).account_id();
    ChainSpec {
        name: "bench".into(),
        timestamp_ms: 0,
        root_key: root,
        accounts: accounts
            .iter()
            .map(|&address| GenesisAccount {
                address,
                balance: Rao(1_000_000 * RAO_PER_TAO),
            })
            .collect(),
        subnets: vec![subnet],
        validators: Vec::new(),
    }
}

fn subnet(params: SubnetParams, neurons: Vec<GenesisNeuron>) -> GenesisSubnet {
    let owner = keypair(u32::MAX - 1).account_id();
    GenesisSubnet {
        owner_coldkey: owner,
        owner_hotkey: owner,
        start_emission: true,
        params,
        neurons,
    }
}

/// A block built on `state` (which it advances), to be applied to a copy of the pre-state.
fn built(state: &mut State, txs: Vec<Transaction>) -> Block {
    let block = build_block(state, txs, 1, AccountId::default());
    assert!(block.rejected.is_empty(), "{:?}", block.rejected.first());
    block.block
}

/// 5,000 transfers from 100 senders (50 sequential nonces each).
#[divan::bench(sample_count = 10)]
fn transfers_5000(bencher: Bencher) {
    let senders: Vec<Keypair> = (0..100).map(keypair).collect();
    let ids: Vec<AccountId> = senders.iter().map(Keypair::account_id).collect();
    let (genesis, _) = spec(&ids, subnet(SubnetParams::default(), Vec::new()))
        .build()
        .unwrap();
    let hash = genesis.head().genesis_hash;
    let ids = &ids;
    let txs: Vec<Transaction> = (0..50u64)
        .flat_map(|nonce| {
            senders.iter().enumerate().map(move |(i, sender)| {
                let dest = ids[(i + 1) % ids.len()];
                Transaction::sign(
                    sender,
                    &hash,
                    nonce,
                    Rao::ZERO,
                    Call::Transfer {
                        dest,
                        amount: Rao(1_000),
                    },
                )
            })
        })
        .collect();
    let block = built(&mut genesis.clone(), txs);
    bencher
        .counter(ItemsCount::new(block.transactions.len()))
        .with_inputs(|| genesis.clone())
        .bench_local_values(|mut state| apply_block(&mut state, &block).unwrap());
}

fn neurons(n: u32, stake: Rao) -> Vec<GenesisNeuron> {
    (0..n)
        .map(|i| {
            let hot = keypair(1_000_000 + i).account_id();
            GenesisNeuron {
                hotkey: hot,
                coldkey: hot,
                stake,
            }
        })
        .collect()
}

/// Advances `state` with empty blocks until the subnet's first epoch has run (permits exist).
fn through_first_epoch(state: &mut State) {
    while state.subnet(NetUid(1)).unwrap().epoch_index == 0 {
        built(state, Vec::new());
    }
}

fn funded(hotkeys: &[Keypair], state: &mut State, funder: &Keypair) {
    let hash = state.head().genesis_hash;
    let txs = hotkeys
        .iter()
        .enumerate()
        .map(|(nonce, hot)| {
            let call = Call::Transfer {
                dest: hot.account_id(),
                amount: Rao(100 * RAO_PER_TAO),
            };
            Transaction::sign(funder, &hash, nonce as u64, Rao::ZERO, call)
        })
        .collect();
    built(state, txs);
}

fn weights_txs(state: &State, validators: &[Keypair], n: u16) -> Vec<Transaction> {
    let uids: Vec<u16> = (0..n).collect();
    let values: Vec<u16> = (0..n).map(|i| i.wrapping_mul(7919) | 1).collect();
    validators
        .iter()
        .map(|hot| {
            let weights = WeightsArgs {
                uids: uids.clone(),
                values: values.clone(),
                version_key: 0,
            };
            let nonce = state.nonce(&hot.account_id());
            Transaction::sign(
                hot,
                &state.head().genesis_hash,
                nonce,
                Rao::ZERO,
                Call::SetWeights {
                    netuid: NetUid(1),
                    weights,
                },
            )
        })
        .collect()
}

/// 256 validators each setting 256 weights in one block.
#[divan::bench(sample_count = 10)]
fn set_weights_256x256(bencher: Bencher) {
    let funder = keypair(0);
    let params = SubnetParams {
        tempo: 5,
        commit_reveal: false,
        weights_set_rate_limit: 0,
        max_allowed_validators: 256,
        ..SubnetParams::default()
    };
    let (mut state, _) = spec(
        &[funder.account_id()],
        subnet(params, neurons(256, Rao(RAO_PER_TAO))),
    )
    .build()
    .unwrap();
    let hotkeys: Vec<Keypair> = (0..256).map(|i| keypair(1_000_000 + i)).collect();
    funded(&hotkeys, &mut state, &funder);
    through_first_epoch(&mut state);
    let txs = weights_txs(&state, &hotkeys, 256);
    let block = built(&mut state.clone(), txs);
    bencher
        .counter(ItemsCount::new(block.transactions.len()))
        .with_inputs(|| state.clone())
        .bench_local_values(|mut state| apply_block(&mut state, &block).unwrap());
}

/// The block that runs an epoch on a 4096-uid subnet whose 64 validators weighted all 4096 uids.
#[divan::bench(sample_count = 5)]
fn epoch_block_4096(bencher: Bencher) {
    let funder = keypair(0);
    let params = SubnetParams {
        tempo: 20,
        commit_reveal: false,
        weights_set_rate_limit: 0,
        max_allowed_uids: 4096,
        ..SubnetParams::default()
    };
    let mut genesis_neurons = neurons(64, Rao(1_000 * RAO_PER_TAO));
    genesis_neurons.extend(neurons(4096, Rao::ZERO).into_iter().skip(64));
    let (mut state, _) = spec(&[funder.account_id()], subnet(params, genesis_neurons))
        .build()
        .unwrap();
    let validators: Vec<Keypair> = (0..64).map(|i| keypair(1_000_000 + i)).collect();
    funded(&validators, &mut state, &funder);
    through_first_epoch(&mut state);
    let txs = weights_txs(&state, &validators, 4096);
    built(&mut state, txs);
    // Stop one block short of the next epoch; the measured block runs it.
    while state
        .head()
        .number
        .0
        .saturating_sub(state.subnet(NetUid(1)).unwrap().last_epoch_block.0)
        < 19
    {
        built(&mut state, Vec::new());
    }
    let block = built(&mut state.clone(), Vec::new());
    bencher
        .with_inputs(|| state.clone())
        .bench_local_values(|mut state| {
            apply_block(&mut state, &block).unwrap();
            assert_eq!(state.subnet(NetUid(1)).unwrap().epoch_index, 2);
        });
}
