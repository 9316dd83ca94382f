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
//! selection order gives the same value (the stakes are non-negative and sum to at most 1, so
//! every partial sum is exact), which frees the layout:
//!
//! * the columns go in blocks of adjacent columns, in parallel, each block on its own and each
//!   result written at its column's index;
//! * a block gathers its (score, stake) pairs column by column into a per-thread buffer that
//!   is reused from block to block (a compressed-column copy of one block of voter rows at a
//!   time, so nothing of the size of W is allocated); voter rows are ascending (rows that are
//!   not get a sorted copy first), so each run of blocks finds where a row enters it by one
//!   bisection and then walks the row in order, block after block;
//! * each column's quantile is selected in place in that buffer with stake histograms over
//!   score ranges (see `smallest_score_above`).
//!
//! A block spans at least [`MIN_BLOCK`] columns and, on sparse rows, more: enough that a voter
//! row has several entries in it on average, so the per-(voter, block) visits stay a fraction
//! of the entries. Cost grows with the non-zero weights.

use crate::fixed::{add, normalize, sub, sum, Fx, RowNorm, ZERO};
use crate::sparse::{RowSource, SparseMatrix};
use rayon::prelude::*;

/// Consensus for `n` columns given active stake `A` and the row-normalized weights.
pub(crate) fn consensus(
    active_stake: &[Fx],
    weights: &(impl RowSource + Sync),
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

    let rows = VoterRows::new(&voters, weights);
    let quantile = Quantile {
        n_voters: voters.len(),
        stake_total,
        minority,
    };
    let block = block_width(n, voters.len(), rows.nnz);
    // A few tasks per thread, each a run of whole blocks with one reused buffer.
    let blocks = n.div_ceil(block);
    let tasks = rayon::current_num_threads()
        .saturating_mul(4)
        .clamp(1, blocks.max(1));
    let per_task = blocks.div_ceil(tasks).saturating_mul(block).max(1);
    let mut out = vec![ZERO; n];
    // Tasks are independent; each writes its own slice of `out`.
    out.par_chunks_mut(per_task)
        .enumerate()
        .for_each(|(t, task_out)| {
            let mut buffer = BlockBuffer::default();
            let task_lo = t.saturating_mul(per_task);
            // Where each voter row enters this run of columns: one bisection per row and task,
            // then the blocks advance through the rows in order.
            let mut cursors: Vec<usize> = (0..voter_stake.len())
                .map(|v| rows.position_of(v, task_lo))
                .collect();
            for (b, block_out) in task_out.chunks_mut(block).enumerate() {
                let lo = task_lo.saturating_add(b.saturating_mul(block));
                buffer.gather(&rows, &voter_stake, &mut cursors, lo, block_out.len());
                for (c, result) in block_out.iter_mut().enumerate() {
                    *result = quantile.column(buffer.column_mut(c));
                }
            }
        });
    out
}

/// Columns per block: at least [`MIN_BLOCK`], and wide enough for about
/// [`ENTRIES_PER_VISIT`] entries per voter row and block.
fn block_width(n: usize, n_voters: usize, nnz: usize) -> usize {
    // A row's share of a block of width b is about b·nnz/(voters·n) entries.
    let wanted = n
        .saturating_mul(n_voters)
        .saturating_mul(ENTRIES_PER_VISIT)
        .checked_div(nnz.max(1))
        .unwrap_or(n);
    wanted.clamp(MIN_BLOCK, n.max(MIN_BLOCK))
}

/// The fewest columns in a block: a block's pairs (voters × columns × 16 bytes on full rows)
/// then fill a fraction of a core's L2 cache.
const MIN_BLOCK: usize = 64;
/// Unused pairs after each column's in a block's buffer (one 64-byte cache line). Full rows
/// give every column the same count, and 256 voters' pairs of 16 bytes make 4 KB: unpadded,
/// the columns the gather writes side by side would all start 4 KB apart, in one set of the
/// L1 cache, evicting one another (measured at n = 4096 on one thread: the epoch took about
/// 1.4 times as long).
const COLUMN_PAD: usize = 4;
/// How many entries a voter row should have in a block on average, so that visiting the row
/// for the block is a small share of gathering them.
const ENTRIES_PER_VISIT: usize = 16;

/// The voters' weight rows, all readable in ascending column order.
struct VoterRows<'a, R> {
    weights: &'a R,
    /// Per voter: its row in `weights`, or (`None`) its row in `sorted`.
    source: Vec<Option<usize>>,
    /// Sorted copies of the voter rows that do not ascend, in voter order.
    sorted: SparseMatrix,
    sorted_index: Vec<usize>,
    nnz: usize,
}

impl<'a, R: RowSource> VoterRows<'a, R> {
    fn new(voters: &[usize], weights: &'a R) -> Self {
        let mut sorted = SparseMatrix::with_capacity(0, 0);
        let mut sorted_index = Vec::new();
        let mut pairs: Vec<(u16, Fx)> = Vec::new();
        let mut nnz = 0_usize;
        let source = voters
            .iter()
            .enumerate()
            .map(|(v, &i)| {
                nnz = nnz.saturating_add(weights.row_len(i));
                if weights.is_ascending(i) {
                    return Some(i);
                }
                pairs.clear();
                weights.for_each_entry(i, |j, w| pairs.push((j, w)));
                // Rows never repeat a column: the order is total.
                pairs.sort_unstable_by_key(|&(j, _)| j);
                for &(j, w) in &pairs {
                    sorted.push(j, w);
                }
                sorted.end_row();
                sorted_index.push(v);
                None
            })
            .collect();
        Self {
            weights,
            source,
            sorted,
            sorted_index,
            nnz,
        }
    }

    /// The position in voter `v`'s row of its first entry with column ≥ `lo`.
    fn position_of(&self, v: usize, lo: usize) -> usize {
        match self.source.get(v).copied().flatten() {
            Some(i) => self.weights.position_of(i, lo),
            None => self
                .sorted_index
                .binary_search(&v)
                .map_or(0, |k| self.sorted.position_of(k, lo)),
        }
    }

    /// Call `f(column, score)` for voter `v`'s entries from position `from` on while their
    /// column is below `hi`; returns the position of the first entry not visited.
    #[inline]
    fn scan_below(&self, v: usize, from: usize, hi: usize, f: impl FnMut(u16, Fx)) -> usize {
        match self.source.get(v).copied().flatten() {
            Some(i) => self.weights.scan_below(i, from, hi, f),
            None => match self.sorted_index.binary_search(&v) {
                Ok(k) => self.sorted.scan_below(k, from, hi, f),
                Err(_) => from,
            },
        }
    }

    /// Voter `v`'s entries from position `from` on when they are exactly the columns
    /// `lo..lo + width` (see [`RowSource::full_span`]); never for a sorted copy.
    #[inline]
    fn full_span(
        &self,
        v: usize,
        from: usize,
        lo: usize,
        width: usize,
    ) -> Option<(&'a [(u16, u16)], RowNorm)> {
        let i = self.source.get(v).copied().flatten()?;
        self.weights.full_span(i, from, lo, width)
    }
}

/// A voter's entries across a whole block, as raw weights, and its row's normalizer.
type FullSpan<'a> = (&'a [(u16, u16)], RowNorm);

/// A block's positive (score, stake) pairs, column by column; reused from block to block.
#[derive(Default)]
struct BlockBuffer<'a> {
    /// Column c of the block spans `starts[c]..ends[c]`.
    starts: Vec<usize>,
    ends: Vec<usize>,
    pairs: Vec<(Fx, Fx)>,
    /// Per voter, its full span of the block (see [`VoterRows::full_span`]), found while
    /// counting and walked by the gather, which does not look for it again.
    spans: Vec<Option<FullSpan<'a>>>,
}

impl<'a> BlockBuffer<'a> {
    /// Gather columns `lo..lo + width` of every voter row. `cursors[v]` is the position in
    /// voter v's row of its first entry with column ≥ `lo`; it is moved past the block, so
    /// consecutive blocks walk each row once, in order.
    fn gather<R: RowSource>(
        &mut self,
        rows: &VoterRows<'a, R>,
        voter_stake: &[Fx],
        cursors: &mut [usize],
        lo: usize,
        width: usize,
    ) {
        let hi = lo.saturating_add(width);
        // Count first (columns only), so the pairs of a column are contiguous. A voter with
        // every column of the block (a full span) adds one to each: counted once, not walked.
        self.starts.clear();
        self.starts.resize(width.saturating_add(1), 0);
        let mut full_voters = 0_usize;
        self.spans.clear();
        for (v, &from) in cursors.iter().enumerate() {
            let span = rows.full_span(v, from, lo, width);
            self.spans.push(span);
            if span.is_some() {
                full_voters = full_voters.saturating_add(1);
                continue;
            }
            rows.scan_below(v, from, hi, |j, _| {
                let slot = usize::from(j).wrapping_sub(lo).wrapping_add(1);
                if let Some(count) = self.starts.get_mut(slot) {
                    *count = count.wrapping_add(1);
                }
            });
        }
        let mut running = 0_usize;
        for (c, start) in self.starts.iter_mut().enumerate() {
            // Slot c + 1 counts column c (and its padding); slot 0 stays the start of column 0.
            if c > 0 {
                *start = start.saturating_add(full_voters).saturating_add(COLUMN_PAD);
            }
            running = running.saturating_add(*start);
            *start = running;
        }
        // `starts[c]` now holds the end of column c - 1's room, that is the start of column c.
        self.ends.clear();
        self.ends.extend_from_slice(&self.starts);
        // Every slot read is written first: grow the buffer, never clear it.
        if self.pairs.len() < running {
            self.pairs.resize(running, (ZERO, ZERO));
        }
        let (ends, pairs) = (&mut self.ends, &mut self.pairs);
        for (v, ((&stake, cursor), &span)) in voter_stake
            .iter()
            .zip(cursors.iter_mut())
            .zip(&self.spans)
            .enumerate()
        {
            if let Some((span, norm)) = span {
                gather_full_span(span, norm, stake, ends, pairs);
                *cursor = cursor.saturating_add(span.len());
                continue;
            }
            *cursor = rows.scan_below(v, *cursor, hi, |j, score| {
                // Zero scores are implicit: the quantile counts them from the stake left over.
                if score <= ZERO {
                    return;
                }
                if let Some(next) = ends.get_mut(usize::from(j).wrapping_sub(lo)) {
                    if let Some(pair) = pairs.get_mut(*next) {
                        *pair = (score, stake);
                    }
                    *next = next.wrapping_add(1);
                }
            });
        }
    }

    /// Column c's positive pairs, to select in.
    fn column_mut(&mut self, c: usize) -> &mut [(Fx, Fx)] {
        let start = self.starts.get(c).copied().unwrap_or(0);
        let end = self.ends.get(c).copied().unwrap_or(start);
        self.pairs.get_mut(start..end).unwrap_or(&mut [])
    }
}

/// A full span's positive scores into their columns' next pairs: entry c of the span is
/// column lo + c, so no column is read or checked. Out of line, so that the loop has the
/// registers to itself (inlined, it reloaded the buffers and the stake from the stack).
#[inline(never)]
fn gather_full_span(
    span: &[(u16, u16)],
    norm: RowNorm,
    stake: Fx,
    ends: &mut [usize],
    pairs: &mut [(Fx, Fx)],
) {
    // A zero score is written too but not kept (its column's next pair is not advanced), so
    // the loop has no branch on it. The slot it lands in is still free: this voter has one
    // reserved in the column and has not used it, so it is inside the column's pairs, and a
    // later pair of the column overwrites it or it lies past the column's end.
    for (&(_, raw), next) in span.iter().zip(ends.iter_mut()) {
        let score = norm.apply(raw);
        if let Some(pair) = pairs.get_mut(*next) {
            *pair = (score, stake);
        }
        *next = next.wrapping_add(usize::from(score > ZERO));
    }
}

/// What every column's quantile reads.
struct Quantile {
    n_voters: usize,
    stake_total: Fx,
    minority: Fx,
}

impl Quantile {
    /// The closed form for one column, given its positive (score, stake) pairs.
    fn column(&self, pairs: &mut [(Fx, Fx)]) -> Fx {
        let mut positive_stake = 0_i64;
        let (mut lowest, mut highest) = (i64::MAX, i64::MIN);
        for &(score, stake) in pairs.iter() {
            // Plain: positive stakes of distinct voters sum to at most Σŝ ≤ 1.
            positive_stake = positive_stake.wrapping_add(stake.to_bits());
            lowest = lowest.min(score.to_bits());
            highest = highest.max(score.to_bits());
        }
        let (lowest, highest) = if pairs.is_empty() {
            (ZERO, ZERO)
        } else {
            (Fx::from_bits(lowest), Fx::from_bits(highest))
        };
        let zero_stake = sub(self.stake_total, Fx::from_bits(positive_stake));
        let has_zero_scores = pairs.len() < self.n_voters;
        if has_zero_scores && zero_stake > self.minority {
            return ZERO;
        }
        if self.stake_total <= self.minority {
            // No score gathers more than `minority`: the reference ends on the largest score.
            return highest;
        }
        let mut histogram = [ZERO; BUCKETS];
        smallest_score_above(
            pairs,
            sub(self.minority, zero_stake),
            (lowest, highest),
            &mut histogram,
        )
    }
}

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
        // Every offset is at most `range`, so below 64 << shift: the mask keeps every bucket
        // as it is and leaves no bounds check per entry.
        let bucket = |score: Fx| -> usize {
            let offset = score.to_bits().wrapping_sub(base) as u64;
            offset.checked_shr(shift).unwrap_or(0) as usize & (BUCKETS - 1)
        };
        histogram.fill(ZERO);
        for &(score, stake) in active.iter() {
            if let Some(total) = histogram.get_mut(bucket(score)) {
                // A plain addition: the stakes are positive and all of them sum to Σŝ ≤ 1,
                // so no partial sum can reach the limit where `add` would saturate.
                *total = Fx::from_bits(total.to_bits().wrapping_add(stake.to_bits()));
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
        // Copy the chosen range's entries to the front, noting their bounds; the others are
        // not needed again. The range is offsets `start..=last` from `base`, found with one
        // comparison per entry rather than each entry's bucket: `last` is capped at the
        // largest offset, which changes no answer and keeps the bound from looking like a
        // power of two (the compiler turns that back into a shift).
        let start = (chosen as u64).wrapping_shl(shift);
        let last = 1_u64
            .wrapping_shl(shift)
            .wrapping_sub(1)
            .min(range.wrapping_sub(start));
        let kept_from = base.wrapping_add(start as i64);
        let mut kept = 0_usize;
        (lowest, highest) = (Fx::max_value(), Fx::min_value());
        for index in 0..active.len() {
            let Some(&entry) = active.get(index) else {
                break;
            };
            if (entry.0.to_bits().wrapping_sub(kept_from) as u64) <= last {
                if let Some(slot) = active.get_mut(kept) {
                    *slot = entry;
                }
                kept = kept.saturating_add(1);
                lowest = lowest.min(entry.0);
                highest = highest.max(entry.0);
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

        /// Wide matrices, so the columns span several blocks, with sparse rows (some out of
        /// order, so they take the sorted copies) and zero weights.
        #[test]
        fn blocks_match_the_quickselect(
            n in 60_usize..300,
            seed in any::<u64>(),
            voters in 1_usize..40,
            kappa in 0_u16..=u16::MAX,
        ) {
            let mut rng = crate::test_rng::XorShift::new(seed);
            let mut next = move |below: u64| rng.below(below);
            let rows: Vec<Vec<(u16, Fx)>> = (0..voters).map(|_| {
                let density = 1 + next(8);
                let mut row: Vec<(u16, Fx)> = Vec::new();
                for j in 0..n as u16 {
                    if next(8) < density {
                        row.push((j, Fx::from_bits(next(6) as i64 * (1 << 28) + next(3) as i64)));
                    }
                }
                if next(5) == 0 {
                    row.reverse();
                }
                row
            }).collect();
            let mut active: Vec<Fx> = (0..voters).map(|_| Fx::from_num(next(4))).collect();
            normalize(&mut active);
            let kappa = crate::fixed::u16_param(kappa);
            prop_assert_eq!(
                consensus(&active, &to_matrix(&rows), kappa, n),
                oracle(&active, &rows, kappa, n)
            );
        }

        /// Weight rows as the epoch holds them (views of the input around the left-out
        /// diagonal), mostly full, so many voter rows cover whole blocks and take the
        /// full-span gather: the same consensus as the same normalized rows read entry by
        /// entry from a plain matrix (which never takes it), and as the quickselect. Also on
        /// one thread, whose four tasks then take several blocks each once n > 256 (a task
        /// reuses its buffers from block to block).
        #[test]
        fn full_spans_match_the_entry_walk(
            n in 60_usize..700,
            seed in any::<u64>(),
            voters in 1_usize..40,
            kappa in 0_u16..=u16::MAX,
            owner in any::<bool>(),
        ) {
            let mut rng = crate::test_rng::XorShift::new(seed);
            let mut next = move |below: u64| rng.below(below);
            let voters = voters.min(n);
            let neurons: Vec<crate::NeuronInput> = (0..n).map(|uid| {
                let mut weights: Vec<(u16, u16)> = Vec::new();
                if uid < voters {
                    // Full rows, full rows with a gap or two, a range, or zeros here and there.
                    let shape = next(6);
                    let (gap_a, gap_b) = (next(n as u64) as u16, next(n as u64) as u16);
                    let (from, to) = if shape == 3 {
                        let a = next(n as u64) as u16;
                        (a, a + next((n as u64) - u64::from(a)) as u16)
                    } else {
                        (0, n as u16 - 1)
                    };
                    for j in from..=to {
                        if shape == 1 && (j == gap_a || j == gap_b) {
                            continue;
                        }
                        let w = if shape == 2 && next(20) == 0 { 0 } else { 1 + next(65_535) as u16 };
                        weights.push((j, w));
                    }
                    if shape == 4 && next(3) == 0 {
                        weights.reverse();
                    }
                }
                crate::NeuronInput {
                    stake: if uid < voters { next(4) } else { 0 },
                    tao_stake: 0,
                    commit_block: None,
                    last_update: 1_000,
                    registered_at: 1,
                    validator_permit: uid < voters,
                    weights,
                    bonds: Vec::new(),
                }
            }).collect();
            let input = crate::EpochInput {
                block: 1_000,
                last_epoch_block: 0,
                owner_uid: owner.then_some(0),
                emission_rao: 0,
                params: crate::Params {
                    tempo: 100,
                    activity_cutoff_blocks: 5_000,
                    kappa,
                    bonds_penalty: 0,
                    bonds_moving_average: 900_000,
                    yuma3: false,
                    liquid_alpha: false,
                    alpha_low: 0,
                    alpha_high: 0,
                    alpha_sigmoid_steepness: 0,
                    max_allowed_validators: 64,
                    stake_threshold: 0,
                    tao_weight: 0,
                    commit_reveal: false,
                },
                neurons,
            };
            let registered_at = vec![1_u64; n];
            let permit: Vec<bool> = (0..n).map(|uid| uid < voters).collect();
            let weights = crate::weights::Weights::build(
                &input, &registered_at, &permit, owner.then_some(0), None);
            let rows: Vec<Vec<(u16, Fx)>> = (0..n)
                .map(|i| weights.row(i).entries().collect())
                .collect();
            let mut active: Vec<Fx> = input.neurons.iter().map(|x| Fx::from_num(x.stake)).collect();
            normalize(&mut active);
            let kappa = crate::fixed::u16_param(kappa);
            let from_views = consensus(&active, &weights, kappa, n);
            prop_assert_eq!(&from_views, &consensus(&active, &to_matrix(&rows), kappa, n));
            let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            prop_assert_eq!(&from_views, &one_thread.install(|| consensus(&active, &weights, kappa, n)));
            prop_assert_eq!(from_views, oracle(&active, &rows, kappa, n));
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
