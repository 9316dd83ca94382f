//! `epoch` at n = 256, 1024 and 4096 neurons with 256 validators setting full weight rows.
//!
//! Each bench times the *second* epoch of a subnet, so the bonds the first one wrote exist.
//! Run with `cargo bench -p hyphae-yuma`. Divan's allocation profiler counts the heap
//! allocations of each epoch on the calling thread (not those of rayon's workers): a fixed
//! few dozen plus one per stored bond row (the output), none per entry.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use divan::{black_box, Bencher};
use hyphae_yuma::epoch;

#[path = "support/subnet.rs"]
mod subnet;
use subnet::{second_epoch_input, Mode};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [256, 1024, 4096];

fn run(bencher: Bencher, n: usize, mode: Mode) {
    let input = second_epoch_input(n, mode);
    bencher.bench(|| epoch(black_box(&input)).unwrap());
}

#[divan::bench(args = SIZES, sample_count = 20)]
fn classic(bencher: Bencher, n: usize) {
    run(bencher, n, Mode::Classic);
}

#[divan::bench(args = SIZES, sample_count = 20)]
fn yuma3(bencher: Bencher, n: usize) {
    run(bencher, n, Mode::Yuma3);
}

#[divan::bench(args = SIZES, sample_count = 20)]
fn yuma3_liquid_alpha(bencher: Bencher, n: usize) {
    run(bencher, n, Mode::Yuma3LiquidAlpha);
}
