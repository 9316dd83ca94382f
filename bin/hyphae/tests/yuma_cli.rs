//! `hyphae yuma`: the JSON contract end to end, and its error handling.
//!
//! `fixtures/yuma/epoch_expected.json` is this implementation's own output for
//! `epoch_input.json`, kept as a regression guard for the CLI path; the numbers themselves are
//! checked against the reference chain by `crates/yuma`'s fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/yuma")
        .join(name)
}

fn hyphae() -> Command {
    Command::cargo_bin("hyphae").unwrap()
}

fn valid_input() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("epoch_input.json")).unwrap()).unwrap()
}

#[test]
fn epoch_prints_the_expected_output() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("epoch_expected.json")).unwrap())
            .unwrap();
    let output = hyphae()
        .args(["yuma", "epoch", "--input"])
        .arg(fixture("epoch_input.json"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let actual: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(actual, expected);
}

#[test]
fn epoch_reads_stdin_and_prints_json_even_in_text_mode() {
    let input = std::fs::read_to_string(fixture("epoch_input.json")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("epoch_expected.json")).unwrap())
            .unwrap();
    let output = hyphae()
        .args(["--output", "text", "yuma", "epoch", "--input", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap(),
        expected
    );
}

/// Run `epoch` on a broken input; it must fail with exit code 1 and one line on stderr.
fn assert_rejected(input: &serde_json::Value, needle: &str) {
    let output = hyphae()
        .args(["yuma", "epoch", "--input", "-"])
        .write_stdin(input.to_string())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(needle),
        "{stderr:?} should mention {needle:?}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn uid_out_of_range_is_rejected() {
    let mut input = valid_input();
    input["neurons"][1]["weights"] = serde_json::json!([[3, 100], [6, 100]]);
    assert_rejected(&input, "uid 6");
}

#[test]
fn bond_uid_out_of_range_is_rejected() {
    let mut input = valid_input();
    input["neurons"][0]["bonds"] = serde_json::json!([[60, 1]]);
    assert_rejected(&input, "uid 60");
}

#[test]
fn duplicate_uid_is_rejected() {
    let mut input = valid_input();
    input["neurons"][2]["weights"] = serde_json::json!([[4, 1], [4, 2]]);
    assert_rejected(&input, "twice");
}

#[test]
fn mismatched_row_shape_is_rejected() {
    let mut input = valid_input();
    input["neurons"][0]["weights"] = serde_json::json!([[3, 100, 7]]);
    assert_rejected(&input, "parsing the epoch input");
}

#[test]
fn unknown_field_is_rejected() {
    let mut input = valid_input();
    input["neurons"][0]["rank"] = serde_json::json!(5);
    assert_rejected(&input, "unknown field `rank`");
}

#[test]
fn out_of_range_values_are_rejected() {
    let mut input = valid_input();
    input["neurons"][0]["weights"] = serde_json::json!([[3, 70000]]);
    assert_rejected(&input, "parsing the epoch input");
    let mut input = valid_input();
    input["params"]["bonds_moving_average"] = serde_json::json!(1_000_001);
    assert_rejected(&input, "bonds_moving_average");
    let mut input = valid_input();
    input["owner_uid"] = serde_json::json!(9);
    assert_rejected(&input, "owner_uid 9");
}

#[test]
fn missing_file_is_rejected() {
    let output = hyphae()
        .args(["yuma", "epoch", "--input", "/nonexistent/input.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn simulate_prints_tables_and_json() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/yuma/scenarios/cabal.json");
    let text = hyphae()
        .args(["yuma", "simulate", "--scenario"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(text.status.success());
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(stdout.contains("epoch 19 (block"), "{stdout}");
    assert!(stdout.contains("validator"));

    let json = hyphae()
        .args(["--output", "json", "yuma", "simulate", "--scenario"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(json.status.success());
    let records: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 20);
    assert_eq!(
        records[0]["output"]["neurons"].as_array().unwrap().len(),
        23
    );
}

#[test]
fn simulate_refuses_a_huge_epoch_count() {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/yuma/scenarios/cabal.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario).unwrap()).unwrap();
    value["epochs"] = serde_json::Value::from(u32::MAX);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    std::fs::write(&path, value.to_string()).unwrap();
    let output = hyphae()
        .args(["yuma", "simulate", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("epochs"), "{stderr}");
}
