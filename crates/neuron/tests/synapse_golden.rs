//! Typed synapses (declarative and derived) against the SDK golden vectors: body hashes,
//! `bt_header_input_obj_*` placeholders and the SDK's signature vector.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

#[path = "../examples/common/mod.rs"]
mod common;

use std::collections::BTreeMap;

use hyphae_neuron::synapse::{input_obj_headers, Synapse, SynapseMessage};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// DummyMath again, through `#[derive(Synapse)]`: `a`, `b` required (no default), `c` defaulted.
#[derive(Debug, Clone, Serialize, Deserialize, Synapse)]
#[synapse(hash(a, b, c))]
#[serde(rename = "DummyMath")]
struct DerivedMath {
    a: i64,
    b: i64,
    #[serde(default)]
    c: i64,
    result: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Synapse)]
#[synapse(hash(values))]
struct DerivedFloats {
    values: Vec<f64>,
    #[serde(default = "Vec::new")]
    doubled: Vec<f64>,
    #[synapse(required)]
    forced: Option<String>,
}

fn golden() -> Vec<Value> {
    let golden: Value = serde_json::from_str(include_str!("fixtures/golden_vectors.json")).unwrap();
    golden["body_hash_vectors"].as_array().unwrap().clone()
}

fn check<S: Synapse>(vector: &Value) {
    let message = SynapseMessage::<S>::from_json(vector["fields"].to_string().as_bytes()).unwrap();
    assert_eq!(
        message.body.body_hash(),
        vector["computed_body_hash"].as_str().unwrap(),
        "{vector}"
    );
    let headers: BTreeMap<String, String> = input_obj_headers::<S>().into_iter().collect();
    let expected: BTreeMap<String, String> =
        serde_json::from_value(vector["input_obj_headers"].clone()).unwrap();
    assert_eq!(headers, expected);
    let fields: Vec<&str> = vector["required_hash_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(S::REQUIRED_HASH_FIELDS, fields.as_slice());
}

#[test]
fn typed_synapses_match_golden_vectors() {
    for vector in golden() {
        match vector["synapse"].as_str().unwrap() {
            "DummyMath" => {
                check::<common::DummyMath>(&vector);
                let message = SynapseMessage::<DerivedMath>::from_json(
                    vector["fields"].to_string().as_bytes(),
                )
                .unwrap();
                assert_eq!(
                    message.body.body_hash(),
                    vector["computed_body_hash"].as_str().unwrap()
                );
            }
            "FloatList" => check::<common::FloatList>(&vector),
            "TextEcho" => check::<common::TextEcho>(&vector),
            "NoHash" => check::<common::NoHash>(&vector),
            other => panic!("unknown synapse {other}"),
        }
    }
}

#[test]
fn derive_infers_required_fields() {
    assert_eq!(DerivedMath::NAME, "DerivedMath");
    assert_eq!(
        DerivedMath::required_placeholders(),
        vec![("a", "0"), ("b", "0")]
    );
    assert_eq!(
        DerivedFloats::required_placeholders(),
        vec![("values", "[]"), ("forced", "\"\"")]
    );
    assert_eq!(DerivedFloats::REQUIRED_HASH_FIELDS, &["values"]);
}

#[test]
fn python_json_form_and_sdk_signature_vector() {
    let message = SynapseMessage::new(common::DummyMath {
        a: 6,
        b: 7,
        c: -5,
        result: None,
    });
    let json: Value = serde_json::to_value(&message).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json's map is sorted here; the order on the wire is checked in the doc test
    let mut expected = vec![
        "name",
        "timeout",
        "total_size",
        "header_size",
        "dendrite",
        "axon",
        "computed_body_hash",
        "a",
        "b",
        "c",
        "result",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(json["dendrite"].as_object().unwrap().len(), 10);

    let golden: Value = serde_json::from_str(include_str!("fixtures/golden_vectors.json")).unwrap();
    let vector = &golden["signature_vector"];
    let signer =
        hyphae_primitives::AccountId::from_ss58(vector["signer_ss58"].as_str().unwrap()).unwrap();
    let signature =
        hyphae_keys::Signature::from_hex(vector["signature_hex"].as_str().unwrap()).unwrap();
    assert!(hyphae_keys::verify(
        &signer,
        vector["message_utf8"].as_str().unwrap().as_bytes(),
        &signature
    ));
}

#[test]
fn error_responses_report_the_placeholder_hash_like_python() {
    // the captured Python 500 for DummyMath carries the hash of a=b=c=0
    assert_eq!(
        hyphae_neuron::synapse::placeholder_body_hash::<common::DummyMath>().as_deref(),
        Some("c1a321581d65a0ca465c2887af24a24f11171c323b761e369f46e4607f12e0c4")
    );
}
