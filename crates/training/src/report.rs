//! The report a simulation writes (schema in `REPORT.md`), the Spearman correlation it
//! uses, and the spec's targets checked against it.

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The config's seed.
    pub seed: u64,
    /// Wall time of the whole run (setup, rounds, baseline), seconds.
    pub wall_time_s: f64,
    /// The task's name.
    pub task: String,
    /// Parameters in the model.
    pub n_params: usize,
    /// Epochs counted as warm-up (excluded from the targets).
    pub warm_up_epochs: u32,
    /// One entry per epoch, in order.
    pub epochs: Vec<EpochReport>,
    /// One entry per uid, after the last epoch.
    pub neurons: Vec<NeuronReport>,
    /// The spec's targets, evaluated on this run.
    pub targets: Targets,
}

/// One epoch (= round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: u32,
    /// Test accuracy of θ_{t+1}, the model this epoch's aggregate produced.
    pub accuracy: f64,
    /// Test accuracy of the central baseline after the same number of optimizer steps.
    pub baseline_accuracy: f64,
    /// Test loss of θ_{t+1}.
    pub loss: f64,
    /// Test loss of the central baseline.
    pub baseline_loss: f64,
    /// Adversarial miners' share of this epoch's miner emission, in [0, 1].
    pub adversary_emission_share: f64,
    /// Honest miners with zero incentive this epoch.
    pub honest_false_positives: u32,
    /// Spearman ρ between honest miners' emission and their leave-one-out contribution;
    /// `null` when undefined (fewer than two honest miners, or a constant side).
    pub spearman: Option<f64>,
    /// Spearman ρ between honest miners' leave-one-out contribution on the test set and the
    /// same contribution on the evaluating validator's own held-out set: how closely any
    /// validator that never sees the test set can rank what `spearman` ranks against
    /// (measurement only; `null` when undefined).
    #[serde(default)]
    pub loo_agreement: Option<f64>,
    /// Spearman ρ between the honest miners' leave-one-out contributions on the test set's
    /// even rows and on its odd rows: how far the test set agrees with itself on the
    /// ranking `spearman` is measured against, a ceiling for any emission (measurement
    /// only; `null` when undefined).
    #[serde(default)]
    pub loo_split_half: Option<f64>,
    /// Largest encoded update served this epoch, bytes.
    pub update_bytes: usize,
    /// The same update as dense fp32, bytes.
    pub dense_update_bytes: usize,
    /// Whether this epoch is in the warm-up.
    pub warm_up: bool,
    /// Wall time of the round (train, fetch, score, epoch, aggregate, LOO, baseline), seconds.
    pub wall_time_s: f64,
    /// BLAKE2b-256 of θ_{t+1}, as the validators committed it.
    pub model_hash: String,
    /// Per miner uid: screening verdict of its update this round.
    pub verdicts: Vec<MinerVerdict>,
}

/// A miner's outcome in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinerVerdict {
    /// The miner.
    pub uid: u16,
    /// Its role.
    pub role: Role,
    /// Screening verdict (`accepted`, `missing`, `hash_mismatch`, `malformed`, `empty`, `tiny`,
    /// `norm_outlier`, `opposed`, `duplicate`).
    pub verdict: String,
    /// Incentive, u16 proportion.
    pub incentive: u16,
    /// Emission this epoch, rao.
    pub emission_rao: u64,
    /// Leave-one-out contribution: test loss without this miner minus test loss with it.
    pub loo_contribution: f64,
}

/// One neuron, after the last epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronReport {
    /// The uid.
    pub uid: u16,
    /// SS58 address of its hotkey.
    pub hotkey: String,
    /// Its role.
    pub role: Role,
    /// Incentive in the last epoch, u16 proportion.
    pub incentive: u16,
    /// Dividends in the last epoch, u16 proportion.
    pub dividends: u16,
    /// Emission over the whole run, rao.
    pub emission_rao: u64,
}

/// The spec's targets on this run; `met` is their conjunction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// Final accuracy / final baseline accuracy (target ≥ 0.98).
    pub accuracy_ratio: f64,
    /// Largest adversary share of miner emission after the warm-up (target < 0.01).
    pub adversary_emission_share_max: f64,
    /// Honest false positives summed over the epochs after the warm-up (target 0).
    pub honest_false_positives: u32,
    /// Smallest Spearman ρ after the warm-up (target ≥ 0.8); `null` if none was defined.
    pub spearman_min: Option<f64>,
    /// Mean Spearman ρ after the warm-up; `null` if none was defined.
    pub spearman_mean: Option<f64>,
    /// Dense fp32 bytes / largest update bytes (target ≥ 100).
    pub compression_ratio: f64,
    /// All of the above met (wall time is judged by the caller, who knows the machine).
    pub met: bool,
}

impl Targets {
    /// Evaluates the targets over `epochs`.
    #[must_use]
    pub fn evaluate(epochs: &[EpochReport]) -> Self {
        let scored: Vec<&EpochReport> = epochs.iter().filter(|e| !e.warm_up).collect();
        let accuracy_ratio = epochs.last().map_or(0.0, |e| {
            if e.baseline_accuracy > 0.0 {
                e.accuracy / e.baseline_accuracy
            } else {
                0.0
            }
        });
        let adversary_emission_share_max = scored
            .iter()
            .map(|e| e.adversary_emission_share)
            .fold(0.0, f64::max);
        let honest_false_positives = scored.iter().map(|e| e.honest_false_positives).sum();
        let rhos: Vec<f64> = scored.iter().filter_map(|e| e.spearman).collect();
        let spearman_min = rhos.iter().copied().reduce(f64::min);
        let spearman_mean =
            (!rhos.is_empty()).then(|| rhos.iter().sum::<f64>() / rhos.len() as f64);
        let compression_ratio = epochs
            .iter()
            .map(|e| e.dense_update_bytes as f64 / e.update_bytes.max(1) as f64)
            .fold(f64::INFINITY, f64::min);
        let met = accuracy_ratio >= 0.98
            && adversary_emission_share_max < 0.01
            && honest_false_positives == 0
            && spearman_min.is_some_and(|rho| rho >= 0.8)
            && compression_ratio >= 100.0;
        Self {
            accuracy_ratio,
            adversary_emission_share_max,
            honest_false_positives,
            spearman_min,
            spearman_mean,
            compression_ratio,
            met,
        }
    }
}

/// Spearman's ρ: Pearson correlation of the ranks (ties get their average rank). `None`
/// for fewer than two pairs, unequal lengths, or a side with no variance.
#[must_use]
pub fn spearman(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 2 {
        return None;
    }
    pearson(&ranks(xs), &ranks(ys))
}

/// Average ranks, 1-based.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the mean of ranks start+1..=end.
        let rank = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    ranks
}

fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let (mean_x, mean_y) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let (mut cov, mut var_x, mut var_y) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        cov += (x - mean_x) * (y - mean_y);
        var_x += (x - mean_x) * (x - mean_x);
        var_y += (y - mean_y) * (y - mean_y);
    }
    (var_x > 0.0 && var_y > 0.0).then(|| cov / (var_x * var_y).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_handles_order_ties_and_degenerate_input() {
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-12);
        assert!(close(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), 1.0));
        assert!(close(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0));
        assert!(close(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]),
            0.8
        ));
        assert_eq!(ranks(&[5.0, 1.0, 5.0]), vec![2.5, 1.0, 2.5]);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }
}
