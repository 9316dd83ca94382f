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
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use anyhow::Context;
use clap::{Args, ValueEnum};
use hyphae_explorer::{ExplorerConfig, ExplorerError, TrainingEpoch, TrainingFeed};
use hyphae_ledger::ChainSpec;
use hyphae_node::{Node, NodeConfig, NodeError};
use hyphae_primitives::{NetUid, Rao, Uid};
use hyphae_training::{
    live::{self, LiveConfig, LiveError},
    report::Report,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::localnet_validators::{self, LocalValidators};
use crate::output::{outln, print_json, user_error, OutputFormat};
use crate::shutdown::Shutdown;

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
    /// JSON-RPC port of the embedded validator on 127.0.0.1; 0 picks a free one. With
    /// `--validators` above 1 every node gets a free port (the ready line lists them).
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
    /// Where to write the demo's report (JSON); default `<base path>/report.json` with
    /// `--base-path`, else `report.json` in the current folder (the temporary base path is
    /// removed at exit).
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
        if self.adversarial >= self.miners {
            return Err(user_error(format!(
                "--adversarial {} leaves no honest miner among --miners {}",
                self.adversarial, self.miners
            )));
        }
        let base = BasePath::open(self.base_path.as_deref())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(self.run_async(&base, output))
    }

    async fn run_async(&self, base: &BasePath, output: OutputFormat) -> anyhow::Result<()> {
        let mut shutdown = Shutdown::install()?;
        let chain = self.start_chain(base).await?;
        let rpc = chain.rpc().to_owned();
        let feed = TrainingFeed::new();
        let mut explorer_config = ExplorerConfig::new(rpc.clone());
        explorer_config.addr = SocketAddr::from(([127, 0, 0, 1], self.explorer_port));
        let explorer = match hyphae_explorer::serve(explorer_config, feed.clone()).await {
            Ok(explorer) => explorer,
            Err(error) => {
                chain.stop().await;
                return Err(explorer_start_error(error));
            }
        };
        let explorer_url = explorer.url();
        let printed = match output {
            OutputFormat::Json => print_json(&json!({
                "event": "ready",
                "explorer": explorer_url,
                "nodes": chain.nodes_json(),
            })),
            OutputFormat::Text => {
                outln!("hyphae localnet: {} validator(s)", self.validators)?;
                outln!("  base path: {}", base.path.display())?;
                outln!("  RPC:       {rpc}")?;
                outln!("  explorer:  {explorer_url}")?;
                Ok(())
            }
        };
        let outcome = match printed {
            Ok(()) if self.no_neurons => {
                shutdown.requested().await;
                Ok(())
            }
            Ok(()) => {
                self.run_demo(base, &rpc, &feed, output, &mut shutdown)
                    .await
            }
            Err(error) => Err(error),
        };
        explorer.stop().await;
        chain.stop().await;
        outcome
    }

    /// One embedded validator, or `--validators` node processes.
    async fn start_chain(&self, base: &BasePath) -> anyhow::Result<LocalChain> {
        if self.validators > 1 {
            let validators = usize::from(self.validators);
            let path = base.path.clone();
            let block_time_ms = self.block_time_ms;
            let running = tokio::task::spawn_blocking(move || {
                localnet_validators::spawn(validators, &path, block_time_ms)
            })
            .await
            .context("starting the validators")??;
            let rpc = running
                .nodes
                .first()
                .map(|node| node.rpc.clone())
                .context("no validator started")?;
            return Ok(LocalChain::Processes { running, rpc });
        }
        let spec = ChainSpec::dev().context("building the dev chain spec")?;
        let node_path = base.path.join("node");
        let mut config = NodeConfig::dev(node_path.clone());
        config.rpc_addr = SocketAddr::from(([127, 0, 0, 1], self.rpc_port));
        config.metrics_addr = None;
        config.block_time = Duration::from_millis(self.block_time_ms);
        let node = Node::start(config, spec).await.map_err(node_start_error)?;
        let rpc = format!("http://{}", node.rpc_addr());
        let restart = self.restart_argv(&node_path, node.rpc_addr().port());
        let description = json!({
            "pid": std::process::id(),
            "rpc": rpc,
            "base_path": node_path,
            "restart": restart,
        });
        Ok(LocalChain::Embedded {
            node,
            rpc,
            description,
        })
    }

    /// The argv that restarts the embedded validator as a `hyphae node` on its base path.
    fn restart_argv(&self, node_path: &Path, rpc_port: u16) -> Vec<String> {
        vec![
            "hyphae".to_owned(),
            "node".to_owned(),
            "--dev".to_owned(),
            "--base-path".to_owned(),
            node_path.display().to_string(),
            "--rpc-port".to_owned(),
            rpc_port.to_string(),
            "--block-time-ms".to_owned(),
            self.block_time_ms.to_string(),
        ]
    }

    /// Runs the training demo against the node at `rpc`, showing each epoch, then writes the
    /// report and prints the final table.
    #[allow(
        clippy::float_arithmetic,
        reason = "shows the report's figures; nothing here feeds the chain"
    )]
    async fn run_demo(
        &self,
        base: &BasePath,
        rpc: &str,
        feed: &TrainingFeed,
        output: OutputFormat,
        shutdown: &mut Shutdown,
    ) -> anyhow::Result<()> {
        let simulation = live::demo_config(
            self.seed,
            self.miners,
            self.adversarial,
            self.subnet_validators,
            self.epochs,
        )
        .map_err(|error| user_error(error.to_string()))?;
        let roles = simulation
            .uid_roles()
            .context("assigning the demo's roles")?;
        feed.set_roles(
            roles
                .iter()
                .map(|(uid, role)| (Uid(*uid), role.as_str().to_owned())),
        );
        let mut live_config = LiveConfig::new(rpc, simulation);
        let stop = Arc::clone(&live_config.stop);
        let (subnet_sender, subnet_receiver) = std::sync::mpsc::channel::<u16>();
        live_config.subnet_created = Some(subnet_sender);
        let subnet_feed = feed.clone();
        // Ends when the run drops its sender.
        let _naming = tokio::task::spawn_blocking(move || {
            while let Ok(netuid) = subnet_receiver.recv() {
                subnet_feed.set_subnet(NetUid(netuid));
            }
        });
        let progress = ProgressBar::new(u64::from(self.epochs));
        progress.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        progress.set_prefix("training");
        progress.set_message("setting up the subnet");
        let worker_feed = feed.clone();
        let worker_progress = progress.clone();
        let mut demo = tokio::task::spawn_blocking(move || {
            live::run(&live_config, &mut |epoch| {
                worker_feed.push(TrainingEpoch {
                    epoch: u64::from(epoch.epoch),
                    block: None,
                    accuracy: epoch.accuracy,
                    loss: epoch.loss,
                    baseline_accuracy: Some(epoch.baseline_accuracy),
                    adversary_emission_share: Some(epoch.adversary_emission_share),
                });
                worker_progress.set_message(format!(
                    "accuracy {:.3} (baseline {:.3}), adversaries {:.2} % of miner emission",
                    epoch.accuracy,
                    epoch.baseline_accuracy,
                    epoch.adversary_emission_share * 100.0
                ));
                worker_progress.inc(1);
                if output == OutputFormat::Json {
                    // One line per epoch after the ready line; errors only lose a progress line.
                    let _ = print_json(&json!({ "event": "epoch", "epoch": epoch }));
                }
            })
        });
        let joined = tokio::select! {
            joined = &mut demo => joined,
            () = shutdown.requested() => {
                stop.store(true, Ordering::Relaxed);
                progress.abandon_with_message("interrupted");
                // The run notices the flag between transactions and epochs.
                let _ = demo.await;
                return Ok(());
            }
        };
        let outcome = match joined.context("the training demo panicked")? {
            Ok(outcome) => outcome,
            Err(LiveError::Stopped) => return Ok(()),
            Err(error) => {
                progress.abandon_with_message("failed");
                return Err(anyhow::Error::new(error).context("the training demo failed"));
            }
        };
        progress.finish_with_message("done");
        let report_path = match (&self.report, &self.base_path) {
            (Some(report), _) => report.clone(),
            (None, Some(_)) => base.path.join("report.json"),
            (None, None) => PathBuf::from("report.json"),
        };
        write_report(&report_path, &outcome.report)?;
        match output {
            OutputFormat::Json => print_json(&json!({
                "event": "done",
                "netuid": outcome.netuid,
                "report": report_path,
                "targets": outcome.report.targets,
            }))?,
            OutputFormat::Text => print_table(&outcome.report, &report_path)?,
        }
        if self.keep_running {
            shutdown.requested().await;
        }
        Ok(())
    }
}

fn write_report(path: &Path, report: &Report) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(report).context("encoding the report")?;
    std::fs::write(path, text).map_err(|error| {
        user_error(format!(
            "cannot write the report to {}: {error}",
            path.display()
        ))
    })
}

/// The final table: one row per neuron, then the spec's targets.
#[allow(
    clippy::float_arithmetic,
    reason = "shows the report's figures; nothing here feeds the chain"
)]
fn print_table(report: &Report, report_path: &Path) -> std::io::Result<()> {
    outln!()?;
    outln!(
        "{:>4}  {:<16}  {:>9}  {:>9}  {:>14}",
        "uid",
        "role",
        "incentive",
        "dividends",
        "emission TAO"
    )?;
    for neuron in &report.neurons {
        outln!(
            "{:>4}  {:<16}  {:>9.4}  {:>9.4}  {:>14}",
            neuron.uid,
            neuron.role.as_str(),
            f64::from(neuron.incentive) / f64::from(u16::MAX),
            f64::from(neuron.dividends) / f64::from(u16::MAX),
            Rao(neuron.emission_rao).to_string(),
        )?;
    }
    let targets = &report.targets;
    outln!()?;
    outln!(
        "accuracy {:.3} of the central baseline · adversaries at most {:.2} % of miner emission · \
         {} honest false positives · compression {:.0}x · {:.1} s",
        targets.accuracy_ratio,
        targets.adversary_emission_share_max * 100.0,
        targets.honest_false_positives,
        targets.compression_ratio,
        report.wall_time_s,
    )?;
    outln!(
        "targets {}; report written to {}",
        if targets.met { "met" } else { "NOT all met" },
        report_path.display()
    )
}

fn explorer_start_error(error: ExplorerError) -> anyhow::Error {
    match error {
        ExplorerError::Bind { .. } => user_error(error.to_string()),
        other => anyhow::Error::new(other),
    }
}

/// The chain localnet runs: one validator in this process, or several node processes.
enum LocalChain {
    Embedded {
        node: Node,
        rpc: String,
        description: serde_json::Value,
    },
    Processes {
        running: LocalValidators,
        rpc: String,
    },
}

impl LocalChain {
    /// The RPC URL the explorer and the subnet use (the first validator's).
    fn rpc(&self) -> &str {
        match self {
            Self::Embedded { rpc, .. } | Self::Processes { rpc, .. } => rpc,
        }
    }

    /// The `nodes` array of the ready line.
    fn nodes_json(&self) -> serde_json::Value {
        match self {
            Self::Embedded { description, .. } => json!([description]),
            Self::Processes { running, .. } => json!(running.nodes),
        }
    }

    async fn stop(self) {
        match self {
            Self::Embedded { node, .. } => node.stop().await,
            Self::Processes { running, .. } => {
                // Stopping waits on child processes: keep it off the async workers.
                let _ = tokio::task::spawn_blocking(move || running.stop()).await;
            }
        }
    }
}

fn node_start_error(error: NodeError) -> anyhow::Error {
    match error {
        NodeError::Bind { .. }
        | NodeError::GenesisMismatch { .. }
        | NodeError::BasePath { .. }
        | NodeError::ForeignConsensusDir { .. } => user_error(error.to_string()),
        other => anyhow::Error::new(other),
    }
}
