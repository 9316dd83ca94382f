//! Row-compressed sparse matrices, stored column-index and value apart (structure of arrays).
//!
//! Rows keep the order their entries arrived in: the reference stores weight rows in the order
//! `set_weights` received them and some of its bond rows in weight-row order, and that order
//! changes results (see `bonds::LiquidState`). Every operation here is linear in the number of
//! entries plus the number of rows; none of them touches an n×n grid.

use crate::fixed::Fx;

/// Read access to the rows of a sparse matrix, for the passes that only walk it.
pub(crate) trait RowSource {
    fn n_rows(&self) -> usize;
    /// Call `f(column)` for each entry of row `i`, in stored order.
    fn for_each_column(&self, i: usize, f: impl FnMut(u16));
    /// Call `f(column, value)` for each entry of row `i`, in stored order.
    fn for_each_entry(&self, i: usize, f: impl FnMut(u16, Fx));
    /// Whether row `i`'s columns strictly ascend.
    fn is_ascending(&self, i: usize) -> bool;
    /// Call `f(column, value)` for the entries of row `i` from position `from` on while their
    /// column is below `limit`; returns the position of the first entry not visited. Only
    /// for rows whose columns ascend (an implementation may bisect).
    fn for_each_entry_below(
        &self,
        i: usize,
        from: usize,
        limit: usize,
        f: impl FnMut(u16, Fx),
    ) -> usize;
}

/// A sparse matrix in compressed-row form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SparseMatrix {
    /// `offsets[i]..offsets[i + 1]` is row i's range; `offsets.len()` is rows + 1.
    offsets: Vec<usize>,
    cols: Vec<u16>,
    vals: Vec<Fx>,
}

impl SparseMatrix {
    /// An empty matrix ready for `push` / `end_row`, with room for `nnz` entries.
    pub(crate) fn with_capacity(rows: usize, nnz: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows.saturating_add(1));
        offsets.push(0);
        Self {
            offsets,
            cols: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
        }
    }

    /// Append an entry to the row being built.
    #[inline]
    pub(crate) fn push(&mut self, column: u16, value: Fx) {
        self.cols.push(column);
        self.vals.push(value);
    }

    /// Room for `additional` more entries.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.cols.reserve(additional);
        self.vals.reserve(additional);
    }

    /// Close the row being built.
    pub(crate) fn end_row(&mut self) {
        self.offsets.push(self.cols.len());
    }

    /// The entries of the row being built (pushed since the last `end_row`).
    pub(crate) fn open_row(&self) -> (&[u16], &[Fx]) {
        let start = self.offsets.last().copied().unwrap_or(0);
        (
            self.cols.get(start..).unwrap_or(&[]),
            self.vals.get(start..).unwrap_or(&[]),
        )
    }

    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        let start = *self.offsets.get(i)?;
        let end = *self.offsets.get(i.checked_add(1)?)?;
        Some(start..end)
    }

    /// Row `i` as (columns, values), or an empty row past the end.
    pub(crate) fn row(&self, i: usize) -> (&[u16], &[Fx]) {
        self.range(i)
            .and_then(|range| Some((self.cols.get(range.clone())?, self.vals.get(range)?)))
            .unwrap_or((&[], &[]))
    }
}

/// Consecutive rows of a [`SparseMatrix`] with mutable values, for work split by rows.
#[derive(Debug)]
pub(crate) struct RowsMut<'a> {
    /// Row r of the chunk spans `bounds[r] - base .. bounds[r + 1] - base` in the slices.
    bounds: &'a [usize],
    base: usize,
    cols: &'a [u16],
    vals: &'a mut [Fx],
}

impl RowsMut<'_> {
    pub(crate) fn n_rows(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// Row r of the chunk as (columns, values).
    pub(crate) fn row_mut(&mut self, r: usize) -> (&[u16], &mut [Fx]) {
        let range = self
            .bounds
            .get(r)
            .zip(self.bounds.get(r.saturating_add(1)))
            .map(|(&start, &end)| start.saturating_sub(self.base)..end.saturating_sub(self.base));
        match range {
            Some(range) => match (self.cols.get(range.clone()), self.vals.get_mut(range)) {
                (Some(cols), Some(vals)) => (cols, vals),
                _ => (&[], &mut []),
            },
            None => (&[], &mut []),
        }
    }
}

impl SparseMatrix {
    /// The rows in chunks of `rows_per_chunk` (the last may be shorter), values mutable.
    pub(crate) fn row_chunks_mut(&mut self, rows_per_chunk: usize) -> Vec<RowsMut<'_>> {
        let rows = self.offsets.len().saturating_sub(1);
        let step = rows_per_chunk.max(1);
        let mut chunks = Vec::with_capacity(rows.div_ceil(step));
        let mut cols: &[u16] = &self.cols;
        let mut vals: &mut [Fx] = &mut self.vals;
        let mut first = 0_usize;
        while first < rows {
            let last = first.saturating_add(step).min(rows);
            let (Some(&base), Some(&end)) = (self.offsets.get(first), self.offsets.get(last))
            else {
                break;
            };
            let len = end.saturating_sub(base);
            let (Some((chunk_cols, rest_cols)), Some((chunk_vals, rest_vals))) = (
                cols.split_at_checked(len),
                std::mem::take(&mut vals).split_at_mut_checked(len),
            ) else {
                break;
            };
            chunks.push(RowsMut {
                bounds: self.offsets.get(first..=last).unwrap_or(&[]),
                base,
                cols: chunk_cols,
                vals: chunk_vals,
            });
            cols = rest_cols;
            vals = rest_vals;
            first = last;
        }
        chunks
    }
}

impl RowSource for SparseMatrix {
    fn n_rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn for_each_column(&self, i: usize, f: impl FnMut(u16)) {
        self.row(i).0.iter().copied().for_each(f);
    }

    #[inline]
    fn for_each_entry(&self, i: usize, mut f: impl FnMut(u16, Fx)) {
        let (cols, vals) = self.row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            f(j, v);
        }
    }

    fn is_ascending(&self, i: usize) -> bool {
        self.row(i).0.windows(2).all(|pair| match pair {
            [a, b] => a < b,
            _ => true,
        })
    }

    fn for_each_entry_below(
        &self,
        i: usize,
        from: usize,
        limit: usize,
        mut f: impl FnMut(u16, Fx),
    ) -> usize {
        let (cols, vals) = self.row(i);
        let mut next = from;
        for (&j, &v) in cols.iter().zip(vals).skip(from) {
            if usize::from(j) >= limit {
                break;
            }
            f(j, v);
            next = next.saturating_add(1);
        }
        next
    }
}
