//! Hot paths of a training round: one MLP optimiser step on the digits shape, update
//! compression, and the chain's aggregation.
//!
//! `cargo bench -p hyphae-ml --bench train_step`; compare the step figure with
//! `bench/torch_mlp.py`, which times the same MLP, batch and optimiser in PyTorch.

// Benchmarks do float arithmetic to build inputs; same reason as the library root.
#![allow(
    clippy::float_arithmetic,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]

use candle_core::Device;
use divan::Bencher;
use hyphae_ml::aggregate::{aggregate, Contribution};
use hyphae_ml::compress::{CompressionConfig, Compressor};
use hyphae_ml::rng::SeededRng;
use hyphae_ml::task::{DigitsTask, Task};
use hyphae_ml::train::{batch_tensors, OptimizerConfig, Trainer};

fn main() {
    divan::main();
}

/// The digits MLP (64-128-10), one Adam step (forward, cross-entropy, backward, update)
/// on a batch of `batch_size` rows.
#[divan::bench(args = [32, 64, 256])]
fn train_step(bencher: Bencher<'_, '_>, batch_size: usize) {
    let Ok(task) = DigitsTask::new(0.2, 7) else {
        return;
    };
    let Ok(model) = task.build_model(42, &Device::Cpu) else {
        return;
    };
    let Ok(mut trainer) = Trainer::new(
        &model,
        OptimizerConfig::Adam {
            learning_rate: 0.01,
        },
    ) else {
        return;
    };
    let rows: Vec<usize> = (0..batch_size).collect();
    let Ok((input, labels)) = batch_tensors(task.train_set(), &rows, &Device::Cpu) else {
        return;
    };
    bencher.bench_local(|| trainer.step(&input, &labels).is_ok());
}

/// Random delta of the digits MLP's size (9,610 parameters).
fn random_delta(seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..9_610).map(|_| rng.normal() as f32).collect()
}

/// Top-8 per 1024-chunk with error feedback, quantisation and encoding.
#[divan::bench]
fn compress_encode(bencher: Bencher<'_, '_>) {
    let delta = random_delta(1);
    let config = CompressionConfig {
        chunk_len: 1024,
        k_per_chunk: 8,
    };
    let Ok(mut compressor) = Compressor::new(config, delta.len()) else {
        return;
    };
    bencher.bench_local(|| {
        compressor
            .compress(&delta)
            .map(|u| u.encode().len())
            .unwrap_or(0)
    });
}

/// Median-norm clipping and the uid-ordered weighted sum over `n_miners` deltas.
#[divan::bench(args = [8, 64])]
fn aggregate_deltas(bencher: Bencher<'_, '_>, n_miners: usize) {
    let deltas: Vec<Vec<f32>> = (0..n_miners as u64).map(random_delta).collect();
    let contributions: Vec<Contribution<'_>> = deltas
        .iter()
        .enumerate()
        .map(|(uid, delta)| Contribution {
            uid: uid as u16,
            incentive: 1.0 / n_miners as f64,
            delta,
        })
        .collect();
    bencher.bench_local(|| {
        aggregate(9_610, &contributions)
            .map(|s| s.len())
            .unwrap_or(0)
    });
}
