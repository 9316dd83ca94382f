//! Labelled datasets, the seeded held-out split and the Dirichlet non-IID miner shards.
//!
//! A [`Dataset`] is a dense row-major matrix of `f32` features with one class label per
//! row. All tasks in this crate reduce to that shape, so the model, the training loop and
//! the sharding code are shared.

pub mod idx;

use crate::rng::SeededRng;

/// Why a dataset could not be built or split.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// `features.len()` is not `n_rows * n_features`.
    #[error("features hold {n_values} values, expected {n_rows} rows x {n_features} features")]
    FeatureShape {
        n_values: usize,
        n_rows: usize,
        n_features: usize,
    },
    /// A label is not below the class count.
    #[error("label {label} at row {row} is not below n_classes = {n_classes}")]
    LabelOutOfRange {
        row: usize,
        label: u32,
        n_classes: usize,
    },
    /// A split fraction outside (0, 1).
    #[error("held-out fraction {fraction} is not in (0, 1)")]
    Fraction { fraction: f64 },
    /// A split that would leave one side empty.
    #[error("splitting {n_rows} rows at fraction {fraction} leaves one side empty")]
    EmptySide { n_rows: usize, fraction: f64 },
    /// Dirichlet shards need at least one miner and a positive, finite concentration.
    #[error("invalid shard request: n_miners = {n_miners}, alpha = {alpha}")]
    ShardRequest { n_miners: usize, alpha: f64 },
    /// A row index past the end of the dataset.
    #[error("row index {row} out of range for {n_rows} rows")]
    RowOutOfRange { row: usize, n_rows: usize },
}

/// A labelled classification dataset: `n_rows` rows of `n_features` `f32`s, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    features: Vec<f32>,
    labels: Vec<u32>,
    n_features: usize,
    n_classes: usize,
}

impl Dataset {
    /// Builds a dataset, checking that the shapes agree and every label is a valid class.
    pub fn new(
        features: Vec<f32>,
        labels: Vec<u32>,
        n_features: usize,
        n_classes: usize,
    ) -> Result<Self, DataError> {
        let n_rows = labels.len();
        if n_rows.checked_mul(n_features) != Some(features.len()) {
            return Err(DataError::FeatureShape {
                n_values: features.len(),
                n_rows,
                n_features,
            });
        }
        if let Some((row, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| **l as usize >= n_classes)
        {
            return Err(DataError::LabelOutOfRange {
                row,
                label,
                n_classes,
            });
        }
        Ok(Self {
            features,
            labels,
            n_features,
            n_classes,
        })
    }

    /// Number of rows (examples).
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// Features per row.
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of classes; every label is below it.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// All features, row-major.
    #[must_use]
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All labels, one per row.
    #[must_use]
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// A new dataset holding the given rows, in the given order.
    pub fn select(&self, rows: &[usize]) -> Result<Self, DataError> {
        let mut features = Vec::with_capacity(rows.len() * self.n_features);
        let mut labels = Vec::with_capacity(rows.len());
        for &row in rows {
            let start = row * self.n_features;
            let slice = self.features.get(start..start + self.n_features).ok_or(
                DataError::RowOutOfRange {
                    row,
                    n_rows: self.n_rows(),
                },
            )?;
            features.extend_from_slice(slice);
            labels.push(self.labels[row]);
        }
        Ok(Self {
            features,
            labels,
            n_features: self.n_features,
            n_classes: self.n_classes,
        })
    }

    /// How many rows `held_out_fraction` of the set is (rounded); an error unless both
    /// sides of the split would be non-empty.
    fn held_out_rows(&self, held_out_fraction: f64) -> Result<usize, DataError> {
        if !(held_out_fraction > 0.0 && held_out_fraction < 1.0) {
            return Err(DataError::Fraction {
                fraction: held_out_fraction,
            });
        }
        let n_rows = self.n_rows();
        let n_held_out = (n_rows as f64 * held_out_fraction).round() as usize;
        if n_held_out == 0 || n_held_out >= n_rows {
            return Err(DataError::EmptySide {
                n_rows,
                fraction: held_out_fraction,
            });
        }
        Ok(n_held_out)
    }

    /// Splits into (train, held-out) after a seeded shuffle; `held_out_fraction` of the
    /// rows (rounded) go to the held-out side.
    pub fn split_held_out(
        &self,
        held_out_fraction: f64,
        seed: u64,
    ) -> Result<(Self, Self), DataError> {
        let n_rows = self.n_rows();
        let n_held_out = self.held_out_rows(held_out_fraction)?;
        let mut order: Vec<usize> = (0..n_rows).collect();
        SeededRng::new(seed).shuffle(&mut order);
        let (held_out, train) = order.split_at(n_held_out);
        Ok((self.select(train)?, self.select(held_out)?))
    }

    /// Like [`Self::split_held_out`], but each class gives the same fraction of its rows
    /// (rounded cumulatively, so the held-out side has the same size as there): the
    /// held-out set's class mix then matches the whole set's instead of drifting with the
    /// shuffle, which matters when it is used to tell apart updates trained on skewed shards.
    pub fn split_held_out_stratified(
        &self,
        held_out_fraction: f64,
        seed: u64,
    ) -> Result<(Self, Self), DataError> {
        let n_rows = self.n_rows();
        let n_held_out = self.held_out_rows(held_out_fraction)?;
        let mut rng = SeededRng::new(seed);
        let (mut held_out, mut train) = (Vec::new(), Vec::new());
        let mut seen = 0usize;
        for class in 0..self.n_classes {
            let mut rows: Vec<usize> = (0..n_rows)
                .filter(|&r| self.labels[r] as usize == class)
                .collect();
            rng.shuffle(&mut rows);
            // Cumulative rounding: the sides add up to exactly n_held_out overall.
            let before = held_out.len();
            seen += rows.len();
            let target = ((seen as f64 * held_out_fraction).round() as usize).min(n_held_out);
            let take = target.saturating_sub(before).min(rows.len());
            held_out.extend_from_slice(&rows[..take]);
            train.extend_from_slice(&rows[take..]);
        }
        rng.shuffle(&mut held_out);
        rng.shuffle(&mut train);
        Ok((self.select(&train)?, self.select(&held_out)?))
    }

    /// Row indices of a non-IID split over `n_miners`: for each class, miner proportions
    /// are drawn from a symmetric Dirichlet(`alpha`) and that class's (shuffled) rows are
    /// cut by them. Small `alpha` (e.g. 0.1) gives miners few classes each; large `alpha`
    /// approaches an IID split. Every row lands in exactly one shard; a shard may be empty.
    pub fn dirichlet_shards(
        &self,
        n_miners: usize,
        alpha: f64,
        seed: u64,
    ) -> Result<Vec<Vec<usize>>, DataError> {
        if n_miners == 0 || !(alpha > 0.0 && alpha.is_finite()) {
            return Err(DataError::ShardRequest { n_miners, alpha });
        }
        let mut rng = SeededRng::new(seed);
        let mut shards = vec![Vec::new(); n_miners];
        for class in 0..self.n_classes {
            let mut rows: Vec<usize> = (0..self.n_rows())
                .filter(|&r| self.labels[r] as usize == class)
                .collect();
            rng.shuffle(&mut rows);
            let proportions = rng.dirichlet(alpha, n_miners);
            for (shard, range) in shards.iter_mut().zip(cut_points(rows.len(), &proportions)) {
                shard.extend_from_slice(&rows[range]);
            }
        }
        for shard in &mut shards {
            shard.sort_unstable();
        }
        Ok(shards)
    }
}

/// Turns proportions into contiguous ranges that cover `0..n` exactly: the cumulative
/// proportion is rounded at each cut, and the last range always ends at `n`.
fn cut_points(n: usize, proportions: &[f64]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(proportions.len());
    let mut cumulative = 0.0;
    let mut start = 0;
    for (idx, p) in proportions.iter().enumerate() {
        cumulative += p;
        let end = if idx + 1 == proportions.len() {
            n
        } else {
            ((cumulative * n as f64).round() as usize).clamp(start, n)
        };
        ranges.push(start..end);
        start = end;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n_rows: usize, n_classes: usize) -> Dataset {
        let labels: Vec<u32> = (0..n_rows).map(|r| (r % n_classes) as u32).collect();
        let features: Vec<f32> = (0..n_rows * 2).map(|v| v as f32).collect();
        Dataset::new(features, labels, 2, n_classes).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The original rows held by the two sides of a split of a two-feature set whose row r
    /// has feature 0 = 2r, sorted (so a partition of 0..n reads as 0..n).
    fn rows_of(train: &Dataset, held_out: &Dataset) -> Vec<usize> {
        let mut rows: Vec<usize> = train
            .features()
            .iter()
            .chain(held_out.features())
            .step_by(2)
            .map(|&f| f as usize / 2)
            .collect();
        rows.sort_unstable();
        rows
    }

    #[test]
    fn rejects_bad_shapes_and_labels() {
        assert!(matches!(
            Dataset::new(vec![0.0; 3], vec![0, 1], 2, 2),
            Err(DataError::FeatureShape { .. })
        ));
        assert!(matches!(
            Dataset::new(vec![0.0; 4], vec![0, 2], 2, 2),
            Err(DataError::LabelOutOfRange { row: 1, .. })
        ));
    }

    #[test]
    fn stratified_split_keeps_each_class_share() -> Result<(), DataError> {
        // 3 classes of 40, 30 and 10 rows (feature 0 of row r is 2r, so it names the row).
        let labels: Vec<u32> = (0..80)
            .map(|r| u32::from(r >= 40) + u32::from(r >= 70))
            .collect();
        let features: Vec<f32> = (0..160).map(|v| v as f32).collect();
        let data = Dataset::new(features, labels, 2, 3)?;
        let (train, held_out) = data.split_held_out_stratified(0.25, 5)?;
        assert_eq!((train.n_rows(), held_out.n_rows()), (60, 20));
        let count = |d: &Dataset, class: u32| d.labels().iter().filter(|&&l| l == class).count();
        assert_eq!(
            [
                count(&held_out, 0),
                count(&held_out, 1),
                count(&held_out, 2)
            ],
            [10, 8, 2]
        );
        assert_eq!(rows_of(&train, &held_out), (0..80).collect::<Vec<_>>());
        assert_eq!(data.split_held_out_stratified(0.25, 5)?, (train, held_out));
        assert!(data.split_held_out_stratified(1.0, 5).is_err());
        Ok(())
    }

    #[test]
    fn split_is_seeded_and_disjoint() -> Result<(), DataError> {
        let data = toy(100, 5);
        let (train, held_out) = data.split_held_out(0.2, 9)?;
        assert_eq!((train.n_rows(), held_out.n_rows()), (80, 20));
        assert_eq!(
            data.split_held_out(0.2, 9)?,
            (train.clone(), held_out.clone())
        );
        assert_eq!(rows_of(&train, &held_out), (0..100).collect::<Vec<_>>());
        Ok(())
    }

    #[test]
    fn shards_partition_rows() -> Result<(), DataError> {
        let data = toy(500, 10);
        let shards = data.dirichlet_shards(7, 0.3, 4)?;
        let mut all: Vec<usize> = shards.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..500).collect::<Vec<_>>());
        assert_eq!(shards, data.dirichlet_shards(7, 0.3, 4)?);
        Ok(())
    }

    #[test]
    fn small_alpha_is_non_iid() -> Result<(), DataError> {
        let data = toy(1000, 10);
        let shards = data.dirichlet_shards(5, 0.1, 2)?;
        // With alpha = 0.1 some shard should be dominated by few classes.
        let max_share = shards
            .iter()
            .filter(|s| s.len() > 20)
            .map(|s| {
                let mut counts = [0usize; 10];
                for &r in s {
                    counts[data.labels()[r] as usize] += 1;
                }
                counts.iter().max().copied().unwrap_or(0) as f64 / s.len() as f64
            })
            .fold(0.0, f64::max);
        assert!(max_share > 0.3, "max class share {max_share}");
        Ok(())
    }
}
