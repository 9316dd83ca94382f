//! Federated rounds on the digits task versus a central baseline with the same number
//! of optimiser steps, printing held-out accuracy and bytes per update.
//!
//! `cargo run --release -p hyphae-ml --example federated_digits -- [rounds] [miners] [inner_steps] [chunk_len] [k_per_chunk] [outer_lr_percent]`

// Example code doing float arithmetic for reporting; same reason as the library root.
#![allow(
    clippy::float_arithmetic,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing
)]

use anyhow::Context;
use candle_core::Device;
use hyphae_ml::aggregate::{aggregate, Contribution};
use hyphae_ml::compress::{CompressedUpdate, CompressionConfig, Compressor};
use hyphae_ml::data::Dataset;
use hyphae_ml::params::{apply_update, delta, Params};
use hyphae_ml::task::{DigitsTask, Task};
use hyphae_ml::train::{evaluate, train, OptimizerConfig, TrainConfig};
use hyphae_ml::Mlp;

const INNER: OptimizerConfig = OptimizerConfig::Adam {
    learning_rate: 0.01,
};
const BATCH: usize = 32;

fn arg(idx: usize, default: usize) -> anyhow::Result<usize> {
    std::env::args().nth(idx).map_or(Ok(default), |a| {
        a.parse().context("arguments are whole numbers")
    })
}

fn main() -> anyhow::Result<()> {
    let (n_rounds, n_miners, inner_steps) = (arg(1, 30)?, arg(2, 5)?, arg(3, 20)?);
    let compression = CompressionConfig {
        chunk_len: arg(4, 1024)?,
        k_per_chunk: arg(5, 8)?,
    };
    let outer_lr = arg(6, 100)? as f32 / 100.0;
    let task = DigitsTask::new(0.2, 7)?;
    let shards = task.miner_shards(n_miners, 0.5, 11)?;
    let global = task.build_model(42, &Device::Cpu)?;
    let mut theta = global.params()?;
    let n_params = theta.values().len();
    let mut compressors = (0..n_miners)
        .map(|_| Compressor::new(compression, n_params))
        .collect::<Result<Vec<_>, _>>()?;
    let start = std::time::Instant::now();
    let mut update_bytes = 0;
    for round in 0..n_rounds {
        let mut received = Vec::new();
        for (uid, (shard, compressor)) in shards.iter().zip(&mut compressors).enumerate() {
            let bytes = miner_round(&task, &theta, shard, compressor, inner_steps, round as u64)?;
            update_bytes = bytes.len();
            received.push((
                u16::try_from(uid)?,
                CompressedUpdate::decode(&bytes, n_params)?.to_dense(),
            ));
        }
        let incentive = 1.0 / n_miners as f64;
        let contributions: Vec<_> = received
            .iter()
            .map(|(uid, d)| Contribution {
                uid: *uid,
                incentive,
                delta: d,
            })
            .collect();
        let mut next = theta.values().to_vec();
        apply_update(&mut next, &aggregate(n_params, &contributions)?, outer_lr)?;
        theta = Params::from_flat(theta.layout().clone(), next)?;
        global.set_params(&theta)?;
        let eval = evaluate(&global, task.held_out_set())?;
        println!(
            "round {round:>3}: held-out accuracy {:.3}, loss {:.3}",
            eval.accuracy, eval.loss
        );
    }
    let elapsed = start.elapsed();
    let central = task.build_model(42, &Device::Cpu)?;
    let central_steps = n_rounds * inner_steps;
    train(
        &central,
        task.train_set(),
        &TrainConfig {
            optimizer: INNER,
            batch_size: BATCH,
            steps: central_steps,
            seed: 0,
        },
    )?;
    println!(
        "central baseline ({central_steps} steps): {:.3}",
        evaluate(&central, task.held_out_set())?.accuracy
    );
    println!(
        "update: {update_bytes} bytes vs {} dense fp32 ({:.0}x); {n_rounds} rounds in {elapsed:?}",
        n_params * 4,
        (n_params * 4) as f64 / update_bytes as f64
    );
    Ok(())
}

fn miner_round(
    task: &DigitsTask,
    theta: &Params,
    shard: &Dataset,
    compressor: &mut Compressor,
    steps: usize,
    seed: u64,
) -> anyhow::Result<Vec<u8>> {
    let local = Mlp::from_params(task.model_spec(), theta, &Device::Cpu)?;
    train(
        &local,
        shard,
        &TrainConfig {
            optimizer: INNER,
            batch_size: BATCH,
            steps,
            seed,
        },
    )?;
    Ok(compressor
        .compress(&delta(theta.values(), local.params()?.values())?)?
        .encode())
}
