//! The files `hyphae chain spec` and `hyphae node` write and remove: validator keys are never
//! replaced without `--overwrite`, a chain spec's name never becomes a path outside
//! `~/.hyphae/chains`, a node never deletes a `consensus/` folder it did not make, and the
//! README's validator-network recipe runs two validators on one machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod node_support;

use node_support::{bin, first_json_line, free_port_run};
use serde_json::Value;
use std::{
    fs,
    path::Path,
    process::{Command, Output, Stdio},
};

fn hyphae(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("HYPHAE_OUTPUT")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn chain_spec(out: &Path, extra: &[&str]) -> Output {
    let port = free_port_run(2).to_string();
    let out = out.to_str().unwrap();
    let mut args = vec![
        "chain",
        "spec",
        "--validators",
        "2",
        "--base-port",
        &port,
        "--out",
        out,
    ];
    args.extend(extra);
    hyphae(&args)
}

fn assert_user_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["spec.json", "validator-0.json", "validator-1.json"]
        .iter()
        .map(|name| (name.to_string(), fs::read(dir.join(name)).unwrap()))
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn chain_spec_never_replaces_keys_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let first = chain_spec(&net, &[]);
    assert!(first.status.success(), "{first:?}");
    let before = snapshot(&net);
    let again = chain_spec(&net, &["--host", "10.0.0.1"]);
    assert_user_error(&again, "already exists");
    assert_user_error(&again, "--overwrite");
    assert_eq!(snapshot(&net), before, "a refused run must change nothing");

    // With --overwrite the keys are new, and private even where the old file was not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = net.join("validator-0.json");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let replaced = chain_spec(&net, &["--overwrite"]);
    assert!(replaced.status.success(), "{replaced:?}");
    let after = snapshot(&net);
    assert_ne!(after[1], before[1]);
    #[cfg(unix)]
    assert_eq!(mode(&net.join("validator-0.json")), 0o600);
    let stray: Vec<_> = fs::read_dir(&net)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains("tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

#[test]
fn chain_names_that_are_not_one_plain_file_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(65);
    for name in [
        "",
        ".",
        "..",
        "../work",
        "/tmp/work",
        "a/b",
        "a b",
        long.as_str(),
    ] {
        let net = dir.path().join("net");
        let output = chain_spec(&net, &["--name", name]);
        assert_user_error(&output, "invalid chain name");
        assert!(!net.exists(), "{name:?}");
    }
}

/// A spec whose `name` is `name`, and the key of its validator 0.
fn spec_named(dir: &Path, name: &str) -> (String, String) {
    let net = dir.join("net");
    let output = chain_spec(&net, &[]);
    assert!(output.status.success(), "{output:?}");
    let spec_path = net.join("spec.json");
    let mut spec: Value = serde_json::from_slice(&fs::read(&spec_path).unwrap()).unwrap();
    spec["name"] = Value::from(name);
    fs::write(&spec_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    (
        spec_path.display().to_string(),
        net.join("validator-0.json").display().to_string(),
    )
}

#[test]
fn node_refuses_a_spec_whose_name_is_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let victim = dir.path().join("victim");
    fs::create_dir_all(victim.join("consensus")).unwrap();
    fs::write(victim.join("consensus/keep"), b"mine").unwrap();
    let names = [victim.display().to_string(), "../../../victim".to_owned()];
    for (index, name) in names.iter().enumerate() {
        let (spec, key) = spec_named(&dir.path().join(format!("spec-{index}")), name);
        let (_node, first) = first_json_line(
            Command::new(bin())
                .args(["node", "--chain", &spec, "--validator-key", &key])
                .args(["--rpc-port", "0", "--metrics-port", "0", "--output", "json"])
                .env("HOME", &home)
                .env_remove("HYPHAE_BASE_PATH"),
        );
        assert_eq!(first["kind"], "user", "{name}: {first}");
        let error = first["error"].as_str().unwrap();
        assert!(error.contains("invalid chain name"), "{error}");
        assert_eq!(fs::read(victim.join("consensus/keep")).unwrap(), b"mine");
    }
}

fn dev_node(base: &Path) -> (node_support::Spawned, Value) {
    first_json_line(
        Command::new(bin())
            .args(["node", "--dev", "--rpc-port", "0", "--metrics-port", "0"])
            .args(["--output", "json", "--block-time-ms", "100"])
            .arg("--base-path")
            .arg(base),
    )
}

#[test]
fn node_never_deletes_a_consensus_folder_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("work");
    fs::create_dir_all(base.join("consensus")).unwrap();
    fs::write(base.join("consensus/keep"), b"mine").unwrap();
    let (_node, first) = dev_node(&base);
    assert_eq!(first["kind"], "user", "{first}");
    let error = first["error"].as_str().unwrap();
    assert!(error.contains("consensus"), "{error}");
    assert_eq!(fs::read(base.join("consensus/keep")).unwrap(), b"mine");
}

#[test]
fn node_still_clears_its_own_stale_consensus_folder() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("chain");
    let (node, first) = dev_node(&base);
    assert_eq!(first["event"], "ready", "{first}");
    drop(node);
    // The chain file is gone but the engine's folder is not: a fresh chain must start clean.
    fs::remove_file(base.join("chain.redb")).unwrap();
    assert!(base.join("consensus").exists());
    let (_node, first) = dev_node(&base);
    assert_eq!(first["event"], "ready", "{first}");
}

/// The README's recipe for a validator network, run as written for validators 0 and 1 on one
/// machine (only the spec's p2p ports are moved off 30333 to free ones, and the ready line is
/// asked for as JSON).
#[test]
fn readme_validator_network_recipe_runs_two_validators() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let row = readme
        .lines()
        .find(|line| line.starts_with("| a BFT network |"))
        .expect("README has the BFT network row");
    let commands: Vec<&str> = row
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.starts_with("hyphae "))
        .collect();
    let [spec_cmd, node_cmd] = commands[..] else {
        panic!("expected a spec and a node command in {row}");
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |command: &str| {
        let mut cmd = Command::new(bin());
        cmd.args(command.split_whitespace().skip(1))
            .current_dir(dir.path())
            .env("HYPHAE_OUTPUT", "json")
            .env("HOME", dir.path());
        cmd
    };
    let spec = run(spec_cmd)
        .arg("--base-port")
        .arg(free_port_run(4).to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(spec.status.success(), "{spec:?}");
    let second = node_cmd
        .replace("validator-0", "validator-1")
        .replace("/n0", "/n1");
    assert_ne!(second, node_cmd, "the recipe names validator 0");
    let (_first, ready0) = first_json_line(&mut run(node_cmd));
    assert_eq!(ready0["event"], "ready", "{ready0}");
    let (_second, ready1) = first_json_line(&mut run(&second));
    assert_eq!(ready1["event"], "ready", "{ready1}");
}
