//! Row-compressed sparse matrices, stored column-index and value apart (structure of arrays).
//!
//! Rows keep the order their entries arrived in: the reference stores weight rows in the order
//! `set_weights` received them and some of its bond rows in weight-row order, and that order
//! changes results (see `bonds::LiquidState`). Every operation here is linear in the number of
//! entries plus the number of rows; none of them touches an n×n grid.

use crate::fixed::{Fx, RowNorm};

/// Read access to the rows of a sparse matrix, for the passes that only walk it.
pub(crate) trait RowSource {
    /// The number of entries of row `i`.
    fn row_len(&self, i: usize) -> usize;
    /// Call `f(column, value)` for each entry of row `i`, in stored order.
    fn for_each_entry(&self, i: usize, f: impl FnMut(u16, Fx));
    /// Whether row `i`'s columns strictly ascend.
    fn is_ascending(&self, i: usize) -> bool;
    /// The position in row `i` of its first entry with column ≥ `lo`. Only for rows whose
    /// columns ascend (it bisects).
    fn position_of(&self, i: usize, lo: usize) -> usize;
    /// Call `f(column, value)` for the entries of row `i` from position `from` on while their
    /// column is below `hi`; returns the position of the first entry not visited. Only for
    /// rows whose columns ascend.
    fn scan_below(&self, i: usize, from: usize, hi: usize, f: impl FnMut(u16, Fx)) -> usize;
    /// Row `i`'s entries at positions `from..from + width` as `(column, raw weight)` and the
    /// row's normalizer, when they are exactly the columns `lo..lo + width` (a row that weighs
    /// every uid of a range, the common case); `None` otherwise, or for a source that keeps
    /// no raw weights. Only for rows whose columns ascend.
    fn full_span(
        &self,
        _i: usize,
        _from: usize,
        _lo: usize,
        _width: usize,
    ) -> Option<(&[(u16, u16)], RowNorm)> {
        None
    }
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

impl RowSource for SparseMatrix {
    fn row_len(&self, i: usize) -> usize {
        self.row(i).0.len()
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

    fn position_of(&self, i: usize, lo: usize) -> usize {
        self.row(i).0.partition_point(|&j| usize::from(j) < lo)
    }

    #[inline]
    fn scan_below(&self, i: usize, from: usize, hi: usize, mut f: impl FnMut(u16, Fx)) -> usize {
        let (cols, vals) = self.row(i);
        let mut next = from;
        for (&j, &v) in cols.iter().zip(vals).skip(from) {
            if usize::from(j) >= hi {
                break;
            }
            f(j, v);
            next = next.saturating_add(1);
        }
        next
    }
}

impl SparseMatrix {
    /// Empty the matrix, keeping its allocations, to build it again.
    pub(crate) fn clear(&mut self) {
        self.offsets.clear();
        self.offsets.push(0);
        self.cols.clear();
        self.vals.clear();
    }
}

/// Rows at fixed places in one allocation: row i has room for `capacity(i)` entries from a
/// precomputed start, and holds its own length. Disjoint ranges of rows can then be filled
/// in parallel, each through its own [`PaddedSlice`].
///
/// One large allocation instead of one per range matters for speed: the system allocator
/// raises its threshold for mapping fresh memory to the size of the largest block it has
/// freed, so from the second epoch on the same memory is reused rather than mapped (and
/// page-faulted in) again.
#[derive(Debug)]
pub(crate) struct PaddedRows {
    /// `starts[i]..starts[i] + capacity(i)` is row i's room; `starts.len()` is rows + 1.
    starts: Vec<usize>,
    lens: Vec<usize>,
    cols: Vec<u16>,
    vals: Vec<Fx>,
}

/// A range of rows of a [`PaddedRows`], writable.
#[derive(Debug)]
pub(crate) struct PaddedSlice<'a> {
    /// The rows' starts (and the end of the last), relative to `base`.
    starts: &'a [usize],
    base: usize,
    lens: &'a mut [usize],
    cols: &'a mut [u16],
    vals: &'a mut [Fx],
}

impl PaddedRows {
    /// Room for `capacities[i]` entries in row i.
    pub(crate) fn new(capacities: impl Iterator<Item = usize>) -> Self {
        let mut starts = vec![0_usize];
        let mut total = 0_usize;
        for capacity in capacities {
            total = total.saturating_add(capacity);
            starts.push(total);
        }
        let rows = starts.len().saturating_sub(1);
        Self {
            starts,
            lens: vec![0; rows],
            cols: vec![0; total],
            vals: vec![Fx::from_bits(0); total],
        }
    }

    /// Row `i` as (columns, values), or an empty row past the end.
    pub(crate) fn row(&self, i: usize) -> (&[u16], &[Fx]) {
        let start = self.starts.get(i).copied().unwrap_or(0);
        let end = start.saturating_add(self.lens.get(i).copied().unwrap_or(0));
        match (self.cols.get(start..end), self.vals.get(start..end)) {
            (Some(cols), Some(vals)) => (cols, vals),
            _ => (&[], &[]),
        }
    }

    /// One writable slice per range; the ranges must be consecutive and start at row 0.
    pub(crate) fn split_mut(&mut self, ranges: &[std::ops::Range<usize>]) -> Vec<PaddedSlice<'_>> {
        let mut slices = Vec::with_capacity(ranges.len());
        let mut lens: &mut [usize] = &mut self.lens;
        let mut cols: &mut [u16] = &mut self.cols;
        let mut vals: &mut [Fx] = &mut self.vals;
        for range in ranges {
            let (Some(&base), Some(&end)) =
                (self.starts.get(range.start), self.starts.get(range.end))
            else {
                break;
            };
            let room = end.saturating_sub(base);
            let (
                Some((range_lens, rest_lens)),
                Some((range_cols, rest_cols)),
                Some((range_vals, rest_vals)),
            ) = (
                std::mem::take(&mut lens).split_at_mut_checked(range.len()),
                std::mem::take(&mut cols).split_at_mut_checked(room),
                std::mem::take(&mut vals).split_at_mut_checked(room),
            )
            else {
                break;
            };
            slices.push(PaddedSlice {
                starts: self.starts.get(range.start..=range.end).unwrap_or(&[]),
                base,
                lens: range_lens,
                cols: range_cols,
                vals: range_vals,
            });
            lens = rest_lens;
            cols = rest_cols;
            vals = rest_vals;
        }
        slices
    }
}

impl PaddedSlice<'_> {
    fn room(&self, r: usize) -> std::ops::Range<usize> {
        let start = self
            .starts
            .get(r)
            .map_or(0, |&s| s.saturating_sub(self.base));
        let end = self
            .starts
            .get(r.saturating_add(1))
            .map_or(start, |&s| s.saturating_sub(self.base));
        start..end
    }

    /// Store row r of the range (at most its room; the room is an upper bound by design).
    pub(crate) fn set_row(&mut self, r: usize, cols: &[u16], vals: &[Fx]) {
        let room = self.room(r);
        let len = cols.len().min(vals.len()).min(room.len());
        let end = room.start.saturating_add(len);
        if let (Some(dst_cols), Some(dst_vals), Some(src_cols), Some(src_vals), Some(slot)) = (
            self.cols.get_mut(room.start..end),
            self.vals.get_mut(room.start..end),
            cols.get(..len),
            vals.get(..len),
            self.lens.get_mut(r),
        ) {
            dst_cols.copy_from_slice(src_cols);
            dst_vals.copy_from_slice(src_vals);
            *slot = len;
        }
    }

    /// Row r's whole room, to write its entries in place; [`Self::set_len`] then says how
    /// many it holds.
    pub(crate) fn room_mut(&mut self, r: usize) -> (&mut [u16], &mut [Fx]) {
        let room = self.room(r);
        match (self.cols.get_mut(room.clone()), self.vals.get_mut(room)) {
            (Some(cols), Some(vals)) => (cols, vals),
            _ => (&mut [], &mut []),
        }
    }

    /// Row r holds the first `len` entries of its room (at most the room).
    pub(crate) fn set_len(&mut self, r: usize, len: usize) {
        let room = self.room(r).len();
        if let Some(slot) = self.lens.get_mut(r) {
            *slot = len.min(room);
        }
    }
}
