//! A character-level language model: predict the next character from the previous
//! `context_len` characters, each one-hot encoded, with an MLP. Trains on any UTF-8 text.

use std::io::Read;
use std::path::Path;

use crate::data::Dataset;
use crate::model::MlpSpec;
use crate::task::{Task, TaskError};

/// Largest text file read: bounds memory (the KJV bible is 4.4 MB).
pub const TEXT_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Shape of the character task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CharLmConfig {
    /// Characters of context per prediction.
    pub context_len: usize,
    /// Vocabulary size including the catch-all slot for rare characters (≥ 2).
    pub vocab_max: usize,
    /// At most this many (context, next) examples, taken at an even stride through the
    /// text, so a large corpus does not turn into gigabytes of one-hot features.
    pub examples_max: usize,
    /// Hidden layer width.
    pub hidden: usize,
    /// Fraction of examples held out.
    pub held_out_fraction: f64,
    /// Seed for the held-out split.
    pub seed: u64,
}

impl Default for CharLmConfig {
    fn default() -> Self {
        Self {
            context_len: 8,
            vocab_max: 64,
            examples_max: 20_000,
            hidden: 128,
            held_out_fraction: 0.1,
            seed: 0,
        }
    }
}

/// Next-character prediction over a fixed vocabulary.
#[derive(Debug, Clone)]
pub struct CharLmTask {
    vocab: Vec<char>,
    config: CharLmConfig,
    train: Dataset,
    held_out: Dataset,
}

impl CharLmTask {
    /// Reads a UTF-8 text file (at most [`TEXT_BYTES_MAX`] bytes).
    pub fn from_file(path: &Path, config: CharLmConfig) -> Result<Self, TaskError> {
        let io = |source| TaskError::TextIo {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(TEXT_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > TEXT_BYTES_MAX {
            return Err(TaskError::TextTooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| TaskError::NotUtf8 {
            path: path.to_path_buf(),
        })?;
        Self::from_text(&text, config)
    }

    /// Builds the task from text in memory.
    pub fn from_text(text: &str, config: CharLmConfig) -> Result<Self, TaskError> {
        let chars: Vec<char> = text.chars().collect();
        let too_short = TaskError::TextTooShort {
            n_chars: chars.len(),
            context_len: config.context_len,
            vocab_max: config.vocab_max,
        };
        if config.context_len == 0
            || config.vocab_max < 2
            || config.examples_max == 0
            || chars.len() <= config.context_len
        {
            return Err(too_short);
        }
        let vocab = build_vocab(&chars, config.vocab_max);
        let codes: Vec<u32> = chars.iter().map(|c| code_of(&vocab, *c)).collect();
        let data = windows_dataset(&codes, config, vocab.len() + 1)?;
        let (train, held_out) = data.split_held_out(config.held_out_fraction, config.seed)?;
        Ok(Self {
            vocab,
            config,
            train,
            held_out,
        })
    }

    /// The vocabulary: code `i` is `vocab()[i]`; code `vocab().len()` means "any other".
    #[must_use]
    pub fn vocab(&self) -> &[char] {
        &self.vocab
    }
}

/// The `vocab_max − 1` most frequent characters (ties by code point), sorted by code point
/// so the mapping does not depend on hash order.
fn build_vocab(chars: &[char], vocab_max: usize) -> Vec<char> {
    let mut counts: std::collections::BTreeMap<char, usize> = std::collections::BTreeMap::new();
    for c in chars {
        *counts.entry(*c).or_default() += 1;
    }
    let mut by_frequency: Vec<(char, usize)> = counts.into_iter().collect();
    by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut vocab: Vec<char> = by_frequency
        .into_iter()
        .take(vocab_max - 1)
        .map(|(c, _)| c)
        .collect();
    vocab.sort_unstable();
    vocab
}

/// The character's code, or the catch-all code `vocab.len()`.
fn code_of(vocab: &[char], c: char) -> u32 {
    vocab.binary_search(&c).unwrap_or(vocab.len()) as u32
}

/// One-hot context windows and their next-character labels, at an even stride.
fn windows_dataset(
    codes: &[u32],
    config: CharLmConfig,
    n_classes: usize,
) -> Result<Dataset, TaskError> {
    let n_windows = codes.len() - config.context_len;
    let stride = n_windows.div_ceil(config.examples_max).max(1);
    let width = config.context_len * n_classes;
    let starts: Vec<usize> = (0..n_windows).step_by(stride).collect();
    let mut features = vec![0.0f32; starts.len() * width];
    let mut labels = Vec::with_capacity(starts.len());
    for (row, &start) in starts.iter().enumerate() {
        for (offset, code) in codes[start..start + config.context_len].iter().enumerate() {
            features[row * width + offset * n_classes + *code as usize] = 1.0;
        }
        labels.push(codes[start + config.context_len]);
    }
    Ok(Dataset::new(features, labels, width, n_classes)?)
}

impl Task for CharLmTask {
    fn name(&self) -> &str {
        "charlm"
    }

    fn train_set(&self) -> &Dataset {
        &self.train
    }

    fn held_out_set(&self) -> &Dataset {
        &self.held_out
    }

    fn model_spec(&self) -> MlpSpec {
        let n_classes = self.vocab.len() + 1;
        MlpSpec::new(vec![
            self.config.context_len * n_classes,
            self.config.hidden.max(1),
            n_classes,
        ])
        .unwrap_or_else(|_| unreachable!("widths are non-zero"))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::train::{train, OptimizerConfig, TrainConfig};

    #[test]
    fn encodes_windows_one_hot() {
        let config = CharLmConfig {
            context_len: 2,
            vocab_max: 3,
            held_out_fraction: 0.25,
            ..CharLmConfig::default()
        };
        // 'a' x4, 'b' x3, 'c' x1: vocab = [a, b], 'c' maps to the catch-all code 2.
        let task = CharLmTask::from_text("ababacab", config).unwrap();
        assert_eq!(task.vocab(), &['a', 'b']);
        assert_eq!(task.train_set().n_rows() + task.held_out_set().n_rows(), 6);
        assert_eq!(task.model_spec().sizes(), &[6, 128, 3]);
        for (row, label) in task
            .train_set()
            .features()
            .chunks(6)
            .zip(task.train_set().labels())
        {
            assert_eq!(row.iter().sum::<f32>(), 2.0);
            assert!(*label < 3);
        }
    }

    #[test]
    fn learns_a_repeating_text_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        std::fs::write(
            &path,
            "the quick brown fox jumps over the lazy dog. ".repeat(40),
        )
        .unwrap();
        let task = CharLmTask::from_file(
            &path,
            CharLmConfig {
                context_len: 4,
                hidden: 64,
                ..CharLmConfig::default()
            },
        )
        .unwrap();
        let model = task.build_model(1, &Device::Cpu).unwrap();
        let before = task.evaluate(&model, task.held_out_set()).unwrap();
        let config = TrainConfig {
            optimizer: OptimizerConfig::Adam {
                learning_rate: 0.01,
            },
            batch_size: 64,
            steps: 150,
            seed: 2,
        };
        train(&model, task.train_set(), &config).unwrap();
        let after = task.evaluate(&model, task.held_out_set()).unwrap();
        // The text is periodic, so 4 characters of context determine the next one.
        assert!(
            after.accuracy > 0.9 && after.loss < before.loss,
            "{before:?} -> {after:?}"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            CharLmTask::from_text("ab", CharLmConfig::default()),
            Err(TaskError::TextTooShort { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            CharLmTask::from_file(&path, CharLmConfig::default()),
            Err(TaskError::NotUtf8 { .. })
        ));
    }
}
