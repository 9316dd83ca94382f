//! `hyphae localnet` through the real binary: its help, its ready line, and the errors a new
//! user meets first (a port in use, an unwritable base path, a second localnet on the same
//! base path). Waits are on conditions with deadlines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

use serde_json::Value;
use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

mod node_support;

use node_support::bin;

/// A localnet child process, killed on drop.
struct Localnet {
    child: Child,
    ready: Value,
}

impl Localnet {
    /// Starts `hyphae localnet --no-neurons` on free ports and waits (60 s) for its ready line.
    fn start(base: &Path) -> Localnet {
        let mut child = Command::new(bin())
            .args([
                "localnet",
                "--no-neurons",
                "--rpc-port",
                "0",
                "--explorer-port",
                "0",
                "--block-time-ms",
                "100",
                "--output",
                "json",
            ])
            .arg("--base-path")
            .arg(base)
            .env("HYPHAE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let ready = node_support::ready_line(&mut child, "localnet");
        Localnet { child, ready }
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "localnet did not exit in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn localnet(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("localnet")
        .args(args)
        .env("HYPHAE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn assert_user_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn help_explains_every_flag() {
    let output = Command::new(bin())
        .args(["localnet", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--validators",
        "--base-path",
        "--rpc-port",
        "--explorer-port",
        "--block-time-ms",
        "--subnet",
        "--miners",
        "--adversarial",
        "--subnet-validators",
        "--epochs",
        "--seed",
        "--report",
        "--no-neurons",
        "--keep-running",
    ] {
        // clap's long help prints each option on its own line and its description on the
        // following lines; an undocumented flag is followed by a blank line or another option.
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|line| line.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("--help does not list {flag}:\n{help}"));
        let description = lines.get(at + 1).copied().unwrap_or("").trim();
        assert!(
            !description.is_empty() && !description.starts_with('-'),
            "{flag} has no description:\n{help}"
        );
    }
}

#[test]
fn ready_line_then_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Localnet::start(dir.path());
    assert_eq!(net.ready["event"], "ready");
    let explorer = net.ready["explorer"].as_str().unwrap();
    assert!(explorer.starts_with("http://127.0.0.1:"), "{explorer}");
    let nodes = net.ready["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert!(nodes[0]["rpc"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(nodes[0]["pid"].as_u64().is_some());
    let restart: Vec<&str> = nodes[0]["restart"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    assert_eq!(&restart[..2], ["hyphae", "node"]);
    let status = net.stop();
    assert!(status.success(), "{status:?}");
}

#[test]
fn second_localnet_on_the_same_base_path_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Localnet::start(dir.path());
    let output = localnet(&[
        "--no-neurons",
        "--rpc-port",
        "0",
        "--explorer-port",
        "0",
        "--base-path",
        dir.path().to_str().unwrap(),
    ]);
    assert_user_error(&output, "another localnet is running");
    assert!(first.stop().success());
}

#[test]
fn port_in_use_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = localnet(&[
        "--no-neurons",
        "--rpc-port",
        &port,
        "--explorer-port",
        "0",
        "--base-path",
        dir.path().to_str().unwrap(),
    ]);
    assert_user_error(&output, "cannot listen on");
}

#[test]
fn a_base_path_holding_another_network_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain");
    std::fs::create_dir_all(&chain).unwrap();
    // A spec this localnet cannot reuse: damaged, or for another validator count.
    std::fs::write(chain.join("spec.json"), b"{\"name\": \"loc").unwrap();
    std::fs::write(chain.join("validator-0.json"), b"old key").unwrap();
    let (_net, first) = node_support::first_json_line(
        Command::new(bin())
            .args(["localnet", "--validators", "2", "--no-neurons"])
            .args([
                "--rpc-port",
                "0",
                "--explorer-port",
                "0",
                "--output",
                "json",
            ])
            .arg("--base-path")
            .arg(dir.path()),
    );
    assert_eq!(first["kind"], "user", "{first}");
    let error = first["error"].as_str().unwrap();
    assert!(error.contains("--base-path"), "{error}");
    assert_eq!(
        std::fs::read(chain.join("spec.json")).unwrap(),
        b"{\"name\": \"loc"
    );
    assert_eq!(
        std::fs::read(chain.join("validator-0.json")).unwrap(),
        b"old key"
    );
}

#[test]
fn unwritable_base_path_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    // A path below a regular file cannot be created, even by root.
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a folder").unwrap();
    let output = localnet(&[
        "--no-neurons",
        "--rpc-port",
        "0",
        "--explorer-port",
        "0",
        "--base-path",
        file.join("below").to_str().unwrap(),
    ]);
    assert_user_error(&output, "cannot use base path");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a folder");
}

/// The demo end to end through the binary, in a small configuration: it must exit by itself
/// after its epochs, print one line per epoch and a `done` line, and write a report whose
/// figures meet the targets that hold on every run (adversaries paid nothing after warm-up,
/// no honest miner left out, updates 100x smaller).
#[test]
fn small_demo_runs_to_the_end_and_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    // No --base-path and no --report: the report lands in the current folder, outside the
    // temporary base path that is removed at exit.
    let report = dir.path().join("report.json");
    let output = Command::new(bin())
        .args([
            "localnet",
            "--rpc-port",
            "0",
            "--explorer-port",
            "0",
            "--block-time-ms",
            "100",
            "--miners",
            "4",
            "--adversarial",
            "1",
            "--subnet-validators",
            "2",
            "--epochs",
            "3",
            "--seed",
            "7",
            "--output",
            "json",
        ])
        .current_dir(dir.path())
        .env("HYPHAE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], "ready");
    let epochs = lines.iter().filter(|line| line["event"] == "epoch").count();
    assert_eq!(epochs, 3, "{stdout}");
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "done");
    let written: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(written["seed"], 7);
    assert_eq!(written["epochs"].as_array().unwrap().len(), 3);
    assert_eq!(written["neurons"].as_array().unwrap().len(), 6);
    let targets = &written["targets"];
    assert!(
        targets["adversary_emission_share_max"].as_f64().unwrap() < 0.01,
        "{targets}"
    );
    assert_eq!(targets["honest_false_positives"], 0, "{targets}");
    assert!(
        targets["compression_ratio"].as_f64().unwrap() >= 100.0,
        "{targets}"
    );
    // After warm-up the adversary (uid 5, a poisoner) holds under 1 % of incentive on chain.
    let adversary = &written["neurons"][5];
    assert_eq!(adversary["role"], "poisoner");
    assert!(
        adversary["incentive"].as_u64().unwrap() < 655,
        "{adversary}"
    );
}
