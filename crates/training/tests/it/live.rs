//! The training subnet on a real node: a dev node in this process (RPC on port 0, 100 ms
//! blocks), the subnet created and run through signed transactions by `live::run`, every
//! incentive and emission in the report read from the chain's own epochs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyphae_ledger::ChainSpec;
use hyphae_node::{Node, NodeConfig};
use hyphae_training::config::{SimulationConfig, ValidatorSpec};
use hyphae_training::live::{self, LiveConfig, LiveError};
use hyphae_training::role::Role;

/// 6 miners (2 adversarial: a manipulator and a copier), an honest validator holding 70 % of
/// the stake and a cabal holding 30 %, 4 epochs (the first 2 are warm-up).
fn small_config() -> SimulationConfig {
    SimulationConfig {
        seed: 3,
        n_epochs: 4,
        validators: vec![
            ValidatorSpec {
                role: Role::Validator,
                stake_rao: 700_000_000_000,
            },
            ValidatorSpec {
                role: Role::CabalValidator,
                stake_rao: 300_000_000_000,
            },
        ],
        miners: [
            [Role::Honest; 4].as_slice(),
            &[Role::Manipulator, Role::Copier],
        ]
        .concat(),
        ..SimulationConfig::default()
    }
}

#[test]
fn the_subnet_runs_on_a_real_node_and_the_chain_pays_only_honest_miners() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let mut node_config = NodeConfig::dev(dir.path().to_owned());
    node_config.rpc_addr = "127.0.0.1:0".parse()?;
    node_config.metrics_addr = None;
    node_config.block_time = Duration::from_millis(100);
    let node = runtime.block_on(Node::start(node_config, ChainSpec::dev()?))?;
    let url = format!("http://{}", node.rpc_addr());

    let started = Instant::now();
    let config = LiveConfig::new(url.clone(), small_config());
    let mut seen = Vec::new();
    let outcome = live::run(&config, &mut |epoch| seen.push(epoch.epoch))?;
    let wall = started.elapsed();
    let report = &outcome.report;
    let summary = serde_json::to_string_pretty(&report.targets)?;
    eprintln!(
        "live run: netuid {}, {:.1} s wall, targets {summary}",
        outcome.netuid,
        wall.as_secs_f64()
    );

    assert_eq!(seen, vec![1, 2, 3, 4], "on_epoch sees every epoch in order");
    assert_eq!(report.epochs.len(), 4);
    let t = &report.targets;
    assert!(t.adversary_emission_share_max < 0.01, "{summary}");
    assert_eq!(t.honest_false_positives, 0, "{summary}");
    assert!(t.compression_ratio >= 100.0, "{summary}");
    // Every honest update came over a real socket from the axon the chain lists, and matched
    // the hash committed on chain.
    for epoch in &report.epochs {
        for verdict in epoch.verdicts.iter().filter(|v| v.role == Role::Honest) {
            assert_eq!(verdict.verdict, "accepted", "epoch {}", epoch.epoch);
        }
    }
    // The copier re-serves its victim's update in the same round on even rounds: the chain's
    // commit order (block, then position) names it the later committer.
    assert!(report
        .epochs
        .iter()
        .flat_map(|e| &e.verdicts)
        .any(|v| v.role == Role::Copier && v.verdict == "duplicate"));
    // The chain paid: honest miners earned alpha emission, the honest validator dividends.
    let honest_emission: u64 = report
        .neurons
        .iter()
        .filter(|n| n.role == Role::Honest)
        .map(|n| n.emission_rao)
        .sum();
    assert!(honest_emission > 0, "the chain emitted nothing to miners");
    assert!(report
        .neurons
        .iter()
        .any(|n| n.role == Role::Validator && n.dividends > 0));
    assert!(report
        .neurons
        .iter()
        .filter(|n| n.role.is_adversarial_miner())
        .all(|n| n.incentive == 0));

    // A set stop flag ends a run at its first wait.
    let stopped = LiveConfig {
        stop: Arc::new(AtomicBool::new(true)),
        ..LiveConfig::new(url, small_config())
    };
    assert!(stopped.stop.load(Ordering::Relaxed));
    assert!(matches!(
        live::run(&stopped, &mut |_| {}),
        Err(LiveError::Stopped)
    ));
    runtime.block_on(node.stop());
    Ok(())
}

/// The default demo (8 miners, 3 of them adversarial, 3 validators, 10 epochs) on a node with
/// `hyphae localnet`'s 500 ms blocks. Minutes in a debug build:
/// `cargo test --release -p hyphae-training --test it default_demo -- --ignored --nocapture`.
#[test]
#[ignore = "the full demo; run by hand to measure it"]
fn default_demo_on_a_real_node() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let mut node_config = NodeConfig::dev(dir.path().to_owned());
    node_config.rpc_addr = "127.0.0.1:0".parse()?;
    node_config.metrics_addr = None;
    node_config.block_time = Duration::from_millis(500);
    let node = runtime.block_on(Node::start(node_config, ChainSpec::dev()?))?;
    let config = LiveConfig::new(
        format!("http://{}", node.rpc_addr()),
        SimulationConfig::default(),
    );
    let started = Instant::now();
    let outcome = live::run(&config, &mut |e| {
        eprintln!(
            "epoch {:>2}: accuracy {:.3} (baseline {:.3}), adversaries' share {:.4}, {:.1} s",
            e.epoch, e.accuracy, e.baseline_accuracy, e.adversary_emission_share, e.wall_time_s
        );
    })?;
    eprintln!(
        "default demo: {:.1} s wall, targets {}",
        started.elapsed().as_secs_f64(),
        serde_json::to_string_pretty(&outcome.report.targets)?
    );
    let t = &outcome.report.targets;
    assert!(t.adversary_emission_share_max < 0.01);
    assert_eq!(t.honest_false_positives, 0);
    runtime.block_on(node.stop());
    Ok(())
}
