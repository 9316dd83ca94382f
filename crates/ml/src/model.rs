//! A multi-layer perceptron on candle, seeded initialisation, and safetensors model files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, Var};

use crate::params::{ParamLayout, Params, ParamsError, TensorSpec};
use crate::rng::SeededRng;

/// Why a model operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A candle operation failed.
    #[error("candle failed during {op}: {source}")]
    Candle {
        op: &'static str,
        source: candle_core::Error,
    },
    /// An MLP needs at least an input and an output size, all non-zero.
    #[error("invalid MLP layer sizes {sizes:?}: need at least two, all non-zero")]
    Spec { sizes: Vec<usize> },
    /// Parameters whose layout does not match this model.
    #[error("parameter layout does not match the model ({n_expected} params expected, {n_actual} given)")]
    Layout { n_expected: usize, n_actual: usize },
    /// A model file lacks a tensor the spec needs, or holds it in the wrong shape.
    #[error("model file {path} has no tensor {name} of shape {shape:?}")]
    MissingTensor {
        path: PathBuf,
        name: String,
        shape: Vec<usize>,
    },
    /// Data whose width does not match the model's input layer.
    #[error("data has {actual} features but the model takes {expected}")]
    FeatureMismatch { expected: usize, actual: usize },
    /// Training needs at least one example and a non-zero batch.
    #[error("cannot train on {n_rows} rows with batch size {batch_size}")]
    EmptyTraining { n_rows: usize, batch_size: usize },
    /// Flat parameters were malformed.
    #[error(transparent)]
    Params(#[from] ParamsError),
}

/// Attaches the name of the failing operation to a candle error.
pub(crate) trait CandleContext<T> {
    fn during(self, op: &'static str) -> Result<T, ModelError>;
}

impl<T> CandleContext<T> for candle_core::Result<T> {
    fn during(self, op: &'static str) -> Result<T, ModelError> {
        self.map_err(|source| ModelError::Candle { op, source })
    }
}

/// The device models train on: CUDA GPU 0 when built with the `cuda` feature and a GPU
/// is present, otherwise the CPU.
pub fn default_device() -> Result<Device, ModelError> {
    #[cfg(feature = "cuda")]
    {
        Device::cuda_if_available(0).during("open CUDA device")
    }
    #[cfg(not(feature = "cuda"))]
    {
        Ok(Device::Cpu)
    }
}

/// Layer widths of an MLP, input first, output last (e.g. `[64, 128, 10]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpSpec {
    sizes: Vec<usize>,
}

impl MlpSpec {
    /// Checks the widths: at least two layers, none empty.
    pub fn new(sizes: Vec<usize>) -> Result<Self, ModelError> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(ModelError::Spec { sizes });
        }
        Ok(Self { sizes })
    }

    /// Layer widths, input first.
    #[must_use]
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Input width.
    #[must_use]
    pub fn n_inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Output width (number of classes).
    #[must_use]
    pub fn n_outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// The fan-in of each tensor in [`MlpSpec::layout`] order: a layer's weight and bias
    /// both scale with its input width.
    fn fan_ins(&self) -> impl Iterator<Item = usize> + '_ {
        self.sizes.windows(2).flat_map(|pair| [pair[0], pair[0]])
    }

    /// Names and shapes of the parameters, in flattening order:
    /// `layers.{i}.weight` (`[out, in]`) then `layers.{i}.bias` (`[out]`) for each layer.
    #[must_use]
    pub fn layout(&self) -> ParamLayout {
        let tensors = self
            .sizes
            .windows(2)
            .enumerate()
            .flat_map(|(idx, pair)| {
                let (n_in, n_out) = (pair[0], pair[1]);
                [
                    TensorSpec {
                        name: format!("layers.{idx}.weight"),
                        shape: vec![n_out, n_in],
                    },
                    TensorSpec {
                        name: format!("layers.{idx}.bias"),
                        shape: vec![n_out],
                    },
                ]
            })
            .collect();
        ParamLayout { tensors }
    }
}

/// A ReLU MLP whose parameters are candle `Var`s in [`MlpSpec::layout`] order.
///
/// Cloning shares the parameters (candle `Var`s are reference-counted), which is what an
/// optimiser needs; for an independent copy use `Mlp::from_params(spec, &m.params()?, dev)`.
#[derive(Debug, Clone)]
pub struct Mlp {
    spec: MlpSpec,
    vars: Vec<Var>,
    device: Device,
}

impl Mlp {
    /// A fresh model with PyTorch-style uniform(±1/√fan_in) initialisation drawn from
    /// `seed`, so every node that builds round 0 from the same seed gets the same θ₀.
    pub fn new(spec: MlpSpec, seed: u64, device: &Device) -> Result<Self, ModelError> {
        let mut rng = SeededRng::new(seed);
        let tensors = spec
            .layout()
            .tensors
            .into_iter()
            .zip(spec.fan_ins())
            .map(|(t, fan_in)| {
                let bound = 1.0 / (fan_in as f64).sqrt();
                let values = (0..t.n_values())
                    .map(|_| rng.uniform_range(-bound, bound) as f32)
                    .collect();
                (t, values)
            })
            .collect();
        Self::from_params(spec, &Params::flatten(tensors)?, device)
    }

    /// A model holding the given flat parameters.
    pub fn from_params(
        spec: MlpSpec,
        params: &Params,
        device: &Device,
    ) -> Result<Self, ModelError> {
        check_layout(&spec, params)?;
        let vars = params
            .unflatten()
            .map(|(t, values)| {
                Var::from_slice(values, t.shape.as_slice(), device).during("create parameter")
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            spec,
            vars,
            device: device.clone(),
        })
    }

    /// The layer widths.
    #[must_use]
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// The device the parameters live on.
    #[must_use]
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The trainable variables, in layout order (for optimisers).
    #[must_use]
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// Logits for a `[batch, n_inputs]` input.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor, ModelError> {
        let mut hidden = input.clone();
        let n_layers = self.vars.len() / 2;
        for (idx, pair) in self.vars.chunks_exact(2).enumerate() {
            let (weight, bias) = (&pair[0], &pair[1]);
            hidden = hidden
                .matmul(&weight.t().during("transpose weight")?)
                .during("matmul")?;
            hidden = hidden.broadcast_add(bias.as_tensor()).during("add bias")?;
            if idx + 1 < n_layers {
                hidden = hidden.relu().during("relu")?;
            }
        }
        Ok(hidden)
    }

    /// Copies the parameters out as one flat vector.
    pub fn params(&self) -> Result<Params, ModelError> {
        let tensors = self
            .spec
            .layout()
            .tensors
            .into_iter()
            .zip(&self.vars)
            .map(|(t, var)| {
                Ok((
                    t,
                    var.flatten_all()
                        .during("flatten")?
                        .to_vec1::<f32>()
                        .during("copy to host")?,
                ))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Params::flatten(tensors)?)
    }

    /// Overwrites the parameters in place (optimiser state referencing the vars stays valid).
    pub fn set_params(&self, params: &Params) -> Result<(), ModelError> {
        check_layout(&self.spec, params)?;
        for ((t, values), var) in params.unflatten().zip(&self.vars) {
            let tensor = Tensor::from_slice(values, t.shape.as_slice(), &self.device)
                .during("upload parameter")?;
            var.set(&tensor).during("set parameter")?;
        }
        Ok(())
    }

    /// Writes the parameters as a safetensors file with [`MlpSpec::layout`] names.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let named: HashMap<String, Tensor> = self
            .spec
            .layout()
            .tensors
            .into_iter()
            .zip(&self.vars)
            .map(|(t, var)| (t.name, var.as_tensor().clone()))
            .collect();
        candle_core::safetensors::save(&named, path).during("save safetensors")
    }

    /// Reads a safetensors file written by [`Mlp::save`] (or any file with the same names
    /// and shapes, e.g. from PyTorch) into a model of the given spec.
    pub fn load(spec: MlpSpec, path: &Path, device: &Device) -> Result<Self, ModelError> {
        let mut named = candle_core::safetensors::load(path, device).during("load safetensors")?;
        let tensors = spec
            .layout()
            .tensors
            .into_iter()
            .map(|t| {
                let missing = || ModelError::MissingTensor {
                    path: path.to_path_buf(),
                    name: t.name.clone(),
                    shape: t.shape.clone(),
                };
                let tensor = named.remove(&t.name).ok_or_else(missing)?;
                if tensor.dims() != t.shape.as_slice() {
                    return Err(missing());
                }
                let values = tensor
                    .to_dtype(DType::F32)
                    .during("cast")?
                    .flatten_all()
                    .during("flatten")?
                    .to_vec1::<f32>()
                    .during("copy")?;
                Ok((t, values))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Self::from_params(spec, &Params::flatten(tensors)?, device)
    }
}

fn check_layout(spec: &MlpSpec, params: &Params) -> Result<(), ModelError> {
    let expected = spec.layout();
    if params.layout() == &expected {
        Ok(())
    } else {
        Err(ModelError::Layout {
            n_expected: expected.n_params(),
            n_actual: params.layout().n_params(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_init_is_reproducible() {
        let spec = MlpSpec::new(vec![4, 8, 3]).unwrap();
        let a = Mlp::new(spec.clone(), 5, &Device::Cpu)
            .unwrap()
            .params()
            .unwrap();
        let b = Mlp::new(spec.clone(), 5, &Device::Cpu)
            .unwrap()
            .params()
            .unwrap();
        let c = Mlp::new(spec, 6, &Device::Cpu).unwrap().params().unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.values().len(), 4 * 8 + 8 + 8 * 3 + 3);
    }

    #[test]
    fn forward_shape_and_save_load() {
        let spec = MlpSpec::new(vec![4, 8, 3]).unwrap();
        let model = Mlp::new(spec.clone(), 1, &Device::Cpu).unwrap();
        let input = Tensor::ones((5, 4), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(model.forward(&input).unwrap().dims(), &[5, 3]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        model.save(&path).unwrap();
        let loaded = Mlp::load(spec, &path, &Device::Cpu).unwrap();
        assert_eq!(loaded.params().unwrap(), model.params().unwrap());
        let wrong = MlpSpec::new(vec![4, 9, 3]).unwrap();
        assert!(matches!(
            Mlp::load(wrong, &path, &Device::Cpu),
            Err(ModelError::MissingTensor { .. })
        ));
    }

    #[test]
    fn rejects_bad_spec() {
        assert!(MlpSpec::new(vec![4]).is_err());
        assert!(MlpSpec::new(vec![4, 0, 2]).is_err());
    }
}
