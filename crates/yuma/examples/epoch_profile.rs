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

use hyphae_yuma::{epoch, EpochInput, EpochOutput};

#[path = "../benches/support/subnet.rs"]
mod subnet;
use subnet::{mix, second_epoch_input, Mode};

const N: usize = 4096;

#[inline(never)]
fn timed(input: &EpochInput) -> EpochOutput {
    epoch(input).unwrap()
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "classic".into());
    let subnet_mode = match mode.as_str() {
        "classic" => Mode::Classic,
        "yuma3" => Mode::Yuma3,
        "liquid" => Mode::Yuma3LiquidAlpha,
        other => panic!("unknown mode {other}: classic, yuma3 or liquid"),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build_global()
        .unwrap();
    let input = second_epoch_input(N, subnet_mode);
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
