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
//! `BondContext::same_uids_as_weights`); the fixed-alpha Yuma3 EMA of such a row is not even
//! stored, the dividends recompute it. Every other row takes the general path, which gives
//! the same values for these rows too.

use crate::contract::{NeuronInput, RowEntry};
use crate::epoch::clip;
use crate::fixed::{
    add, fixed_proportion_to_u16, mul, normalize, sub, u16_proportion, u16_to_fixed, AlphaSigmoid,
    Divisor, Fx, ONE, ZERO,
};
use crate::sparse::SparseMatrix;
use crate::weights::Weights;
use rayon::prelude::*;

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
    pub(crate) incentive: &'a [Fx],
    pub(crate) weights: &'a Weights,
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
}

/// New bonds in their storage form (rows without the new permit are empty) and normalized
/// dividends.
#[derive(Debug)]
pub(crate) struct BondResult {
    pub(crate) bonds: Vec<Vec<RowEntry>>,
    pub(crate) dividends: Vec<Fx>,
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
        if !row.ascending || row.len() != neuron.bonds.len() {
            return false;
        }
        let check_clip = match self.penalty {
            Penalty::Zero => false,
            Penalty::One => !self.consensus_positive,
            Penalty::Between(_) => return false,
        };
        if !check_clip && self.bonds_unmasked {
            // Nothing can be dropped: only the uids need comparing.
            return row
                .raw
                .iter()
                .zip(&neuron.bonds)
                .all(|(&(j, _), &(bj, _))| j == bj);
        }
        row.raw
            .iter()
            .zip(&neuron.bonds)
            .all(|(&(j, w), &(bj, _))| {
                let registered = self.registered_at.get(usize::from(j)).copied().unwrap_or(0);
                // `clip` drops an entry exactly where c ≤ 0 and c < w.
                let dropped = check_clip && {
                    let c = Self::at(self.consensus, j);
                    c <= ZERO && c < row.norm.apply(w)
                };
                j == bj && self.since > registered && !dropped
            })
    }

    /// For a row that passed [`Self::same_uids_as_weights`]: `(uid, Wb, stored bond)` in order.
    #[inline]
    fn in_step_entries(&self, i: usize) -> impl Iterator<Item = (u16, Fx, u16)> + '_ {
        let row = self.weights.row(i);
        let bonds: &[RowEntry] = self.neurons.get(i).map_or(&[], |neuron| &neuron.bonds);
        let clip_to_consensus = matches!(self.penalty, Penalty::One);
        row.raw
            .iter()
            .zip(bonds)
            .map(move |(&(j, raw), &(_, stored))| {
                let w = row.norm.apply(raw);
                let wb = if clip_to_consensus {
                    w.min(Self::at(self.consensus, j))
                } else {
                    w
                };
                (j, wb, stored)
            })
    }

    /// Liquid alpha's EMA for a row that passed [`Self::same_uids_as_weights`], in one pass.
    ///
    /// Both rows ascend, so the reference's lockstep walk sees every entry: α for uid j reads
    /// this row's own Wbᵢⱼ and B₀ᵢⱼ, and the output follows the (ascending) weight row.
    fn liquid_row_in_step(
        &self,
        i: usize,
        sigmoid: AlphaSigmoid,
        ema: &mut SparseMatrix,
        sums: &mut [Fx],
    ) -> Vec<RowEntry> {
        let len = self.weights.row(i).len();
        let permit = self.has_new_permit(i);
        let mut storage = Vec::with_capacity(if permit { len } else { 0 });
        ema.reserve(len);
        for (j, w, stored) in self.in_step_entries(i) {
            let b = u16_proportion(stored);
            let alpha = sigmoid.alpha_cached(Self::at(self.consensus, j), w, b);
            let decayed = mul(sub(ONE, alpha), b);
            let value = add(decayed, mul(alpha, w).max(ZERO)).min(ONE);
            if value > ZERO {
                ema.push(j, value);
                if let Some(total) = sums.get_mut(usize::from(j)) {
                    *total = add(*total, value);
                }
                if permit {
                    storage.push((j, fixed_proportion_to_u16(value)));
                }
            }
        }
        storage
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
            .map(move |(j, wb, stored)| (j, add(mul(alpha, wb), mul(keep, u16_proportion(stored)))))
            .filter(|&(_, value)| value > ZERO)
    }

    /// [`Self::fixed_ema_in_step`] into `ema` and the column sums; returns the storage row
    /// (empty without the new permit).
    fn yuma3_row_in_step(
        &self,
        i: usize,
        alpha: Fx,
        keep: Fx,
        ema: &mut SparseMatrix,
        sums: &mut [Fx],
    ) -> Vec<RowEntry> {
        let permit = self.has_new_permit(i);
        let len = self.weights.row(i).len();
        let mut storage = Vec::with_capacity(if permit { len } else { 0 });
        ema.reserve(len);
        // Internal iteration (`for_each`): a `for` loop would step the filter one `find` call
        // at a time.
        self.fixed_ema_in_step(i, alpha, keep)
            .for_each(|(j, value)| {
                ema.push(j, value);
                if let Some(total) = sums.get_mut(usize::from(j)) {
                    *total = add(*total, value);
                }
                if permit {
                    storage.push((j, fixed_proportion_to_u16(value)));
                }
            });
        storage
    }

    fn has_new_permit(&self, i: usize) -> bool {
        self.new_permit.get(i).copied().unwrap_or(false)
    }
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
fn column_divisors(totals: &[Fx]) -> Vec<Option<Divisor>> {
    totals
        .iter()
        .map(|&total| (total != ZERO).then(|| Divisor::new(total)))
        .collect()
}

#[inline]
fn divide_by_column(divisors: &[Option<Divisor>], j: u16, value: Fx) -> Fx {
    match divisors.get(usize::from(j)) {
        Some(Some(divisor)) => divisor.divide(value),
        _ => value,
    }
}

fn storage_row(cols: &[u16], vals: &[Fx]) -> Vec<RowEntry> {
    cols.iter()
        .zip(vals)
        .map(|(&j, &b)| (j, fixed_proportion_to_u16(b)))
        .collect()
}

/// Classic Yuma: B = α·ΔB + (1−α)·B₀ on column-normalized bonds, ΔB = column-normalized Wb∘A.
pub(crate) fn classic(ctx: &BondContext<'_>, alpha: Fx) -> BondResult {
    let n = ctx.n;
    let keep = ONE.saturating_sub(alpha);
    let mut new_row = RowBuf::default();
    let mut old_row = RowBuf::default();

    // Rows whose Wb and B₀ name the same uids in order take one-pass loops below.
    let in_step: Vec<bool> = (0..n).map(|i| ctx.same_uids_as_weights(i)).collect();

    // Column sums of B₀ and of ΔB = Wb∘A.
    let mut old_sums = vec![ZERO; n];
    let mut delta_sums = vec![ZERO; n];
    for i in 0..n {
        if in_step.get(i).copied().unwrap_or(false) {
            let stake = BondContext::at_uid(ctx.active_stake, i);
            for (j, wb, stored) in ctx.in_step_entries(i) {
                let index = usize::from(j);
                if let (Some(old), Some(delta)) =
                    (old_sums.get_mut(index), delta_sums.get_mut(index))
                {
                    *old = add(*old, u16_to_fixed(stored));
                    *delta = add(*delta, mul(wb, stake));
                }
            }
            continue;
        }
        ctx.stored_bonds_row(i, BondReading::Raw, &mut old_row);
        add_to_columns(&mut old_sums, &old_row.cols, &old_row.vals);
        ctx.weights_for_bonds_row(i, &mut new_row);
        let stake = BondContext::at_uid(ctx.active_stake, i);
        for (j, w) in new_row.entries() {
            if let Some(total) = delta_sums.get_mut(usize::from(j)) {
                *total = add(*total, mul(w, stake));
            }
        }
    }
    let old_divisors = column_divisors(&old_sums);
    let delta_divisors = column_divisors(&delta_sums);

    // The EMA of the column-normalized terms, and its column sums.
    let mut ema = SparseMatrix::with_capacity(n, ctx.weights.nnz());
    let mut merger = Merger::new(n);
    let mut ema_sums = vec![ZERO; n];
    for i in 0..n {
        let stake = BondContext::at_uid(ctx.active_stake, i);
        if in_step.get(i).copied().unwrap_or(false) {
            ema.reserve(ctx.weights.row(i).len());
            for (j, wb, stored) in ctx.in_step_entries(i) {
                let delta = divide_by_column(&delta_divisors, j, mul(wb, stake));
                let old = divide_by_column(&old_divisors, j, u16_to_fixed(stored));
                let value = add(mul(alpha, delta), mul(keep, old));
                if value > ZERO {
                    ema.push(j, value);
                    if let Some(total) = ema_sums.get_mut(usize::from(j)) {
                        *total = add(*total, value);
                    }
                }
            }
            ema.end_row();
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
        add_to_columns(&mut ema_sums, cols, vals);
        ema.end_row();
    }

    // Column-normalize B, then D = B·I and the column maxima for storage. Rows go in
    // parallel chunks, each with its own maxima (a maximum does not depend on order).
    let ema_divisors = column_divisors(&ema_sums);
    let rows_per_chunk = n
        .div_ceil(rayon::current_num_threads().saturating_mul(4))
        .max(16);
    let chunks: Vec<(Vec<Fx>, Vec<Fx>)> = ema
        .row_chunks_mut(rows_per_chunk)
        .into_par_iter()
        .map(|mut chunk| {
            let mut maxima = vec![ZERO; n];
            let dividends = (0..chunk.n_rows())
                .map(|r| {
                    let (cols, vals) = chunk.row_mut(r);
                    let mut total = ZERO;
                    for (&j, value) in cols.iter().zip(vals.iter_mut()) {
                        *value = divide_by_column(&ema_divisors, j, *value);
                        total = add(total, mul(BondContext::at(ctx.incentive, j), *value));
                        if let Some(max) = maxima.get_mut(usize::from(j)) {
                            if *max < *value {
                                *max = *value;
                            }
                        }
                    }
                    total
                })
                .collect();
            (dividends, maxima)
        })
        .collect();
    let mut maxima = vec![ZERO; n];
    let mut dividends: Vec<Fx> = Vec::with_capacity(n);
    for (chunk_dividends, chunk_maxima) in chunks {
        dividends.extend(chunk_dividends);
        for (max, &value) in maxima.iter_mut().zip(&chunk_maxima) {
            if *max < value {
                *max = value;
            }
        }
    }
    normalize(&mut dividends);

    // Storage: each column divided by its maximum; rows in parallel, collected in order.
    let max_divisors = column_divisors(&maxima);
    let bonds = (0..n)
        .into_par_iter()
        .map(|i| {
            if !ctx.has_new_permit(i) {
                return Vec::new();
            }
            let (cols, vals) = ema.row(i);
            cols.iter()
                .zip(vals)
                .map(|(&j, &b)| {
                    (
                        j,
                        fixed_proportion_to_u16(divide_by_column(&max_divisors, j, b)),
                    )
                })
                .collect()
        })
        .collect();
    BondResult { bonds, dividends }
}

impl BondContext<'_> {
    fn at_uid(values: &[Fx], i: usize) -> Fx {
        values.get(i).copied().unwrap_or(ZERO)
    }
}

/// Yuma3: absolute bonds, EMA'd toward Wb with a fixed or liquid alpha; dividends weight the
/// column-normalized bonds by incentive and by the validator's own active stake.
pub(crate) fn yuma3(ctx: &BondContext<'_>, alpha: Fx, liquid: Option<AlphaSigmoid>) -> BondResult {
    let n = ctx.n;
    let use_liquid = ctx.consensus.iter().any(|&c| c != ZERO);
    let liquid = liquid.filter(|_| use_liquid);
    let keep = ONE.saturating_sub(alpha);
    let mut new_row = RowBuf::default();
    let mut old_row = RowBuf::default();
    let mut merger = Merger::new(n);
    let mut liquid_state = liquid.map(|sigmoid| LiquidState::new(sigmoid, n));

    // The EMA, kept for the dividends: storing a value is cheaper than computing it again.
    let mut ema = SparseMatrix::with_capacity(n, ctx.weights.nnz());
    let mut sums = vec![ZERO; n];
    let mut bonds = Vec::with_capacity(n);
    for i in 0..n {
        if ctx.same_uids_as_weights(i) {
            let storage = match liquid {
                Some(sigmoid) => ctx.liquid_row_in_step(i, sigmoid, &mut ema, &mut sums),
                None => ctx.yuma3_row_in_step(i, alpha, keep, &mut ema, &mut sums),
            };
            bonds.push(storage);
            ema.end_row();
            continue;
        }
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

    let dividends = yuma3_dividends(ctx, &ema, &sums);
    BondResult { bonds, dividends }
}

/// Yuma3 dividends: Dᵢ = Aᵢ·Σⱼ B̂ᵢⱼ·Iⱼ, normalized, with B̂ the column-normalized bonds.
#[inline(never)]
fn yuma3_dividends(ctx: &BondContext<'_>, ema: &SparseMatrix, sums: &[Fx]) -> Vec<Fx> {
    let n = ctx.n;
    // Dividends read B̂, the column-normalized bonds, without materializing it.
    let divisors = column_divisors(sums);
    let term = |acc: Fx, (j, b): (u16, Fx)| {
        let normalized = divide_by_column(&divisors, j, b);
        add(acc, mul(normalized, BondContext::at(ctx.incentive, j)))
    };
    // Rows are independent; `collect` keeps them in order.
    let mut dividends: Vec<Fx> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (cols, vals) = ema.row(i);
            let total = cols
                .iter()
                .copied()
                .zip(vals.iter().copied())
                .fold(ZERO, term);
            total
                .checked_mul(BondContext::at_uid(ctx.active_stake, i))
                .unwrap_or(ZERO)
        })
        .collect();
    normalize(&mut dividends);
    dividends
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
            let decayed = mul(sub(ONE, alpha), at(&self.bond));
            let value = add(decayed, mul(alpha, w).max(ZERO)).min(ONE);
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
