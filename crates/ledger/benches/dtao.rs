//! Dynamic-TAO benchmarks: `cargo bench -p hyphae-ledger --bench dtao`.

// Test code: a failed unwrap is a failed test, and helpers outside #[test] fns count too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use divan::Bencher;
use hyphae_ledger::{
    emission::distribute_block_emission,
    genesis::{GenesisNeuron, GenesisSubnet},
    subnets::SubnetParams,
    ChainSpec, ConstantProductPool, Pool, State,
};
use hyphae_primitives::{AccountId, BlockNumber, Rao, RAO_PER_TAO};

fn main() {
    divan::main();
}

/// `pool::swap`: one TAO → alpha swap on a 1000/1000 TAO pool.
#[divan::bench]
fn pool_swap(bencher: Bencher) {
    let pool = ConstantProductPool::new(Rao(1000 * RAO_PER_TAO), Rao(1000 * RAO_PER_TAO));
    bencher
        .with_inputs(|| pool)
        .bench_local_refs(|pool| pool.swap_tao_to_alpha(divan::black_box(Rao(RAO_PER_TAO))));
}

/// A distinct account per (subnet, neuron, role).
fn account(subnet: u8, neuron: u8, role: u8) -> AccountId {
    let mut bytes = [role; 32];
    bytes[0] = subnet;
    bytes[1] = neuron;
    AccountId(bytes)
}

/// 64 emitting subnets with 4 staked neurons each; tempo high enough that no epoch runs.
fn sixty_four_subnets() -> State {
    let subnets = (0..64u8)
        .map(|i| GenesisSubnet {
            owner_coldkey: AccountId([i; 32]),
            owner_hotkey: AccountId([i; 32]),
            start_emission: true,
            params: SubnetParams {
                tempo: u16::MAX,
                ..SubnetParams::default()
            },
            neurons: (0..4u8)
                .map(|j| GenesisNeuron {
                    hotkey: account(i, j, 7),
                    coldkey: account(i, j, 8),
                    stake: Rao(100 * RAO_PER_TAO),
                })
                .collect(),
        })
        .collect();
    let spec = ChainSpec {
        name: "bench".into(),
        timestamp_ms: 0,
        root_key: AccountId::default(),
        accounts: Vec::new(),
        subnets,
        validators: Vec::new(),
    };
    spec.build().unwrap().0
}

/// `emission::distribute_block_emission`: the per-block emission hook over 64 subnets.
#[divan::bench(sample_count = 100)]
fn emission_hook_64_subnets(bencher: Bencher) {
    let state = sixty_four_subnets();
    bencher
        .with_inputs(|| state.clone())
        .bench_local_refs(|state| distribute_block_emission(state, BlockNumber(7200)));
}

/// A whole empty block over 64 subnets (hooks + state root), for comparison.
#[divan::bench(sample_count = 20)]
fn empty_block_64_subnets(bencher: Bencher) {
    let state = sixty_four_subnets();
    let mut built_on = state.clone();
    let block =
        hyphae_ledger::build_block(&mut built_on, Vec::new(), 1, AccountId::default()).block;
    bencher
        .with_inputs(|| state.clone())
        .bench_local_refs(|state| hyphae_ledger::apply_block(state, &block).unwrap());
}
