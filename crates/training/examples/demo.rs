//! The training subnet's default demo: runs a simulation and writes its JSON report.
//!
//! `cargo run --release -p hyphae-training --example demo -- --seed 1 --report out.json
//! [--epochs 10] [--miners honest,...,copier] [--networked] [--steps H] [--lr L] [--lr-decay D] [--sgd]
//! [--adam] [--outer-lr E] [--chunk C] [--k K] [--compression R] [--alpha A] [--eval-step S]
//! [--ema B] [--direction D] [--score alone|marginal] [--validator-fraction F] [--test-fraction T]
//! [--fashion-mnist DIR]`

// Reporting arithmetic on floats; same reason as the library root.
#![allow(clippy::float_arithmetic)]

use anyhow::{bail, Context};
use hyphae_training::config::{Optimizer, ScoreMethod, SimulationConfig, TaskSpec};
use hyphae_training::role::Role;

fn main() -> anyhow::Result<()> {
    let mut config = SimulationConfig::default();
    let mut report_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => config.seed = value()?.parse().context("--seed")?,
            "--epochs" => config.n_epochs = value()?.parse().context("--epochs")?,
            "--report" => report_path = Some(value()?),
            "--miners" => {
                config.miners = value()?
                    .split(',')
                    .map(str::parse::<Role>)
                    .collect::<Result<_, _>>()?;
            }
            "--networked" => config.networked = true,
            "--fashion-mnist" => {
                config.task = TaskSpec::FashionMnist {
                    dir: value()?.into(),
                };
            }
            "--steps" => config.local.inner_steps = value()?.parse().context("--steps")?,
            "--lr" => config.local.learning_rate = value()?.parse().context("--lr")?,
            "--lr-decay" => {
                config.local.learning_rate_decay = value()?.parse().context("--lr-decay")?;
            }
            "--sgd" => config.local.optimizer = Optimizer::Sgd,
            "--adam" => config.local.optimizer = Optimizer::Adam,
            "--compression" => {
                config.compression_ratio_min = value()?.parse().context("--compression")?;
            }
            "--score" => {
                config.scoring.method = match value()?.as_str() {
                    "alone" => ScoreMethod::Alone,
                    "marginal" => ScoreMethod::Marginal,
                    other => bail!("--score is alone or marginal, not {other}"),
                };
            }
            "--validator-fraction" => {
                config.validator_fraction = value()?.parse().context("--validator-fraction")?;
            }
            "--test-fraction" => {
                config.test_fraction = value()?.parse().context("--test-fraction")?;
            }
            "--outer-lr" => config.outer_learning_rate = value()?.parse().context("--outer-lr")?,
            "--chunk" => config.chunk_len = value()?.parse().context("--chunk")?,
            "--k" => config.k_per_chunk = value()?.parse().context("--k")?,
            "--alpha" => config.dirichlet_alpha = value()?.parse().context("--alpha")?,
            "--eval-step" => config.scoring.eval_step = value()?.parse().context("--eval-step")?,
            "--direction" => {
                config.scoring.direction_cosine_min = value()?.parse().context("--direction")?;
            }
            "--ema" => config.scoring.score_ema = value()?.parse().context("--ema")?,
            other => bail!("unknown flag {other}"),
        }
    }
    let report = hyphae_training::run(&config)?;
    for e in &report.epochs {
        println!(
            "epoch {:>2}: acc {:.3} (baseline {:.3}) adv share {:.4} fp {} rho {} (loo agreement {}, split-half {}) bytes {}/{} {:.2}s",
            e.epoch,
            e.accuracy,
            e.baseline_accuracy,
            e.adversary_emission_share,
            e.honest_false_positives,
            e.spearman.map_or("-".to_owned(), |r| format!("{r:.2}")),
            e.loo_agreement.map_or("-".to_owned(), |r| format!("{r:.2}")),
            e.loo_split_half.map_or("-".to_owned(), |r| format!("{r:.2}")),
            e.update_bytes,
            e.dense_update_bytes,
            e.wall_time_s,
        );
    }
    println!("targets: {}", serde_json::to_string(&report.targets)?);
    println!("wall time {:.1}s", report.wall_time_s);
    if let Some(path) = report_path {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
