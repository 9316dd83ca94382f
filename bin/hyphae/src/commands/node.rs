//! `hyphae node`: run a node.
//!
//! Today only `--dev` exists: a one-node chain from the ledger's dev genesis that finalizes each
//! block as it builds it. Once bound it prints one line, `{"event":"ready","rpc":…,"metrics":…,
//! "base_path":…}` with `--output json`, so scripts can find ephemeral ports (`--rpc-port 0`).
//! SIGINT or SIGTERM stop it cleanly after the block in progress.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::Args;
use hyphae_ledger::ChainSpec;
use hyphae_node::{Node, NodeConfig};
use serde_json::json;

use crate::output::{print_json, user_error, OutputFormat};

/// `hyphae node` flags.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Run a one-node development chain (dev genesis: //Alice … //Ferdie funded, subnet 1).
    #[arg(long)]
    dev: bool,
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

fn default_base_path(chain: &str) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".hyphae")
        .join("chains")
        .join(chain)
}

impl NodeArgs {
    /// Runs the node until SIGINT or SIGTERM.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        if !self.dev {
            return Err(user_error(
                "only --dev chains can run yet: pass --dev (multi-validator networks come with the consensus engine)",
            ));
        }
        if self.block_time_ms == 0 {
            return Err(user_error("--block-time-ms must be at least 1"));
        }
        let spec = ChainSpec::dev().context("building the dev chain spec")?;
        let base_path = self
            .base_path
            .clone()
            .unwrap_or_else(|| default_base_path(&spec.name));
        let mut config = NodeConfig::dev(base_path.clone());
        config.rpc_addr = SocketAddr::from(([127, 0, 0, 1], self.rpc_port));
        config.metrics_addr =
            (!self.no_metrics).then(|| SocketAddr::from(([127, 0, 0, 1], self.metrics_port)));
        config.block_time = Duration::from_millis(self.block_time_ms);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(async move {
            let node = Node::start(config, spec)
                .await
                .map_err(|error| match error {
                    hyphae_node::NodeError::Bind { .. }
                    | hyphae_node::NodeError::GenesisMismatch { .. }
                    | hyphae_node::NodeError::BasePath { .. } => user_error(error.to_string()),
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
                }))?,
                OutputFormat::Text => {
                    println!("hyphae dev node");
                    println!("  base path: {}", base_path.display());
                    println!("  RPC:       {rpc} (HTTP and WebSocket)");
                    if let Some(metrics) = &metrics {
                        println!("  metrics:   {metrics}");
                    }
                }
            }
            wait_for_signal().await?;
            node.stop().await;
            if output == OutputFormat::Json {
                print_json(&json!({ "event": "stopped" }))?;
            }
            Ok(())
        })
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
