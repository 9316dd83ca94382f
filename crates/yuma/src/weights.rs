//! W: the masked, row-normalized weight matrix, kept in its integer form.
//!
//! A stored weight is a u16 and a row's sum is an integer below 2³¹, so each normalized
//! weight `w / Σw` is an exact integer quotient (see [`RowNorm`]). The matrix keeps the raw
//! u16s (2 bytes an entry instead of 8) with one prepared divisor per row, and recomputes a
//! normalized weight each time a pass reads it: a multiplication and a shift.

use crate::contract::EpochInput;
use crate::fixed::{Fx, RowNorm};
use crate::sparse::RowSource;

/// W in compressed-row form: raw u16 weights plus each row's normalizer.
#[derive(Debug, Clone)]
pub(crate) struct Weights {
    offsets: Vec<usize>,
    /// `(column, raw weight)`, as the input stores them.
    entries: Vec<(u16, u16)>,
    norms: Vec<RowNorm>,
    ascending: Vec<bool>,
}

/// One row of W.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WeightRow<'a> {
    pub(crate) raw: &'a [(u16, u16)],
    pub(crate) norm: RowNorm,
    /// Whether the columns strictly ascend.
    pub(crate) ascending: bool,
}

impl WeightRow<'_> {
    /// `(column, normalized weight)` in stored order.
    #[inline]
    pub(crate) fn entries(&self) -> impl Iterator<Item = (u16, Fx)> + '_ {
        let norm = self.norm;
        self.raw.iter().map(move |&(j, w)| (j, norm.apply(w)))
    }

    pub(crate) fn len(&self) -> usize {
        self.raw.len()
    }
}

impl Weights {
    /// W: stored weights with rows of non-permitted validators, the diagonal (except the
    /// owner's), weights older than their target's registration, and (under commit-reveal)
    /// weights committed before their target's registration removed; each row normalized.
    pub(crate) fn build(
        input: &EpochInput,
        registered_at: &[u64],
        old_permit: &[bool],
        owner: Option<usize>,
    ) -> Self {
        let neurons = &input.neurons;
        let n = neurons.len();
        let nnz = neurons
            .iter()
            .zip(old_permit)
            .filter(|(_, &permit)| permit)
            .map(|(neuron, _)| neuron.weights.len())
            .fold(0_usize, usize::saturating_add);
        let mut offsets = Vec::with_capacity(n.saturating_add(1));
        offsets.push(0);
        let mut entries: Vec<(u16, u16)> = Vec::with_capacity(nnz);
        let mut norms = Vec::with_capacity(n);
        let mut ascending = Vec::with_capacity(n);
        // A uid that is not a neuron reads as registered at 0, below every limit.
        let newest_registration = registered_at.iter().copied().max().unwrap_or(0);
        for (i, (neuron, &permit)) in neurons.iter().zip(old_permit).enumerate() {
            let start = entries.len();
            if permit {
                let commit_block = neuron
                    .commit_block
                    .filter(|_| input.params.commit_reveal)
                    .unwrap_or(u64::MAX);
                // Kept: `registered_at[j] < last_update` (not outdated) and, under
                // commit-reveal, `registered_at[j] <= commit_block`.
                let limit = neuron.last_update.min(commit_block.saturating_add(1));
                let self_uid = if owner == Some(i) {
                    None
                } else {
                    u16::try_from(i).ok()
                };
                entries.reserve(neuron.weights.len());
                if newest_registration < limit {
                    // No weight is outdated or committed too early: only the diagonal goes
                    // (a row names a uid at most once), so the row is copied around it.
                    let row = neuron.weights.as_slice();
                    let diagonal = self_uid.and_then(|s| row.iter().position(|&(j, _)| j == s));
                    match diagonal.map(|at| (row.get(..at), row.get(at.saturating_add(1)..))) {
                        Some((Some(before), Some(after))) => {
                            entries.extend_from_slice(before);
                            entries.extend_from_slice(after);
                        }
                        _ => entries.extend_from_slice(row),
                    }
                } else {
                    for &(j, w) in &neuron.weights {
                        let registered = registered_at.get(usize::from(j)).copied().unwrap_or(0);
                        if registered < limit && Some(j) != self_uid {
                            entries.push((j, w));
                        }
                    }
                }
            }
            let row = entries.get(start..).unwrap_or(&[]);
            // Sum and order in one branch-free pass.
            let first = row.first().map_or(0, |&(_, w)| u64::from(w));
            let (sum, rising) = row.iter().zip(row.iter().skip(1)).fold(
                (first, true),
                |(acc, rising), (&(a, _), &(b, w))| {
                    (acc.wrapping_add(u64::from(w)), rising & (a < b))
                },
            );
            norms.push(RowNorm::new(sum));
            ascending.push(rising);
            offsets.push(entries.len());
        }
        Self {
            offsets,
            entries,
            norms,
            ascending,
        }
    }

    pub(crate) fn nnz(&self) -> usize {
        self.entries.len()
    }

    /// Row `i`, or an empty row past the end.
    #[inline]
    pub(crate) fn row(&self, i: usize) -> WeightRow<'_> {
        let raw = self
            .offsets
            .get(i)
            .zip(self.offsets.get(i.saturating_add(1)))
            .and_then(|(&start, &end)| self.entries.get(start..end))
            .unwrap_or(&[]);
        WeightRow {
            raw,
            norm: self.norms.get(i).copied().unwrap_or(RowNorm::IDENTITY),
            ascending: self.ascending.get(i).copied().unwrap_or(true),
        }
    }
}

impl RowSource for Weights {
    fn n_rows(&self) -> usize {
        self.norms.len()
    }

    #[inline]
    fn for_each_column(&self, i: usize, mut f: impl FnMut(u16)) {
        for &(j, _) in self.row(i).raw {
            f(j);
        }
    }

    #[inline]
    fn for_each_entry(&self, i: usize, mut f: impl FnMut(u16, Fx)) {
        for (j, w) in self.row(i).entries() {
            f(j, w);
        }
    }

    fn is_ascending(&self, i: usize) -> bool {
        self.row(i).ascending
    }

    #[inline]
    fn for_each_entry_below(
        &self,
        i: usize,
        from: usize,
        limit: usize,
        mut f: impl FnMut(u16, Fx),
    ) -> usize {
        let row = self.row(i);
        let rest = row.raw.get(from..).unwrap_or(&[]);
        // The row ascends: the entries below `limit` are a prefix, found by bisection.
        let count = rest.partition_point(|&(j, _)| usize::from(j) < limit);
        let norm = row.norm;
        for &(j, raw) in rest.get(..count).unwrap_or(&[]) {
            f(j, norm.apply(raw));
        }
        from.saturating_add(count)
    }
}
