//! The validator: fetch each committed Δ, check it against its commitment, screen it (norm,
//! copies), score it by the loss improvement on the validator's own private held-out data,
//! and set weights ∝ the scores.
//!
//! # Screening, in order
//!
//! 1. No commitment, or no answer: [`Verdict::Missing`].
//! 2. The served bytes do not hash to the commitment: [`Verdict::HashMismatch`].
//! 3. The bytes do not decode: [`Verdict::Malformed`].
//! 4. The norm is zero or below the round's median norm / `norm_ratio_max` (a free ride),
//!    or above `norm_ratio_max` × the median (a scaled or blown-up Δ): [`Verdict::Empty`],
//!    [`Verdict::Tiny`] or [`Verdict::NormOutlier`].
//! 5. The Δ nearly matches (top-k index overlap ≥ `copy_overlap_min` and cosine ≥
//!    `copy_cosine_min`) one committed earlier this round (smaller chain sequence) or any
//!    Δ of the previous round: [`Verdict::Duplicate`]. The earlier committer keeps its
//!    score; the later one earns nothing, whatever the network timing.
//! 6. Among the Δs still standing, the one whose cosine with the sum of the others (each
//!    clipped to the median norm) is lowest is peeled off as [`Verdict::Opposed`] (a sign
//!    flip or a poisoned direction), and the check repeats on the rest, while that lowest
//!    cosine is below `direction_cosine_min`. One at a time, so that a poisoner's opposite
//!    Δ does not drag weakly aligned honest Δs (non-IID shards, late in training) below the
//!    threshold with it.
//!
//! # Score
//!
//! For an accepted Δ, the improvement is measured on the private set, either alone,
//! loss(θ_t) − loss(θ_t − η·Δ), or (the default, [`ScoreMethod::Marginal`]) as its
//! leave-one-out value in the aggregate the validator expects the chain to form — the
//! same quantity the report's Spearman target ranks emission against, but on the
//! validator's own data. The score is an exponential moving average of
//! max(0, improvement). A missing or opposed Δ enters the average as 0; any other rejection
//! resets the score to 0. Weights are the scores, max-upscaled to u16.

use std::collections::BTreeMap;

use hyphae_ml::aggregate::lower_median;
use hyphae_ml::compress::CompressedUpdate;
use hyphae_ml::data::Dataset;
use hyphae_ml::params::{cosine_similarity, l2_norm};
use hyphae_ml::train::{loss_at, loss_improvement};
use hyphae_ml::Mlp;
use hyphae_yuma::{NeuronOutput, RowEntry};

use crate::chain::Commitment;
use crate::config::{ScoreMethod, ScoringConfig};
use crate::error::TrainingError;
use crate::miner::{commitment_hash, UpdateSource};
use crate::role::Role;

/// A miner's update as a validator received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The miner.
    pub uid: u16,
    /// Its commitment's position in the chain's commit order.
    pub sequence: u64,
    /// The decoded update.
    pub update: CompressedUpdate,
    /// The update, dense.
    pub dense: Vec<f32>,
    /// ‖dense‖₂.
    pub norm: f64,
}

/// What screening decided about one miner's update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Passed every check; scored by its loss improvement.
    Accepted,
    /// Not committed, or not served.
    Missing,
    /// Served bytes differ from the committed hash.
    HashMismatch,
    /// Bytes that are not a valid update.
    Malformed,
    /// All zeros.
    Empty,
    /// Norm far below the round's median: no real work behind it.
    Tiny,
    /// Norm far above the round's median.
    NormOutlier,
    /// Points against the sum of the round's other updates (a sign flip).
    Opposed,
    /// A near-copy of `of`'s update (this round, committed earlier, or the previous round).
    Duplicate { of: u16 },
}

/// Fetches every committed update and checks it against its hash; returns the decoded
/// ones and the verdicts of those that failed.
pub fn receive(
    commitments: &[Commitment],
    source: &mut dyn UpdateSource,
    round: u64,
    n_params: usize,
) -> (Vec<Received>, BTreeMap<u16, Verdict>) {
    let mut received = Vec::new();
    let mut failed = BTreeMap::new();
    for commitment in commitments {
        let uid = commitment.uid;
        match source.fetch(uid, round) {
            None => {
                failed.insert(uid, Verdict::Missing);
            }
            Some(bytes) if commitment_hash(&bytes) != commitment.hash => {
                failed.insert(uid, Verdict::HashMismatch);
            }
            Some(bytes) => match CompressedUpdate::decode(&bytes, n_params) {
                Ok(update) if update.n_params() == n_params => {
                    let dense = update.to_dense();
                    let norm = l2_norm(&dense);
                    received.push(Received {
                        uid,
                        sequence: commitment.sequence,
                        update,
                        dense,
                        norm,
                    });
                }
                _ => {
                    failed.insert(uid, Verdict::Malformed);
                }
            },
        }
    }
    (received, failed)
}

/// Screens this round's decoded updates against each other and the previous round's.
///
/// Norm checks and copy detection come first; the direction check then runs on what is
/// left, peeling off the most opposed update one at a time (see [`peel_opposed`]).
pub fn screen(
    current: &[Received],
    previous: &[Received],
    scoring: &ScoringConfig,
) -> Result<BTreeMap<u16, Verdict>, TrainingError> {
    let norms: Vec<f64> = current.iter().map(|r| r.norm).collect();
    let median = lower_median(&norms).unwrap_or(0.0);
    let mut verdicts = BTreeMap::new();
    let mut candidates = Vec::new();
    for update in current {
        let verdict = if update.norm == 0.0 {
            Some(Verdict::Empty)
        } else if update.norm * scoring.norm_ratio_max < median {
            Some(Verdict::Tiny)
        } else if update.norm > scoring.norm_ratio_max * median {
            Some(Verdict::NormOutlier)
        } else {
            copy_of(update, current, previous, scoring)?.map(|of| Verdict::Duplicate { of })
        };
        match verdict {
            Some(verdict) => {
                verdicts.insert(update.uid, verdict);
            }
            None => candidates.push(update),
        }
    }
    for uid in peel_opposed(&candidates, median, scoring.direction_cosine_min)? {
        verdicts.insert(uid, Verdict::Opposed);
    }
    for update in candidates {
        verdicts.entry(update.uid).or_insert(Verdict::Accepted);
    }
    Ok(verdicts)
}

/// The candidates that point against the rest: repeatedly, the one whose cosine with the
/// sum of the other remaining candidates (each clipped to `median`, so one blown-up update
/// cannot steer it) is lowest, while that cosine is below `cosine_min`.
///
/// Peeling one at a time, rather than judging everyone against one sum of all others,
/// matters late in training: honest updates from non-IID shards are then only weakly
/// aligned with each other, and a poisoner's large, opposite update in the sum would drag
/// their cosines below the threshold too. Removing the worst first cleans the reference for
/// the rest. Ties go to the smaller uid, so the result is deterministic.
fn peel_opposed(
    candidates: &[&Received],
    median: f64,
    cosine_min: f64,
) -> Result<Vec<u16>, TrainingError> {
    let n_params = candidates.first().map_or(0, |c| c.dense.len());
    let clipped_sum = |members: &[&Received]| {
        let mut sum = vec![0.0f32; n_params];
        for member in members {
            let factor = hyphae_ml::aggregate::clip_factor(member.norm, median) as f32;
            for (acc, v) in sum.iter_mut().zip(&member.dense) {
                *acc += factor * v;
            }
        }
        sum
    };
    let mut remaining: Vec<&Received> = candidates.to_vec();
    let mut opposed = Vec::new();
    while remaining.len() > 1 {
        let total = clipped_sum(&remaining);
        let mut worst: Option<(f64, usize)> = None;
        for (index, update) in remaining.iter().enumerate() {
            let factor = hyphae_ml::aggregate::clip_factor(update.norm, median) as f32;
            let others: Vec<f32> = total
                .iter()
                .zip(&update.dense)
                .map(|(t, v)| t - factor * v)
                .collect();
            // Everyone else is zero: nothing to compare with.
            if others.iter().all(|v| *v == 0.0) {
                continue;
            }
            let cosine = cosine_similarity(&update.dense, &others)?;
            if worst.is_none_or(|(lowest, _)| cosine < lowest) {
                worst = Some((cosine, index));
            }
        }
        match worst {
            Some((cosine, index)) if cosine < cosine_min => {
                opposed.push(remaining.remove(index).uid);
            }
            _ => break,
        }
    }
    Ok(opposed)
}

/// The uid whose update `update` nearly copies, if any: one committed earlier this round,
/// or any of the previous round's.
fn copy_of(
    update: &Received,
    current: &[Received],
    previous: &[Received],
    scoring: &ScoringConfig,
) -> Result<Option<u16>, TrainingError> {
    let earlier = current
        .iter()
        .filter(|other| other.sequence < update.sequence);
    for other in earlier.chain(previous) {
        if near_copy(update, other, scoring)? {
            return Ok(Some(other.uid));
        }
    }
    Ok(None)
}

fn near_copy(a: &Received, b: &Received, scoring: &ScoringConfig) -> Result<bool, TrainingError> {
    // The index overlap is cheap and rejects almost every honest pair before the cosine.
    Ok(
        a.update.index_overlap(&b.update) >= scoring.copy_overlap_min
            && cosine_similarity(&a.dense, &b.dense)? >= scoring.copy_cosine_min,
    )
}

/// A validator: its role, its private held-out data and its per-miner scores.
#[derive(Debug)]
pub struct Validator {
    uid: u16,
    role: Role,
    data: Dataset,
    scoring: ScoringConfig,
    scores: BTreeMap<u16, f64>,
    own_miners: Vec<u16>,
}

impl Validator {
    /// A validator with empty scores. `own_miners` matter only to a cabal.
    #[must_use]
    pub fn new(
        uid: u16,
        role: Role,
        data: Dataset,
        scoring: ScoringConfig,
        own_miners: Vec<u16>,
    ) -> Self {
        Self {
            uid,
            role,
            data,
            scoring,
            scores: BTreeMap::new(),
            own_miners,
        }
    }

    /// The validator's uid.
    #[must_use]
    pub fn uid(&self) -> u16 {
        self.uid
    }

    /// The validator's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The validator's private held-out data.
    #[must_use]
    pub fn held_out(&self) -> &Dataset {
        &self.data
    }

    /// The current scores, by miner uid.
    #[must_use]
    pub fn scores(&self) -> &BTreeMap<u16, f64> {
        &self.scores
    }

    /// This round's weight row (empty means "set no weights").
    ///
    /// `base` is θ_t, `miners` all miner uids, `verdicts` this round's screening (any miner
    /// absent from it is treated as missing), and `last_epoch` the previous epoch's outcome.
    pub fn weights(
        &mut self,
        base: &Mlp,
        miners: &[u16],
        received: &[Received],
        verdicts: &BTreeMap<u16, Verdict>,
        last_epoch: &[NeuronOutput],
    ) -> Result<Vec<RowEntry>, TrainingError> {
        match self.role {
            Role::Validator => {
                self.update_scores(base, miners, received, verdicts)?;
                Ok(max_upscale(&self.scores))
            }
            Role::LazyValidator => {
                let consensus = miners
                    .iter()
                    .filter_map(|&uid| {
                        let c = last_epoch.get(usize::from(uid))?.consensus;
                        Some((uid, f64::from(c)))
                    })
                    .collect();
                Ok(max_upscale(&consensus))
            }
            Role::CabalValidator => {
                Ok(self.own_miners.iter().map(|&uid| (uid, u16::MAX)).collect())
            }
            Role::Honest | Role::FreeRider | Role::Poisoner | Role::Manipulator | Role::Copier => {
                Ok(Vec::new())
            }
        }
    }

    fn update_scores(
        &mut self,
        base: &Mlp,
        miners: &[u16],
        received: &[Received],
        verdicts: &BTreeMap<u16, Verdict>,
    ) -> Result<(), TrainingError> {
        let accepted: Vec<&Received> = received
            .iter()
            .filter(|r| verdicts.get(&r.uid) == Some(&Verdict::Accepted))
            .collect();
        let improvements = match self.scoring.method {
            ScoreMethod::Alone => accepted
                .iter()
                .map(|r| {
                    let gain =
                        loss_improvement(base, &r.dense, self.scoring.eval_step, &self.data)?;
                    Ok((r.uid, f64::from(gain)))
                })
                .collect::<Result<BTreeMap<u16, f64>, TrainingError>>()?,
            ScoreMethod::Marginal => {
                // The aggregate depends on the incentive these very scores produce, so
                // predict it twice: equal shares first, then shares ∝ the scores that
                // the first guess gives.
                let equal: BTreeMap<u16, f64> = accepted.iter().map(|r| (r.uid, 1.0)).collect();
                let first = self.marginal_gains(base, &accepted, &equal)?;
                let shares = accepted
                    .iter()
                    .map(|r| {
                        let gain = first.get(&r.uid).copied().unwrap_or(0.0);
                        (r.uid, self.next_score(r.uid, gain))
                    })
                    .collect();
                self.marginal_gains(base, &accepted, &shares)?
            }
        };
        let beta = self.scoring.score_ema;
        for &uid in miners {
            let verdict = verdicts.get(&uid).copied().unwrap_or(Verdict::Missing);
            let next = match (verdict, improvements.get(&uid)) {
                (Verdict::Accepted, Some(gain)) => self.next_score(uid, *gain),
                // An honest miner can miss a round, or on a skewed shard point away from
                // the others for a round; its history decays but is kept.
                (Verdict::Accepted | Verdict::Missing | Verdict::Opposed, _) => {
                    self.scores.get(&uid).copied().unwrap_or(0.0) * (1.0 - beta)
                }
                // Cheating (a copy, a forged hash, a blown-up or empty Δ) forfeits the
                // history too: otherwise an attacker could bank one good round and then
                // be paid for many bad ones.
                _ => 0.0,
            };
            self.scores.insert(uid, next);
        }
        Ok(())
    }

    /// The moving average after an improvement of `gain` (negative gains count as 0).
    fn next_score(&self, uid: u16, gain: f64) -> f64 {
        let beta = self.scoring.score_ema;
        let previous = self.scores.get(&uid).copied().unwrap_or(0.0);
        (1.0 - beta) * previous + beta * gain.max(0.0)
    }

    /// Per accepted update, loss(θ − η·(A − p_j·clip(Δ_j))) − loss(θ − η·A) on the
    /// validator's data, where A = Σ p_i·clip(Δ_i) with p ∝ `shares` (equal when they are
    /// all zero) and clip to the median norm of the accepted updates.
    fn marginal_gains(
        &self,
        base: &Mlp,
        accepted: &[&Received],
        shares: &BTreeMap<u16, f64>,
    ) -> Result<BTreeMap<u16, f64>, TrainingError> {
        let norms: Vec<f64> = accepted.iter().map(|r| r.norm).collect();
        let Some(median) = lower_median(&norms) else {
            return Ok(BTreeMap::new());
        };
        let total: f64 = accepted
            .iter()
            .map(|r| shares.get(&r.uid).copied().unwrap_or(0.0).max(0.0))
            .sum();
        let share = |uid: u16| -> f64 {
            if total > 0.0 {
                shares.get(&uid).copied().unwrap_or(0.0).max(0.0) / total
            } else {
                1.0 / accepted.len() as f64
            }
        };
        let eta = f64::from(self.scoring.eval_step);
        let theta = base.params()?;
        // Each update's step in the expected aggregate, −η·p_j·clip(Δ_j).
        let steps: Vec<(u16, Vec<f32>)> = accepted
            .iter()
            .map(|r| {
                let factor = eta * share(r.uid) * hyphae_ml::aggregate::clip_factor(r.norm, median);
                (
                    r.uid,
                    r.dense
                        .iter()
                        .map(|v| (factor * f64::from(*v)) as f32)
                        .collect(),
                )
            })
            .collect();
        let mut with_all = theta.values().to_vec();
        for (_, step) in &steps {
            for (value, s) in with_all.iter_mut().zip(step) {
                *value -= s;
            }
        }
        let loss_all = f64::from(loss_at(base, &with_all, &self.data)?);
        let mut gains = BTreeMap::new();
        for (uid, step) in &steps {
            let without: Vec<f32> = with_all.iter().zip(step).map(|(v, s)| v + s).collect();
            gains.insert(
                *uid,
                f64::from(loss_at(base, &without, &self.data)?) - loss_all,
            );
        }
        Ok(gains)
    }
}

/// Scales a row of non-negative values so the largest is 65535 (rounding to nearest);
/// zeros are dropped, and an all-zero row is empty.
#[must_use]
pub fn max_upscale(values: &BTreeMap<u16, f64>) -> Vec<RowEntry> {
    let max = values.values().copied().fold(0.0f64, f64::max);
    if !(max > 0.0 && max.is_finite()) {
        return Vec::new();
    }
    values
        .iter()
        .filter_map(|(&uid, &v)| {
            // v / max lies in [0, 1], so the product fits in u16.
            let weight = (v / max * f64::from(u16::MAX)).round() as u16;
            (weight > 0).then_some((uid, weight))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyphae_ml::compress::{CompressionConfig, Compressor};

    fn received(uid: u16, sequence: u64, values: &[f32]) -> Received {
        let config = CompressionConfig {
            chunk_len: 8,
            k_per_chunk: 2,
        };
        let update = Compressor::new(config, values.len())
            .and_then(|mut c| c.compress(values))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let dense = update.to_dense();
        let norm = l2_norm(&dense);
        Received {
            uid,
            sequence,
            update,
            dense,
            norm,
        }
    }

    fn scoring() -> ScoringConfig {
        ScoringConfig {
            method: ScoreMethod::Alone,
            eval_step: 1.0,
            score_ema: 0.5,
            norm_ratio_max: 4.0,
            copy_overlap_min: 0.9,
            copy_cosine_min: 0.99,
            direction_cosine_min: -1.0,
        }
    }

    #[test]
    fn later_copy_earns_nothing_and_outliers_are_rejected() -> Result<(), TrainingError> {
        let a = [1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0];
        let b = [0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let c = [0.0, 0.0, 1.5, 0.0, 2.0, 0.0, 0.0, 0.0];
        let current = vec![
            received(5, 3, &a),
            received(6, 1, &b),
            received(7, 2, &a),
            received(8, 4, &b.map(|v| v * 100.0)),
            received(9, 5, &[0.0; 8]),
            received(10, 6, &c.map(|v| v / 100.0)),
        ];
        let verdicts = screen(&current, &[received(4, 0, &c)], &scoring())?;
        assert_eq!(verdicts[&7], Verdict::Accepted);
        assert_eq!(verdicts[&5], Verdict::Duplicate { of: 7 });
        assert_eq!(verdicts[&6], Verdict::Accepted);
        assert_eq!(verdicts[&8], Verdict::NormOutlier);
        assert_eq!(verdicts[&9], Verdict::Empty);
        assert_eq!(verdicts[&10], Verdict::Tiny);
        // Re-serving a previous round's update is a copy too.
        let stale = screen(&[received(6, 9, &c)], &[received(4, 0, &c)], &scoring())?;
        assert_eq!(stale[&6], Verdict::Duplicate { of: 4 });
        Ok(())
    }

    #[test]
    fn the_opposed_update_is_peeled_and_weakly_aligned_honest_ones_are_kept(
    ) -> Result<(), TrainingError> {
        // Three honest updates that share only their first coordinate, and a poisoner's
        // three times larger, pointing against the first two coordinates. Judged against
        // the sum of all others, uid 1 would score cosine 0 (below 0.05) because the
        // poisoner cancels its shared direction; peeling the poisoner first keeps uid 1.
        let honest = [
            [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        ];
        let poison = [-3.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mut current: Vec<Received> = (1..=3)
            .zip(&honest)
            .map(|(uid, values)| received(uid, u64::from(uid), values))
            .collect();
        current.push(received(4, 4, &poison));
        let strict = ScoringConfig {
            direction_cosine_min: 0.05,
            ..scoring()
        };
        let verdicts = screen(&current, &[], &strict)?;
        assert_eq!(verdicts[&4], Verdict::Opposed);
        for uid in 1..=3 {
            assert_eq!(verdicts[&uid], Verdict::Accepted, "uid {uid}");
        }
        Ok(())
    }

    #[test]
    fn receive_checks_the_commitment() {
        let update = received(1, 0, &[1.0; 8]).update;
        let bytes = update.encode();
        let mut served = crate::miner::ServedUpdates::new();
        served.insert((1, 1), bytes.clone());
        served.insert((1, 2), bytes.clone());
        served.insert((1, 3), vec![1, 2, 3]);
        let commit = |uid, hash| Commitment {
            uid,
            round: 1,
            hash,
            sequence: u64::from(uid),
        };
        let good = commitment_hash(&bytes);
        let bad = hyphae_ml::codec::UpdateHash([0; 32]);
        let commitments = [
            commit(1, good),
            commit(2, bad),
            commit(3, commitment_hash(&[1, 2, 3])),
            commit(4, good),
        ];
        let (ok, failed) = receive(&commitments, &mut served, 1, 8);
        assert_eq!(ok.iter().map(|r| r.uid).collect::<Vec<_>>(), vec![1]);
        assert_eq!(failed[&2], Verdict::HashMismatch);
        assert_eq!(failed[&3], Verdict::Malformed);
        assert_eq!(failed[&4], Verdict::Missing);
    }

    #[test]
    fn max_upscale_keeps_proportions() {
        let scores = BTreeMap::from([(3, 0.5), (4, 0.25), (5, 0.0)]);
        assert_eq!(max_upscale(&scores), vec![(3, 65_535), (4, 32_768)]);
        assert!(max_upscale(&BTreeMap::from([(3, 0.0)])).is_empty());
    }
}
