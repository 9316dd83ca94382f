//! Training steps (SGD or Adam on cross-entropy) and evaluation (loss, accuracy).

use candle_core::{Device, Tensor, D};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW, SGD};

use crate::data::Dataset;
use crate::model::{CandleContext, Mlp, ModelError};
use crate::rng::SeededRng;

/// Rows per forward pass during evaluation: bounds memory on large held-out sets.
const EVAL_BATCH_ROWS: usize = 4096;

/// Which optimiser the inner loop uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerConfig {
    /// Plain stochastic gradient descent.
    Sgd { learning_rate: f64 },
    /// Adam (candle's AdamW with zero weight decay).
    Adam { learning_rate: f64 },
}

impl OptimizerConfig {
    /// The learning rate, whichever the optimiser.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        match *self {
            Self::Sgd { learning_rate } | Self::Adam { learning_rate } => learning_rate,
        }
    }
}

/// A local training run: `steps` minibatches of `batch_size` rows, order drawn from `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Optimiser and learning rate.
    pub optimizer: OptimizerConfig,
    /// Rows per step.
    pub batch_size: usize,
    /// Optimiser steps to take.
    pub steps: usize,
    /// Seed for the minibatch order.
    pub seed: u64,
}

/// Loss and accuracy of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Fraction of rows whose arg-max logit is the label.
    pub accuracy: f32,
}

enum Optim {
    Sgd(SGD),
    Adam(AdamW),
}

/// A loss over `(logits, labels)`; tasks pick theirs (all current tasks use cross-entropy).
pub type LossFn = fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>;

/// An optimiser bound to one model's variables; keeps its state (Adam moments) across steps.
pub struct Trainer {
    model: Mlp,
    optim: Optim,
    loss: LossFn,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Trainer {
    /// Binds an optimiser to `model`'s variables (the model is shared, not copied),
    /// minimising cross-entropy.
    pub fn new(model: &Mlp, config: OptimizerConfig) -> Result<Self, ModelError> {
        Self::with_loss(model, config, candle_nn::loss::cross_entropy)
    }

    /// As [`Trainer::new`], minimising `loss`.
    pub fn with_loss(
        model: &Mlp,
        config: OptimizerConfig,
        loss: LossFn,
    ) -> Result<Self, ModelError> {
        let vars = model.vars().to_vec();
        let optim = match config {
            OptimizerConfig::Sgd { learning_rate } => {
                Optim::Sgd(SGD::new(vars, learning_rate).during("create SGD")?)
            }
            OptimizerConfig::Adam { learning_rate } => {
                let params = ParamsAdamW {
                    lr: learning_rate,
                    weight_decay: 0.0,
                    ..ParamsAdamW::default()
                };
                Optim::Adam(AdamW::new(vars, params).during("create Adam")?)
            }
        };
        Ok(Self {
            model: model.clone(),
            optim,
            loss,
        })
    }

    /// One optimiser step on a batch; returns the batch loss before the step.
    pub fn step(&mut self, input: &Tensor, labels: &Tensor) -> Result<f32, ModelError> {
        let logits = self.model.forward(input)?;
        let loss = (self.loss)(&logits, labels).during("loss")?;
        match &mut self.optim {
            Optim::Sgd(o) => o.backward_step(&loss),
            Optim::Adam(o) => o.backward_step(&loss),
        }
        .during("backward step")?;
        loss.to_scalar::<f32>().during("read loss")
    }

    /// Runs `config.steps` steps over reshuffled passes of `data`; returns the last batch loss.
    /// The optimiser's learning rate becomes `config.optimizer`'s, so a caller can follow a
    /// schedule across calls while the optimiser keeps its state (Adam moments).
    pub fn train(&mut self, data: &Dataset, config: &TrainConfig) -> Result<f32, ModelError> {
        check_width(&self.model, data)?;
        let learning_rate = config.optimizer.learning_rate();
        match &mut self.optim {
            Optim::Sgd(o) => o.set_learning_rate(learning_rate),
            Optim::Adam(o) => o.set_learning_rate(learning_rate),
        }
        if data.n_rows() == 0 || config.batch_size == 0 {
            return Err(ModelError::EmptyTraining {
                n_rows: data.n_rows(),
                batch_size: config.batch_size,
            });
        }
        let mut sampler = BatchSampler::new(data.n_rows(), config.seed);
        let mut last_loss = f32::NAN;
        for _ in 0..config.steps {
            let rows = sampler.next_batch(config.batch_size);
            let (input, labels) = batch_tensors(data, &rows, self.model.device())?;
            last_loss = self.step(&input, &labels)?;
        }
        Ok(last_loss)
    }
}

/// Convenience: a fresh optimiser, `config.steps` steps, then drop the optimiser state
/// (the DiLoCo inner loop restarts its optimiser each round).
pub fn train(model: &Mlp, data: &Dataset, config: &TrainConfig) -> Result<f32, ModelError> {
    Trainer::new(model, config.optimizer)?.train(data, config)
}

/// Mean loss and accuracy of `model` on all of `data`.
pub fn evaluate(model: &Mlp, data: &Dataset) -> Result<Evaluation, ModelError> {
    check_width(model, data)?;
    let n_rows = data.n_rows();
    let (mut loss_sum, mut n_correct) = (0.0f64, 0u64);
    let all_rows: Vec<usize> = (0..n_rows).collect();
    for rows in all_rows.chunks(EVAL_BATCH_ROWS) {
        let (input, labels) = batch_tensors(data, rows, model.device())?;
        let logits = model.forward(&input)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &labels).during("cross-entropy")?;
        loss_sum += f64::from(loss.to_scalar::<f32>().during("read loss")?) * rows.len() as f64;
        let predicted = logits.argmax(D::Minus1).during("argmax")?;
        let correct = predicted
            .eq(&labels)
            .during("compare")?
            .to_dtype(candle_core::DType::U32)
            .during("cast")?;
        n_correct += u64::from(
            correct
                .sum_all()
                .during("sum")?
                .to_scalar::<u32>()
                .during("read count")?,
        );
    }
    let n = n_rows.max(1) as f64;
    Ok(Evaluation {
        loss: (loss_sum / n) as f32,
        accuracy: (n_correct as f64 / n) as f32,
    })
}

/// The validator's score for one update: loss(θ) − loss(θ − η·Δ) on `data` (positive when
/// the update helps). `base` is θ and is left unchanged.
pub fn loss_improvement(
    base: &Mlp,
    delta: &[f32],
    eta: f32,
    data: &Dataset,
) -> Result<f32, ModelError> {
    let theta = base.params()?;
    let mut stepped = theta.values().to_vec();
    crate::params::apply_update(&mut stepped, delta, eta)?;
    let stepped = crate::params::Params::from_flat(theta.layout().clone(), stepped)?;
    let candidate = Mlp::from_params(base.spec().clone(), &stepped, base.device())?;
    Ok(evaluate(base, data)?.loss - evaluate(&candidate, data)?.loss)
}

/// Mean loss on `data` of a model shaped like `base` holding the flat parameters `values`.
pub fn loss_at(base: &Mlp, values: &[f32], data: &Dataset) -> Result<f32, ModelError> {
    let layout = base.spec().layout();
    let params = crate::params::Params::from_flat(layout, values.to_vec())?;
    let candidate = Mlp::from_params(base.spec().clone(), &params, base.device())?;
    Ok(evaluate(&candidate, data)?.loss)
}

/// Copies the given rows into `[rows, features]` f32 and `[rows]` u32 tensors.
pub fn batch_tensors(
    data: &Dataset,
    rows: &[usize],
    device: &Device,
) -> Result<(Tensor, Tensor), ModelError> {
    let width = data.n_features();
    let mut features = Vec::with_capacity(rows.len() * width);
    let mut labels = Vec::with_capacity(rows.len());
    for &row in rows {
        features.extend_from_slice(&data.features()[row * width..(row + 1) * width]);
        labels.push(data.labels()[row]);
    }
    let input =
        Tensor::from_vec(features, (rows.len(), width), device).during("upload features")?;
    let labels = Tensor::from_vec(labels, rows.len(), device).during("upload labels")?;
    Ok((input, labels))
}

fn check_width(model: &Mlp, data: &Dataset) -> Result<(), ModelError> {
    let expected = model.spec().n_inputs();
    if data.n_features() == expected {
        Ok(())
    } else {
        Err(ModelError::FeatureMismatch {
            expected,
            actual: data.n_features(),
        })
    }
}

/// Walks seeded permutations of the rows, reshuffling at each pass.
struct BatchSampler {
    order: Vec<usize>,
    cursor: usize,
    rng: SeededRng,
}

impl BatchSampler {
    fn new(n_rows: usize, seed: u64) -> Self {
        let mut rng = SeededRng::new(seed);
        let mut order: Vec<usize> = (0..n_rows).collect();
        rng.shuffle(&mut order);
        Self {
            order,
            cursor: 0,
            rng,
        }
    }

    fn next_batch(&mut self, batch_size: usize) -> Vec<usize> {
        let mut rows = Vec::with_capacity(batch_size);
        while rows.len() < batch_size {
            if self.cursor == self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            rows.push(self.order[self.cursor]);
            self.cursor += 1;
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MlpSpec;

    #[test]
    fn learns_a_separable_toy_problem() {
        // Label is 1 exactly when the first feature is positive.
        let mut rng = SeededRng::new(0);
        let features: Vec<f32> = (0..400)
            .map(|_| rng.uniform_range(-1.0, 1.0) as f32)
            .collect();
        let labels: Vec<u32> = features.chunks(2).map(|r| u32::from(r[0] > 0.0)).collect();
        let data = Dataset::new(features, labels, 2, 2).unwrap();
        let model = Mlp::new(MlpSpec::new(vec![2, 16, 2]).unwrap(), 3, &Device::Cpu).unwrap();
        let before = evaluate(&model, &data).unwrap();
        let config = TrainConfig {
            optimizer: OptimizerConfig::Adam {
                learning_rate: 0.05,
            },
            batch_size: 32,
            steps: 150,
            seed: 1,
        };
        train(&model, &data, &config).unwrap();
        let after = evaluate(&model, &data).unwrap();
        assert!(after.loss < before.loss, "{before:?} -> {after:?}");
        assert!(after.accuracy > 0.95, "{after:?}");
    }

    #[test]
    fn improvement_is_positive_for_a_trained_delta_and_negative_when_flipped() {
        let mut rng = SeededRng::new(4);
        let features: Vec<f32> = (0..400)
            .map(|_| rng.uniform_range(-1.0, 1.0) as f32)
            .collect();
        let labels: Vec<u32> = features.chunks(2).map(|r| u32::from(r[1] > 0.0)).collect();
        let data = Dataset::new(features, labels, 2, 2).unwrap();
        let spec = MlpSpec::new(vec![2, 8, 2]).unwrap();
        let base = Mlp::new(spec.clone(), 1, &Device::Cpu).unwrap();
        let theta = base.params().unwrap();
        let local = Mlp::from_params(spec, &theta, &Device::Cpu).unwrap();
        let config = TrainConfig {
            optimizer: OptimizerConfig::Sgd { learning_rate: 0.5 },
            batch_size: 50,
            steps: 30,
            seed: 0,
        };
        train(&local, &data, &config).unwrap();
        let delta = crate::params::delta(theta.values(), local.params().unwrap().values()).unwrap();
        let helped = loss_improvement(&base, &delta, 1.0, &data).unwrap();
        // A small step against the update (the sign-flip attack) must hurt.
        let flipped = loss_improvement(&base, &delta, -0.2, &data).unwrap();
        assert!(
            helped > 0.0 && flipped < 0.0,
            "helped {helped}, flipped {flipped}"
        );
        assert_eq!(base.params().unwrap(), theta);
    }

    #[test]
    fn rejects_wrong_width() {
        let data = Dataset::new(vec![0.0; 6], vec![0, 1], 3, 2).unwrap();
        let model = Mlp::new(MlpSpec::new(vec![2, 4, 2]).unwrap(), 3, &Device::Cpu).unwrap();
        assert!(matches!(
            evaluate(&model, &data),
            Err(ModelError::FeatureMismatch {
                expected: 2,
                actual: 3
            })
        ));
    }
}
