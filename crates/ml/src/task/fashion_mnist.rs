//! Fashion-MNIST (60,000 train and 10,000 test 28×28 images, 10 classes) from IDX files
//! in a directory the user gives. Nothing is downloaded.

use std::path::{Path, PathBuf};

use crate::data::idx::read_idx;
use crate::data::Dataset;
use crate::model::MlpSpec;
use crate::task::{Task, TaskError};

const N_CLASSES: usize = 10;
const HIDDEN: usize = 128;
const PIXEL_MAX: f32 = 255.0;

const HINT: &str = "bring MNIST-format IDX files (on Debian: `apt install dataset-fashion-mnist`, \
then pass the directory that `dpkg -L dataset-fashion-mnist` shows holding them)";

/// The real-size image task: an MLP (pixels)-128-10 on Fashion-MNIST.
#[derive(Debug, Clone)]
pub struct FashionMnistTask {
    train: Dataset,
    held_out: Dataset,
}

impl FashionMnistTask {
    /// Reads `train-{images-idx3,labels-idx1}-ubyte` and `t10k-…` from `dir`, each either
    /// plain or with a `.gz` suffix. The test files are the held-out set.
    pub fn from_dir(dir: &Path) -> Result<Self, TaskError> {
        let train = load_pair(
            &locate(dir, "train-images-idx3-ubyte")?,
            &locate(dir, "train-labels-idx1-ubyte")?,
        )?;
        let held_out = load_pair(
            &locate(dir, "t10k-images-idx3-ubyte")?,
            &locate(dir, "t10k-labels-idx1-ubyte")?,
        )?;
        Ok(Self { train, held_out })
    }
}

/// `dir/name` or `dir/name.gz`, whichever exists.
fn locate(dir: &Path, name: &str) -> Result<PathBuf, TaskError> {
    let plain = dir.join(name);
    let gzipped = dir.join(format!("{name}.gz"));
    if plain.is_file() {
        Ok(plain)
    } else if gzipped.is_file() {
        Ok(gzipped)
    } else {
        Err(TaskError::MissingFile {
            path: plain,
            hint: HINT,
        })
    }
}

/// Joins an `[n, height, width]` image file and an `[n]` label file into a dataset.
pub fn load_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset, TaskError> {
    let images = read_idx(images_path)?;
    let labels = read_idx(labels_path)?;
    let mismatch = |height, width| TaskError::ImageLabelMismatch {
        images: images_path.to_path_buf(),
        labels: labels_path.to_path_buf(),
        n_images: images.dims.first().copied().unwrap_or(0),
        n_labels: labels.data.len(),
        height,
        width,
    };
    let (n_images, height, width) = match images.dims.as_slice() {
        [n, h, w] => (*n, *h, *w),
        _ => return Err(mismatch(0, 0)),
    };
    if labels.dims.len() != 1 || labels.data.len() != n_images {
        return Err(mismatch(height, width));
    }
    let features = images
        .data
        .iter()
        .map(|p| f32::from(*p) / PIXEL_MAX)
        .collect();
    let labels = labels.data.iter().map(|l| u32::from(*l)).collect();
    Ok(Dataset::new(features, labels, height * width, N_CLASSES)?)
}

impl Task for FashionMnistTask {
    fn name(&self) -> &str {
        "fashion-mnist"
    }

    fn train_set(&self) -> &Dataset {
        &self.train
    }

    fn held_out_set(&self) -> &Dataset {
        &self.held_out
    }

    fn model_spec(&self) -> MlpSpec {
        // n_features is non-zero for any loaded set (IDX dims are checked); the
        // fallback width keeps this infallible.
        MlpSpec::new(vec![self.train.n_features().max(1), HIDDEN, N_CLASSES])
            .unwrap_or_else(|_| unreachable!("widths are non-zero"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::data::idx::encode_idx;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn loads_tiny_idx_files_plain_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        // Three 2x2 train images and two test images.
        write(
            dir.path(),
            "train-images-idx3-ubyte",
            &encode_idx(&[3, 2, 2], &[0, 255, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9]),
        );
        write(
            dir.path(),
            "train-labels-idx1-ubyte",
            &encode_idx(&[3], &[0, 9, 4]),
        );
        write(
            dir.path(),
            "t10k-images-idx3-ubyte.gz",
            &gzip(&encode_idx(&[2, 2, 2], &[7; 8])),
        );
        write(
            dir.path(),
            "t10k-labels-idx1-ubyte.gz",
            &gzip(&encode_idx(&[2], &[1, 2])),
        );
        let task = FashionMnistTask::from_dir(dir.path()).unwrap();
        assert_eq!(task.train_set().n_rows(), 3);
        assert_eq!(task.train_set().labels(), &[0, 9, 4]);
        assert_eq!(task.train_set().features()[1], 1.0);
        assert_eq!(task.held_out_set().labels(), &[1, 2]);
        assert_eq!(task.model_spec().sizes(), &[4, 128, 10]);
    }

    #[test]
    fn missing_and_mismatched_files_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = FashionMnistTask::from_dir(dir.path()).unwrap_err();
        assert!(matches!(err, TaskError::MissingFile { .. }));
        assert!(err.to_string().contains("dataset-fashion-mnist"));
        write(dir.path(), "i", &encode_idx(&[2, 1, 1], &[0, 0]));
        write(dir.path(), "l", &encode_idx(&[3], &[0, 0, 0]));
        assert!(matches!(
            load_pair(&dir.path().join("i"), &dir.path().join("l")),
            Err(TaskError::ImageLabelMismatch { .. })
        ));
        write(dir.path(), "l", &encode_idx(&[2], &[0, 10]));
        assert!(matches!(
            load_pair(&dir.path().join("i"), &dir.path().join("l")),
            Err(TaskError::Data(_))
        ));
    }
}
