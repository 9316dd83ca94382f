//! W: the masked, row-normalized weight matrix, kept in its integer form.
//!
//! A stored weight is a u16 and a row's sum is an integer below 2³¹, so each normalized
//! weight `w / Σw` is an exact integer quotient (see [`RowNorm`]). The matrix keeps the raw
//! u16s (2 bytes an entry instead of 8) with one prepared divisor per row, and recomputes a
//! normalized weight each time a pass reads it: a multiplication and a shift.

use crate::contract::{EpochInput, NeuronInput};
use crate::fixed::{Fx, RowNorm};
use crate::sparse::RowSource;
use rayon::prelude::*;

/// W in compressed-row form: raw u16 weights plus each row's normalizer.
///
/// A row is usually its input row with at most one entry left out (the validator's weight on
/// itself), so it is kept as a view of the input, two slices around the gap, and nothing is
/// copied; only rows that lose outdated weights are copied, filtered, into `owned`.
#[derive(Debug, Clone)]
pub(crate) struct Weights<'a> {
    neurons: &'a [NeuronInput],
    spans: Vec<Span>,
    owned: Vec<(u16, u16)>,
    norms: Vec<RowNorm>,
    ascending: Vec<bool>,
}

/// `(column, raw weight)` as the input stores it.
type RawEntry = (u16, u16);

/// Where a row's entries are.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// The neuron's own input row without the entry at `skip` (none when out of range).
    Input { skip: usize },
    /// `owned[start..end]`.
    Owned { start: usize, end: usize },
}

/// One row of W.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WeightRow<'a> {
    /// `(column, raw weight)`, in stored order: `head` then `tail`.
    pub(crate) head: &'a [(u16, u16)],
    pub(crate) tail: &'a [(u16, u16)],
    pub(crate) norm: RowNorm,
    /// Whether the columns strictly ascend.
    pub(crate) ascending: bool,
}

impl<'a> WeightRow<'a> {
    /// `(column, normalized weight)` in stored order.
    #[inline]
    pub(crate) fn entries(self) -> impl Iterator<Item = (u16, Fx)> + 'a {
        let norm = self.norm;
        self.head
            .iter()
            .chain(self.tail)
            .map(move |&(j, w)| (j, norm.apply(w)))
    }

    pub(crate) fn len(&self) -> usize {
        self.head.len().saturating_add(self.tail.len())
    }

    /// The position (in `head` then `tail`) of the first entry with column ≥ `lo`, for an
    /// ascending row.
    fn position_of(&self, lo: usize) -> usize {
        let in_head = self.head.partition_point(|&(j, _)| usize::from(j) < lo);
        if in_head < self.head.len() {
            return in_head;
        }
        in_head.saturating_add(self.tail.partition_point(|&(j, _)| usize::from(j) < lo))
    }

    /// The entries at positions `from..from + width` when they are exactly the columns
    /// `lo..lo + width`, for an ascending row: they must lie in `head` or in `tail` (not
    /// across the gap), and then a first column `lo` and a last `lo + width - 1` leave no room
    /// for a missing one, the columns strictly ascending.
    fn full_span(&self, from: usize, lo: usize, width: usize) -> Option<&'a [RawEntry]> {
        let part = match from.checked_sub(self.head.len()) {
            None => self.head.get(from..)?,
            Some(in_tail) => self.tail.get(in_tail..)?,
        };
        let span = part.get(..width)?;
        let (&(first, _), &(last, _)) = (span.first()?, span.last()?);
        let last_wanted = lo.checked_add(width)?.checked_sub(1)?;
        (usize::from(first) == lo && usize::from(last) == last_wanted).then_some(span)
    }

    /// `f(column, weight)` for the entries from position `from` on while their column is below
    /// `hi`, for an ascending row; returns the position of the first entry not visited.
    #[inline]
    fn scan_below(&self, from: usize, hi: usize, mut f: impl FnMut(u16, Fx)) -> usize {
        let norm = self.norm;
        let mut next = from;
        for &(j, raw) in self.head.get(from..).unwrap_or(&[]) {
            if usize::from(j) >= hi {
                return next;
            }
            f(j, norm.apply(raw));
            next = next.saturating_add(1);
        }
        let tail_from = next.saturating_sub(self.head.len());
        for &(j, raw) in self.tail.get(tail_from..).unwrap_or(&[]) {
            if usize::from(j) >= hi {
                return next;
            }
            f(j, norm.apply(raw));
            next = next.saturating_add(1);
        }
        next
    }
}

/// Sum of a row's raw weights and whether its columns strictly ascend, in one pass.
fn sum_and_order<'a>(row: impl Iterator<Item = &'a (u16, u16)> + Clone) -> (u64, bool) {
    let mut rest = row.clone();
    let first = rest.next().map_or(0, |&(_, w)| u64::from(w));
    row.zip(rest)
        .fold((first, true), |(acc, rising), (&(a, _), &(b, w))| {
            (acc.wrapping_add(u64::from(w)), rising & (a < b))
        })
}

impl<'a> Weights<'a> {
    /// W: stored weights with rows of non-permitted validators, the diagonal (except the
    /// owner's), weights older than their target's registration, and (under commit-reveal)
    /// weights committed before their target's registration removed; each row normalized.
    ///
    /// `row_sums`, when given, holds every input row's raw sum, all rows strictly ascending
    /// (as validation finds them); otherwise the rows are walked here for both.
    pub(crate) fn build(
        input: &'a EpochInput,
        registered_at: &[u64],
        old_permit: &[bool],
        owner: Option<usize>,
        row_sums: Option<&[u64]>,
    ) -> Self {
        let neurons = input.neurons.as_slice();
        let n = neurons.len();
        // Each permitted row's sum and order, rows in parallel (the one pass over every weight).
        let stats: Vec<(u64, bool)> = match row_sums {
            Some(sums) => sums.iter().map(|&sum| (sum, true)).collect(),
            None => neurons
                .par_iter()
                .zip(old_permit)
                .map(|(neuron, &permit)| {
                    if permit {
                        sum_and_order(neuron.weights.iter())
                    } else {
                        (0, true)
                    }
                })
                .collect(),
        };
        let mut spans = Vec::with_capacity(n);
        let mut owned: Vec<(u16, u16)> = Vec::new();
        let mut norms = Vec::with_capacity(n);
        let mut ascending = Vec::with_capacity(n);
        // A uid that is not a neuron reads as registered at 0, below every limit.
        let newest_registration = registered_at.iter().copied().max().unwrap_or(0);
        for (i, ((neuron, &permit), &(total, rising))) in
            neurons.iter().zip(old_permit).zip(&stats).enumerate()
        {
            let row = neuron.weights.as_slice();
            let self_uid = if owner == Some(i) {
                None
            } else {
                u16::try_from(i).ok()
            };
            let commit_block = neuron
                .commit_block
                .filter(|_| input.params.commit_reveal)
                .unwrap_or(u64::MAX);
            // Kept: `registered_at[j] < last_update` (not outdated) and, under
            // commit-reveal, `registered_at[j] <= commit_block`.
            let limit = neuron.last_update.min(commit_block.saturating_add(1));
            let (span, sum, rising) = if !permit {
                (Span::Owned { start: 0, end: 0 }, 0, true)
            } else if newest_registration < limit {
                // No weight is outdated or committed too early: only the diagonal goes (a
                // row names a uid at most once), so the row is viewed around it.
                let skip = self_uid.and_then(|s| {
                    if rising {
                        row.binary_search_by_key(&s, |&(j, _)| j).ok()
                    } else {
                        row.iter().position(|&(j, _)| j == s)
                    }
                });
                match skip {
                    Some(at) => {
                        let removed = row.get(at).map_or(0, |&(_, w)| u64::from(w));
                        let rising = rising || {
                            let (head, tail) = (
                                row.get(..at).unwrap_or(&[]),
                                row.get(at.saturating_add(1)..).unwrap_or(&[]),
                            );
                            sum_and_order(head.iter().chain(tail)).1
                        };
                        (
                            Span::Input { skip: at },
                            total.wrapping_sub(removed),
                            rising,
                        )
                    }
                    None => (Span::Input { skip: usize::MAX }, total, rising),
                }
            } else {
                let start = owned.len();
                for &(j, w) in row {
                    let registered = registered_at.get(usize::from(j)).copied().unwrap_or(0);
                    if registered < limit && Some(j) != self_uid {
                        owned.push((j, w));
                    }
                }
                let end = owned.len();
                let (sum, rising) = sum_and_order(owned.get(start..end).unwrap_or(&[]).iter());
                (Span::Owned { start, end }, sum, rising)
            };
            spans.push(span);
            norms.push(RowNorm::new(sum));
            ascending.push(rising);
        }
        Self {
            neurons,
            spans,
            owned,
            norms,
            ascending,
        }
    }

    /// Row `i`, or an empty row past the end.
    #[inline]
    pub(crate) fn row(&self, i: usize) -> WeightRow<'_> {
        let (head, tail): (&[RawEntry], &[RawEntry]) = match self.spans.get(i) {
            Some(&Span::Input { skip }) => {
                let row = self
                    .neurons
                    .get(i)
                    .map_or(&[][..], |n| n.weights.as_slice());
                match (row.get(..skip), row.get(skip.saturating_add(1)..)) {
                    (Some(head), Some(tail)) => (head, tail),
                    _ => (row, &[]),
                }
            }
            Some(&Span::Owned { start, end }) => (self.owned.get(start..end).unwrap_or(&[]), &[]),
            None => (&[], &[]),
        };
        WeightRow {
            head,
            tail,
            norm: self.norms.get(i).copied().unwrap_or(RowNorm::IDENTITY),
            ascending: self.ascending.get(i).copied().unwrap_or(true),
        }
    }
}

impl RowSource for Weights<'_> {
    fn row_len(&self, i: usize) -> usize {
        self.row(i).len()
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

    fn position_of(&self, i: usize, lo: usize) -> usize {
        self.row(i).position_of(lo)
    }

    #[inline]
    fn scan_below(&self, i: usize, from: usize, hi: usize, f: impl FnMut(u16, Fx)) -> usize {
        self.row(i).scan_below(from, hi, f)
    }

    #[inline]
    fn full_span(
        &self,
        i: usize,
        from: usize,
        lo: usize,
        width: usize,
    ) -> Option<(&[RawEntry], RowNorm)> {
        let row = self.row(i);
        Some((row.full_span(from, lo, width)?, row.norm))
    }
}
