//! `hyphae`: the one binary. Wallet, Yuma, and (as later issues land) chain, node and localnet
//! commands, each in its own file under `commands/`.
//!
//! Exit codes: 0 success, 1 a user error (bad input, wrong password, missing file),
//! 2 an internal error.

mod commands;
mod output;
mod secret_input;
mod shutdown;

use clap::{error::ErrorKind, Parser, Subcommand};
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return parse_failure(&error),
    };
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

/// A command line clap cannot parse is the user's to fix: exit code 1, and with `--output json`
/// the usual `{"error","kind":"user"}` document. `--help` and `--version` exit as clap does.
fn parse_failure(error: &clap::Error) -> std::process::ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        error.exit();
    }
    if json_requested(std::env::args_os().skip(1)) {
        // The first paragraph: the message without clap's usage and "try --help" lines.
        let text = error.render().to_string();
        let message = text.split("\n\n").next().unwrap_or_default();
        output::print_error_json(message.trim().trim_start_matches("error: "), true);
    }
    // clap's own rendering (with usage and colour) on stderr; nothing useful is left to do if
    // stderr itself is gone.
    let _ = error.print();
    output::exit_code(true)
}

/// Whether the raw arguments or `HYPHAE_OUTPUT` ask for JSON, read without clap (which has
/// just failed on these arguments). As in clap, the last `--output` wins over the variable.
fn json_requested(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args
        .map(|arg| arg.to_string_lossy().into_owned())
        .take_while(|arg| arg != "--")
        .peekable();
    let mut chosen = None;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--output=") {
            chosen = Some(value.to_owned());
        } else if arg == "--output" {
            chosen = args.peek().cloned();
        }
    }
    match chosen {
        Some(value) => value == "json",
        None => std::env::var("HYPHAE_OUTPUT").is_ok_and(|value| value == "json"),
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
