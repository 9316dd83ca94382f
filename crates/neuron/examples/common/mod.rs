//! The interop synapses of `interop_synapses.py` (DummyMath, FloatList, TextEcho, NoHash) and
//! their forward functions, shared by the interop examples, the benchmark and the tests.
#![allow(dead_code)]

use hyphae_neuron::axon::ForwardError;
use hyphae_neuron::impl_synapse;
use hyphae_neuron::synapse::SynapseMessage;
use serde::{Deserialize, Serialize};

/// The dev URI the fixture axons blacklist.
pub const BLACKLISTED_URI: &str = "//Eve";
/// Its ss58 hotkey.
pub const BLACKLISTED_HOTKEY: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";

/// a*b + c.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DummyMath {
    pub a: i64,
    pub b: i64,
    #[serde(default)]
    pub c: i64,
    #[serde(default)]
    pub result: Option<i64>,
}
impl_synapse!(DummyMath {
    hash: [a, b, c],
    required: [a, b]
});

/// Each value doubled, plus the sum.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FloatList {
    pub values: Vec<f64>,
    #[serde(default)]
    pub doubled: Option<Vec<f64>>,
    #[serde(default)]
    pub total: Option<f64>,
}
impl_synapse!(FloatList {
    hash: [values],
    required: [values]
});

/// Upper-cased, reversed, length (in code points, like Python `len`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextEcho {
    pub text: String,
    #[serde(default)]
    pub upper: Option<String>,
    #[serde(default)]
    pub reversed_text: Option<String>,
    #[serde(default)]
    pub length: Option<i64>,
}
impl_synapse!(TextEcho {
    hash: [text],
    required: [text]
});

/// No hash fields: y = x + 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoHash {
    #[serde(default)]
    pub x: i64,
    #[serde(default)]
    pub y: Option<i64>,
}
impl_synapse!(NoHash {
    hash: [],
    required: []
});

pub async fn forward_math(message: SynapseMessage<DummyMath>) -> Result<DummyMath, ForwardError> {
    let mut s = message.body;
    let result =
        s.a.checked_mul(s.b)
            .and_then(|p| p.checked_add(s.c))
            .ok_or_else(|| ForwardError::new("integer overflow"))?;
    s.result = Some(result);
    Ok(s)
}

#[allow(clippy::float_arithmetic)] // the fixture's semantics are float math
pub async fn forward_floats(message: SynapseMessage<FloatList>) -> Result<FloatList, ForwardError> {
    let mut s = message.body;
    s.doubled = Some(s.values.iter().map(|v| v * 2.0).collect());
    // Python's sum() adds left to right starting from int 0.
    s.total = Some(s.values.iter().fold(0.0, |acc, v| acc + v));
    Ok(s)
}

/// Python `str.upper()` for the fixture texts (Unicode upper-casing; `ß` → `SS` like Python).
pub fn py_upper(text: &str) -> String {
    text.to_uppercase()
}

pub async fn forward_text(message: SynapseMessage<TextEcho>) -> Result<TextEcho, ForwardError> {
    let mut s = message.body;
    s.upper = Some(py_upper(&s.text));
    s.reversed_text = Some(s.text.chars().rev().collect());
    s.length = Some(i64::try_from(s.text.chars().count()).unwrap_or(i64::MAX));
    Ok(s)
}

pub async fn forward_nohash(message: SynapseMessage<NoHash>) -> Result<NoHash, ForwardError> {
    let mut s = message.body;
    s.y = Some(
        s.x.checked_add(1)
            .ok_or_else(|| ForwardError::new("integer overflow"))?,
    );
    Ok(s)
}

/// Streaming: the prompt's words upper-cased, one raw chunk per word followed by a space
/// (the `StreamWords` of the SDK's stream probe).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamWords {
    pub prompt: String,
    #[serde(default)]
    pub completion: String,
}
impl_synapse!(StreamWords {
    hash: [prompt],
    required: [prompt]
});

pub async fn forward_stream(
    message: SynapseMessage<StreamWords>,
) -> Result<hyphae_neuron::axon::ChunkStream, ForwardError> {
    let chunks: Vec<bytes::Bytes> = message
        .body
        .prompt
        .to_uppercase()
        .split_whitespace()
        .map(|word| bytes::Bytes::from(format!("{word} ")))
        .collect();
    Ok(Box::pin(futures_util::stream::iter(chunks)))
}
