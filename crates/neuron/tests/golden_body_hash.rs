//! The Python SDK's body-hash golden vectors (bittensor 10.5.0), copied from the interop fixtures.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use hyphae_neuron::{body_hash::body_hash, pyrepr::PyValue};
use serde_json::Value;

/// Convert a fixture field the way pydantic would for the synapse's declared type.
/// The fixtures' float lists are `list[float]`, so JSON ints in them become floats.
fn to_py(value: &Value, float_list: bool) -> PyValue {
    match value {
        Value::Null => PyValue::None,
        Value::Bool(b) => PyValue::Bool(*b),
        Value::Number(n) if float_list || n.is_f64() => PyValue::Float(n.as_f64().unwrap()),
        Value::Number(n) => PyValue::Int(i128::from(n.as_i64().unwrap())),
        Value::String(s) => PyValue::Str(s.clone()),
        Value::Array(items) => PyValue::List(items.iter().map(|v| to_py(v, float_list)).collect()),
        Value::Object(map) => PyValue::Dict(
            map.iter()
                .map(|(k, v)| (PyValue::Str(k.clone()), to_py(v, float_list)))
                .collect(),
        ),
    }
}

#[test]
fn body_hashes_match_python_sdk() {
    let golden: Value = serde_json::from_str(include_str!("fixtures/golden_vectors.json")).unwrap();
    let vectors = golden["body_hash_vectors"].as_array().unwrap();
    assert!(vectors.len() >= 5);
    for vector in vectors {
        let float_list = vector["synapse"] == "FloatList";
        let names = vector["required_hash_fields"].as_array().unwrap();
        let values: Vec<PyValue> = names
            .iter()
            .map(|name| to_py(&vector["fields"][name.as_str().unwrap()], float_list))
            .collect();
        let rendered: Vec<String> = values.iter().map(PyValue::to_py_str).collect();
        let expected_str: Vec<&str> = vector["python_str_of_each_field"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(rendered, expected_str, "str() of {}", vector["synapse"]);
        assert_eq!(
            body_hash(&values),
            vector["computed_body_hash"].as_str().unwrap(),
            "{}",
            vector["synapse"]
        );
    }
}

/// 3,000 doubles (random bit patterns, wide magnitudes, short decimals) with CPython 3.11's `repr`.
#[test]
fn float_repr_matches_cpython_on_random_doubles() {
    let golden: Value = serde_json::from_str(include_str!("fixtures/float_repr.json")).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3000);
    for case in cases {
        let bits = u64::from_str_radix(case[0].as_str().unwrap(), 16).unwrap();
        let value = f64::from_bits(bits);
        assert_eq!(
            hyphae_neuron::pyrepr::float_repr(value),
            case[1].as_str().unwrap(),
            "bits {bits:016x}"
        );
    }
}
