//! One epoch of the bench's subnet (n = 4096, 256 full weight rows) for instruction counts:
//! the first epoch (building the bonds) runs first, then the *second* epoch runs inside
//! `timed`, on a one-thread rayon pool that includes the calling thread, so callgrind's
//! `--toggle-collect` sees all of its work:
//!
//! ```sh
//! cargo build --release -p hyphae-yuma --example epoch_profile
//! valgrind --tool=callgrind --toggle-collect='epoch_profile::timed' \
//!     target/release/examples/epoch_profile classic   # or yuma3, liquid
//! ```
//!
//! A second argument runs the timed epoch that many times and prints the median wall time,
//! for `perf` (`perf stat`, `perf record`) on the same work.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout
)]

use hyphae_yuma::{epoch, EpochInput, EpochOutput, NeuronInput, Params};

const N: usize = 4096;
const VALIDATORS: usize = 256;

/// The bench's deterministic hash.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = (a << 32 ^ b).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The bench's first-epoch input (`benches/epoch.rs`).
fn first_epoch_input(yuma3: bool, liquid_alpha: bool) -> EpochInput {
    let params = Params {
        tempo: 360,
        activity_cutoff_blocks: 5000,
        kappa: 32_767,
        bonds_penalty: 65_535,
        bonds_moving_average: 900_000,
        yuma3,
        liquid_alpha,
        alpha_low: 45_875,
        alpha_high: 58_982,
        alpha_sigmoid_steepness: 1000,
        max_allowed_validators: VALIDATORS as u16,
        stake_threshold: 0,
        tao_weight: 0,
        commit_reveal: false,
    };
    let neurons = (0..N)
        .map(|uid| {
            let is_validator = uid < VALIDATORS;
            let weights = if is_validator {
                (0..N as u16)
                    .map(|j| {
                        let quality = mix(u64::from(j), 1) % 40_000;
                        let noise = mix(uid as u64, u64::from(j) + 2) % 25_535;
                        (j, (quality + noise) as u16)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            NeuronInput {
                stake: if is_validator {
                    1_000_000_000 + mix(uid as u64, 0) % 1_000_000_000
                } else {
                    0
                },
                tao_stake: 0,
                commit_block: None,
                last_update: 10_000,
                registered_at: 1,
                validator_permit: is_validator,
                weights,
                bonds: Vec::new(),
            }
        })
        .collect();
    EpochInput {
        block: 10_100,
        last_epoch_block: 9_740,
        owner_uid: None,
        emission_rao: 1_000_000_000,
        params,
        neurons,
    }
}

#[inline(never)]
fn timed(input: &EpochInput) -> EpochOutput {
    epoch(input).unwrap()
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "classic".into());
    let (yuma3, liquid) = match mode.as_str() {
        "classic" => (false, false),
        "yuma3" => (true, false),
        "liquid" => (true, true),
        other => panic!("unknown mode {other}: classic, yuma3 or liquid"),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build_global()
        .unwrap();
    let mut input = first_epoch_input(yuma3, liquid);
    let first = epoch(&input).unwrap();
    for (neuron, out) in input.neurons.iter_mut().zip(&first.neurons) {
        neuron.bonds = out.bonds.clone();
        neuron.validator_permit = out.validator_permit;
    }
    input.last_epoch_block = input.block;
    input.block += 360;
    let output = timed(&input);
    let repeats: usize = std::env::args().nth(2).map_or(0, |r| r.parse().unwrap());
    if repeats > 0 {
        let mut times: Vec<std::time::Duration> = (0..repeats)
            .map(|_| {
                let start = std::time::Instant::now();
                std::hint::black_box(timed(&input));
                start.elapsed()
            })
            .collect();
        times.sort_unstable();
        println!("{mode} median of {repeats}: {:?}", times[repeats / 2]);
    }
    // A digest of everything the epoch returns, to compare builds.
    let digest = output.neurons.iter().fold(0_u64, |acc, neuron| {
        let fields = [
            u64::from(neuron.consensus),
            u64::from(neuron.incentive),
            u64::from(neuron.dividends),
            u64::from(neuron.validator_trust),
            neuron.emission,
            neuron.server_emission,
            neuron.validator_emission,
        ];
        let bonds = neuron
            .bonds
            .iter()
            .map(|&(j, b)| u64::from(j) << 16 | u64::from(b));
        fields.into_iter().chain(bonds).fold(acc, mix)
    });
    println!("{mode} digest {digest:016x}");
}
