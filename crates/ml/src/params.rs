//! Flat parameter vectors and pseudo-gradients (deltas), framework-independent.
//!
//! The protocol treats a model as one `Vec<f32>`: its named tensors concatenated in a
//! fixed order given by a [`ParamLayout`]. Deltas, compression, hashing and aggregation
//! all work on that flat vector, so they are plain, deterministic Rust and never touch
//! the training framework.

/// Why parameters could not be flattened, unflattened or combined.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamsError {
    /// Two vectors that must align have different lengths.
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A tensor's values do not fill its declared shape.
    #[error(
        "tensor {name} has shape {shape:?} ({expected} values) but {actual} values were given"
    )]
    TensorSize {
        name: String,
        shape: Vec<usize>,
        expected: usize,
        actual: usize,
    },
    /// A value is NaN or infinite, which would poison every later computation.
    #[error("{what}: value at index {idx} is not finite")]
    NotFinite { what: &'static str, idx: usize },
}

/// Name and shape of one tensor in a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Tensor name as written in the model file (e.g. `layers.0.weight`).
    pub name: String,
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
}

impl TensorSpec {
    /// Number of scalar values in the tensor.
    #[must_use]
    pub fn n_values(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The ordered list of tensors that make up a flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParamLayout {
    /// Tensors in flattening order.
    pub tensors: Vec<TensorSpec>,
}

impl ParamLayout {
    /// Total scalar parameters.
    #[must_use]
    pub fn n_params(&self) -> usize {
        self.tensors.iter().map(TensorSpec::n_values).sum()
    }
}

/// A model's parameters flattened into one vector, with the layout to undo it.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    layout: ParamLayout,
    values: Vec<f32>,
}

impl Params {
    /// Concatenates named tensors, in the order given, into one flat vector.
    pub fn flatten(tensors: Vec<(TensorSpec, Vec<f32>)>) -> Result<Self, ParamsError> {
        let mut layout = ParamLayout::default();
        let mut values = Vec::new();
        for (spec, data) in tensors {
            if spec.n_values() != data.len() {
                return Err(ParamsError::TensorSize {
                    expected: spec.n_values(),
                    actual: data.len(),
                    name: spec.name,
                    shape: spec.shape,
                });
            }
            values.extend_from_slice(&data);
            layout.tensors.push(spec);
        }
        Ok(Self { layout, values })
    }

    /// Rebuilds parameters from a layout and a flat vector (e.g. after applying an update).
    pub fn from_flat(layout: ParamLayout, values: Vec<f32>) -> Result<Self, ParamsError> {
        let n_params = layout.n_params();
        if n_params != values.len() {
            return Err(ParamsError::LengthMismatch {
                what: "layout vs values",
                left: n_params,
                right: values.len(),
            });
        }
        Ok(Self { layout, values })
    }

    /// The layout.
    #[must_use]
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// The flat values.
    #[must_use]
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Consumes into the flat values.
    #[must_use]
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    /// Splits the flat vector back into named tensors, in layout order.
    pub fn unflatten(&self) -> impl Iterator<Item = (&TensorSpec, &[f32])> {
        let mut rest = self.values.as_slice();
        self.layout.tensors.iter().map(move |spec| {
            // `from_flat`/`flatten` guarantee the lengths add up, so this never runs short.
            let (head, tail) = rest.split_at(spec.n_values().min(rest.len()));
            rest = tail;
            (spec, head)
        })
    }
}

/// BLAKE2b-256 identifying a global model θ_t (see [`Params::hash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelHash(pub [u8; 32]);

impl std::fmt::Display for ModelHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl Params {
    /// BLAKE2b-256 over the layout and the values, so every node that computes the same
    /// θ_{t+1} gets the same hash to commit. Per tensor, in layout order: the name's
    /// length (u32 LE) and UTF-8 bytes, the rank (u32 LE), each dimension (u64 LE), then
    /// the tensor's values as f32 LE.
    #[must_use]
    pub fn hash(&self) -> ModelHash {
        use blake2::Digest;
        let mut hasher = blake2::Blake2b::<blake2::digest::consts::U32>::new();
        for (spec, values) in self.unflatten() {
            hasher.update((spec.name.len() as u32).to_le_bytes());
            hasher.update(spec.name.as_bytes());
            hasher.update((spec.shape.len() as u32).to_le_bytes());
            spec.shape
                .iter()
                .for_each(|d| hasher.update((*d as u64).to_le_bytes()));
            values.iter().for_each(|v| hasher.update(v.to_le_bytes()));
        }
        ModelHash(hasher.finalize().into())
    }
}

/// The pseudo-gradient Δ = θ_base − θ_local (the spec's sign: applying θ − η·Δ moves
/// the base toward the local model).
pub fn delta(base: &[f32], local: &[f32]) -> Result<Vec<f32>, ParamsError> {
    check_same_len("delta: base vs local", base, local)?;
    Ok(base.iter().zip(local).map(|(b, l)| b - l).collect())
}

/// θ ← θ − η·update, in index order.
pub fn apply_update(theta: &mut [f32], update: &[f32], eta: f32) -> Result<(), ParamsError> {
    check_same_len("apply_update: theta vs update", theta, update)?;
    for (t, u) in theta.iter_mut().zip(update) {
        *t -= eta * u;
    }
    Ok(())
}

/// Euclidean norm, accumulated in `f64` in index order so it is reproducible.
#[must_use]
pub fn l2_norm(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|v| f64::from(*v) * f64::from(*v))
        .sum::<f64>()
        .sqrt()
}

/// Cosine of the angle between two vectors (in `f64`, index order), for spotting copied
/// updates; 0 when either is all zeros.
pub fn cosine_similarity(left: &[f32], right: &[f32]) -> Result<f64, ParamsError> {
    check_same_len("cosine_similarity", left, right)?;
    let dot: f64 = left
        .iter()
        .zip(right)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let norms = l2_norm(left) * l2_norm(right);
    Ok(if norms > 0.0 { dot / norms } else { 0.0 })
}

/// Fails on the first NaN or infinity.
pub fn check_finite(what: &'static str, values: &[f32]) -> Result<(), ParamsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(idx) => Err(ParamsError::NotFinite { what, idx }),
        None => Ok(()),
    }
}

fn check_same_len(what: &'static str, left: &[f32], right: &[f32]) -> Result<(), ParamsError> {
    if left.len() == right.len() {
        Ok(())
    } else {
        Err(ParamsError::LengthMismatch {
            what,
            left: left.len(),
            right: right.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, shape: &[usize]) -> TensorSpec {
        TensorSpec {
            name: name.to_owned(),
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn flatten_unflatten_round_trip() {
        let params = Params::flatten(vec![
            (spec("w", &[2, 2]), vec![1.0, 2.0, 3.0, 4.0]),
            (spec("b", &[2]), vec![5.0, 6.0]),
        ])
        .unwrap();
        assert_eq!(params.values(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let parts: Vec<_> = params
            .unflatten()
            .map(|(s, v)| (s.name.clone(), v.to_vec()))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("w".to_owned(), vec![1.0, 2.0, 3.0, 4.0]),
                ("b".to_owned(), vec![5.0, 6.0])
            ]
        );
        assert!(matches!(
            Params::flatten(vec![(spec("w", &[3]), vec![1.0])]),
            Err(ParamsError::TensorSize { .. })
        ));
        assert!(Params::from_flat(params.layout().clone(), vec![0.0; 5]).is_err());
    }

    #[test]
    fn delta_then_apply_recovers_local() {
        let base = [1.0, -2.0, 0.5];
        let local = [0.5, -1.0, 0.25];
        let d = delta(&base, &local).unwrap();
        let mut theta = base;
        apply_update(&mut theta, &d, 1.0).unwrap();
        assert_eq!(theta, local);
        assert!(delta(&base, &local[..2]).is_err());
    }

    #[test]
    fn hash_depends_on_values_and_layout() {
        let a = Params::flatten(vec![(spec("w", &[2]), vec![1.0, 2.0])]).unwrap();
        let b = Params::flatten(vec![(spec("w", &[2]), vec![1.0, 2.5])]).unwrap();
        let c = Params::flatten(vec![(spec("v", &[2]), vec![1.0, 2.0])]).unwrap();
        assert_eq!(a.hash(), a.clone().hash());
        assert_ne!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.hash().to_string().len(), 64);
    }

    #[test]
    fn cosine_of_copies_and_opposites() {
        let a = [1.0, 2.0, -3.0];
        assert!((cosine_similarity(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        assert!((cosine_similarity(&a, &[-1.0, -2.0, 3.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(cosine_similarity(&a, &[0.0; 3]).unwrap(), 0.0);
    }
}
