//! End-to-end learning on the embedded digits set: central training, and federated
//! rounds with compressed deltas and the chain's aggregation rule.

use anyhow::Context;
use candle_core::Device;
use hyphae_ml::aggregate::{aggregate, Contribution};
use hyphae_ml::codec::{hash_bytes, UpdateHash};
use hyphae_ml::compress::{CompressedUpdate, CompressionConfig, Compressor};
use hyphae_ml::params::{apply_update, delta};
use hyphae_ml::task::{DigitsTask, Task};
use hyphae_ml::train::{evaluate, train, OptimizerConfig, TrainConfig};
use hyphae_ml::Mlp;

const SPLIT_SEED: u64 = 7;
const INIT_SEED: u64 = 42;

#[test]
fn central_training_reaches_90_percent_on_digits() -> anyhow::Result<()> {
    let task = DigitsTask::new(0.2, SPLIT_SEED)?;
    let model = task.build_model(INIT_SEED, &Device::Cpu)?;
    let config = TrainConfig {
        optimizer: OptimizerConfig::Adam {
            learning_rate: 0.01,
        },
        batch_size: 64,
        steps: 300,
        seed: 1,
    };
    train(&model, task.train_set(), &config)?;
    let held_out = evaluate(&model, task.held_out_set())?;
    eprintln!("central digits: {held_out:?} after {} steps", config.steps);
    assert!(held_out.accuracy >= 0.9, "{held_out:?}");
    Ok(())
}

#[test]
fn central_training_is_reproducible() -> anyhow::Result<()> {
    let task = DigitsTask::new(0.2, SPLIT_SEED)?;
    let config = TrainConfig {
        optimizer: OptimizerConfig::Sgd { learning_rate: 0.1 },
        batch_size: 32,
        steps: 20,
        seed: 3,
    };
    let run = || -> anyhow::Result<Vec<f32>> {
        let model = task.build_model(INIT_SEED, &Device::Cpu)?;
        train(&model, task.train_set(), &config)?;
        Ok(model.params()?.into_values())
    };
    assert_eq!(run()?, run()?);
    Ok(())
}

/// Chunk 1024 with 8 kept per chunk: 9,610 parameters -> 10 chunks, 80 entries,
/// at most 13 + 10 · 5 + 80 · 4 = 383 bytes (a gap takes 1 to 3 bytes) against 38,440
/// dense fp32 bytes.
const COMPRESSION: CompressionConfig = CompressionConfig {
    chunk_len: 1024,
    k_per_chunk: 8,
};
const N_MINERS: usize = 5;

#[test]
fn federated_rounds_with_compressed_deltas_improve_the_global_model() -> anyhow::Result<()> {
    let task = DigitsTask::new(0.2, SPLIT_SEED)?;
    let shards = task.miner_shards(N_MINERS, 0.5, 11)?;
    let global = task.build_model(INIT_SEED, &Device::Cpu)?;
    let mut theta = global.params()?;
    let n_params = theta.values().len();
    let mut compressors = (0..N_MINERS)
        .map(|_| Compressor::new(COMPRESSION, n_params))
        .collect::<Result<Vec<_>, _>>()?;
    let initial = evaluate(&global, task.held_out_set())?;
    let mut accuracy_by_round = Vec::new();
    for round in 0..N_ROUNDS {
        let mut received = Vec::new();
        for (uid, (shard, compressor)) in shards.iter().zip(&mut compressors).enumerate() {
            let (bytes, committed) = miner_round(&task, &theta, shard, compressor, round)?;
            assert!(
                bytes.len() * 100 <= n_params * 4,
                "update of {} bytes is not 100x smaller",
                bytes.len()
            );
            // The validator side: check the bytes against the committed hash, then decode within bounds.
            assert_eq!(hash_bytes(&bytes), committed);
            let update = CompressedUpdate::decode(&bytes, n_params).context("decode")?;
            received.push((u16::try_from(uid)?, update.to_dense()));
        }
        let contributions: Vec<Contribution<'_>> = received
            .iter()
            .map(|(uid, d)| Contribution {
                uid: *uid,
                incentive: 1.0 / N_MINERS as f64,
                delta: d,
            })
            .collect();
        let sum = aggregate(n_params, &contributions)?;
        let mut next = theta.values().to_vec();
        apply_update(&mut next, &sum, OUTER_LR)?;
        theta = hyphae_ml::params::Params::from_flat(theta.layout().clone(), next)?;
        global.set_params(&theta)?;
        accuracy_by_round.push(evaluate(&global, task.held_out_set())?.accuracy);
    }
    eprintln!(
        "federated digits: initial {:.3}, per round {accuracy_by_round:?}",
        initial.accuracy
    );
    let first = accuracy_by_round.first().copied().unwrap_or(0.0);
    let last = accuracy_by_round.last().copied().unwrap_or(0.0);
    assert!(
        first > initial.accuracy,
        "one round did not help: {} -> {first}",
        initial.accuracy
    );
    assert!(
        last > initial.accuracy + 0.3,
        "rounds did not help enough: {} -> {last}",
        initial.accuracy
    );
    Ok(())
}

const N_ROUNDS: usize = 10;
const OUTER_LR: f32 = 1.0;

/// One miner's work in a round: H local Adam steps from θ on its shard, Δ = θ − θ_local,
/// compressed with error feedback and encoded; returns the bytes served and the hash committed.
fn miner_round(
    task: &DigitsTask,
    theta: &hyphae_ml::params::Params,
    shard: &hyphae_ml::data::Dataset,
    compressor: &mut Compressor,
    round: usize,
) -> anyhow::Result<(Vec<u8>, UpdateHash)> {
    let local = Mlp::from_params(task.model_spec(), theta, &Device::Cpu)?;
    let config = TrainConfig {
        optimizer: OptimizerConfig::Adam {
            learning_rate: 0.01,
        },
        batch_size: 32,
        steps: 20,
        seed: round as u64,
    };
    train(&local, shard, &config)?;
    let pseudo_gradient = delta(theta.values(), local.params()?.values())?;
    let update = compressor.compress(&pseudo_gradient)?;
    Ok((update.encode(), update.hash()))
}
