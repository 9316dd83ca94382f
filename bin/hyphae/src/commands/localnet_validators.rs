//! N validator processes on loopback, for `hyphae localnet --validators N`.
//!
//! [`spawn`] writes a chain spec with fresh keys under `base_path/chain` (or reuses the one
//! there), starts one `hyphae node` child per validator on free loopback ports, and returns once
//! every child has printed its ready line. [`LocalValidators::stop`] (or drop) sends SIGTERM,
//! waits a bounded time, then kills.

// Exported for `hyphae localnet --validators N` (localnet.rs calls it).
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::Serialize;

use super::chainspec::write_spec;
use crate::output::user_error;

/// How long one node may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a node may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// One running validator, as the `ready` line reports it.
#[derive(Clone, Debug, Serialize)]
pub struct LocalNode {
    /// Its process id.
    pub pid: u32,
    /// Its JSON-RPC URL.
    pub rpc: String,
    /// Its base path.
    pub base_path: PathBuf,
    /// The command line that restarts it on its base path.
    pub restart: Vec<String>,
}

/// Running validator processes; stopped on [`LocalValidators::stop`] or drop.
#[derive(Debug)]
pub struct LocalValidators {
    /// The nodes, in the spec's order.
    pub nodes: Vec<LocalNode>,
    /// The chain spec they run.
    pub spec: PathBuf,
    children: Vec<Child>,
}

/// The free loopback addresses for `count` validators (bound, then released).
fn free_addresses(count: usize) -> anyhow::Result<Vec<SocketAddr>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("finding free loopback ports")?;
    listeners
        .iter()
        .map(|listener| listener.local_addr().context("reading a bound port"))
        .collect()
}

/// The spec and keys in `dir`: reused when the spec lists `validators` validators whose key
/// files exist, written when the folder holds none of them, and otherwise refused. A spec that
/// does not parse or is for another validator count belongs to a network this run cannot be,
/// and replacing it would lose its keys.
fn spec_and_keys(dir: &Path, validators: usize) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let spec = dir.join("spec.json");
    let keys: Vec<PathBuf> = (0..validators)
        .map(|index| dir.join(format!("validator-{index}.json")))
        .collect();
    let exists = |path: &PathBuf| path.symlink_metadata().is_ok();
    if !exists(&spec) && !keys.iter().any(exists) {
        let written = write_spec(dir, "localnet", &free_addresses(validators)?, false)?;
        return Ok((written.spec, written.keys));
    }
    let parsed = std::fs::read_to_string(&spec)
        .ok()
        .and_then(|text| hyphae_ledger::ChainSpec::from_json(&text).ok());
    match parsed {
        Some(parsed)
            if parsed.validators.len() == validators && keys.iter().all(|key| key.exists()) =>
        {
            Ok((spec, keys))
        }
        _ => Err(user_error(format!(
            "{} is not a spec for {validators} validators with their key files here; \
             it is kept as it is: choose another --base-path",
            spec.display()
        ))),
    }
}

/// Starts `validators` node processes under `base_path` and waits until each is ready.
pub fn spawn(
    validators: usize,
    base_path: &Path,
    block_time_ms: u64,
) -> anyhow::Result<LocalValidators> {
    if validators == 0 {
        anyhow::bail!("at least one validator is needed");
    }
    let (spec, keys) = spec_and_keys(&base_path.join("chain"), validators)?;
    let exe = std::env::current_exe().context("locating the hyphae binary")?;
    let mut running = LocalValidators {
        nodes: Vec::with_capacity(validators),
        spec: spec.clone(),
        children: Vec::with_capacity(validators),
    };
    let mut pending = Vec::with_capacity(validators);
    for (index, key) in keys.iter().enumerate() {
        let node_path = base_path.join(format!("node-{index}"));
        std::fs::create_dir_all(&node_path)
            .with_context(|| format!("creating {}", node_path.display()))?;
        let restart: Vec<String> = vec![
            exe.display().to_string(),
            "node".into(),
            "--chain".into(),
            spec.display().to_string(),
            "--validator-key".into(),
            key.display().to_string(),
            "--base-path".into(),
            node_path.display().to_string(),
            "--rpc-port".into(),
            "0".into(),
            "--metrics-port".into(),
            "0".into(),
            "--block-time-ms".into(),
            block_time_ms.to_string(),
            "--output".into(),
            "json".into(),
        ];
        let log = std::fs::File::create(node_path.join("node.log"))
            .with_context(|| format!("creating {}/node.log", node_path.display()))?;
        let mut child = Command::new(&exe)
            .args(restart.iter().skip(1))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting validator {index}"))?;
        let stdout = child.stdout.take();
        let pid = child.id();
        running.children.push(child);
        let (ready_tx, ready_rx) = mpsc::channel();
        if let Some(stdout) = stdout {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                for line in lines.by_ref().map_while(Result::ok) {
                    if line.contains("\"event\":\"ready\"") {
                        let _ = ready_tx.send(line);
                        break;
                    }
                }
                // Keep draining so the child never blocks on a full pipe.
                for _ in lines {}
            });
        }
        pending.push((index, pid, node_path, restart, ready_rx));
    }
    for (index, pid, node_path, restart, ready_rx) in pending {
        // The children start together: each gets the whole timeout from the moment it is awaited.
        let line = ready_rx.recv_timeout(READY_TIMEOUT).with_context(|| {
            format!(
                "validator {index} did not print its ready line (see {}/node.log)",
                node_path.display()
            )
        })?;
        let ready: serde_json::Value =
            serde_json::from_str(&line).context("parsing a node's ready line")?;
        let rpc = ready
            .get("rpc")
            .and_then(serde_json::Value::as_str)
            .context("the ready line has no rpc")?
            .to_owned();
        running.nodes.push(LocalNode {
            pid,
            rpc,
            base_path: node_path,
            restart,
        });
    }
    Ok(running)
}

impl LocalValidators {
    /// The `ready` line's JSON: `{"event":"ready","nodes":[…]}`.
    pub fn ready_json(&self) -> serde_json::Value {
        serde_json::json!({ "event": "ready", "nodes": self.nodes })
    }

    /// Stops every child: SIGTERM, a bounded wait, then kill.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        for child in &self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let started = Instant::now();
        for child in &mut self.children {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if started.elapsed() < STOP_TIMEOUT => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        self.children.clear();
    }
}

impl Drop for LocalValidators {
    fn drop(&mut self) {
        self.terminate();
    }
}
