//! Bonds and dividends: classic Yuma EMA bonds, Yuma3 bonds, and liquid alpha.
//!
//! Classic bonds are stored column-max-upscaled and read back as raw integers, then
//! column-normalized; Yuma3 bonds are absolute proportions and are stored as they are.
//!
//! Nothing here materializes Wb or the stored bonds B₀ as matrices: each pass rebuilds one
//! row of each in a reused buffer (from W, C and the input), so the only n-row matrix built
//! is the new bonds B.
//!
//! The steady state has its own one-pass loops: when a row's Wb and B₀ name the same uids in
//! the same ascending order (a validator that keeps weighing the same miners), the EMA is an
//! entry-by-entry combination with no merge, no dense scratch row and no row buffers (see
//! `BondContext::same_uids_as_weights`); the Yuma3 EMA of such a row (fixed or liquid alpha)
//! is not even stored, the dividends recompute it. Every other row takes the general path, which gives
//! the same values for these rows too (a unit test compares the two on random subnets).
//!
//! The one-pass loops run on the raw bits of the I32F32 values (`*_bits` here, helpers in
//! `fixed`) when every operand is known to lie in [0, 1], checked once per epoch: the
//! library's saturating operations cannot saturate there, so plain integer operations give
//! the same bits (each loop states the bounds of the sums it takes).
//!
//! Those loops also take a faster form on runs of adjacent uids (full weight rows, the common
//! case): per-column vectors are sliced to the run once instead of looked up per entry
//! (`BondContext::in_step_parts`), and classic writes its EMA rows straight into the padded
//! allocation they are kept in.
//!
//! The first pass over the rows also yields validator trust (row sums of W̃) and the ranks
//! Σᵢ Aᵢ·W̃ᵢⱼ, since it reads W and C entry by entry anyway.
//!
//! Every pass runs over ranges of rows in parallel (`row_ranges`, balanced by entries). What
//! a range produces is either per row (written in row order) or a per-column sum or maximum
//! that each range keeps for itself and that are combined afterwards. Those sums are of
//! non-negative terms far inside the type's range, so no partial sum saturates and the
//! combined sum has the bits of the reference's row-by-row sum; a maximum does not depend on
//! order at all.

use crate::contract::{NeuronInput, RowEntry};
use crate::epoch::clip;
use crate::fixed::{
    add, all_in_unit_range, fixed_proportion_to_u16, mul, mul_unit, normalize, share_bits_to_u16,
    sub, u16_proportion, u16_proportion_bits, u16_to_fixed, unit_bits, unit_bits_to_u16,
    AlphaSigmoid, ColumnDivisor, ColumnDivisors, Fx, RowNorm, UnitShare, UnitShares, WholeShare,
    WholeShares, ONE, ZERO,
};
use crate::sparse::{PaddedRows, SparseMatrix};
use crate::weights::Weights;
use rayon::prelude::*;

/// 1 as the bits of a fixed-point number.
const ONE_BITS: u64 = 1 << 32_u32;

/// A part of a row's weight entries and the stored bonds beside them (see
/// `BondContext::in_step_parts`).
type InStepPart<'a> = (&'a [(u16, u16)], &'a [RowEntry]);

/// One `(column, value)` entry.
type Entry = (u16, Fx);

/// A reused buffer for one row: columns and values apart.
#[derive(Debug, Default)]
struct RowBuf {
    cols: Vec<u16>,
    vals: Vec<Fx>,
}

impl RowBuf {
    fn clear(&mut self) {
        self.cols.clear();
        self.vals.clear();
    }

    fn reserve(&mut self, additional: usize) {
        self.cols.reserve(additional);
        self.vals.reserve(additional);
    }

    #[inline]
    fn push(&mut self, j: u16, value: Fx) {
        self.cols.push(j);
        self.vals.push(value);
    }

    fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.cols.iter().copied().zip(self.vals.iter().copied())
    }

    fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// Sort the entries by column (rows never repeat a column).
    fn sort_by_column(&mut self) {
        let mut pairs: Vec<Entry> = self.entries().collect();
        pairs.sort_unstable_by_key(|&(j, _)| j);
        self.clear();
        for (j, value) in pairs {
            self.push(j, value);
        }
    }
}

/// How Wb = W + β(W̃ − W) is formed from W.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Penalty {
    /// β = 0: W itself, in stored order.
    Zero,
    /// β = 1: W̃, in stored order.
    One,
    /// 0 < β < 1: the interpolation, entries > 0 only, in ascending uid order.
    Between(Fx),
}

/// The per-epoch data bond computations read.
#[derive(Debug)]
pub(crate) struct BondContext<'a> {
    pub(crate) n: usize,
    pub(crate) active_stake: &'a [Fx],
    pub(crate) consensus: &'a [Fx],
    pub(crate) weights: &'a Weights<'a>,
    pub(crate) penalty: Penalty,
    pub(crate) neurons: &'a [NeuronInput],
    pub(crate) registered_at: &'a [u64],
    /// `last_tempo`: bonds to uids registered at or after it are dropped.
    pub(crate) since: u64,
    /// P′: which rows are written back.
    pub(crate) new_permit: &'a [bool],
    /// Every uid registered before `since`: no stored bond is masked.
    pub(crate) bonds_unmasked: bool,
    /// Every Cⱼ > 0: clipping drops no entry.
    pub(crate) consensus_positive: bool,
    /// Whether rows may take the one-pass loops (always, except in the tests that compare
    /// them with the general path).
    pub(crate) one_pass_rows: bool,
    /// Every Aᵢ and Cⱼ lies in [0, 1] (normalized stake, and quantiles of row-normalized
    /// weights: always, checked once): the one-pass loops may then run on raw bits.
    pub(crate) unit_range: bool,
}

/// New bonds in their storage form (rows without the new permit are empty) and normalized
/// dividends.
#[derive(Debug)]
pub(crate) struct BondResult {
    pub(crate) bonds: Vec<Vec<RowEntry>>,
    pub(crate) dividends: Vec<Fx>,
    /// Validator trust: row sums of W̃.
    pub(crate) validator_trust: Vec<Fx>,
    /// I: normalized ranks Rⱼ = Σᵢ Aᵢ·W̃ᵢⱼ.
    pub(crate) incentive: Vec<Fx>,
}

/// How stored u16 bonds are read: raw integers (classic) or proportions of 65535 (Yuma3).
#[derive(Debug, Clone, Copy)]
pub(crate) enum BondReading {
    Raw,
    Proportion,
}

impl BondReading {
    #[inline]
    pub(crate) fn read(self, stored: u16) -> Fx {
        match self {
            Self::Raw => u16_to_fixed(stored),
            Self::Proportion => u16_proportion(stored),
        }
    }
}

impl BondContext<'_> {
    fn at(values: &[Fx], j: u16) -> Fx {
        values.get(usize::from(j)).copied().unwrap_or(ZERO)
    }

    /// Row `i` of Wb into `out`; returns whether its uids ascend.
    fn weights_for_bonds_row(&self, i: usize, out: &mut RowBuf) -> bool {
        out.clear();
        let row = self.weights.row(i);
        out.reserve(row.len());
        match self.penalty {
            Penalty::Zero => {
                for (j, w) in row.entries() {
                    out.push(j, w);
                }
                row.ascending
            }
            Penalty::One => {
                for (j, w) in row.entries() {
                    let c = Self::at(self.consensus, j);
                    // `clip`: min(w, c), dropped where c ≤ 0 < w.
                    if c <= ZERO && c < w {
                        continue;
                    }
                    out.push(j, w.min(c));
                }
                row.ascending
            }
            Penalty::Between(beta) => {
                for (j, w) in row.entries() {
                    let clipped = clip(w, Self::at(self.consensus, j)).unwrap_or(ZERO);
                    let value = add(w, mul(beta, sub(clipped, w)));
                    if value > ZERO {
                        out.push(j, value);
                    }
                }
                if !row.ascending {
                    out.sort_by_column();
                }
                true
            }
        }
    }

    /// Row `i` of B₀: the stored bonds, read, without those to uids registered since
    /// `last_tempo`; returns whether its uids ascend.
    fn stored_bonds_row(&self, i: usize, reading: BondReading, out: &mut RowBuf) -> bool {
        out.clear();
        let Some(neuron) = self.neurons.get(i) else {
            return true;
        };
        out.reserve(neuron.bonds.len());
        let mut ascending = true;
        let mut previous: Option<u16> = None;
        for &(j, b) in &neuron.bonds {
            let registered = self.registered_at.get(usize::from(j)).copied().unwrap_or(0);
            if self.since > registered {
                if previous.is_some_and(|p| p >= j) {
                    ascending = false;
                }
                previous = Some(j);
                out.push(j, reading.read(b));
            }
        }
        ascending
    }

    /// Whether row `i`'s Wb and B₀ name the same uids in the same ascending order: W's row
    /// ascends, Wb keeps all of it (β = 0, or β = 1 with no entry dropped by a zero
    /// consensus), and the stored bond row has exactly W's uids, none of them masked.
    fn same_uids_as_weights(&self, i: usize) -> bool {
        let row = self.weights.row(i);
        let Some(neuron) = self.neurons.get(i) else {
            return false;
        };
        if !self.one_pass_rows || !row.ascending || row.len() != neuron.bonds.len() {
            return false;
        }
        let check_clip = match self.penalty {
            Penalty::Zero => false,
            Penalty::One => !self.consensus_positive,
            Penalty::Between(_) => return false,
        };
        let norm = row.norm;
        if !check_clip && self.bonds_unmasked {
            // Nothing can be dropped: only the uids need comparing.
            let (bonds_head, bonds_tail) = neuron
                .bonds
                .split_at(row.head.len().min(neuron.bonds.len()));
            return same_uids(row.head, bonds_head) && same_uids(row.tail, bonds_tail);
        }
        self.in_step_pairs(i).all(|(&(j, w), &(bj, _))| {
            let registered = self.registered_at.get(usize::from(j)).copied().unwrap_or(0);
            // `clip` drops an entry exactly where c ≤ 0 and c < w.
            let dropped = check_clip && {
                let c = Self::at(self.consensus, j);
                c <= ZERO && c < norm.apply(w)
            };
            j == bj && self.since > registered && !dropped
        })
    }

    /// Row `i`'s weight entries side by side with its stored bonds, position by position: the
    /// weight row's two parts (around the left-out diagonal) against the matching bond slices.
    /// A chain of two zips, for internal iteration (`for_each`, `fold`, `all`).
    #[inline]
    fn in_step_pairs(&self, i: usize) -> impl Iterator<Item = (&(u16, u16), &RowEntry)> + '_ {
        let row = self.weights.row(i);
        let bonds: &[RowEntry] = self.neurons.get(i).map_or(&[], |neuron| &neuron.bonds);
        let (bonds_head, bonds_tail) = bonds
            .split_at_checked(row.head.len())
            .unwrap_or((bonds, &[]));
        row.head
            .iter()
            .zip(bonds_head)
            .chain(row.tail.iter().zip(bonds_tail))
    }

    /// For a row that passed [`Self::same_uids_as_weights`], in order: the uid, the clipped
    /// weight W̃ᵢⱼ = min(wᵢⱼ, max(Cⱼ, 0)), Wbᵢⱼ and the stored bond.
    #[inline]
    fn in_step_entries(&self, i: usize) -> impl Iterator<Item = (u16, Fx, Fx, u16)> + '_ {
        let norm = self.weights.row(i).norm;
        let clip_to_consensus = matches!(self.penalty, Penalty::One);
        self.in_step_pairs(i).map(move |(&(j, raw), &(_, stored))| {
            let w = norm.apply(raw);
            let c = Self::at(self.consensus, j);
            let clipped = w.min(c.max(ZERO));
            let wb = if clip_to_consensus { w.min(c) } else { w };
            (j, clipped, wb, stored)
        })
    }

    /// Row `i`'s weight entries and its stored bonds as two parts each, around the left-out
    /// diagonal (for a row that passed [`Self::same_uids_as_weights`], the parts name the
    /// same uids), and the row's normalizer: what the raw-bit loops walk.
    ///
    /// Those loops read each entry as [`Self::in_step_entries`] does, on bits, in a context
    /// with `unit_range`: the weight w, W̃ᵢⱼ = `min(w, c)` (with 0 ≤ Cⱼ, `min(w, max(c, 0))`
    /// is `min(w, c)`), Wbᵢⱼ (the same under β = 1, else w) and the stored bond. Every value
    /// is in [0, 1]: a share of its row, or a quantile. A part whose uids are adjacent
    /// ([`contiguous_columns`], a validator weighing every miner of a range) is walked with
    /// the per-column vectors it reads sliced to its range once, so no entry looks up or
    /// bounds-checks a column; any other part looks each column up.
    #[inline(always)]
    fn in_step_parts(&self, i: usize) -> ([InStepPart<'_>; 2], RowNorm) {
        let row = self.weights.row(i);
        let bonds: &[RowEntry] = self.neurons.get(i).map_or(&[], |neuron| &neuron.bonds);
        let (bonds_head, bonds_tail) = bonds
            .split_at_checked(row.head.len())
            .unwrap_or((bonds, &[]));
        ([(row.head, bonds_head), (row.tail, bonds_tail)], row.norm)
    }

    /// [`Self::yuma3_row_in_step`] on raw bits, for a context with `unit_range` and α in
    /// [0, 1] (`keep` = 1 − α). No operation can reach the type's limits, so the library's
    /// saturating operations reduce to plain ones:
    /// * α·Wb + (1−α)·B₀ ≤ α + (1−α) = 1, each product floored;
    /// * trust Σⱼ W̃ᵢⱼ ≤ Σⱼ Wᵢⱼ ≤ 1 (the normalized weights are floored shares of the row);
    /// * a rank Σᵢ Aᵢ·W̃ᵢⱼ ≤ Σᵢ Aᵢ ≤ 1, and a column sum of the EMA ≤ the row count < 2¹⁷,
    ///   far below 2³¹ (the type's integer range).
    fn yuma3_row_in_step_bits(
        &self,
        i: usize,
        alpha: u64,
        keep: u64,
        sums: &mut [Fx],
        ranks: &mut [Fx],
    ) -> (Vec<RowEntry>, Fx) {
        let permit = self.has_new_permit(i);
        let stake = unit_bits(Self::at_uid(self.active_stake, i)).unwrap_or(0);
        let len = self.weights.row(i).len();
        let mut storage = Vec::with_capacity(if permit { len } else { 0 });
        let mut trust = 0_u64;
        let mut entry = |j: u16,
                         clipped: u64,
                         wb: u64,
                         stored: u16,
                         rank: Option<&mut Fx>,
                         total: Option<&mut Fx>| {
            trust = trust.wrapping_add(clipped);
            if let Some(rank) = rank {
                *rank = Fx::from_bits(rank.to_bits().wrapping_add(mul_unit(stake, clipped) as i64));
            }
            let value =
                mul_unit(alpha, wb).wrapping_add(mul_unit(keep, u16_proportion_bits(stored)));
            if value > 0 {
                if let Some(total) = total {
                    *total = Fx::from_bits(total.to_bits().wrapping_add(value as i64));
                }
                if permit {
                    storage.push((j, unit_bits_to_u16(value)));
                }
            }
        };
        let (parts, norm) = self.in_step_parts(i);
        let consensus = self.consensus;
        let clip_to_consensus = matches!(self.penalty, Penalty::One);
        let columns = consensus.len().min(ranks.len()).min(sums.len());
        for (weights, bonds) in parts {
            // A run of adjacent uids (a validator weighing every miner of a range): C, the
            // ranks and the sums are sliced once instead of looked up per entry.
            if let Some(run) = contiguous_columns(weights).filter(|run| run.end <= columns) {
                if let (Some(run_consensus), Some(run_ranks), Some(run_sums)) = (
                    consensus.get(run.clone()),
                    ranks.get_mut(run.clone()),
                    sums.get_mut(run),
                ) {
                    for ((((&(j, raw), &(_, stored)), &c), rank), total) in weights
                        .iter()
                        .zip(bonds)
                        .zip(run_consensus)
                        .zip(run_ranks)
                        .zip(run_sums)
                    {
                        let w = norm.apply_bits(raw);
                        let clipped = w.min(c.to_bits() as u64);
                        let wb = if clip_to_consensus { clipped } else { w };
                        entry(j, clipped, wb, stored, Some(rank), Some(total));
                    }
                    continue;
                }
            }
            for (&(j, raw), &(_, stored)) in weights.iter().zip(bonds) {
                let index = usize::from(j);
                let w = norm.apply_bits(raw);
                let c = consensus.get(index).map_or(0, |&c| c.to_bits() as u64);
                let clipped = w.min(c);
                let wb = if clip_to_consensus { clipped } else { w };
                entry(
                    j,
                    clipped,
                    wb,
                    stored,
                    ranks.get_mut(index),
                    sums.get_mut(index),
                );
            }
        }
        (storage, Fx::from_bits(trust as i64))
    }

    /// Σⱼ B̂ᵢⱼ·Iⱼ for a row that passed [`Self::same_uids_as_weights`], on raw bits (see
    /// `yuma3_dividends` for the bounds): the EMA recomputed by `ema` from (Cⱼ, Wbᵢⱼ, stored
    /// bond) as the first pass computed it, divided by its column's sum, times incentive.
    #[inline(always)]
    fn dividend_in_step_bits(
        &self,
        i: usize,
        divisors: &ColumnDivisors,
        incentive: &[Fx],
        mut ema: impl FnMut(u64, u64, u16) -> u64,
    ) -> u64 {
        let mut total = 0_u64;
        let mut entry = |value: u64, divisor: Option<&ColumnDivisor>, at: u64| {
            if value > 0 {
                let normalized = divisor.map_or(value, |divisor| divisor.divide_share(value));
                total = total.wrapping_add(mul_unit(normalized, at));
            }
        };
        let (parts, norm) = self.in_step_parts(i);
        let consensus = self.consensus;
        // Wbᵢⱼ = min(w, c | unclipped): all ones leave w as it is; a mask rather than a branch
        // in the loop, which the closure would otherwise keep from being hoisted.
        let unclipped = if matches!(self.penalty, Penalty::One) {
            0
        } else {
            u64::MAX
        };
        let columns = consensus.len().min(incentive.len());
        for (weights, bonds) in parts {
            // A run of adjacent uids: C, the divisors and I sliced once (as in
            // `yuma3_row_in_step_bits`).
            if let Some(run) = contiguous_columns(weights).filter(|run| run.end <= columns) {
                if let (Some(run_consensus), Some(run_divisors), Some(run_incentive)) = (
                    consensus.get(run.clone()),
                    divisors.run(run.clone()),
                    incentive.get(run),
                ) {
                    for ((((&(_, raw), &(_, stored)), &c), divisor), &at) in weights
                        .iter()
                        .zip(bonds)
                        .zip(run_consensus)
                        .zip(run_divisors)
                        .zip(run_incentive)
                    {
                        let c = c.to_bits() as u64;
                        let w = norm.apply_bits(raw);
                        let wb = w.min(c | unclipped);
                        entry(ema(c, wb, stored), Some(divisor), at.to_bits() as u64);
                    }
                    continue;
                }
            }
            for (&(j, raw), &(_, stored)) in weights.iter().zip(bonds) {
                let index = usize::from(j);
                let w = norm.apply_bits(raw);
                let c = consensus.get(index).map_or(0, |&c| c.to_bits() as u64);
                let wb = w.min(c | unclipped);
                let at = incentive.get(index).map_or(0, |&x| x.to_bits() as u64);
                entry(ema(c, wb, stored), divisors.column(j), at);
            }
        }
        total
    }

    /// Classic's first pass over a row that passed [`Self::same_uids_as_weights`], on raw
    /// bits (see `yuma3_row_in_step_bits` for the bounds; a stored bond column sums at most
    /// 65535 · 2¹⁵ < 2³¹): adds Aᵢ·W̃ᵢⱼ, B₀ᵢⱼ and Wbᵢⱼ·Aᵢ to `columns` (the ranks, the
    /// column sums of B₀ as whole numbers, and those of ΔB); returns the trust Σⱼ W̃ᵢⱼ.
    ///
    /// It also writes each entry's uid and [`pack_ema_operands`] of (Wbᵢⱼ·Aᵢ, B₀ᵢⱼ) into
    /// `room` (the row's EMA room, its weight row's length): the EMA pass then reads one
    /// value per entry instead of renormalizing, clipping and weighting the weight again.
    #[inline(always)]
    fn classic_sums_in_step_bits(
        &self,
        i: usize,
        stake: u64,
        columns: (&mut [Fx], &mut [u64], &mut [Fx]),
        room: (&mut [u16], &mut [Fx]),
    ) -> u64 {
        if matches!(self.penalty, Penalty::One) {
            self.classic_sums_in_step_bits_as::<true>(i, stake, columns, room)
        } else {
            self.classic_sums_in_step_bits_as::<false>(i, stake, columns, room)
        }
    }

    /// [`Self::classic_sums_in_step_bits`] for Wb = W̃ (`CLIP`, β = 1) or W (β = 0): a
    /// constant rather than a flag read per entry, and under β = 1 the rank's term Aᵢ·W̃ᵢⱼ is
    /// ΔBᵢⱼ itself (one product for both).
    #[inline(always)]
    fn classic_sums_in_step_bits_as<const CLIP: bool>(
        &self,
        i: usize,
        stake: u64,
        columns: (&mut [Fx], &mut [u64], &mut [Fx]),
        room: (&mut [u16], &mut [Fx]),
    ) -> u64 {
        let (ranks, old_sums, delta_sums) = columns;
        let (cols, vals) = room;
        let mut trust = 0_u64;
        let mut written = 0_usize;
        let (parts, norm) = self.in_step_parts(i);
        let consensus = self.consensus;
        let width = consensus
            .len()
            .min(ranks.len())
            .min(old_sums.len())
            .min(delta_sums.len());
        for (weights, bonds) in parts {
            let start = written;
            written = written.saturating_add(weights.len());
            // The row's room holds its weight row: never short (the EMA pass skips the same
            // part should it be).
            let (Some(room_cols), Some(room_vals)) =
                (cols.get_mut(start..written), vals.get_mut(start..written))
            else {
                written = start;
                continue;
            };
            // A run of adjacent uids: C and the sums sliced once (as in
            // `yuma3_row_in_step_bits`).
            if let Some(run) = contiguous_columns(weights).filter(|run| run.end <= width) {
                // The uids apart, in a loop of their own (one pointer fewer in the
                // arithmetic's): a run's are consecutive, which vectorizes.
                for (col, uid) in room_cols.iter_mut().zip(run.clone()) {
                    *col = uid as u16;
                }
                if let (Some(run_consensus), Some(run_ranks), Some(run_old), Some(run_delta)) = (
                    consensus.get(run.clone()),
                    ranks.get_mut(run.clone()),
                    old_sums.get_mut(run.clone()),
                    delta_sums.get_mut(run),
                ) {
                    for ((((((&(_, raw), &(_, stored)), &c), rank), old), delta), slot) in weights
                        .iter()
                        .zip(bonds)
                        .zip(run_consensus)
                        .zip(run_ranks)
                        .zip(run_old)
                        .zip(run_delta)
                        .zip(room_vals.iter_mut())
                    {
                        let w = norm.apply_bits(raw);
                        let clipped = w.min(c.to_bits() as u64);
                        // Never exits (a row's trust is at most 1), but a loop with an exit
                        // is not vectorized: the SSE2 form (a 64-bit minimum emulated, every
                        // product moved between registers) took more instructions and time.
                        let Some(sum) = trust.checked_add(clipped) else {
                            break;
                        };
                        trust = sum;
                        let ranked = mul_unit(stake, clipped);
                        let weighted = if CLIP { ranked } else { mul_unit(w, stake) };
                        *rank = add_bits(*rank, ranked);
                        // At most 65536 u16 terms: below 2³², no wrap.
                        *old = old.wrapping_add(u64::from(stored));
                        *delta = add_bits(*delta, weighted);
                        *slot = pack_ema_operands(weighted, stored);
                    }
                    continue;
                }
            }
            for (col, &(j, _)) in room_cols.iter_mut().zip(weights) {
                *col = j;
            }
            for ((&(j, raw), &(_, stored)), slot) in weights.iter().zip(bonds).zip(room_vals) {
                let index = usize::from(j);
                let w = norm.apply_bits(raw);
                let c = consensus.get(index).map_or(0, |&c| c.to_bits() as u64);
                let clipped = w.min(c);
                let ranked = mul_unit(stake, clipped);
                let weighted = if CLIP { ranked } else { mul_unit(w, stake) };
                trust = trust.wrapping_add(clipped);
                if let (Some(rank), Some(old), Some(delta)) = (
                    ranks.get_mut(index),
                    old_sums.get_mut(index),
                    delta_sums.get_mut(index),
                ) {
                    *rank = add_bits(*rank, ranked);
                    *old = old.wrapping_add(u64::from(stored));
                    *delta = add_bits(*delta, weighted);
                }
                *slot = pack_ema_operands(weighted, stored);
            }
        }
        trust
    }

    /// Classic's EMA `α·ΔB̂ᵢⱼ + (1−α)·B̂₀ᵢⱼ` for a row whose first pass took
    /// [`Self::classic_sums_in_step_bits`], on raw bits: ΔBᵢⱼ = Wbᵢⱼ·Aᵢ and B₀ᵢⱼ are at most
    /// their columns' sums, so both normalized terms and the EMA lie in [0, 1], and an EMA
    /// column sum is at most the row count. The row's room (`cols`/`vals`) holds the uids and
    /// the packed (ΔBᵢⱼ, B₀ᵢⱼ) that pass wrote; each value is replaced by its EMA, which also
    /// goes to `columns`' sums and maxima. The entries > 0 are kept, in order; returns how
    /// many. `rates` is (α, 1 − α); `divisors` the column sums of ΔB (in [0, 1]:
    /// `UnitShares`) and of B₀ (whole: `WholeShares`).
    ///
    /// A zero is rare (both floored terms must be 0), so every entry is written in place,
    /// without a check or a length to keep per entry, and only a row with a zero is compacted
    /// afterwards. A zero adds nothing to its column's sum and cannot raise its maximum
    /// (≥ 0), so the columns take every entry.
    #[inline(always)]
    fn classic_ema_in_step_bits(
        &self,
        i: usize,
        rates: (u64, u64),
        divisors: (&UnitShares, &WholeShares),
        columns: &mut ColumnStats,
        cols: &mut [u16],
        vals: &mut [Fx],
    ) -> usize {
        let mut written = 0_usize;
        let mut zeros = 0_usize;
        let (delta_divisors, old_divisors) = divisors;
        let (parts, _) = self.in_step_parts(i);
        let width = columns.columns.len();
        for (weights, _) in parts {
            let start = written;
            written = written.saturating_add(weights.len());
            let (Some(room_cols), Some(room_vals)) =
                (cols.get(start..written), vals.get_mut(start..written))
            else {
                written = start;
                continue;
            };
            // A run of adjacent uids: both divisors, the sums and maxima sliced once (as in
            // `yuma3_row_in_step_bits`).
            if let Some(run) = contiguous_columns(weights).filter(|run| run.end <= width) {
                if let (Some(run_delta), Some(run_old), Some(run_columns)) = (
                    delta_divisors.run(run.clone()),
                    old_divisors.run(run.clone()),
                    columns.columns.get_mut(run),
                ) {
                    for (((slot, delta), old), (total, max)) in room_vals
                        .iter_mut()
                        .zip(run_delta)
                        .zip(run_old)
                        .zip(run_columns)
                    {
                        let value = classic_ema_value(rates, *slot, (Some(delta), Some(old)));
                        zeros = zeros.wrapping_add(usize::from(value == 0));
                        *slot = Fx::from_bits(value as i64);
                        *total = add_bits(*total, value);
                        *max = (*max).max(Fx::from_bits(value as i64));
                    }
                    continue;
                }
            }
            for (&j, slot) in room_cols.iter().zip(room_vals.iter_mut()) {
                let index = usize::from(j);
                let value = classic_ema_value(
                    rates,
                    *slot,
                    (delta_divisors.column(j), old_divisors.column(j)),
                );
                zeros = zeros.wrapping_add(usize::from(value == 0));
                *slot = Fx::from_bits(value as i64);
                if let Some((total, max)) = columns.columns.get_mut(index) {
                    *total = add_bits(*total, value);
                    *max = (*max).max(Fx::from_bits(value as i64));
                }
            }
        }
        if zeros == 0 {
            return written;
        }
        // Keep the entries > 0, in order.
        let mut len = 0_usize;
        for k in 0..written {
            if let (Some(&j), Some(&value)) = (cols.get(k), vals.get(k)) {
                if value > ZERO {
                    if let (Some(col), Some(slot)) = (cols.get_mut(len), vals.get_mut(len)) {
                        (*col, *slot) = (j, value);
                    }
                    len = len.wrapping_add(1);
                }
            }
        }
        len
    }

    /// Validator trust of row `i` (Σⱼ W̃ᵢⱼ), adding Aᵢ·W̃ᵢⱼ to `ranks`: the general path.
    ///
    /// With w ≥ 0, `clip(w, c)` is `min(w, max(c, 0))` where it keeps the entry and drops it
    /// only where that is 0: a dropped entry adds nothing.
    fn trust_row(&self, i: usize, ranks: &mut [Fx]) -> Fx {
        let stake = Self::at_uid(self.active_stake, i);
        self.weights.row(i).entries().fold(ZERO, |trust, (j, w)| {
            let clipped = w.min(Self::at(self.consensus, j).max(ZERO));
            add_rank(ranks, j, stake, clipped);
            add(trust, clipped)
        })
    }

    /// Liquid alpha's EMA for a row that passed [`Self::same_uids_as_weights`]: the entries
    /// > 0, in order.
    ///
    /// Both rows ascend, so the reference's lockstep walk sees every entry: α for uid j reads
    /// this row's own Wbᵢⱼ and B₀ᵢⱼ, and the output follows the (ascending) weight row.
    #[inline]
    fn liquid_ema_in_step(
        &self,
        i: usize,
        sigmoid: AlphaSigmoid,
    ) -> impl Iterator<Item = (u16, Fx)> + '_ {
        self.in_step_entries(i)
            .map(move |(j, _, w, stored)| {
                let b = u16_proportion(stored);
                let alpha = sigmoid.alpha_cached(Self::at(self.consensus, j), w, b);
                (j, liquid_ema(alpha, w, b))
            })
            .filter(|&(_, value)| value > ZERO)
    }

    /// One pass over a row that passed [`Self::same_uids_as_weights`] (liquid alpha, the
    /// general path): its trust and ranks, and its EMA into the column sums; returns the
    /// storage row (empty without the new permit) and the trust. The EMA itself is not kept:
    /// the dividends recompute it ([`Self::liquid_ema_in_step`], the same expression).
    fn liquid_row_in_step(
        &self,
        i: usize,
        sigmoid: AlphaSigmoid,
        sums: &mut [Fx],
        ranks: &mut [Fx],
    ) -> (Vec<RowEntry>, Fx) {
        let len = self.weights.row(i).len();
        let permit = self.has_new_permit(i);
        let stake = Self::at_uid(self.active_stake, i);
        let mut storage = Vec::with_capacity(if permit { len } else { 0 });
        let mut trust = ZERO;
        self.in_step_entries(i).for_each(|(j, clipped, w, stored)| {
            trust = add(trust, clipped);
            add_rank(ranks, j, stake, clipped);
            let b = u16_proportion(stored);
            let alpha = sigmoid.alpha_cached(Self::at(self.consensus, j), w, b);
            let value = liquid_ema(alpha, w, b);
            if value > ZERO {
                if let Some(total) = sums.get_mut(usize::from(j)) {
                    *total = add(*total, value);
                }
                if permit {
                    storage.push((j, fixed_proportion_to_u16(value)));
                }
            }
        });
        (storage, trust)
    }

    /// [`Self::liquid_row_in_step`] on raw bits, for a context with `unit_range`: α, 1 − α,
    /// W̃, Wb and B₀ all lie in [0, 1], so the EMA `min(1, (1−α)·b + α·w)` needs no clamp
    /// below 0, and the trust, rank and column sums stay within the bounds given at
    /// `yuma3_row_in_step_bits`. The EMA itself is not kept: the dividends recompute it
    /// ([`Self::liquid_dividend_in_step_bits`]), reading from `alphas` (appended to here, in
    /// order) each α whose sigmoid argument is not 0, so no exponential is taken twice.
    /// Returns the storage row and the trust.
    fn liquid_row_in_step_bits(
        &self,
        i: usize,
        sigmoid: AlphaSigmoid,
        alphas: &mut Vec<u64>,
        sums: &mut [Fx],
        ranks: &mut [Fx],
    ) -> (Vec<RowEntry>, Fx) {
        let len = self.weights.row(i).len();
        let permit = self.has_new_permit(i);
        let stake = unit_bits(Self::at_uid(self.active_stake, i)).unwrap_or(0);
        let mut state = LiquidRowState {
            sigmoid,
            at_zero: sigmoid.at_zero_bits(),
            stake,
            trust: 0,
            storage: Vec::with_capacity(if permit { len } else { 0 }),
            permit,
            alphas,
        };
        let (parts, norm) = self.in_step_parts(i);
        let consensus = self.consensus;
        let clip_to_consensus = matches!(self.penalty, Penalty::One);
        let width = consensus.len().min(ranks.len()).min(sums.len());
        for (weights, bonds) in parts {
            // A run of adjacent uids: C, the ranks and the sums sliced once (as in
            // `yuma3_row_in_step_bits`).
            if let Some(run) = contiguous_columns(weights).filter(|run| run.end <= width) {
                if let (Some(run_consensus), Some(run_ranks), Some(run_sums)) = (
                    consensus.get(run.clone()),
                    ranks.get_mut(run.clone()),
                    sums.get_mut(run),
                ) {
                    for ((((&(j, raw), &(_, stored)), &c), rank), total) in weights
                        .iter()
                        .zip(bonds)
                        .zip(run_consensus)
                        .zip(run_ranks)
                        .zip(run_sums)
                    {
                        let c = c.to_bits() as u64;
                        let w = norm.apply_bits(raw);
                        let clipped = w.min(c);
                        let wb = if clip_to_consensus { clipped } else { w };
                        state.entry((j, c, clipped, wb, stored), Some(rank), Some(total));
                    }
                    continue;
                }
            }
            for (&(j, raw), &(_, stored)) in weights.iter().zip(bonds) {
                let index = usize::from(j);
                let c = consensus.get(index).map_or(0, |&c| c.to_bits() as u64);
                let w = norm.apply_bits(raw);
                let clipped = w.min(c);
                let wb = if clip_to_consensus { clipped } else { w };
                state.entry(
                    (j, c, clipped, wb, stored),
                    ranks.get_mut(index),
                    sums.get_mut(index),
                );
            }
        }
        (state.storage, Fx::from_bits(state.trust as i64))
    }

    /// Yuma3's fixed-alpha EMA for a row that passed [`Self::same_uids_as_weights`]:
    /// `α·Wb + (1−α)·B₀` per uid, the entries > 0, in order. Cheap enough to compute twice
    /// (for the column sums and storage, then for the dividends) instead of storing the row.
    #[inline]
    fn fixed_ema_in_step(
        &self,
        i: usize,
        alpha: Fx,
        keep: Fx,
    ) -> impl Iterator<Item = (u16, Fx)> + '_ {
        self.in_step_entries(i)
            .map(move |(j, _, wb, stored)| {
                (j, add(mul(alpha, wb), mul(keep, u16_proportion(stored))))
            })
            .filter(|&(_, value)| value > ZERO)
    }

    /// One pass over a row that passed [`Self::same_uids_as_weights`] (fixed alpha): its
    /// trust and ranks, and its EMA into the column sums; returns the storage row (empty
    /// without the new permit) and the trust. The EMA itself is not kept: the dividends
    /// recompute it ([`Self::fixed_ema_in_step`], the same expression).
    fn yuma3_row_in_step(
        &self,
        i: usize,
        alpha: Fx,
        keep: Fx,
        sums: &mut [Fx],
        ranks: &mut [Fx],
    ) -> (Vec<RowEntry>, Fx) {
        let permit = self.has_new_permit(i);
        let stake = Self::at_uid(self.active_stake, i);
        let len = self.weights.row(i).len();
        let mut storage = Vec::with_capacity(if permit { len } else { 0 });
        let mut trust = ZERO;
        // Internal iteration (`for_each`): a `for` loop would step the chain one `next` call
        // at a time.
        self.in_step_entries(i)
            .for_each(|(j, clipped, wb, stored)| {
                trust = add(trust, clipped);
                add_rank(ranks, j, stake, clipped);
                let value = add(mul(alpha, wb), mul(keep, u16_proportion(stored)));
                if value > ZERO {
                    if let Some(total) = sums.get_mut(usize::from(j)) {
                        *total = add(*total, value);
                    }
                    if permit {
                        storage.push((j, fixed_proportion_to_u16(value)));
                    }
                }
            });
        (storage, trust)
    }

    fn has_new_permit(&self, i: usize) -> bool {
        self.new_permit.get(i).copied().unwrap_or(false)
    }
}

/// Classic's EMA operands for one entry, as the first pass hands them to the EMA pass in the
/// entry's EMA slot: ΔBᵢⱼ = Wbᵢⱼ·Aᵢ (bits at most 2³², a product of two values in [0, 1])
/// above the stored bond B₀ᵢⱼ (16 bits), 49 bits in all.
#[inline(always)]
fn pack_ema_operands(weighted: u64, stored: u16) -> Fx {
    Fx::from_bits(((weighted << 16_u32) | u64::from(stored)) as i64)
}

/// One entry of [`BondContext::classic_ema_in_step_bits`]: `rates` is (α, 1 − α), `packed`
/// the entry's [`pack_ema_operands`], then column j's ΔB and B₀ divisors; returns the EMA's
/// bits. A function rather than a closure so that both loops inline it.
#[inline(always)]
fn classic_ema_value(
    rates: (u64, u64),
    packed: Fx,
    divisors: (Option<&UnitShare>, Option<&WholeShare>),
) -> u64 {
    let (alpha, keep) = rates;
    let bits = packed.to_bits() as u64;
    let (weighted, stored) = (bits >> 16_u32, bits as u16);
    let delta = divisors
        .0
        .map_or(weighted, |divisor| divisor.divide(weighted));
    let old = divisors.1.map_or(u64::from(stored) << 32_u32, |divisor| {
        divisor.divide(u32::from(stored))
    });
    mul_unit(alpha, delta).wrapping_add(mul_unit(keep, old))
}

/// What [`BondContext::liquid_row_in_step_bits`] carries from entry to entry.
struct LiquidRowState<'a> {
    sigmoid: AlphaSigmoid,
    /// α for a difference of 0, as bits.
    at_zero: u64,
    /// Aᵢ's bits.
    stake: u64,
    trust: u64,
    storage: Vec<RowEntry>,
    permit: bool,
    /// The α of each entry whose sigmoid argument is not 0, in order.
    alphas: &'a mut Vec<u64>,
}

impl LiquidRowState<'_> {
    /// The full sigmoid for a non-zero difference, kept for the dividends; out of line, so
    /// the exponential's code stays out of the entry loop.
    #[inline(never)]
    fn kept_alpha(&mut self, diff: u64) -> u64 {
        let alpha = self.sigmoid.alpha_of_diff_bits(diff);
        self.alphas.push(alpha);
        alpha
    }

    /// One entry: (uid, Cⱼ, W̃ᵢⱼ, Wbᵢⱼ, stored bond), all bits in [0, 1] but the bond; its
    /// rank and column sum, where they exist.
    #[inline(always)]
    fn entry(
        &mut self,
        (j, c, clipped, w, stored): (u16, u64, u64, u64, u16),
        rank: Option<&mut Fx>,
        total: Option<&mut Fx>,
    ) {
        self.trust = self.trust.wrapping_add(clipped);
        if let Some(rank) = rank {
            *rank = add_bits(*rank, mul_unit(self.stake, clipped));
        }
        let b = u16_proportion_bits(stored);
        let alpha = match AlphaSigmoid::diff_bits(c, w, b) {
            0 => self.at_zero,
            diff => self.kept_alpha(diff),
        };
        let value = liquid_ema_bits(alpha, w, b);
        if value > 0 {
            if let Some(total) = total {
                *total = add_bits(*total, value);
            }
            if self.permit {
                self.storage.push((j, unit_bits_to_u16(value)));
            }
        }
    }
}

/// Liquid alpha's EMA entry, `min(1, (1−α)·b + max(0, α·w))`, as the reference computes it.
#[inline]
fn liquid_ema(alpha: Fx, w: Fx, b: Fx) -> Fx {
    add(mul(sub(ONE, alpha), b), mul(alpha, w).max(ZERO)).min(ONE)
}

/// Liquid alpha's EMA entry on bits, `min(1, (1−α)·b + α·w)`, for α, w and b in [0, 1].
#[inline(always)]
fn liquid_ema_bits(alpha: u64, w: u64, b: u64) -> u64 {
    let decayed = mul_unit(ONE_BITS.wrapping_sub(alpha), b);
    decayed.wrapping_add(mul_unit(alpha, w)).min(ONE_BITS)
}

/// The α that [`BondContext::liquid_row_in_step_bits`] kept, read back in the same order.
struct KeptAlphas<'a> {
    alphas: &'a [u64],
    next: usize,
}

impl KeptAlphas<'_> {
    /// α for an entry whose sigmoid argument is `diff`: the next kept one where it is not 0,
    /// else `at_zero`. Without a branch on the data (a select and a conditional step), since
    /// which entries need the sigmoid follows no pattern.
    #[inline(always)]
    fn take(&mut self, diff: u64, at_zero: u64) -> u64 {
        let kept = self.alphas.get(self.next).copied().unwrap_or(at_zero);
        let uncached = diff != 0;
        self.next = self.next.wrapping_add(usize::from(uncached));
        if uncached {
            kept
        } else {
            at_zero
        }
    }
}

/// Runs shorter than this are walked entry by entry: slicing the per-column vectors costs
/// about as much as a few lookups.
const MIN_RUN: usize = 8;

/// The run of adjacent uids that starts at position `p` of a row's columns, as (positions,
/// uids): `cols[p..end]` are exactly the uids `first..first + (end - p)`. Found by galloping
/// (so a run of length 1 costs one probe), then checked entry by entry, so a row out of
/// order only ever gives shorter runs, never a wrong one.
fn adjacent_run(
    cols: &[u16],
    p: usize,
) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let first = usize::from(*cols.get(p)?);
    let adjacent = |q: usize| {
        cols.get(q)
            .is_some_and(|&c| usize::from(c).wrapping_sub(first) == q.wrapping_sub(p))
    };
    let last = cols.len().saturating_sub(1);
    let end = if adjacent(last) {
        cols.len()
    } else {
        // adjacent(lo) holds and adjacent(hi) does not; in a strictly ascending row the
        // property holds up to some position and fails from there on.
        let (mut lo, mut step) = (p, 1_usize);
        let mut hi = loop {
            let q = p.saturating_add(step);
            if q >= last || !adjacent(q) {
                break q.min(last);
            }
            lo = q;
            step = step.saturating_mul(2);
        };
        while hi.saturating_sub(lo) > 1 {
            let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
            if adjacent(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo.saturating_add(1)
    };
    let uids = first..first.saturating_add(end.saturating_sub(p));
    // Compared in u16 lanes (eight to a vector register, not two): `adjacent(end - 1)` holds
    // (the search only ends past a position where it does), so the last uid of the run,
    // `first + (end - 1 - p)`, is a u16 and no uid of it wraps.
    let first_u16 = *cols.get(p)?;
    let checked = cols
        .get(p..end)?
        .iter()
        .enumerate()
        .fold(0_u16, |differ, (k, &c)| {
            differ | (c ^ first_u16.wrapping_add(k as u16))
        })
        == 0;
    checked.then_some((p..end, uids))
}

/// Whether the entries of `weights` and `bonds` name the same uids, position by position (up
/// to the shorter of the two). No early exit, and the OR of the uids' XORs, a lane-wise
/// reduction, rather than a conjunction of comparisons: the loop vectorizes into a few
/// instructions per entry.
fn same_uids(weights: &[(u16, u16)], bonds: &[RowEntry]) -> bool {
    weights
        .iter()
        .zip(bonds)
        .fold(0_u16, |differ, (&(j, _), &(bj, _))| differ | (j ^ bj))
        == 0
}

/// The uids of a strictly ascending part of a row, as a range, when they are adjacent (the
/// first and last uid then leave no room for a gap).
#[inline(always)]
fn contiguous_columns(part: &[(u16, u16)]) -> Option<std::ops::Range<usize>> {
    let (&(first, _), &(last, _)) = (part.first()?, part.last()?);
    let (start, end) = (usize::from(first), usize::from(last).checked_add(1)?);
    (end.checked_sub(start)? == part.len()).then_some(start..end)
}

/// Rⱼ += Aᵢ·W̃ᵢⱼ. A zero stake adds zero: the reference's sum is unchanged by it.
#[inline]
fn add_rank(ranks: &mut [Fx], j: u16, stake: Fx, clipped: Fx) {
    if let Some(rank) = ranks.get_mut(usize::from(j)) {
        *rank = add(*rank, mul(stake, clipped));
    }
}

/// Validator trust and incentive from the ranges' trusts (in row order) and partial ranks.
fn trust_and_incentive<'p>(
    n: usize,
    trusts: impl Iterator<Item = &'p Vec<Fx>>,
    ranks: impl Iterator<Item = &'p Vec<Fx>>,
) -> (Vec<Fx>, Vec<Fx>) {
    let validator_trust = trusts.flatten().copied().collect();
    let mut incentive = add_partial_sums(n, ranks);
    normalize(&mut incentive);
    (validator_trust, incentive)
}

/// Sum each column of the row `(cols, vals)` into `sums`.
fn add_to_columns(sums: &mut [Fx], cols: &[u16], vals: &[Fx]) {
    for (&j, &value) in cols.iter().zip(vals) {
        if let Some(total) = sums.get_mut(usize::from(j)) {
            *total = add(*total, value);
        }
    }
}

/// One prepared divisor per column; a zero column divides by nothing.
fn column_divisors(totals: &[Fx]) -> ColumnDivisors {
    ColumnDivisors::new(totals)
}

#[inline]
fn divide_by_column(divisors: &ColumnDivisors, j: u16, value: Fx) -> Fx {
    divisors.divide(j, value)
}

fn storage_row(cols: &[u16], vals: &[Fx]) -> Vec<RowEntry> {
    cols.iter()
        .zip(vals)
        .map(|(&j, &b)| (j, fixed_proportion_to_u16(b)))
        .collect()
}

/// Add each range's column sums (of non-negative terms, so in any order) into one vector.
fn add_partial_sums<'p>(n: usize, partials: impl Iterator<Item = &'p Vec<Fx>>) -> Vec<Fx> {
    let mut sums = vec![ZERO; n];
    for partial in partials {
        for (total, &value) in sums.iter_mut().zip(partial) {
            *total = add(*total, value);
        }
    }
    sums
}

/// Classic Yuma: B = α·ΔB + (1−α)·B₀ on column-normalized bonds, ΔB = column-normalized Wb∘A.
///
/// Three passes over the rows, each in parallel ranges of rows: column sums of B₀ and ΔB; the
/// EMA and its column sums and maxima; the normalized EMA, the dividends and the storage
/// rows. Every sum is of non-negative terms and a maximum does not depend on order, so each
/// range keeps its own and they are combined afterwards.
pub(crate) fn classic(ctx: &BondContext<'_>, alpha: Fx) -> BondResult {
    let n = ctx.n;
    let keep = ONE.saturating_sub(alpha);
    let ranges = row_ranges(ctx);
    // The raw-bit loops' preconditions, checked once.
    let unit_alpha = unit_bits(alpha)
        .zip(unit_bits(keep))
        .filter(|_| ctx.unit_range);
    let unit_stake = |stake: Fx| unit_bits(stake).filter(|_| unit_alpha.is_some());

    // Rows whose Wb and B₀ name the same uids in order take one-pass loops.
    let in_step: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| ctx.same_uids_as_weights(i))
        .collect();
    // The EMA rows, in one padded allocation: a one-pass row's EMA names exactly its weight
    // row's uids; other rows at most those of Wb and B₀. Tight room matters: the allocation
    // is zeroed every epoch. The first pass already fills a one-pass row's room with what
    // its EMA is computed from (see `classic_sums_in_step_bits`).
    let mut ema_rows = PaddedRows::new((0..n).map(|i| {
        if in_step.get(i).copied().unwrap_or(false) {
            ctx.weights.row(i).len()
        } else {
            ema_row_capacity(ctx, i)
        }
    }));

    // Column sums of B₀ and of ΔB = Wb∘A, validator trust and the ranks.
    let sums: Vec<ClassicSums> = ema_rows
        .split_mut(&ranges)
        .into_par_iter()
        .zip(&ranges)
        .map(|(mut room, rows)| {
            let mut new_row = RowBuf::default();
            let mut old_row = RowBuf::default();
            let mut old_sums = vec![0_u64; n];
            let mut delta_sums = vec![ZERO; n];
            let mut ranks = vec![ZERO; n];
            let mut trust = Vec::with_capacity(rows.len());
            for (r, i) in rows.clone().enumerate() {
                let stake = BondContext::at_uid(ctx.active_stake, i);
                if in_step.get(i).copied().unwrap_or(false) {
                    if let Some(stake) = unit_stake(stake) {
                        // Raw bits (see `yuma3_row_in_step_bits` for the bounds); a stored
                        // bond column sums at most 65535 · 2¹⁵ < 2³¹.
                        let row_trust = ctx.classic_sums_in_step_bits(
                            i,
                            stake,
                            (&mut ranks, &mut old_sums, &mut delta_sums),
                            room.room_mut(r),
                        );
                        trust.push(Fx::from_bits(row_trust as i64));
                        continue;
                    }
                    let mut row_trust = ZERO;
                    ctx.in_step_entries(i).for_each(|(j, clipped, wb, stored)| {
                        row_trust = add(row_trust, clipped);
                        add_rank(&mut ranks, j, stake, clipped);
                        let index = usize::from(j);
                        if let (Some(old), Some(delta)) =
                            (old_sums.get_mut(index), delta_sums.get_mut(index))
                        {
                            *old = old.saturating_add(u64::from(stored));
                            *delta = add(*delta, mul(wb, stake));
                        }
                    });
                    trust.push(row_trust);
                    continue;
                }
                trust.push(ctx.trust_row(i, &mut ranks));
                ctx.stored_bonds_row(i, BondReading::Raw, &mut old_row);
                for (&j, value) in old_row.cols.iter().zip(&old_row.vals) {
                    if let Some(total) = old_sums.get_mut(usize::from(j)) {
                        // A raw reading is a whole u16: its integer part is all of it.
                        *total = total.saturating_add((value.to_bits() >> 32_u32) as u64);
                    }
                }
                ctx.weights_for_bonds_row(i, &mut new_row);
                for (j, w) in new_row.entries() {
                    if let Some(total) = delta_sums.get_mut(usize::from(j)) {
                        *total = add(*total, mul(w, stake));
                    }
                }
            }
            ClassicSums {
                old_sums,
                delta_sums,
                trust,
                ranks,
            }
        })
        .collect();
    let old_divisors = column_divisors(&whole_sums(n, sums.iter().map(|s| &s.old_sums)));
    let delta_divisors = column_divisors(&add_partial_sums(n, sums.iter().map(|s| &s.delta_sums)));
    // B₀'s column sums are sums of u16 integers, so whole: their divisors are prepared once
    // for the one-pass loop (`None`, and the general path, should one not be).
    let old_shares = unit_alpha.and_then(|_| WholeShares::new(&old_divisors));
    // ΔB's column sums are at most Σᵢ Aᵢ ≤ 1: shift-free share divisors (`None`, and the
    // general path, should one not be).
    let delta_shares = unit_alpha.and_then(|_| UnitShares::new(&delta_divisors));
    let (validator_trust, incentive) = trust_and_incentive(
        n,
        sums.iter().map(|s| &s.trust),
        sums.iter().map(|s| &s.ranks),
    );

    // The EMA of the column-normalized terms, and its column sums and maxima. Each general
    // row is built in a small reused matrix, then stored in its room.
    let ema_stats: Vec<ColumnStats> =
        ema_rows
            .split_mut(&ranges)
            .into_par_iter()
            .zip(&ranges)
            .map(|(mut stored, rows)| {
                let mut new_row = RowBuf::default();
                let mut old_row = RowBuf::default();
                let mut merger = Merger::new(n);
                let mut ema = SparseMatrix::with_capacity(1, n);
                let mut columns = ColumnStats::new(n);
                for (r, i) in rows.clone().enumerate() {
                    let stake = BondContext::at_uid(ctx.active_stake, i);
                    let row_in_step = in_step.get(i).copied().unwrap_or(false);
                    ema.clear();
                    // The first pass took its raw-bit loop under the first three conditions (the
                    // room holds the packed operands); the shares are prepared under the second.
                    if let (
                        true,
                        Some((alpha, keep)),
                        Some(_),
                        Some(delta_shares),
                        Some(old_shares),
                    ) = (
                        row_in_step,
                        unit_alpha,
                        unit_stake(stake),
                        delta_shares.as_ref(),
                        old_shares.as_ref(),
                    ) {
                        let (cols, vals) = stored.room_mut(r);
                        let len = ctx.classic_ema_in_step_bits(
                            i,
                            (alpha, keep),
                            (delta_shares, old_shares),
                            &mut columns,
                            cols,
                            vals,
                        );
                        stored.set_len(r, len);
                        continue;
                    }
                    if row_in_step {
                        ctx.in_step_entries(i).for_each(|(j, _, wb, stored)| {
                            let delta = divide_by_column(&delta_divisors, j, mul(wb, stake));
                            let old = divide_by_column(&old_divisors, j, u16_to_fixed(stored));
                            let value = add(mul(alpha, delta), mul(keep, old));
                            if value > ZERO {
                                ema.push(j, value);
                            }
                        });
                        let (cols, vals) = ema.open_row();
                        columns.add_row(cols, vals);
                        stored.set_row(r, cols, vals);
                        continue;
                    }
                    let new_ascending = ctx.weights_for_bonds_row(i, &mut new_row);
                    let old_ascending = ctx.stored_bonds_row(i, BondReading::Raw, &mut old_row);
                    for (&j, value) in new_row.cols.iter().zip(new_row.vals.iter_mut()) {
                        let delta = divide_by_column(&delta_divisors, j, mul(*value, stake));
                        *value = mul(alpha, delta);
                    }
                    for (&j, value) in old_row.cols.iter().zip(old_row.vals.iter_mut()) {
                        *value = mul(keep, divide_by_column(&old_divisors, j, *value));
                    }
                    merger.merge(&new_row, new_ascending, &old_row, old_ascending, &mut ema);
                    let (cols, vals) = ema.open_row();
                    columns.add_row(cols, vals);
                    stored.set_row(r, cols, vals);
                }
                columns
            })
            .collect();
    let (mut sums, mut maxima) = (vec![ZERO; n], vec![ZERO; n]);
    for part in &ema_stats {
        for ((total, max), &(sum, value)) in
            sums.iter_mut().zip(maxima.iter_mut()).zip(&part.columns)
        {
            *total = add(*total, sum);
            *max = (*max).max(value);
        }
    }
    let ema_divisors = column_divisors(&sums);
    // Dividing by a column's (positive) sum is monotone, so the maximum of a normalized
    // column is its raw maximum normalized: B̂'s maxima without another pass.
    let maxima: Vec<Fx> = maxima
        .iter()
        .zip(ema_divisors.run(0..n).unwrap_or(&[]))
        .map(|(&max, divisor)| divisor.divide(max))
        .collect();
    let (mut dividends, bonds) = classic_dividends_and_storage(
        ctx,
        &ranges,
        &ema_rows,
        (&ema_divisors, &column_divisors(&maxima)),
        &incentive,
        unit_alpha.is_some(),
    );
    normalize(&mut dividends);
    BondResult {
        bonds,
        dividends,
        validator_trust,
        incentive,
    }
}

/// Column sums and maxima of one range's EMA rows, as (sum, maximum) per column: one vector,
/// so the EMA loop walks one pointer for both.
struct ColumnStats {
    columns: Vec<(Fx, Fx)>,
}

impl ColumnStats {
    fn new(n: usize) -> Self {
        Self {
            columns: vec![(ZERO, ZERO); n],
        }
    }

    /// Add the row `(cols, vals)` to its columns' sums and maxima.
    fn add_row(&mut self, cols: &[u16], vals: &[Fx]) {
        for (&j, &value) in cols.iter().zip(vals) {
            if let Some((sum, max)) = self.columns.get_mut(usize::from(j)) {
                *sum = add(*sum, value);
                *max = (*max).max(value);
            }
        }
    }
}

/// Classic's last pass, over ranges of rows in parallel: each EMA row column-normalized
/// (B̂), its dividend Σⱼ B̂ᵢⱼ·Iⱼ and, under a new permit, its storage row B̂ᵢⱼ / maxᵢ B̂ᵢⱼ.
/// `divisors` are the EMA's column sums and B̂'s column maxima; `unit` says the raw-bit
/// loops may run (α in [0, 1] and a context with `unit_range`).
fn classic_dividends_and_storage(
    ctx: &BondContext<'_>,
    ranges: &[std::ops::Range<usize>],
    ema_rows: &PaddedRows,
    divisors: (&ColumnDivisors, &ColumnDivisors),
    incentive: &[Fx],
    unit: bool,
) -> (Vec<Fx>, Vec<Vec<RowEntry>>) {
    // The EMA's column sums are at most α + (1 − α) = 1 (each normalized column sums to at
    // most 1) and B̂'s maxima at most 1: shift-free share divisors, or the general path
    // should one not be.
    let shares = (unit && all_in_unit_range(incentive))
        .then(|| UnitShares::new(divisors.0).zip(UnitShares::new(divisors.1)))
        .flatten();
    let parts: Vec<(Vec<Fx>, Vec<Vec<RowEntry>>)> = ranges
        .par_iter()
        .map(|rows| {
            rows.clone()
                .map(|i| {
                    let (cols, vals) = ema_rows.row(i);
                    let permit = ctx.has_new_permit(i);
                    match &shares {
                        Some((ema, max)) => {
                            classic_row_out_bits(cols, vals, (ema, max), incentive, permit)
                        }
                        None => classic_row_out(cols, vals, divisors, incentive, permit),
                    }
                })
                .unzip()
        })
        .collect();
    let mut dividends = Vec::with_capacity(ctx.n);
    let mut bonds = Vec::with_capacity(ctx.n);
    for (part_dividends, part_bonds) in parts {
        dividends.extend(part_dividends);
        bonds.extend(part_bonds);
    }
    (dividends, bonds)
}

/// [`classic_row_out_bits`] with the library's operations: the general path.
fn classic_row_out(
    cols: &[u16],
    vals: &[Fx],
    (ema_divisors, max_divisors): (&ColumnDivisors, &ColumnDivisors),
    incentive: &[Fx],
    permit: bool,
) -> (Fx, Vec<RowEntry>) {
    let mut total = ZERO;
    let mut row = Vec::with_capacity(if permit { cols.len() } else { 0 });
    for (&j, &b) in cols.iter().zip(vals) {
        let normalized = divide_by_column(ema_divisors, j, b);
        total = add(total, mul(BondContext::at(incentive, j), normalized));
        if permit {
            let upscaled = divide_by_column(max_divisors, j, normalized);
            row.push((j, fixed_proportion_to_u16(upscaled)));
        }
    }
    (total, row)
}

/// One EMA row's dividend and storage row (empty without `permit`) on raw bits, where I lies
/// in [0, 1]: an EMA value is at most its column's sum, so B̂ᵢⱼ ≤ 1 and Σⱼ Iⱼ·B̂ᵢⱼ ≤ Σⱼ Iⱼ ≤
/// 1; B̂ᵢⱼ is at most its column's maximum, so the stored quotient is in [0, 1] too. Runs of
/// adjacent uids read the divisors and I as slices (see `in_step_parts`).
fn classic_row_out_bits(
    cols: &[u16],
    vals: &[Fx],
    (ema_divisors, max_divisors): (&UnitShares, &UnitShares),
    incentive: &[Fx],
    permit: bool,
) -> (Fx, Vec<RowEntry>) {
    let mut total = 0_u64;
    let mut row = Vec::with_capacity(if permit { cols.len() } else { 0 });
    let mut p = 0_usize;
    while p < cols.len() {
        if let Some((at, uids)) = adjacent_run(cols, p).filter(|(at, _)| at.len() >= MIN_RUN) {
            if let (Some(run_cols), Some(run_vals), Some(run_ema), Some(run_max), Some(run_i)) = (
                cols.get(at.clone()),
                vals.get(at.clone()),
                ema_divisors.run(uids.clone()),
                max_divisors.run(uids.clone()),
                incentive.get(uids),
            ) {
                let run = run_cols
                    .iter()
                    .zip(run_vals)
                    .zip(run_ema)
                    .zip(run_max)
                    .zip(run_i)
                    .map(|((((&j, &b), ema), max), &x)| (j, b, x, (ema, max)));
                if permit {
                    // An iterator of known length: `extend` writes the storage entries with
                    // no capacity check per entry (as `push` makes).
                    row.extend(run.map(|(j, b, x, divisors)| {
                        (
                            j,
                            classic_entry_out_bits((b, x), divisors, &mut total, true),
                        )
                    }));
                } else {
                    for (_, b, x, divisors) in run {
                        classic_entry_out_bits((b, x), divisors, &mut total, false);
                    }
                }
                p = at.end;
                continue;
            }
        }
        // One entry by lookups (every uid is below n: all three exist).
        if let (Some(&j), Some(&b)) = (cols.get(p), vals.get(p)) {
            if let (Some(ema), Some(max), Some(&x)) = (
                ema_divisors.column(j),
                max_divisors.column(j),
                incentive.get(usize::from(j)),
            ) {
                let stored = classic_entry_out_bits((b, x), (ema, max), &mut total, permit);
                if permit {
                    row.push((j, stored));
                }
            }
        }
        p = p.saturating_add(1);
    }
    (Fx::from_bits(total as i64), row)
}

/// One entry of [`classic_row_out_bits`]: (EMA value, Iⱼ) and column j's sum and maximum
/// divisors; adds Iⱼ·B̂ᵢⱼ to `total` and returns the storage entry (0 without `permit`).
#[inline(always)]
fn classic_entry_out_bits(
    (b, at): (Fx, Fx),
    (ema, max): (&UnitShare, &UnitShare),
    total: &mut u64,
    permit: bool,
) -> u16 {
    let normalized = ema.divide(b.to_bits() as u64);
    *total = total.wrapping_add(mul_unit(at.to_bits() as u64, normalized));
    if permit {
        // B̂ᵢⱼ is at most its column's maximum: the quotient is at most 1.
        share_bits_to_u16(max.divide(normalized))
    } else {
        0
    }
}

/// `total + value` for a sum whose bound (documented where it is taken) keeps it far from the
/// type's limits: the library's saturating addition cannot saturate there.
#[inline(always)]
fn add_bits(total: Fx, value: u64) -> Fx {
    Fx::from_bits(total.to_bits().wrapping_add(value as i64))
}

/// B₀'s column sums from the ranges' partial sums of whole bonds, as fixed-point numbers:
/// what adding their `u16_to_fixed` readings with the library's saturating addition gives
/// (the terms are non-negative, so that is the exact sum, or the type's maximum).
fn whole_sums<'p>(n: usize, partials: impl Iterator<Item = &'p Vec<u64>>) -> Vec<Fx> {
    let mut sums = vec![0_u64; n];
    for partial in partials {
        for (total, &value) in sums.iter_mut().zip(partial) {
            *total = total.saturating_add(value);
        }
    }
    sums.iter()
        .map(|&sum| {
            let bits = sum
                .checked_mul(1 << 32_u32)
                .and_then(|bits| i64::try_from(bits).ok());
            Fx::from_bits(bits.unwrap_or(i64::MAX))
        })
        .collect()
}

/// What classic's first pass gathers for one range of rows.
struct ClassicSums {
    /// B₀'s partial column sums, in whole bonds (u16 units) rather than fixed point: one
    /// addition per entry, no shift.
    old_sums: Vec<u64>,
    delta_sums: Vec<Fx>,
    /// Per row: validator trust.
    trust: Vec<Fx>,
    /// Partial ranks Σᵢ Aᵢ·W̃ᵢⱼ over the range.
    ranks: Vec<Fx>,
}

impl BondContext<'_> {
    fn at_uid(values: &[Fx], i: usize) -> Fx {
        values.get(i).copied().unwrap_or(ZERO)
    }
}

/// Rows split into about `4 × threads` consecutive ranges of similar work (weight and bond
/// entries), for the row passes that run in parallel.
fn row_ranges(ctx: &BondContext<'_>) -> Vec<std::ops::Range<usize>> {
    let cost = |i: usize| {
        let bonds = ctx.neurons.get(i).map_or(0, |neuron| neuron.bonds.len());
        ctx.weights
            .row(i)
            .len()
            .saturating_add(bonds)
            .saturating_add(1)
    };
    let total = (0..ctx.n).map(cost).fold(0_usize, usize::saturating_add);
    let parts = rayon::current_num_threads().saturating_mul(4).max(1);
    let share = total.div_ceil(parts).max(1);
    let mut ranges = Vec::with_capacity(parts.saturating_add(1));
    let (mut start, mut filled) = (0_usize, 0_usize);
    for i in 0..ctx.n {
        filled = filled.saturating_add(cost(i));
        if filled >= share {
            let end = i.saturating_add(1);
            ranges.push(start..end);
            (start, filled) = (end, 0);
        }
    }
    if start < ctx.n || ranges.is_empty() {
        ranges.push(start..ctx.n);
    }
    ranges
}

/// An upper bound on the EMA entries of row `i`: it names at most the uids of its Wb and B₀
/// rows.
fn ema_row_capacity(ctx: &BondContext<'_>, i: usize) -> usize {
    let bonds = ctx.neurons.get(i).map_or(0, |neuron| neuron.bonds.len());
    ctx.weights.row(i).len().saturating_add(bonds)
}

/// One range of rows of the Yuma3 EMA.
struct Yuma3Part {
    rows: std::ops::Range<usize>,
    /// The EMA of the rows not recomputed by the dividends (empty rows for those that are).
    ema: SparseMatrix,
    /// Whether a row's EMA is recomputed (same uids as its weights).
    recomputed: Vec<bool>,
    /// Liquid alpha on raw bits: the α of the recomputed entries whose sigmoid argument is
    /// not 0, in row order (see `BondContext::liquid_row_in_step_bits`).
    alphas: Vec<u64>,
    /// This range's column sums of the EMA.
    sums: Vec<Fx>,
    bonds: Vec<Vec<RowEntry>>,
    /// Per row: validator trust.
    trust: Vec<Fx>,
    /// Partial ranks Σᵢ Aᵢ·W̃ᵢⱼ over the range.
    ranks: Vec<Fx>,
}

/// Yuma3: absolute bonds, EMA'd toward Wb with a fixed or liquid alpha; dividends weight the
/// column-normalized bonds by incentive and by the validator's own active stake.
///
/// Rows go in parallel ranges, each with its own column sums; the sums are of positive
/// values well inside the type's range, so adding the ranges' sums gives the same bits as
/// the reference's row-by-row sum.
pub(crate) fn yuma3(ctx: &BondContext<'_>, alpha: Fx, liquid: Option<AlphaSigmoid>) -> BondResult {
    let n = ctx.n;
    let use_liquid = ctx.consensus.iter().any(|&c| c != ZERO);
    let liquid = liquid.filter(|_| use_liquid);
    let keep = ONE.saturating_sub(alpha);
    // The raw-bit loops' preconditions, checked once.
    let unit_alpha = unit_bits(alpha)
        .zip(unit_bits(keep))
        .filter(|_| ctx.unit_range);

    let ranges = row_ranges(ctx);
    // The dividends recompute the EMA of the rows that take the one-pass loops, so only the
    // others are kept, in each range's matrix (empty rows for the recomputed ones).
    let parts: Vec<Yuma3Part> = ranges
        .into_par_iter()
        .map(|rows| {
            let mut new_row = RowBuf::default();
            let mut old_row = RowBuf::default();
            let mut merger = Merger::new(n);
            let mut liquid_state = liquid.map(|sigmoid| LiquidState::new(sigmoid, n));
            let mut ema = SparseMatrix::with_capacity(rows.len(), 0);
            let mut recomputed = Vec::with_capacity(rows.len());
            let mut alphas = Vec::new();
            let mut sums = vec![ZERO; n];
            let mut bonds = Vec::with_capacity(rows.len());
            let mut ranks = vec![ZERO; n];
            let mut trust = Vec::with_capacity(rows.len());
            for i in rows.clone() {
                let in_step = ctx.same_uids_as_weights(i);
                recomputed.push(in_step);
                if in_step {
                    let (storage, row_trust) = match (liquid, unit_alpha) {
                        (Some(sigmoid), _) if ctx.unit_range => ctx.liquid_row_in_step_bits(
                            i,
                            sigmoid,
                            &mut alphas,
                            &mut sums,
                            &mut ranks,
                        ),
                        (Some(sigmoid), _) => {
                            ctx.liquid_row_in_step(i, sigmoid, &mut sums, &mut ranks)
                        }
                        (None, Some((alpha, keep))) => {
                            ctx.yuma3_row_in_step_bits(i, alpha, keep, &mut sums, &mut ranks)
                        }
                        (None, None) => {
                            ctx.yuma3_row_in_step(i, alpha, keep, &mut sums, &mut ranks)
                        }
                    };
                    bonds.push(storage);
                    trust.push(row_trust);
                    ema.end_row();
                    continue;
                }
                trust.push(ctx.trust_row(i, &mut ranks));
                let new_ascending = ctx.weights_for_bonds_row(i, &mut new_row);
                let old_ascending = ctx.stored_bonds_row(i, BondReading::Proportion, &mut old_row);
                match liquid_state.as_mut() {
                    Some(state) => state.ema_row(ctx.consensus, &new_row, &old_row, &mut ema),
                    None => {
                        for value in &mut new_row.vals {
                            *value = mul(alpha, *value);
                        }
                        for value in &mut old_row.vals {
                            *value = mul(keep, *value);
                        }
                        merger.merge(&new_row, new_ascending, &old_row, old_ascending, &mut ema);
                    }
                }
                let (cols, vals) = ema.open_row();
                add_to_columns(&mut sums, cols, vals);
                bonds.push(if ctx.has_new_permit(i) {
                    storage_row(cols, vals)
                } else {
                    Vec::new()
                });
                ema.end_row();
            }
            Yuma3Part {
                rows,
                ema,
                recomputed,
                alphas,
                sums,
                bonds,
                trust,
                ranks,
            }
        })
        .collect();

    let mut sums = vec![ZERO; n];
    for part in &parts {
        for (total, &partial) in sums.iter_mut().zip(&part.sums) {
            *total = add(*total, partial);
        }
    }
    let (validator_trust, incentive) = trust_and_incentive(
        n,
        parts.iter().map(|part| &part.trust),
        parts.iter().map(|part| &part.ranks),
    );
    let dividends = yuma3_dividends(
        ctx,
        &parts,
        &sums,
        &incentive,
        Rates {
            alpha,
            keep,
            bits: unit_alpha,
            liquid,
        },
    );
    let bonds = parts.into_iter().flat_map(|part| part.bonds).collect();
    BondResult {
        bonds,
        dividends,
        validator_trust,
        incentive,
    }
}

/// The EMA's rates: fixed alpha's α and 1 − α, and their bits where both lie in [0, 1] and
/// the context allows the raw-bit loops; or liquid alpha's sigmoid, which replaces them.
#[derive(Debug, Clone, Copy)]
struct Rates {
    alpha: Fx,
    keep: Fx,
    bits: Option<(u64, u64)>,
    liquid: Option<AlphaSigmoid>,
}

/// Yuma3 dividends: Dᵢ = Aᵢ·Σⱼ B̂ᵢⱼ·Iⱼ, normalized, with B̂ the column-normalized bonds.
#[inline(never)]
fn yuma3_dividends(
    ctx: &BondContext<'_>,
    parts: &[Yuma3Part],
    sums: &[Fx],
    incentive: &[Fx],
    rates: Rates,
) -> Vec<Fx> {
    // Dividends read B̂, the column-normalized bonds, without materializing it.
    let divisors = column_divisors(sums);
    let term = |acc: Fx, (j, b): (u16, Fx)| {
        let normalized = divide_by_column(&divisors, j, b);
        add(acc, mul(normalized, BondContext::at(incentive, j)))
    };
    // On raw bits where the bounds hold (see `yuma3_row_in_step_bits`): an EMA value is at
    // most its column's sum, so B̂ᵢⱼ ≤ 1, and Σⱼ B̂ᵢⱼ·Iⱼ ≤ Σⱼ Iⱼ ≤ 1. The kept rows too, where
    // a row's values all lie in [0, 1]: they are positive, so each is at most its column's
    // sum.
    let unit_incentive = ctx.unit_range && all_in_unit_range(incentive);
    let recomputed_total = |i: usize, alphas: &mut KeptAlphas<'_>| match rates {
        Rates {
            liquid: Some(sigmoid),
            ..
        } if unit_incentive => {
            let at_zero = sigmoid.at_zero_bits();
            let total = ctx.dividend_in_step_bits(i, &divisors, incentive, |c, wb, stored| {
                let b = u16_proportion_bits(stored);
                let alpha = alphas.take(AlphaSigmoid::diff_bits(c, wb, b), at_zero);
                liquid_ema_bits(alpha, wb, b)
            });
            Fx::from_bits(total as i64)
        }
        Rates {
            liquid: Some(sigmoid),
            ..
        } => ctx.liquid_ema_in_step(i, sigmoid).fold(ZERO, term),
        Rates {
            bits: Some((alpha, keep)),
            ..
        } if unit_incentive => {
            let total = ctx.dividend_in_step_bits(i, &divisors, incentive, |_, wb, stored| {
                mul_unit(alpha, wb).wrapping_add(mul_unit(keep, u16_proportion_bits(stored)))
            });
            Fx::from_bits(total as i64)
        }
        Rates { alpha, keep, .. } => ctx.fixed_ema_in_step(i, alpha, keep).fold(ZERO, term),
    };
    // Ranges are independent; `collect` keeps them, and the rows in them, in order.
    let per_part: Vec<Vec<Fx>> = parts
        .par_iter()
        .map(|part| {
            let mut alphas = KeptAlphas {
                alphas: &part.alphas,
                next: 0,
            };
            part.rows
                .clone()
                .enumerate()
                .map(|(r, i)| {
                    let total = if part.recomputed.get(r).copied().unwrap_or(false) {
                        recomputed_total(i, &mut alphas)
                    } else {
                        let (cols, vals) = part.ema.row(r);
                        if unit_incentive && all_in_unit_range(vals) {
                            let total = stored_dividend_bits(cols, vals, &divisors, incentive);
                            Fx::from_bits(total as i64)
                        } else {
                            cols.iter()
                                .copied()
                                .zip(vals.iter().copied())
                                .fold(ZERO, term)
                        }
                    };
                    total
                        .checked_mul(BondContext::at_uid(ctx.active_stake, i))
                        .unwrap_or(ZERO)
                })
                .collect()
        })
        .collect();
    let mut dividends: Vec<Fx> = per_part.into_iter().flatten().collect();
    normalize(&mut dividends);
    dividends
}

/// Σⱼ B̂ᵢⱼ·Iⱼ for a stored EMA row on raw bits, where its values and I lie in [0, 1] (the
/// bounds are those of `yuma3_dividends`); runs of adjacent uids read the divisors and I as
/// slices.
fn stored_dividend_bits(
    cols: &[u16],
    vals: &[Fx],
    divisors: &ColumnDivisors,
    incentive: &[Fx],
) -> u64 {
    let mut total = 0_u64;
    let mut p = 0_usize;
    while p < cols.len() {
        if let Some((at, uids)) = adjacent_run(cols, p).filter(|(at, _)| at.len() >= MIN_RUN) {
            if let (Some(run_vals), Some(run_divisors), Some(run_incentive)) = (
                vals.get(at.clone()),
                divisors.run(uids.clone()),
                incentive.get(uids),
            ) {
                for ((&b, divisor), &x) in run_vals.iter().zip(run_divisors).zip(run_incentive) {
                    let normalized = divisor.divide_share(b.to_bits() as u64);
                    total = total.wrapping_add(mul_unit(normalized, x.to_bits() as u64));
                }
                p = at.end;
                continue;
            }
        }
        if let (Some(&j), Some(&b)) = (cols.get(p), vals.get(p)) {
            let normalized = divisors.divide_unit(j, b.to_bits() as u64);
            let x = incentive
                .get(usize::from(j))
                .map_or(0, |&x| x.to_bits() as u64);
            total = total.wrapping_add(mul_unit(normalized, x));
        }
        p = p.saturating_add(1);
    }
    total
}

/// Adds two rows entry by entry into a matrix row: ascending uids, sums > 0 only.
struct Merger {
    dense: DenseRow,
}

impl Merger {
    fn new(n: usize) -> Self {
        Self {
            dense: DenseRow::new(n),
        }
    }

    /// `a + b` (already scaled) appended to the open row of `out`.
    fn merge(
        &mut self,
        a: &RowBuf,
        a_ascending: bool,
        b: &RowBuf,
        b_ascending: bool,
        out: &mut SparseMatrix,
    ) {
        if a_ascending && b_ascending {
            if a.cols == b.cols {
                // The common case: the same uids on both sides.
                for ((&j, &x), &y) in a.cols.iter().zip(&a.vals).zip(&b.vals) {
                    let value = add(x, y);
                    if value > ZERO {
                        out.push(j, value);
                    }
                }
            } else {
                merge_ascending(a, b, out);
            }
        } else {
            self.dense.accumulate(a.entries().chain(b.entries()));
            self.dense.drain_ascending(out);
        }
    }
}

/// Merge two ascending rows, adding values at equal uids and keeping sums > 0.
fn merge_ascending(a: &RowBuf, b: &RowBuf, out: &mut SparseMatrix) {
    let mut a = a.entries().peekable();
    let mut b = b.entries().peekable();
    loop {
        let (j, value) = match (a.peek().copied(), b.peek().copied()) {
            (Some((ja, va)), Some((jb, vb))) if ja == jb => {
                a.next();
                b.next();
                (ja, add(va, vb))
            }
            (Some((ja, va)), Some((jb, _))) if ja < jb => {
                a.next();
                (ja, va)
            }
            (_, Some(entry)) => {
                b.next();
                entry
            }
            (Some(entry), None) => {
                a.next();
                entry
            }
            (None, None) => return,
        };
        if value > ZERO {
            out.push(j, value);
        }
    }
}

/// A reusable dense accumulator for one row, cleared in time proportional to what it held.
struct DenseRow {
    values: Vec<Fx>,
    touched: Vec<u16>,
    marked: Vec<bool>,
}

impl DenseRow {
    fn new(n: usize) -> Self {
        Self {
            values: vec![ZERO; n],
            touched: Vec::new(),
            marked: vec![false; n],
        }
    }

    fn accumulate(&mut self, entries: impl Iterator<Item = Entry>) {
        for (j, value) in entries {
            let index = usize::from(j);
            if let (Some(slot), Some(mark)) =
                (self.values.get_mut(index), self.marked.get_mut(index))
            {
                *slot = add(*slot, value);
                if !*mark {
                    *mark = true;
                    self.touched.push(j);
                }
            }
        }
    }

    /// Move the positive sums into `out` in ascending uid order and clear the row.
    fn drain_ascending(&mut self, out: &mut SparseMatrix) {
        self.touched.sort_unstable();
        for &j in &self.touched {
            let index = usize::from(j);
            if let (Some(slot), Some(mark)) =
                (self.values.get_mut(index), self.marked.get_mut(index))
            {
                if *slot > ZERO {
                    out.push(j, *slot);
                }
                *slot = ZERO;
                *mark = false;
            }
        }
        self.touched.clear();
    }
}

/// Yuma3 EMA with a per-pair alpha, exactly as the reference's sparse path computes it.
///
/// Three quirks of the reference are reproduced on purpose:
/// * output entries exist only for the uids in the validator's weights-for-bonds row, in that
///   row's order, so a uid the validator omits loses its bond at once;
/// * each new bond is `min(1, (1−α)·b + max(0, α·w))`, kept when positive;
/// * α for uid j comes from a lockstep walk over j = 0..n that assumes both rows are in
///   ascending uid order. On a row out of order that walk only ever sees the row's running
///   maxima (an entry whose uid exceeds every uid before it), so any other entry reads as 0
///   for the alpha, while the EMA itself still uses the real value.
struct LiquidState {
    sigmoid: AlphaSigmoid,
    seen_weight: Vec<Fx>,
    seen_bond: Vec<Fx>,
    bond: Vec<Fx>,
}

impl LiquidState {
    fn new(sigmoid: AlphaSigmoid, n: usize) -> Self {
        Self {
            sigmoid,
            seen_weight: vec![ZERO; n],
            seen_bond: vec![ZERO; n],
            bond: vec![ZERO; n],
        }
    }

    fn ema_row(
        &mut self,
        consensus: &[Fx],
        weight_row: &RowBuf,
        bond_row: &RowBuf,
        out: &mut SparseMatrix,
    ) {
        if weight_row.is_empty() {
            return;
        }
        scatter_running_maxima(weight_row, &mut self.seen_weight);
        scatter_running_maxima(bond_row, &mut self.seen_bond);
        for (j, b) in bond_row.entries() {
            if let Some(slot) = self.bond.get_mut(usize::from(j)) {
                *slot = b;
            }
        }
        for (j, w) in weight_row.entries() {
            let index = usize::from(j);
            let at = |v: &[Fx]| v.get(index).copied().unwrap_or(ZERO);
            let alpha = self.sigmoid.alpha_cached(
                at(consensus),
                at(&self.seen_weight),
                at(&self.seen_bond),
            );
            let value = liquid_ema(alpha, w, at(&self.bond));
            if value > ZERO {
                out.push(j, value);
            }
        }
        for row in [weight_row, bond_row] {
            for &j in &row.cols {
                for dense in [&mut self.seen_weight, &mut self.seen_bond, &mut self.bond] {
                    if let Some(slot) = dense.get_mut(usize::from(j)) {
                        *slot = ZERO;
                    }
                }
            }
        }
    }
}

/// Write into `dense` the entries of `row` that the reference's ascending walk can see.
fn scatter_running_maxima(row: &RowBuf, dense: &mut [Fx]) {
    let mut highest: Option<u16> = None;
    for (j, value) in row.entries() {
        if highest.is_none_or(|h| j > h) {
            highest = Some(j);
            if let Some(slot) = dense.get_mut(usize::from(j)) {
                *slot = value;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::{adjacent_run, contiguous_columns, same_uids, whole_sums};
    use crate::fixed::{add, u16_to_fixed, Fx, ZERO};
    use proptest::prelude::*;

    /// The longest run of adjacent uids from position p, entry by entry.
    fn longest_run(cols: &[u16], p: usize) -> usize {
        let mut end = p + 1;
        while end < cols.len() && usize::from(cols[end]) == usize::from(cols[p]) + (end - p) {
            end += 1;
        }
        end
    }

    proptest! {
        /// The vectorized uid comparison against a comparison entry by entry, on rows that
        /// differ in one uid, in any bit, or not at all.
        #[test]
        fn same_uids_match_an_entry_comparison(
            weights in proptest::collection::vec((any::<u16>(), any::<u16>()), 0..80),
            change in proptest::option::of((any::<proptest::sample::Index>(), 0_u32..16)),
            weight in any::<u16>(),
        ) {
            let mut bonds: Vec<(u16, u16)> = weights.iter().map(|&(j, _)| (j, weight)).collect();
            if let (Some((at, bit)), false) = (change, bonds.is_empty()) {
                let entry = &mut bonds[at.index(weights.len())];
                entry.0 ^= 1 << bit;
            }
            let expected = weights.iter().zip(&bonds).all(|(&(j, _), &(bj, _))| j == bj);
            prop_assert_eq!(same_uids(&weights, &bonds), expected);
            prop_assert_eq!(expected, change.is_none() || weights.is_empty());
        }
    }

    proptest! {
        /// B₀'s column sums kept in whole bonds per range, then converted, against the
        /// fixed-point sum of every bond's raw reading with the library's saturating addition
        /// (as the general path took it); and partial sums past the type's range saturate.
        #[test]
        fn whole_sums_match_the_fixed_point_sums(
            ranges in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(any::<u16>(), 0..8), 3), 1..5),
            huge in any::<bool>(),
        ) {
            let partials: Vec<Vec<u64>> = ranges
                .iter()
                .map(|columns| columns.iter().map(|terms| terms.iter().map(|&t| u64::from(t)).sum()).collect())
                .collect();
            let expected: Vec<Fx> = (0..3)
                .map(|j| ranges.iter().flat_map(|columns| &columns[j]).fold(ZERO, |total, &t| add(total, u16_to_fixed(t))))
                .collect();
            prop_assert_eq!(whole_sums(3, partials.iter()), expected);
            if huge {
                let big = [vec![1_u64 << 31, (1 << 31) - 1, u64::MAX]];
                let sums = whole_sums(3, big.iter());
                prop_assert_eq!(sums, vec![Fx::max_value(), Fx::from_bits(((1_i64 << 31) - 1) << 32), Fx::max_value()]);
            }
        }
    }

    proptest! {
        /// On ascending rows the galloping search finds the longest run; on any row it never
        /// reports a run that is not one.
        #[test]
        fn adjacent_runs_match_a_linear_scan(
            mut cols in proptest::collection::vec(0_u16..200, 1..120),
            sort in any::<bool>(),
            top in any::<bool>(),
            p in any::<proptest::sample::Index>(),
        ) {
            if top {
                // Near the last uid, where a run's uids would wrap in u16 arithmetic.
                for c in &mut cols {
                    *c += u16::MAX - 199;
                }
            }
            if sort {
                cols.sort_unstable();
                cols.dedup();
            }
            let p = p.index(cols.len());
            let longest = longest_run(&cols, p);
            match adjacent_run(&cols, p) {
                Some((at, uids)) => {
                    prop_assert_eq!(at.start, p);
                    prop_assert!(at.end > p && at.end <= longest);
                    if sort {
                        prop_assert_eq!(at.end, longest);
                    }
                    for (q, uid) in at.zip(uids) {
                        prop_assert_eq!(usize::from(cols[q]), uid);
                    }
                }
                None => prop_assert!(!sort),
            }
            if sort {
                let part: Vec<(u16, u16)> = cols.iter().map(|&j| (j, 1)).collect();
                let whole = longest_run(&cols, 0) == cols.len();
                let expected = whole.then(|| usize::from(cols[0])..usize::from(cols[0]) + cols.len());
                prop_assert_eq!(contiguous_columns(&part), expected);
            }
        }
    }
}
