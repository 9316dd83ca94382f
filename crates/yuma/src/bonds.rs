//! Bonds and dividends: classic Yuma EMA bonds, Yuma3 bonds, and liquid alpha.
//!
//! Classic bonds are stored column-max-upscaled and read back as raw integers, then
//! column-normalized; Yuma3 bonds are absolute proportions and are stored as they are.

use crate::fixed::{
    mul, normalize, u16_proportion, u16_to_fixed, AlphaSigmoid, Divisor, Fx, ONE, ZERO,
};
use crate::sparse::{Entry, SparseMatrix};

/// The per-epoch vectors bond computations read.
#[derive(Debug)]
pub(crate) struct BondContext<'a> {
    pub(crate) n: usize,
    pub(crate) active_stake: &'a [Fx],
    pub(crate) consensus: &'a [Fx],
    pub(crate) incentive: &'a [Fx],
}

/// New bonds (in their pre-storage fixed form) and normalized dividends.
#[derive(Debug)]
pub(crate) struct BondResult {
    pub(crate) bonds: SparseMatrix,
    pub(crate) dividends: Vec<Fx>,
}

/// How stored u16 bonds are read: raw integers (classic) or proportions of 65535 (Yuma3).
#[derive(Debug, Clone, Copy)]
pub(crate) enum BondReading {
    Raw,
    Proportion,
}

impl BondReading {
    pub(crate) fn read(self, stored: u16) -> Fx {
        match self {
            Self::Raw => u16_to_fixed(stored),
            Self::Proportion => u16_proportion(stored),
        }
    }
}

/// Classic Yuma: B = α·ΔB + (1−α)·B₀ on column-normalized bonds, ΔB = column-normalized Wb∘A.
pub(crate) fn classic(
    ctx: &BondContext<'_>,
    weights_for_bonds: &SparseMatrix,
    mut bonds: SparseMatrix,
    alpha: Fx,
) -> BondResult {
    bonds.normalize_columns(ctx.n);
    let mut delta = weights_for_bonds
        .filter_map(|i, _, w| Some(mul(w, ctx.active_stake.get(i).copied().unwrap_or(ZERO))));
    delta.normalize_columns(ctx.n);
    let mut ema = ema(&delta, &bonds, alpha, ctx.n);
    ema.normalize_columns(ctx.n);
    let mut dividends: Vec<Fx> = ema
        .rows()
        .map(|row| {
            row.iter().fold(ZERO, |acc, &(j, b)| {
                let incentive = ctx.incentive.get(usize::from(j)).copied().unwrap_or(ZERO);
                acc.saturating_add(mul(incentive, b))
            })
        })
        .collect();
    normalize(&mut dividends);
    ema.max_upscale_columns(ctx.n);
    BondResult {
        bonds: ema,
        dividends,
    }
}

/// Yuma3: absolute bonds, EMA'd toward Wb with a fixed or liquid alpha; dividends weight the
/// column-normalized bonds by incentive and by the validator's own active stake.
pub(crate) fn yuma3(
    ctx: &BondContext<'_>,
    weights_for_bonds: &SparseMatrix,
    bonds: &SparseMatrix,
    alpha: Fx,
    liquid: Option<AlphaSigmoid>,
) -> BondResult {
    let use_liquid = ctx.consensus.iter().any(|&c| c != ZERO);
    let ema = match liquid {
        Some(sigmoid) if use_liquid => liquid_ema(ctx, weights_for_bonds, bonds, sigmoid),
        _ => ema(weights_for_bonds, bonds, alpha, ctx.n),
    };
    // Dividends read B̂, the column-normalized bonds, without materializing it.
    let column_sums: Vec<Option<Divisor>> = ema
        .column_sums(ctx.n)
        .into_iter()
        .map(|total| (total != ZERO).then(|| Divisor::new(total)))
        .collect();
    let mut dividends: Vec<Fx> = ema
        .rows()
        .zip(ctx.active_stake)
        .map(|(row, &stake)| {
            let total = row.iter().fold(ZERO, |acc, &(j, b)| {
                let normalized = match column_sums.get(usize::from(j)) {
                    Some(Some(divisor)) => divisor.divide(b),
                    _ => b,
                };
                let incentive = ctx.incentive.get(usize::from(j)).copied().unwrap_or(ZERO);
                acc.saturating_add(mul(normalized, incentive))
            });
            total.checked_mul(stake).unwrap_or(ZERO)
        })
        .collect();
    normalize(&mut dividends);
    BondResult {
        bonds: ema,
        dividends,
    }
}

/// `α·new + (1−α)·old` entry by entry; rows come out in ascending uid order, positives only.
fn ema(new: &SparseMatrix, old: &SparseMatrix, alpha: Fx, n: usize) -> SparseMatrix {
    let keep = ONE.saturating_sub(alpha);
    let mut out = SparseMatrix::with_capacity(new.n_rows(), new.nnz().max(old.nnz()));
    let mut scratch = DenseRow::new(n);
    for (new_row, old_row) in new.rows().zip(old.rows()) {
        let scaled_new = new_row.iter().map(|&(j, v)| (j, mul(alpha, v)));
        let scaled_old = old_row.iter().map(|&(j, v)| (j, mul(keep, v)));
        if is_ascending(new_row) && is_ascending(old_row) {
            merge_ascending(scaled_new, scaled_old, &mut out);
        } else {
            scratch.accumulate(scaled_new.chain(scaled_old));
            scratch.drain_ascending(&mut out);
        }
        out.end_row();
    }
    out
}

fn is_ascending(row: &[Entry]) -> bool {
    row.windows(2)
        .all(|pair| matches!(pair, [(a, _), (b, _)] if a < b))
}

/// Merge two ascending rows, adding values at equal uids and keeping sums > 0.
fn merge_ascending(
    a: impl Iterator<Item = Entry>,
    b: impl Iterator<Item = Entry>,
    out: &mut SparseMatrix,
) {
    let mut a = a.peekable();
    let mut b = b.peekable();
    loop {
        let (j, value) = match (a.peek().copied(), b.peek().copied()) {
            (Some((ja, va)), Some((jb, vb))) if ja == jb => {
                a.next();
                b.next();
                (ja, va.saturating_add(vb))
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
                *slot = slot.saturating_add(value);
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
fn liquid_ema(
    ctx: &BondContext<'_>,
    weights_for_bonds: &SparseMatrix,
    bonds: &SparseMatrix,
    sigmoid: AlphaSigmoid,
) -> SparseMatrix {
    let mut out = SparseMatrix::with_capacity(weights_for_bonds.n_rows(), weights_for_bonds.nnz());
    let mut seen_weight = vec![ZERO; ctx.n];
    let mut seen_bond = vec![ZERO; ctx.n];
    let mut bond = vec![ZERO; ctx.n];
    for (weight_row, bond_row) in weights_for_bonds.rows().zip(bonds.rows()) {
        if weight_row.is_empty() {
            out.end_row();
            continue;
        }
        scatter_running_maxima(weight_row, &mut seen_weight);
        scatter_running_maxima(bond_row, &mut seen_bond);
        for &(j, b) in bond_row {
            if let Some(slot) = bond.get_mut(usize::from(j)) {
                *slot = b;
            }
        }
        for &(j, w) in weight_row {
            let index = usize::from(j);
            let at = |v: &[Fx]| v.get(index).copied().unwrap_or(ZERO);
            let alpha = sigmoid.alpha_cached(at(ctx.consensus), at(&seen_weight), at(&seen_bond));
            let decayed = mul(ONE.saturating_sub(alpha), at(&bond));
            let value = decayed.saturating_add(mul(alpha, w).max(ZERO)).min(ONE);
            if value > ZERO {
                out.push(j, value);
            }
        }
        out.end_row();
        for row in [weight_row, bond_row] {
            for &(j, _) in row {
                for dense in [&mut seen_weight, &mut seen_bond, &mut bond] {
                    if let Some(slot) = dense.get_mut(usize::from(j)) {
                        *slot = ZERO;
                    }
                }
            }
        }
    }
    out
}

/// Write into `dense` the entries of `row` that the reference's ascending walk can see.
fn scatter_running_maxima(row: &[Entry], dense: &mut [Fx]) {
    let mut highest: Option<u16> = None;
    for &(j, value) in row {
        if highest.is_none_or(|h| j > h) {
            highest = Some(j);
            if let Some(slot) = dense.get_mut(usize::from(j)) {
                *slot = value;
            }
        }
    }
}
