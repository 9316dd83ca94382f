//! `hyphae node`: run a node.
//!
//! Two ways, one code path (the BFT engine):
//! - `--dev`: a validator set of one, the dev key, the ledger's dev genesis; p2p on a free
//!   loopback port.
//! - `--chain DIR/spec.json --validator-key FILE`: one validator of the spec's set (see
//!   `hyphae chain spec`), p2p on the spec's address for this key, or `--p2p-port`/`--p2p-listen`.
//!
//! Once bound it prints one line, `{"event":"ready","rpc":…,"metrics":…,"base_path":…,"p2p":…}`
//! with `--output json`, so scripts can find ephemeral ports (`--rpc-port 0`). SIGINT or SIGTERM
//! stop it cleanly.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Args;
use hyphae_consensus::ValidatorKey;
use hyphae_ledger::ChainSpec;
use hyphae_node::{BftConfig, Finality, Node, NodeConfig};
use serde_json::json;

use super::chainspec::check_chain_name;
use crate::output::{outln, print_json, user_error, OutputFormat};
use crate::shutdown::Shutdown;

/// `hyphae node` flags.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Run a one-node development chain (dev genesis: //Alice … //Ferdie funded, subnet 1).
    #[arg(long, conflicts_with_all = ["chain", "validator_key"])]
    dev: bool,
    /// Chain spec of a validator network (from `hyphae chain spec`).
    #[arg(long, requires = "validator_key")]
    chain: Option<PathBuf>,
    /// This validator's consensus key file (from `hyphae chain spec`).
    #[arg(long, requires = "chain")]
    validator_key: Option<PathBuf>,
    /// P2p port on 127.0.0.1 (default: this validator's address in the spec).
    #[arg(long, conflicts_with = "p2p_listen")]
    p2p_port: Option<u16>,
    /// P2p listen address, e.g. 0.0.0.0:30333 to accept other machines.
    #[arg(long)]
    p2p_listen: Option<SocketAddr>,
    /// Misbehave as a proposer (fault tests only): bad-state-root or bad-transaction.
    #[arg(long, hide = true)]
    fault: Option<String>,
    /// Folder for the chain's files (default `~/.hyphae/chains/<chain>`).
    #[arg(long, env = "HYPHAE_BASE_PATH")]
    base_path: Option<PathBuf>,
    /// JSON-RPC port on 127.0.0.1 (HTTP and WebSocket); 0 picks a free one.
    #[arg(long, default_value_t = 9944)]
    rpc_port: u16,
    /// Prometheus port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 9615)]
    metrics_port: u16,
    /// Do not serve metrics.
    #[arg(long)]
    no_metrics: bool,
    /// Target block interval, milliseconds.
    #[arg(long, default_value_t = 1000)]
    block_time_ms: u64,
}

/// `~/.hyphae/chains/<chain>`. The name comes from a spec file someone handed out, so it is
/// checked to be one plain folder name first: joined as it is, `/home/op/work` or `../..` would
/// point anywhere.
fn default_base_path(chain: &str) -> anyhow::Result<PathBuf> {
    check_chain_name(chain)?;
    Ok(std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".hyphae")
        .join("chains")
        .join(chain))
}

impl NodeArgs {
    /// Runs the node until SIGINT or SIGTERM.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        if !self.dev && self.chain.is_none() {
            return Err(user_error(
                "pass --dev for a one-node dev chain, or --chain SPEC --validator-key FILE to run a validator",
            ));
        }
        if self.block_time_ms == 0 {
            return Err(user_error("--block-time-ms must be at least 1"));
        }
        let listen = self.p2p_listen.or_else(|| {
            self.p2p_port
                .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
        });
        let (spec, mut bft) = match (&self.chain, &self.validator_key) {
            (Some(chain), Some(key_path)) => {
                let text = std::fs::read_to_string(chain)
                    .map_err(|error| user_error(format!("{}: {error}", chain.display())))?;
                let spec = ChainSpec::from_json(&text)
                    .map_err(|error| user_error(format!("{}: {error}", chain.display())))?;
                let key =
                    ValidatorKey::read(key_path).map_err(|error| user_error(error.to_string()))?;
                let bft = BftConfig::from_spec(&spec, key, listen)
                    .map_err(|error| user_error(error.to_string()))?;
                (spec, bft)
            }
            _ => {
                let mut bft = BftConfig::dev();
                if let Some(listen) = listen {
                    bft.listen = listen;
                    bft.validators = vec![(bft.key.public(), listen)];
                }
                (
                    ChainSpec::dev().context("building the dev chain spec")?,
                    bft,
                )
            }
        };
        bft.fault = match self.fault.as_deref() {
            None => hyphae_consensus::Fault::None,
            Some("bad-state-root") => hyphae_consensus::Fault::BadStateRoot,
            Some("bad-transaction") => hyphae_consensus::Fault::BadTransaction,
            Some(other) => return Err(user_error(format!("unknown --fault {other}"))),
        };
        let listen = bft.listen;
        let base_path = match &self.base_path {
            Some(path) => path.clone(),
            None => default_base_path(&spec.name)?,
        };
        let mut config = NodeConfig::dev(base_path.clone());
        config.rpc_addr = SocketAddr::from(([127, 0, 0, 1], self.rpc_port));
        config.metrics_addr =
            (!self.no_metrics).then(|| SocketAddr::from(([127, 0, 0, 1], self.metrics_port)));
        config.block_time = Duration::from_millis(self.block_time_ms);
        config.finality = Finality::Bft(Box::new(bft));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let spec_name = spec.name.clone();
        runtime.block_on(async move {
            let mut shutdown = Shutdown::install()?;
            let node = Node::start(config, spec)
                .await
                .map_err(|error| match error {
                    hyphae_node::NodeError::Bind { .. }
                    | hyphae_node::NodeError::GenesisMismatch { .. }
                    | hyphae_node::NodeError::BasePath { .. }
                    | hyphae_node::NodeError::ForeignConsensusDir { .. } => {
                        user_error(error.to_string())
                    }
                    other => anyhow::Error::new(other),
                })?;
            let rpc = format!("http://{}", node.rpc_addr());
            let metrics = node
                .metrics_addr()
                .map(|addr| format!("http://{addr}/metrics"));
            match output {
                OutputFormat::Json => print_json(&json!({
                    "event": "ready",
                    "rpc": rpc,
                    "metrics": metrics,
                    "base_path": base_path,
                    "p2p": listen.to_string(),
                }))?,
                OutputFormat::Text => {
                    outln!("hyphae node ({})", spec_name)?;
                    outln!("  base path: {}", base_path.display())?;
                    outln!("  RPC:       {rpc} (HTTP and WebSocket)")?;
                    if let Some(metrics) = &metrics {
                        outln!("  metrics:   {metrics}")?;
                    }
                }
            }
            shutdown.requested().await;
            node.stop().await;
            if output == OutputFormat::Json {
                print_json(&json!({ "event": "stopped" }))?;
            }
            Ok(())
        })
    }
}
