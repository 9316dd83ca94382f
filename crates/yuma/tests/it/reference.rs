//! Golden vectors: every fixture under `tests/fixtures/` runs through the one `check` helper.
//!
//! A fixture is a pair of files. `NAME.input.json` holds a `base` epoch input and a list of
//! `steps`; each step may move the block and patch neurons (`set`, keyed by uid), and it runs
//! one epoch. Between steps the stored state the epoch writes (bond rows and permits) carries
//! forward, as on chain. `NAME.expected.json` holds, per step, the output fields to compare.
//! Fields not named are not compared, and two forms stand for things the reference asserts
//! in its own way: `"bond_to": {"j": v}` is the bond to uid j as a dense row reads it (0 when
//! absent), and `{"within": [v, tol]}` is a number within `tol` of `v`.
//!
//! Each input file says where its expected values come from (`source`, `about`).

use std::path::Path;

use hyphae_yuma::{epoch, EpochInput, EpochOutput};
use serde_json::{Map, Value};

/// Run the fixture `input_json` step by step and compare each output with `expected_json`.
fn check(input_json: &str, expected_json: &str) {
    let fixture: Value = serde_json::from_str(input_json).expect("fixture input is JSON");
    let expected: Value = serde_json::from_str(expected_json).expect("fixture expectation is JSON");
    let steps = fixture["steps"].as_array().expect("steps");
    let expectations = expected["steps"].as_array().expect("expected steps");
    assert_eq!(steps.len(), expectations.len(), "one expectation per step");

    let mut state = fixture["base"].clone();
    let mut previous: Option<EpochOutput> = None;
    for (index, (step, expect)) in steps.iter().zip(expectations).enumerate() {
        if let Some(output) = &previous {
            carry_forward(&mut state, output);
        }
        apply_step(&mut state, step);
        let input: EpochInput = serde_json::from_value(state.clone()).expect("valid epoch input");
        let output = epoch(&input).expect("epoch runs");
        let actual = serde_json::to_value(&output).unwrap();
        assert_subset(expect, &actual, &format!("step {index}"));
        previous = Some(output);
    }
}

/// What the reference stores after an epoch and reads in the next one.
fn carry_forward(state: &mut Value, output: &EpochOutput) {
    let neurons = state["neurons"].as_array_mut().unwrap();
    for (neuron, out) in neurons.iter_mut().zip(&output.neurons) {
        neuron["bonds"] = serde_json::to_value(&out.bonds).unwrap();
        neuron["validator_permit"] = Value::Bool(out.validator_permit);
    }
}

fn apply_step(state: &mut Value, step: &Value) {
    for (key, value) in step.as_object().unwrap() {
        match key.as_str() {
            "about" => {}
            "set" => {
                for (uid, patch) in value.as_object().unwrap() {
                    let neuron = &mut state["neurons"][uid.parse::<usize>().unwrap()];
                    merge(neuron, patch);
                }
            }
            "params" => merge(&mut state["params"], value),
            _ => state[key] = value.clone(),
        }
    }
}

fn merge(target: &mut Value, patch: &Value) {
    for (key, value) in patch.as_object().unwrap() {
        target[key] = value.clone();
    }
}

fn assert_subset(expected: &Value, actual: &Value, path: &str) {
    match expected {
        Value::Object(fields) if fields.contains_key("within") => {
            let bounds = fields["within"].as_array().unwrap();
            let (center, tolerance) = (bounds[0].as_i64().unwrap(), bounds[1].as_i64().unwrap());
            let value = actual
                .as_i64()
                .unwrap_or_else(|| panic!("{path}: not a number"));
            assert!(
                (value - center).abs() <= tolerance,
                "{path}: {value} is not within {tolerance} of {center}"
            );
        }
        Value::Object(fields) => {
            for (key, want) in fields {
                let here = format!("{path}.{key}");
                match (key.as_str(), actual) {
                    ("bond_to", _) => check_bonds(want, &actual["bonds"], &here),
                    (uid, Value::Array(items)) => {
                        let item = items.get(uid.parse::<usize>().unwrap());
                        assert_subset(want, item.unwrap_or(&Value::Null), &here);
                    }
                    (_, Value::Object(map)) => {
                        let got = map.get(key).unwrap_or_else(|| panic!("{here}: missing"));
                        assert_subset(want, got, &here);
                    }
                    _ => panic!("{here}: expected an object or array, got {actual}"),
                }
            }
        }
        Value::Array(items) => {
            let got = actual
                .as_array()
                .unwrap_or_else(|| panic!("{path}: not an array"));
            assert_eq!(items.len(), got.len(), "{path}: length");
            for (i, (want, have)) in items.iter().zip(got).enumerate() {
                assert_subset(want, have, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

/// `bond_to`: the dense-row view the reference's tests read through `get_bonds`.
fn check_bonds(want: &Value, row: &Value, path: &str) {
    let row = row.as_array().unwrap();
    for (uid, value) in want.as_object().unwrap_or(&Map::new()) {
        let uid: u64 = uid.parse().unwrap();
        let got = row
            .iter()
            .find(|pair| pair[0].as_u64() == Some(uid))
            .map_or(0, |pair| pair[1].as_u64().unwrap());
        assert_subset(value, &Value::from(got), &format!("{path}[{uid}]"));
    }
}

/// Every fixture in the directory, so a new pair of files is a new test.
#[test]
fn reference_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".input.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 18, "fixtures found: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let input = std::fs::read_to_string(dir.join(format!("{name}.input.json"))).unwrap();
        let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).unwrap();
        if let Err(panic) = std::panic::catch_unwind(|| check(&input, &expected)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures failed:\n{}",
        failures.join("\n")
    );
}
