//! `hyphae explorer`: serve the web explorer for any running node.
//!
//! It reads the node through its JSON-RPC only, listens on 127.0.0.1, and once bound prints
//! `{"event":"ready","explorer":"http://127.0.0.1:PORT/","rpc":…}` with `--output json`, so
//! scripts can find an ephemeral port (`--port 0`). SIGINT or SIGTERM stop it cleanly.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use clap::Args;
use hyphae_explorer::{ExplorerConfig, ExplorerError, TrainingFeed};
use serde_json::json;

use crate::output::{outln, print_json, user_error, OutputFormat};
use crate::shutdown::Shutdown;

/// `hyphae explorer` flags.
#[derive(Debug, Args)]
pub struct ExplorerArgs {
    /// The node's JSON-RPC URL (http:// or ws://).
    #[arg(long, env = "HYPHAE_RPC_URL", default_value = "http://127.0.0.1:9944")]
    rpc_url: String,
    /// Port to serve the explorer on; 0 picks a free one.
    #[arg(long, default_value_t = hyphae_explorer::DEFAULT_PORT)]
    port: u16,
    /// Address to listen on. The default, 127.0.0.1, keeps the explorer on this machine.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    listen: IpAddr,
}

impl ExplorerArgs {
    /// Serves until SIGINT or SIGTERM.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        let mut config = ExplorerConfig::new(self.rpc_url.clone());
        config.addr = SocketAddr::new(self.listen, self.port);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        runtime.block_on(async move {
            let mut shutdown = Shutdown::install()?;
            let explorer = hyphae_explorer::serve(config, TrainingFeed::new())
                .await
                .map_err(|error| match error {
                    ExplorerError::Bind { .. } | ExplorerError::Node { .. } => {
                        user_error(error.to_string())
                    }
                })?;
            let url = explorer.url();
            match output {
                OutputFormat::Json => print_json(&json!({
                    "event": "ready",
                    "explorer": url,
                    "rpc": self.rpc_url,
                }))?,
                OutputFormat::Text => {
                    outln!("hyphae explorer")?;
                    outln!("  explorer: {url}")?;
                    outln!("  node RPC: {}", self.rpc_url)?;
                }
            }
            shutdown.requested().await;
            explorer.stop().await;
            if output == OutputFormat::Json {
                print_json(&json!({ "event": "stopped" }))?;
            }
            Ok(())
        })
    }
}
