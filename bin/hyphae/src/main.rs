//! `hyphae`: the one binary. Wallet, Yuma, and (as later issues land) chain, node and localnet
//! commands, each in its own file under `commands/`.
//!
//! Exit codes: 0 success, 1 a user error (bad input, wrong password, missing file),
//! 2 an internal error.

mod commands;
mod output;
mod shutdown;

use clap::{Parser, Subcommand};
use output::OutputFormat;

/// hyphae: a decentralized machine-learning network.
#[derive(Debug, Parser)]
#[command(name = "hyphae", version, about, propagate_version = true)]
struct Cli {
    /// How results are printed: human text, or JSON with a stable schema.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, env = "HYPHAE_OUTPUT")]
    output: OutputFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, import, inspect and use coldkeys and hotkeys (Bittensor-compatible).
    #[command(subcommand)]
    Wallet(commands::wallet::WalletCommand),
    /// Run Yuma Consensus epochs offline: check the chain's numbers or try a weight policy.
    #[command(subcommand)]
    Yuma(commands::yuma::YumaCommand),
    /// Run a node: a one-node dev chain (--dev), or one validator of a chain spec.
    Node(commands::node::NodeArgs),
    /// Chain specs for validator networks.
    #[command(subcommand)]
    Chain(commands::chainspec::ChainCommand),
    /// Show an account's free balance.
    Balance(commands::chain::BalanceArgs),
    /// Send TAO to another account.
    Transfer(commands::chain::TransferArgs),
    /// Show the best and finalized blocks, or one block with --number.
    Block(commands::chain::BlockArgs),
    /// Stake TAO on a hotkey, unstake, or list stake.
    #[command(subcommand)]
    Stake(commands::stake::StakeCommand),
    /// Create, inspect, configure and register on subnets.
    #[command(subcommand)]
    Subnet(commands::subnet::SubnetCommand),
    /// Publish a neuron's axon endpoint.
    #[command(subcommand)]
    Axon(commands::axon::AxonCommand),
    /// Set, commit or reveal a validator's weights.
    #[command(subcommand)]
    Weights(commands::weights::WeightsCommand),
    /// Show a subnet's metagraph.
    Metagraph(commands::metagraph::MetagraphArgs),
    /// Explain a uid's emission in its subnet's last epoch.
    Explain(commands::metagraph::ExplainArgs),
    /// Run a whole network on this machine: chain, training subnet, miners, validators, explorer.
    Localnet(commands::localnet::LocalnetArgs),
    /// Serve the web explorer for a running node (reads its JSON-RPC only).
    Explorer(commands::explorer::ExplorerArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Wallet(cmd) => cmd.run(cli.output),
        Command::Yuma(cmd) => cmd.run(cli.output),
        Command::Node(cmd) => cmd.run(cli.output),
        Command::Chain(cmd) => cmd.run(cli.output),
        Command::Balance(cmd) => cmd.run(cli.output),
        Command::Transfer(cmd) => cmd.run(cli.output),
        Command::Block(cmd) => cmd.run(cli.output),
        Command::Stake(cmd) => cmd.run(cli.output),
        Command::Subnet(cmd) => cmd.run(cli.output),
        Command::Axon(cmd) => cmd.run(cli.output),
        Command::Weights(cmd) => cmd.run(cli.output),
        Command::Metagraph(cmd) => cmd.run(cli.output),
        Command::Explain(cmd) => cmd.run(cli.output),
        Command::Localnet(cmd) => cmd.run(cli.output),
        Command::Explorer(cmd) => cmd.run(cli.output),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => output::report_error(&err, cli.output),
    }
}

/// Logs go to stderr so stdout stays clean for `--output json`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HYPHAE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
