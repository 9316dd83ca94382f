//! Consensus: the stake-weighted κ-quantile of each column of the weight matrix.
//!
//! The reference finds it with a deterministic quickselect (mid-index pivot, equal scores set
//! aside, recursion on the side that holds the quantile). Because every stake sum in it is
//! exact, its answer has a closed form, and that is what this module computes:
//!
//! > Cⱼ is the smallest score v for which the stake of validators scoring ≤ v exceeds
//! > `minority = Σŝ − κ`; if no score qualifies, Cⱼ is the largest score.
//!
//! Here ŝ is the active stake restricted to validators with Aᵢ > 0 and renormalized, and a
//! validator without an entry in column j scores 0 there. Computing the closed form with any
//! selection order gives the same value, so this module uses a median-of-three quickselect
//! over the column's positive entries only: cost grows with the non-zero weights.

use crate::fixed::{normalize, sum, Fx, ZERO};
use crate::sparse::SparseMatrix;

/// Consensus for `n` columns given active stake `A` and the row-normalized weights.
pub(crate) fn consensus(
    active_stake: &[Fx],
    weights: &SparseMatrix,
    kappa: Fx,
    n: usize,
) -> Vec<Fx> {
    let voters: Vec<usize> = active_stake
        .iter()
        .enumerate()
        .filter(|&(_, &stake)| stake > ZERO)
        .map(|(i, _)| i)
        .collect();
    if voters.is_empty() {
        return vec![ZERO; n];
    }
    let mut voter_stake: Vec<Fx> = voters
        .iter()
        .map(|&i| active_stake.get(i).copied().unwrap_or(ZERO))
        .collect();
    normalize(&mut voter_stake);
    let stake_total = sum(voter_stake.iter().copied());
    let minority = stake_total.saturating_sub(kappa);

    let mut columns = ColumnScores::gather(&voters, &voter_stake, weights, n);
    let n_voters = voters.len();
    columns.map_columns(|scores| column_quantile(scores, n_voters, stake_total, minority))
}

/// The positive scores of each column with their voter's stake, grouped by column.
struct ColumnScores {
    offsets: Vec<usize>,
    scores: Vec<(Fx, Fx)>,
}

impl ColumnScores {
    fn gather(voters: &[usize], voter_stake: &[Fx], weights: &SparseMatrix, n: usize) -> Self {
        let positive = |row: &[(u16, Fx)]| row.iter().filter(|&&(_, w)| w > ZERO).count();
        let mut counts = vec![0_usize; n];
        let mut nnz = 0_usize;
        for &i in voters {
            let row = weights.row(i);
            nnz = nnz.saturating_add(positive(row));
            for &(j, w) in row {
                if w > ZERO {
                    if let Some(count) = counts.get_mut(usize::from(j)) {
                        *count = count.saturating_add(1);
                    }
                }
            }
        }
        // Prefix sums: `cursor[j]` is where column j's next score goes.
        let mut offsets = Vec::with_capacity(n.saturating_add(1));
        let mut running = 0_usize;
        offsets.push(0);
        for count in &counts {
            running = running.saturating_add(*count);
            offsets.push(running);
        }
        let mut cursor: Vec<usize> = offsets.iter().take(n).copied().collect();
        let mut scores = vec![(ZERO, ZERO); nnz];
        for (&i, &stake) in voters.iter().zip(voter_stake) {
            for &(j, w) in weights.row(i) {
                if w <= ZERO {
                    continue;
                }
                if let Some(next) = cursor.get_mut(usize::from(j)) {
                    if let Some(slot) = scores.get_mut(*next) {
                        *slot = (w, stake);
                    }
                    *next = next.saturating_add(1);
                }
            }
        }
        Self { offsets, scores }
    }

    /// `f` of each column's scores, in column order; `f` may reorder them in place.
    fn map_columns(&mut self, mut f: impl FnMut(&mut [(Fx, Fx)]) -> Fx) -> Vec<Fx> {
        let mut rest: &mut [(Fx, Fx)] = &mut self.scores;
        self.offsets
            .windows(2)
            .map(|bounds| {
                let len = match bounds {
                    [start, end] => end.saturating_sub(*start),
                    _ => 0,
                };
                match std::mem::take(&mut rest).split_at_mut_checked(len) {
                    Some((column, tail)) => {
                        rest = tail;
                        f(column)
                    }
                    None => ZERO,
                }
            })
            .collect()
    }
}

/// The closed-form quantile of one column; `scores` holds its positive (score, stake) pairs.
fn column_quantile(scores: &mut [(Fx, Fx)], n_voters: usize, stake_total: Fx, minority: Fx) -> Fx {
    let positive_stake = sum(scores.iter().map(|&(_, stake)| stake));
    let zero_stake = stake_total.saturating_sub(positive_stake);
    let has_zero_scores = scores.len() < n_voters;
    if has_zero_scores && zero_stake > minority {
        return ZERO;
    }
    if stake_total <= minority {
        // No score gathers more than `minority`: the reference ends on the largest score.
        return scores.iter().map(|&(score, _)| score).max().unwrap_or(ZERO);
    }
    smallest_score_above(scores, minority.saturating_sub(zero_stake))
}

/// The smallest score whose cumulative stake (scores ≤ it) exceeds `target`.
///
/// The caller guarantees the full stake of `scores` exceeds `target`.
fn smallest_score_above(mut scores: &mut [(Fx, Fx)], target: Fx) -> Fx {
    let mut below = ZERO;
    loop {
        let pivot = match scores {
            [] => return ZERO,
            [(only, _)] => return *only,
            [(first, _), .., (last, _)] => {
                let (first, last) = (*first, *last);
                median_of_three(first, middle(scores), last)
            }
        };
        let (n_less, n_equal) = partition(scores, pivot);
        let (less, rest) = std::mem::take(&mut scores).split_at_mut(n_less);
        let (equal, greater) = rest.split_at_mut(n_equal.min(rest.len()));
        let less_stake = sum(less.iter().map(|&(_, stake)| stake));
        if !less.is_empty() && below.saturating_add(less_stake) > target {
            scores = less;
            continue;
        }
        below = below
            .saturating_add(less_stake)
            .saturating_add(sum(equal.iter().map(|&(_, stake)| stake)));
        if below > target || greater.is_empty() {
            return pivot;
        }
        scores = greater;
    }
}

fn middle(scores: &[(Fx, Fx)]) -> Fx {
    scores
        .get(scores.len() / 2)
        .map_or(ZERO, |&(score, _)| score)
}

fn median_of_three(a: Fx, b: Fx, c: Fx) -> Fx {
    a.max(b).min(a.min(b).max(c))
}

/// Three-way partition around `pivot`: `(< pivot, == pivot, > pivot)`; returns the first two sizes.
fn partition(scores: &mut [(Fx, Fx)], pivot: Fx) -> (usize, usize) {
    let mut less = 0_usize;
    let mut next = 0_usize;
    let mut greater = scores.len();
    while next < greater {
        let score = scores.get(next).map_or(ZERO, |&(score, _)| score);
        if score < pivot {
            scores.swap(less, next);
            less = less.saturating_add(1);
            next = next.saturating_add(1);
        } else if score > pivot {
            greater = greater.saturating_sub(1);
            scores.swap(next, greater);
        } else {
            next = next.saturating_add(1);
        }
    }
    (less, greater.saturating_sub(less))
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The quickselect as reference-chain.md §2.7 describes it, written from that text: the
    /// oracle for the closed form.
    fn spec_quickselect(stake: &[Fx], score: &[Fx], minority: Fx, total: Fx) -> Fx {
        let mut partition: Vec<usize> = (0..score.len()).collect();
        let (mut lo, mut hi) = (ZERO, total);
        for _ in 0..=score.len() {
            match partition.len() {
                0 => return ZERO,
                1 => return score[partition[0]],
                len => {
                    let pivot = score[partition[len / 2]];
                    let lower: Vec<usize> = partition
                        .iter()
                        .copied()
                        .filter(|&i| score[i] < pivot)
                        .collect();
                    let upper: Vec<usize> = partition
                        .iter()
                        .copied()
                        .filter(|&i| score[i] > pivot)
                        .collect();
                    let lower_stake = sum(lower.iter().map(|&i| stake[i]));
                    let upper_stake = sum(upper.iter().map(|&i| stake[i]));
                    if minority < lo.saturating_add(lower_stake) && !lower.is_empty() {
                        hi = lo.saturating_add(lower_stake);
                        partition = lower;
                    } else if hi.saturating_sub(upper_stake) <= minority && !upper.is_empty() {
                        lo = hi.saturating_sub(upper_stake);
                        partition = upper;
                    } else {
                        return pivot;
                    }
                }
            }
        }
        ZERO
    }

    fn oracle(active: &[Fx], rows: &[Vec<(u16, Fx)>], kappa: Fx, n: usize) -> Vec<Fx> {
        let voters: Vec<usize> = (0..active.len()).filter(|&i| active[i] > ZERO).collect();
        let mut stake: Vec<Fx> = voters.iter().map(|&i| active[i]).collect();
        normalize(&mut stake);
        let total = sum(stake.iter().copied());
        let minority = total.saturating_sub(kappa);
        (0..n)
            .map(|j| {
                let score: Vec<Fx> = voters
                    .iter()
                    .map(|&i| {
                        rows[i]
                            .iter()
                            .find(|&&(c, _)| usize::from(c) == j)
                            .map_or(ZERO, |e| e.1)
                    })
                    .collect();
                spec_quickselect(&stake, &score, minority, total)
            })
            .collect()
    }

    fn to_matrix(rows: &[Vec<(u16, Fx)>]) -> SparseMatrix {
        let mut m = SparseMatrix::with_capacity(rows.len(), 0);
        for row in rows {
            for &(j, w) in row {
                m.push(j, w);
            }
            m.end_row();
        }
        m
    }

    proptest! {
        #[test]
        fn closed_form_matches_the_quickselect(
            n in 1_usize..12,
            seed_rows in prop::collection::vec(
                (0_u32..5, prop::collection::vec((0_u16..12, 0_u8..5), 0..12)), 1..12),
            kappa in 0_u16..=u16::MAX,
        ) {
            let rows: Vec<Vec<(u16, Fx)>> = seed_rows.iter().map(|(_, entries)| {
                let mut seen = std::collections::BTreeSet::new();
                entries.iter().filter(|(j, _)| usize::from(*j) < n && seen.insert(*j))
                    // Few distinct levels so that ties happen often.
                    .map(|&(j, level)| (j, Fx::from_num(level) / Fx::from_num(4)))
                    .collect()
            }).collect();
            let mut active: Vec<Fx> = seed_rows.iter().map(|(s, _)| Fx::from_num(*s)).collect();
            normalize(&mut active);
            let kappa = crate::fixed::u16_param(kappa);
            prop_assert_eq!(
                consensus(&active, &to_matrix(&rows), kappa, n),
                oracle(&active, &rows, kappa, n)
            );
        }
    }
}
