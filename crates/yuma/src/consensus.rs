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
//! selection order gives the same value, so this module gathers each column's positive
//! entries once (a transpose of the voters' rows) and selects in them with stake histograms
//! over score ranges (see `smallest_score_above`): cost grows with the non-zero weights, and
//! the columns run in parallel, each on its own, collected in column order.

use crate::fixed::{add, normalize, sub, sum, Fx, ZERO};
use crate::sparse::RowSource;
use rayon::prelude::*;

/// Consensus for `n` columns given active stake `A` and the row-normalized weights.
pub(crate) fn consensus(
    active_stake: &[Fx],
    weights: &impl RowSource,
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
    let minority = sub(stake_total, kappa);

    let columns = ColumnScores::gather(&voters, weights, n);
    let n_voters = voters.len();
    let quantile = Quantile {
        voter_stake: &voter_stake,
        n_voters,
        stake_total,
        minority,
    };
    // Columns are independent; `collect` keeps them in order.
    (0..n)
        .into_par_iter()
        .map_init(
            || (Vec::with_capacity(columns.longest), [ZERO; BUCKETS]),
            |(scratch, histogram), j| quantile.column(columns.column(j), scratch, histogram),
        )
        .collect()
}

/// What every column's quantile reads.
struct Quantile<'a> {
    voter_stake: &'a [Fx],
    n_voters: usize,
    stake_total: Fx,
    minority: Fx,
}

impl Quantile<'_> {
    /// The closed form for one column, given its positive (score bits, voter index) entries.
    fn column(
        &self,
        (scores, voter_of): (&[i64], &[u16]),
        scratch: &mut Vec<(Fx, Fx)>,
        histogram: &mut [Fx; BUCKETS],
    ) -> Fx {
        scratch.clear();
        scratch.extend(scores.iter().zip(voter_of).map(|(&score, &voter)| {
            let stake = self
                .voter_stake
                .get(usize::from(voter))
                .copied()
                .unwrap_or(ZERO);
            (Fx::from_bits(score), stake)
        }));
        let mut positive_stake = 0_i64;
        let (mut lowest, mut highest) = (i64::MAX, i64::MIN);
        for &(score, stake) in scratch.iter() {
            positive_stake = positive_stake.saturating_add(stake.to_bits());
            lowest = lowest.min(score.to_bits());
            highest = highest.max(score.to_bits());
        }
        let (lowest, highest) = if scratch.is_empty() {
            (ZERO, ZERO)
        } else {
            (Fx::from_bits(lowest), Fx::from_bits(highest))
        };
        let zero_stake = sub(self.stake_total, Fx::from_bits(positive_stake));
        let has_zero_scores = scratch.len() < self.n_voters;
        if has_zero_scores && zero_stake > self.minority {
            return ZERO;
        }
        if self.stake_total <= self.minority {
            // No score gathers more than `minority`: the reference ends on the largest score.
            return highest;
        }
        smallest_score_above(
            scratch,
            sub(self.minority, zero_stake),
            (lowest, highest),
            histogram,
        )
    }
}

/// The positive scores of each column (of voter rows) with their voter's index, by column.
struct ColumnScores {
    /// Column j's scores start at `starts[j]` and end at `ends[j]`.
    starts: Vec<usize>,
    ends: Vec<usize>,
    /// Score bits.
    scores: Vec<i64>,
    voters: Vec<u16>,
    /// The most entries any column has room for.
    longest: usize,
}

impl ColumnScores {
    #[inline(never)]
    fn gather(voters: &[usize], weights: &impl RowSource, n: usize) -> Self {
        // Room for every entry of a voter row; zero scores leave their slots unused.
        let mut counts = vec![0_usize; n];
        for &i in voters {
            weights.for_each_column(i, |j| {
                if let Some(count) = counts.get_mut(usize::from(j)) {
                    *count = count.wrapping_add(1);
                }
            });
        }
        let mut starts = Vec::with_capacity(n);
        let mut running = 0_usize;
        for count in &counts {
            starts.push(running);
            running = running.saturating_add(*count);
        }
        let longest = counts.iter().copied().max().unwrap_or(0);
        let mut ends = starts.clone();
        let mut scores = vec![0_i64; running];
        let mut voter_of = vec![0_u16; running];
        let mut place = |j: u16, w: Fx, voter: u16| {
            if w <= ZERO {
                return;
            }
            if let Some(next) = ends.get_mut(usize::from(j)) {
                if let Some(slot) = scores.get_mut(*next) {
                    *slot = w.to_bits();
                }
                if let Some(who) = voter_of.get_mut(*next) {
                    *who = voter;
                }
                *next = next.wrapping_add(1);
            }
        };
        // Rows out of order go one by one. Ascending rows go by blocks of columns, so the
        // columns being written at a time stay in cache; the order within a column is
        // irrelevant to the quantile.
        let mut ascending: Vec<(u16, usize, usize)> = Vec::with_capacity(voters.len());
        for (v, &i) in voters.iter().enumerate() {
            let voter = u16::try_from(v).unwrap_or(u16::MAX);
            if weights.is_ascending(i) {
                ascending.push((voter, i, 0));
            } else {
                weights.for_each_entry(i, |j, w| place(j, w, voter));
            }
        }
        let mut limit = 0_usize;
        while limit < n {
            limit = limit.saturating_add(COLUMN_BLOCK).min(n);
            for (voter, i, next) in &mut ascending {
                let voter = *voter;
                *next = weights.for_each_entry_below(*i, *next, limit, |j, w| place(j, w, voter));
            }
        }
        Self {
            starts,
            ends,
            scores,
            voters: voter_of,
            longest,
        }
    }

    /// Column j's (score bits, voter indices).
    fn column(&self, j: usize) -> (&[i64], &[u16]) {
        let range = self
            .starts
            .get(j)
            .zip(self.ends.get(j))
            .map(|(&start, &end)| start..end);
        range
            .and_then(|range| Some((self.scores.get(range.clone())?, self.voters.get(range)?)))
            .unwrap_or((&[], &[]))
    }
}

/// Columns gathered at a time from ascending rows: their open cache lines fit in L1.
const COLUMN_BLOCK: usize = 128;

/// Buckets of one histogram round of the selection.
const BUCKETS: usize = 64;
const BUCKET_BITS: u32 = BUCKETS.trailing_zeros();
/// At or below this many entries the selection sorts them.
const SMALL: usize = 16;

/// The smallest score whose cumulative stake (scores ≤ it) exceeds `target`.
///
/// The caller guarantees the full stake of `scores` exceeds `target` (if it did not, the
/// answer is the largest score, as the reference's walk would end there); `bounds` are the
/// smallest and largest score. Each round spreads the entries over [`BUCKETS`] equal-width
/// ranges of score, sums the stake per range, and keeps only the range where the cumulative
/// stake first exceeds the target: every entry of a lower range has a cumulative stake at
/// or below the target, and the highest entry of the kept range is above it. The kept
/// range is at most 1/32 as wide as the last, so a few rounds leave one value or a handful
/// of entries, which are sorted.
#[inline(never)]
fn smallest_score_above(
    scores: &mut [(Fx, Fx)],
    target: Fx,
    bounds: (Fx, Fx),
    histogram: &mut [Fx; BUCKETS],
) -> Fx {
    let mut below = ZERO;
    let (mut lowest, mut highest) = bounds;
    let mut active = scores;
    loop {
        if active.len() <= SMALL {
            return sorted_select(active, below, target);
        }
        if lowest == highest {
            return lowest;
        }
        let base = lowest.to_bits();
        let range = highest.to_bits().wrapping_sub(base) as u64;
        let shift = 64_u32
            .saturating_sub(range.leading_zeros())
            .saturating_sub(BUCKET_BITS);
        let bucket = |score: Fx| -> usize {
            let offset = score.to_bits().wrapping_sub(base) as u64;
            offset.checked_shr(shift).unwrap_or(0) as usize
        };
        histogram.fill(ZERO);
        for &(score, stake) in active.iter() {
            if let Some(total) = histogram.get_mut(bucket(score)) {
                *total = add(*total, stake);
            }
        }
        let mut chosen = None;
        for (b, &stake) in histogram.iter().enumerate() {
            let through = add(below, stake);
            if through > target {
                chosen = Some(b);
                break;
            }
            below = through;
        }
        let Some(chosen) = chosen else {
            return highest;
        };
        // Move the chosen range's entries to the front, noting their bounds.
        let mut kept = 0_usize;
        (lowest, highest) = (Fx::max_value(), Fx::min_value());
        for index in 0..active.len() {
            let Some(&(score, _)) = active.get(index) else {
                break;
            };
            if bucket(score) == chosen {
                active.swap(kept, index);
                kept = kept.saturating_add(1);
                lowest = lowest.min(score);
                highest = highest.max(score);
            }
        }
        active = match std::mem::take(&mut active).split_at_mut_checked(kept) {
            Some((front, _)) => front,
            None => return highest,
        };
    }
}

/// [`smallest_score_above`] for a few entries, by sorting them; `below` is the stake of the
/// entries already known to score lower.
fn sorted_select(scores: &mut [(Fx, Fx)], below: Fx, target: Fx) -> Fx {
    scores.sort_unstable_by_key(|&(score, _)| score);
    let mut cumulative = below;
    for &(score, stake) in scores.iter() {
        cumulative = add(cumulative, stake);
        if cumulative > target {
            return score;
        }
    }
    scores.last().map_or(ZERO, |&(score, _)| score)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::sparse::SparseMatrix;
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

        /// Many voters, so the histogram rounds run: scores over several magnitudes, with
        /// clusters of near-equal and equal values, and zero-stake voters.
        #[test]
        fn bucket_selection_matches_the_quickselect(
            entries in prop::collection::vec(
                (0_u32..1_000, 0_u8..4, any::<u32>(), 0_u8..3, any::<bool>()), 1..400),
            kappa in 0_u16..=u16::MAX,
        ) {
            let n = 3;
            let rows: Vec<Vec<(u16, Fx)>> = entries.iter().map(|&(_, class, bits, shape, sparse)| {
                let score = match class {
                    0 => Fx::from_bits(i64::from(bits % 7 + 1)),          // a few tiny ties
                    1 => Fx::from_bits(i64::from(bits >> 4) + (1 << 20)), // one cluster
                    2 => Fx::from_bits(i64::from(bits) + 1),              // anywhere below 1
                    _ => Fx::from_bits(1 << 32),                          // exactly 1
                };
                let mut row = vec![(0_u16, score)];
                if !sparse {
                    row.push((1, Fx::from_bits(i64::from(shape) * 1_000 + 1)));
                }
                row.push((2, Fx::from_bits(i64::from(bits % 5))));
                row
            }).collect();
            let mut active: Vec<Fx> = entries.iter().map(|e| Fx::from_bits(i64::from(e.0) << 20)).collect();
            normalize(&mut active);
            let kappa = crate::fixed::u16_param(kappa);
            prop_assert_eq!(
                consensus(&active, &to_matrix(&rows), kappa, n),
                oracle(&active, &rows, kappa, n)
            );
        }
    }
}
