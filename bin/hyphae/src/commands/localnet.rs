//! `hyphae localnet`: a whole network on this machine in one command.
//!
//! It starts the chain (one embedded validator by default), serves the explorer, prints one
//! `ready` JSON line, then runs the training subnet's demo on the chain and exits after
//! `--epochs` epochs (or keeps serving with `--keep-running`). `--no-neurons` runs the chain
//! and the explorer only, until interrupted.
//!
//! The base path is locked for the life of the command, so a second localnet on the same
//! folder fails at once with a clear message instead of corrupting the first one's store.

use std::{
    fs::File,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::{Args, ValueEnum};
use hyphae_ledger::ChainSpec;
use hyphae_node::{Node, NodeConfig, NodeError};
use serde_json::json;

use crate::output::{print_json, user_error, OutputFormat};

/// The subnets localnet can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SubnetKind {
    /// Collaborative training on private shards, judged by loss improvement.
    Training,
}

/// `hyphae localnet` flags.
#[derive(Debug, Args)]
pub struct LocalnetArgs {
    /// Chain validators. 1 runs one embedded validator in this process; more start one
    /// `hyphae node` process each, finalizing with BFT consensus on loopback.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    validators: u16,
    /// Folder for all state (chain, keys, report). Reusing it keeps state between runs;
    /// without it a temporary folder is used and removed at exit.
    #[arg(long)]
    base_path: Option<PathBuf>,
    /// JSON-RPC port of the (first) node on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 9944)]
    rpc_port: u16,
    /// Explorer port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    explorer_port: u16,
    /// Target block interval, milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    block_time_ms: u64,
    /// The subnet to run.
    #[arg(long, value_enum, default_value_t = SubnetKind::Training)]
    subnet: SubnetKind,
    /// Miners on the subnet, adversaries included.
    #[arg(long, default_value_t = 8)]
    miners: u16,
    /// How many of the miners are adversarial (free-rider, poisoner, manipulator, copier, …).
    #[arg(long, default_value_t = 3)]
    adversarial: u16,
    /// Subnet validators (neurons that score miners), lazy and cabal ones included. Not to be
    /// confused with `--validators`, the chain's block producers.
    #[arg(long, default_value_t = 3)]
    subnet_validators: u16,
    /// Epochs of the demo; localnet exits after them (unless `--keep-running`).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: u32,
    /// Seed of every choice the demo makes: shards, roles and adversary behaviour.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the demo's report (JSON); default `<base path>/report.json`.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Run the chain and the explorer only (no subnet, no neurons) until interrupted.
    #[arg(long)]
    no_neurons: bool,
    /// After the demo's epochs, keep the chain and the explorer running until interrupted.
    #[arg(long)]
    keep_running: bool,
}

/// The base path, locked, and (without `--base-path`) removed when dropped.
struct BasePath {
    path: PathBuf,
    _lock: File,
    _temporary: Option<tempfile::TempDir>,
}

impl BasePath {
    fn open(requested: Option<&Path>) -> anyhow::Result<Self> {
        let (path, temporary) = match requested {
            Some(path) => {
                std::fs::create_dir_all(path).map_err(|error| {
                    user_error(format!("cannot use base path {}: {error}", path.display()))
                })?;
                (path.to_path_buf(), None)
            }
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("hyphae-localnet-")
                    .tempdir()
                    .context("creating a temporary base path")?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let lock_path = path.join("localnet.lock");
        let lock = File::create(&lock_path).map_err(|error| {
            user_error(format!(
                "cannot write to base path {}: {error}",
                path.display()
            ))
        })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let shown = path.display();
                return Err(user_error(format!(
                    "another localnet is running on base path {shown}; stop it or pick another --base-path"
                )));
            }
            Err(std::fs::TryLockError::Error(error)) => {
                let shown = path.display();
                return Err(user_error(format!(
                    "cannot lock base path {shown}: {error}"
                )));
            }
        }
        Ok(Self {
            path,
            _lock: lock,
            _temporary: temporary,
        })
    }
}

impl LocalnetArgs {
    /// Runs the localnet until its demo ends or SIGINT/SIGTERM.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        if self.adversarial > self.miners {
            return Err(user_error(format!(
                "--adversarial {} is more than --miners {}",
                self.adversarial, self.miners
            )));
        }
        let base = BasePath::open(self.base_path.as_deref())?;
        if self.validators > 1 {
            return super::localnet_validators::run_until_signal(
                usize::from(self.validators),
                &base.path,
                self.block_time_ms,
                output,
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(self.run_async(&base, output))
    }

    async fn run_async(&self, base: &BasePath, output: OutputFormat) -> anyhow::Result<()> {
        let spec = ChainSpec::dev().context("building the dev chain spec")?;
        let node_path = base.path.join("node");
        let mut config = NodeConfig::dev(node_path.clone());
        config.rpc_addr = SocketAddr::from(([127, 0, 0, 1], self.rpc_port));
        config.metrics_addr = None;
        config.block_time = Duration::from_millis(self.block_time_ms);
        let node = Node::start(config, spec).await.map_err(node_start_error)?;
        let rpc = format!("http://{}", node.rpc_addr());
        let restart = vec![
            "hyphae".to_owned(),
            "node".to_owned(),
            "--dev".to_owned(),
            "--base-path".to_owned(),
            node_path.display().to_string(),
            "--rpc-port".to_owned(),
            node.rpc_addr().port().to_string(),
            "--block-time-ms".to_owned(),
            self.block_time_ms.to_string(),
        ];
        let nodes = vec![json!({
            "pid": std::process::id(),
            "rpc": rpc,
            "base_path": node_path,
            "restart": restart,
        })];
        match output {
            OutputFormat::Json => print_json(&json!({ "event": "ready", "nodes": nodes }))?,
            OutputFormat::Text => {
                println!("hyphae localnet");
                println!("  base path: {}", base.path.display());
                println!("  RPC:       {rpc}");
            }
        }
        wait_for_signal().await?;
        node.stop().await;
        Ok(())
    }
}

fn node_start_error(error: NodeError) -> anyhow::Error {
    match error {
        NodeError::Bind { .. } | NodeError::GenesisMismatch { .. } | NodeError::BasePath { .. } => {
            user_error(error.to_string())
        }
        other => anyhow::Error::new(other),
    }
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("waiting for SIGINT")?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
