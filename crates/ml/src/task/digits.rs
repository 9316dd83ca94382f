//! The UCI 8×8 handwritten digits (1,797 images, 10 classes), as embedded in the
//! `smartcore` crate: no download, no file on disk.

use crate::data::Dataset;
use crate::model::MlpSpec;
use crate::task::{Task, TaskError};

/// Pixels per image.
const N_PIXELS: usize = 64;
/// Pixel values run 0..=16 in this set; dividing by this maps them into [0, 1].
const PIXEL_MAX: f32 = 16.0;
const N_CLASSES: usize = 10;
const HIDDEN: usize = 128;

/// The default task: an MLP 64-128-10 on the digits set.
#[derive(Debug, Clone)]
pub struct DigitsTask {
    train: Dataset,
    held_out: Dataset,
}

impl DigitsTask {
    /// Loads the embedded set and splits off `held_out_fraction` of it with `seed`.
    pub fn new(held_out_fraction: f64, seed: u64) -> Result<Self, TaskError> {
        let (train, held_out) = Self::full_dataset()?.split_held_out(held_out_fraction, seed)?;
        Ok(Self { train, held_out })
    }

    /// All 1,797 examples, pixels scaled to [0, 1].
    pub fn full_dataset() -> Result<Dataset, TaskError> {
        let raw = smartcore::dataset::digits::load_dataset();
        let features = raw.data.iter().map(|p| p / PIXEL_MAX).collect();
        // Targets are stored as whole-number floats 0.0..=9.0.
        let labels = raw.target.iter().map(|t| t.round() as u32).collect();
        Ok(Dataset::new(features, labels, N_PIXELS, N_CLASSES)?)
    }
}

impl Task for DigitsTask {
    fn name(&self) -> &str {
        "digits"
    }

    fn train_set(&self) -> &Dataset {
        &self.train
    }

    fn held_out_set(&self) -> &Dataset {
        &self.held_out
    }

    fn model_spec(&self) -> MlpSpec {
        // Constant, valid widths: the error branch is unreachable.
        MlpSpec::new(vec![N_PIXELS, HIDDEN, N_CLASSES])
            .unwrap_or_else(|_| unreachable!("constant spec is valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_set_has_the_known_shape() {
        let data = DigitsTask::full_dataset().unwrap();
        assert_eq!(
            (data.n_rows(), data.n_features(), data.n_classes()),
            (1797, 64, 10)
        );
        assert!(data.features().iter().all(|p| (0.0..=1.0).contains(p)));
        let mut counts = [0usize; 10];
        data.labels().iter().for_each(|l| counts[*l as usize] += 1);
        assert!(counts.iter().all(|c| (170..=190).contains(c)), "{counts:?}");
        let task = DigitsTask::new(0.2, 1).unwrap();
        assert_eq!(
            task.train_set().n_rows() + task.held_out_set().n_rows(),
            1797
        );
    }
}
