//! Row-compressed sparse matrices of `(column uid, value)` entries.
//!
//! Rows keep the order their entries arrived in: the reference stores weight rows in the order
//! `set_weights` received them and some of its bond rows in weight-row order, and that order
//! changes results (see `bonds::liquid_ema`). Every operation here is linear in the number of
//! entries plus the number of rows; none of them touches an n×n grid.

use crate::fixed::{sum, Divisor, Fx, ZERO};

/// One matrix entry: the column's uid and its value.
pub(crate) type Entry = (u16, Fx);

/// A sparse matrix in compressed-row form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SparseMatrix {
    /// `offsets[i]..offsets[i + 1]` is row i's range in `entries`; `offsets.len()` is rows + 1.
    offsets: Vec<usize>,
    entries: Vec<Entry>,
}

impl SparseMatrix {
    /// An empty matrix ready for `push` / `end_row`, with room for `nnz` entries.
    pub(crate) fn with_capacity(rows: usize, nnz: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows.saturating_add(1));
        offsets.push(0);
        Self {
            offsets,
            entries: Vec::with_capacity(nnz),
        }
    }

    /// Append an entry to the row being built.
    pub(crate) fn push(&mut self, column: u16, value: Fx) {
        self.entries.push((column, value));
    }

    /// Close the row being built.
    pub(crate) fn end_row(&mut self) {
        self.offsets.push(self.entries.len());
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub(crate) fn nnz(&self) -> usize {
        self.entries.len()
    }

    /// Row `i`, or an empty row past the end.
    pub(crate) fn row(&self, i: usize) -> &[Entry] {
        match (self.offsets.get(i), self.offsets.get(i.saturating_add(1))) {
            (Some(&start), Some(&end)) => self.entries.get(start..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The rows in order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = &[Entry]> + '_ {
        self.offsets.windows(2).map(move |bounds| match bounds {
            [start, end] => self.entries.get(*start..*end).unwrap_or(&[]),
            _ => &[],
        })
    }

    /// Apply `f` to each row, mutably, with its index.
    pub(crate) fn for_each_row_mut(&mut self, mut f: impl FnMut(usize, &mut [Entry])) {
        let mut rest: &mut [Entry] = &mut self.entries;
        for (i, bounds) in self.offsets.windows(2).enumerate() {
            let len = match bounds {
                [start, end] => end.saturating_sub(*start),
                _ => 0,
            };
            let Some((row, tail)) = std::mem::take(&mut rest).split_at_mut_checked(len) else {
                return;
            };
            f(i, row);
            rest = tail;
        }
    }

    /// A new matrix with `f(row, column, value)` applied; `None` drops the entry. Order is kept.
    pub(crate) fn filter_map(&self, mut f: impl FnMut(usize, u16, Fx) -> Option<Fx>) -> Self {
        let mut out = Self::with_capacity(self.n_rows(), self.nnz());
        for (i, row) in self.rows().enumerate() {
            for &(j, value) in row {
                if let Some(mapped) = f(i, j, value) {
                    out.push(j, mapped);
                }
            }
            out.end_row();
        }
        out
    }

    /// Sum of each row.
    pub(crate) fn row_sums(&self) -> Vec<Fx> {
        self.rows()
            .map(|row| sum(row.iter().map(|&(_, value)| value)))
            .collect()
    }

    /// Divide each row with a positive sum by that sum.
    pub(crate) fn normalize_rows(&mut self) {
        self.for_each_row_mut(|_, row| {
            let total = sum(row.iter().map(|&(_, value)| value));
            if total > ZERO {
                let divisor = Divisor::new(total);
                for entry in row.iter_mut() {
                    entry.1 = divisor.divide(entry.1);
                }
            }
        });
    }

    /// Sum of each of `columns` columns (saturating, as the reference accumulates them).
    pub(crate) fn column_sums(&self, columns: usize) -> Vec<Fx> {
        let mut sums = vec![ZERO; columns];
        for &(j, value) in &self.entries {
            if let Some(total) = sums.get_mut(usize::from(j)) {
                *total = total.saturating_add(value);
            }
        }
        sums
    }

    /// Divide each entry by its column's sum where that sum is non-zero.
    pub(crate) fn normalize_columns(&mut self, columns: usize) {
        let sums = self.column_sums(columns);
        self.divide_columns_by(&sums);
    }

    /// Divide each entry by its column's maximum, so every non-zero column peaks at 1.
    pub(crate) fn max_upscale_columns(&mut self, columns: usize) {
        let mut maxima = vec![ZERO; columns];
        for &(j, value) in &self.entries {
            if let Some(max) = maxima.get_mut(usize::from(j)) {
                if *max < value {
                    *max = value;
                }
            }
        }
        self.divide_columns_by(&maxima);
    }

    fn divide_columns_by(&mut self, divisors: &[Fx]) {
        let prepared: Vec<Option<Divisor>> = divisors
            .iter()
            .map(|&d| (d != ZERO).then(|| Divisor::new(d)))
            .collect();
        for entry in &mut self.entries {
            if let Some(Some(divisor)) = prepared.get(usize::from(entry.0)) {
                entry.1 = divisor.divide(entry.1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[(u16, i32)]]) -> SparseMatrix {
        let mut m = SparseMatrix::with_capacity(rows.len(), 0);
        for row in rows {
            for &(j, v) in *row {
                m.push(j, Fx::from_num(v));
            }
            m.end_row();
        }
        m
    }

    #[test]
    fn column_normalization_skips_zero_columns() {
        let mut m = matrix(&[&[(0, 1), (1, 0)], &[(0, 3)]]);
        m.normalize_columns(3);
        assert_eq!(m.row(0), &[(0, Fx::from_num(0.25_f64)), (1, ZERO)]);
        assert_eq!(m.row(1), &[(0, Fx::from_num(0.75_f64))]);
    }
}
