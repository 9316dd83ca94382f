//! Four `hyphae node` validator processes on loopback: they finalize the same blocks, a
//! transaction sent to one validator's RPC is gossiped into a block, a killed validator does not
//! stop the other three, and on restart it catches up to the same state root.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod node_support;

use node_support::{bin, post_raw, BOB};
use serde_json::{json, Value};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

const BLOCK_TIME_MS: u64 = 500;

struct Validator {
    child: Child,
    rpc: String,
    args: Vec<String>,
}

impl Validator {
    fn start(args: Vec<String>) -> Validator {
        let mut child = Command::new(bin())
            .args(&args)
            .env("HYPHAE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("validator did not print its ready line in 60 s");
        let ready: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(ready["event"], "ready");
        Validator {
            child,
            rpc: ready["rpc"].as_str().unwrap().to_owned(),
            args,
        }
    }

    fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let (_, text) = post_raw(
            self.rpc.trim_start_matches("http://"),
            body.to_string().as_bytes(),
        );
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    fn finalized(&self) -> u64 {
        self.call("chain_getHead", json!([]))["result"]["finalized"]["number"]
            .as_u64()
            .unwrap()
    }

    /// (hash, state root) of the block at `number`.
    fn block(&self, number: u64) -> (String, String) {
        let block = &self.call("chain_getBlockByNumber", json!([number]))["result"];
        (
            block["hash"].as_str().unwrap().to_owned(),
            block["state_root"].as_str().unwrap().to_owned(),
        )
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn node_args(spec: &Path, dir: &Path, index: usize) -> Vec<String> {
    let path = |p: PathBuf| p.display().to_string();
    vec![
        "node".into(),
        "--chain".into(),
        path(spec.to_path_buf()),
        "--validator-key".into(),
        path(dir.join("chain").join(format!("validator-{index}.json"))),
        "--base-path".into(),
        path(dir.join(format!("node-{index}"))),
        "--rpc-port".into(),
        "0".into(),
        "--metrics-port".into(),
        "0".into(),
        "--block-time-ms".into(),
        BLOCK_TIME_MS.to_string(),
        "--output".into(),
        "json".into(),
    ]
}

/// Every node holds the same block (hash and state root) at every height up to `height`.
fn assert_agree(nodes: &[&Validator], height: u64) {
    for number in 1..=height {
        let first = nodes[0].block(number);
        for node in &nodes[1..] {
            assert_eq!(
                node.block(number),
                first,
                "validators disagree at height {number}"
            );
        }
    }
}

#[test]
fn four_validators_finalize_gossip_survive_a_crash_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let base_port = node_support::free_port_run(4);
    let spec = Command::new(bin())
        .args([
            "chain",
            "spec",
            "--validators",
            "4",
            "--output",
            "json",
            "--base-port",
        ])
        .arg(base_port.to_string())
        .arg("--out")
        .arg(dir.path().join("chain"))
        .output()
        .unwrap();
    assert!(
        spec.status.success(),
        "{}",
        String::from_utf8_lossy(&spec.stderr)
    );
    let written: Value = serde_json::from_slice(&spec.stdout).unwrap();
    let spec_path = PathBuf::from(written["spec"].as_str().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(dir.path().join("chain/validator-0.json")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }

    let mut nodes: Vec<Validator> = (0..4)
        .map(|index| Validator::start(node_args(&spec_path, dir.path(), index)))
        .collect();
    wait_until(
        Duration::from_secs(60),
        "all 4 validators to finalize block 3",
        || nodes.iter().all(|node| node.finalized() >= 3),
    );

    // A transfer submitted to validator 2 reaches a block (whoever proposes it).
    let before = nodes[0].call("account_get", json!([BOB]))["result"]["free_rao"]
        .as_u64()
        .unwrap();
    let sent = Command::new(bin())
        .args([
            "transfer", "--uri", "//Alice", "--dest", BOB, "--amount", "2.5", "--yes",
        ])
        .args(["--rpc-url", &nodes[2].rpc, "--output", "json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    wait_until(
        Duration::from_secs(30),
        "the transfer on every validator",
        || {
            nodes.iter().all(|node| {
                node.call("account_get", json!([BOB]))["result"]["free_rao"].as_u64()
                    == Some(before + 2_500_000_000)
            })
        },
    );

    let height = nodes.iter().map(Validator::finalized).min().unwrap();
    assert_agree(&nodes.iter().collect::<Vec<_>>(), height);

    // Kill validator 3: the other three keep finalizing.
    nodes[3].kill();
    let at_kill = nodes[..3].iter().map(Validator::finalized).max().unwrap();
    wait_until(
        Duration::from_secs(60),
        "3 validators to finalize 4 more blocks",
        || {
            nodes[..3]
                .iter()
                .all(|node| node.finalized() >= at_kill + 4)
        },
    );

    // Restart it on its base path: it syncs what it missed and agrees with the others.
    let args = nodes[3].args.clone();
    nodes[3] = Validator::start(args);
    let target = nodes[..3].iter().map(Validator::finalized).max().unwrap();
    wait_until(
        Duration::from_secs(60),
        "the restarted validator to catch up",
        || nodes[3].finalized() >= target,
    );
    let height = nodes.iter().map(Validator::finalized).min().unwrap();
    assert_agree(&nodes.iter().collect::<Vec<_>>(), height);
}
