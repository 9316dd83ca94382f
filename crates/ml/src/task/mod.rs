//! Tasks: a dataset with its held-out split, a model shape, a loss and a metric.
//!
//! Every task reduces to classification over dense `f32` features, so the same MLP,
//! training loop, compression and aggregation serve all of them. New tasks implement
//! [`Task`]; nothing else in the crate needs to change.

mod charlm;
mod digits;
mod fashion_mnist;

use std::path::PathBuf;

use candle_core::Device;

pub use charlm::{CharLmConfig, CharLmTask, TEXT_BYTES_MAX};
pub use digits::DigitsTask;
pub use fashion_mnist::FashionMnistTask;

use crate::data::idx::IdxError;
use crate::data::{DataError, Dataset};
use crate::model::{Mlp, MlpSpec, ModelError};
use crate::train::{evaluate, Evaluation, LossFn};

/// Why a task could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The examples could not be assembled or split.
    #[error(transparent)]
    Data(#[from] DataError),
    /// An IDX file was unreadable or malformed.
    #[error(transparent)]
    Idx(#[from] IdxError),
    /// The model shape derived from the data is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A required data file is absent; `hint` says how to obtain it.
    #[error("{path} not found; {hint}")]
    MissingFile { path: PathBuf, hint: &'static str },
    /// Image and label files disagree.
    #[error("{images} has {n_images} images of {height}x{width}, {labels} has {n_labels} labels")]
    ImageLabelMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
        height: usize,
        width: usize,
    },
    /// A text file could not be read.
    #[error("reading text file {path}: {source}")]
    TextIo {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A text file is larger than [`TEXT_BYTES_MAX`].
    #[error("text file {path} exceeds {TEXT_BYTES_MAX} bytes")]
    TextTooLarge { path: PathBuf },
    /// A text file is not UTF-8.
    #[error("text file {path} is not valid UTF-8")]
    NotUtf8 { path: PathBuf },
    /// Too little text to form one example, or a zero-sized configuration.
    #[error("text of {n_chars} characters cannot make examples with context {context_len} and vocabulary {vocab_max}")]
    TextTooShort {
        n_chars: usize,
        context_len: usize,
        vocab_max: usize,
    },
}

/// A learning problem the subnet can train on.
pub trait Task {
    /// Short identifier (`digits`, `fashion-mnist`, `charlm`).
    fn name(&self) -> &str;

    /// The data miners are shard from.
    fn train_set(&self) -> &Dataset;

    /// The data validators evaluate on; never seen in training.
    fn held_out_set(&self) -> &Dataset;

    /// Layer widths of the model this task trains.
    fn model_spec(&self) -> MlpSpec;

    /// A fresh model, initialised from `seed`.
    fn build_model(&self, seed: u64, device: &Device) -> Result<Mlp, ModelError> {
        Mlp::new(self.model_spec(), seed, device)
    }

    /// The training loss.
    fn loss_fn(&self) -> LossFn {
        candle_nn::loss::cross_entropy
    }

    /// Loss and the task's metric (accuracy) of `model` on `data`.
    fn evaluate(&self, model: &Mlp, data: &Dataset) -> Result<Evaluation, ModelError> {
        evaluate(model, data)
    }

    /// The training set split over `n_miners` by a seeded Dirichlet(`alpha`) over labels.
    fn miner_shards(
        &self,
        n_miners: usize,
        alpha: f64,
        seed: u64,
    ) -> Result<Vec<Dataset>, DataError> {
        let train = self.train_set();
        train
            .dirichlet_shards(n_miners, alpha, seed)?
            .iter()
            .map(|rows| train.select(rows))
            .collect()
    }
}
