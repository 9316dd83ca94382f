//! `hyphae stake add|remove|list`: swap free TAO into stake (alpha) on a hotkey in a subnet's
//! pool, and back. `add` takes TAO; `remove` and `list` count alpha (in rao units, 10⁹ per alpha).

use clap::{Args, Subcommand};
use hyphae_ledger::Call;
use hyphae_primitives::{AccountId, NetUid, Rao};
use serde_json::json;

use super::chain::{
    block_on, confirm, connect, fee_of, report, rpc_error, submit, RpcArgs, SignerArgs, TxArgs,
};
use crate::output::{print_json, OutputFormat};

/// Which stake position.
#[derive(Debug, Args)]
pub struct StakeTarget {
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Hotkey to stake on, as an SS58 address (default: the wallet's hotkey).
    #[arg(long)]
    hotkey_address: Option<AccountId>,
    /// Dev chains: the hotkey as a dev URI (`//Alice//hot`).
    #[arg(long)]
    hotkey_uri: Option<String>,
    /// Amount: TAO for `add`, alpha for `remove` (nine decimals).
    #[arg(long)]
    amount: Rao,
}

/// `hyphae stake` subcommands.
#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Move free balance into stake on a hotkey.
    Add {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        tx: TxArgs,
        #[command(flatten)]
        target: StakeTarget,
    },
    /// Move stake back to free balance.
    Remove {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        signer: SignerArgs,
        #[command(flatten)]
        tx: TxArgs,
        #[command(flatten)]
        target: StakeTarget,
    },
    /// List a coldkey's stake positions.
    List {
        #[command(flatten)]
        rpc: RpcArgs,
        /// The coldkey (default: the signer's).
        #[arg(long)]
        address: Option<AccountId>,
        #[command(flatten)]
        signer: SignerArgs,
    },
}

impl StakeCommand {
    /// Runs the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        match self {
            Self::Add {
                rpc,
                signer,
                tx,
                target,
            } => move_stake(rpc, signer, tx, target, true, output),
            Self::Remove {
                rpc,
                signer,
                tx,
                target,
            } => move_stake(rpc, signer, tx, target, false, output),
            Self::List {
                rpc,
                address,
                signer,
            } => block_on(async move {
                let client = connect(&rpc).await?;
                let coldkey = match address {
                    Some(address) => address,
                    None => signer.coldkey_address()?,
                };
                let stakes = client.stakes(&coldkey).await.map_err(rpc_error)?;
                let total = stakes
                    .iter()
                    .fold(0u64, |sum, entry| sum.saturating_add(entry.stake_rao.0));
                match output {
                    OutputFormat::Json => print_json(
                        &json!({ "coldkey": coldkey, "stakes": stakes, "total_rao": total }),
                    ),
                    OutputFormat::Text => {
                        println!("stake of {coldkey}:");
                        for entry in &stakes {
                            println!(
                                "  netuid {:>3}  {}  {} alpha",
                                entry.netuid, entry.hotkey, entry.stake_rao
                            );
                        }
                        println!("total: {} alpha (summed across subnets)", Rao(total));
                        Ok(())
                    }
                }
            }),
        }
    }
}

fn move_stake(
    rpc: RpcArgs,
    signer: SignerArgs,
    tx: TxArgs,
    target: StakeTarget,
    add: bool,
    output: OutputFormat,
) -> anyhow::Result<()> {
    block_on(async move {
        let client = connect(&rpc).await?;
        let info = client.info().await.map_err(rpc_error)?;
        let key = signer.coldkey(&info)?;
        let hotkey = signer.hotkey_address(target.hotkey_uri.as_deref(), target.hotkey_address)?;
        let netuid = NetUid(target.netuid);
        let amount = target.amount;
        let (call, verb) = if add {
            (
                Call::AddStake {
                    hotkey,
                    netuid,
                    amount,
                },
                "stake",
            )
        } else {
            (
                Call::RemoveStake {
                    hotkey,
                    netuid,
                    amount,
                },
                "unstake",
            )
        };
        let fee = fee_of(&info, &call);
        let summary = format!(
            "{verb} {amount} {} {} hotkey {hotkey} on subnet {netuid}",
            if add { "TAO" } else { "alpha" },
            if add { "on" } else { "from" }
        );
        confirm(&tx, &summary, fee)?;
        let submitted = submit(&client, &info, &key, call, &tx, output).await?;
        let extra = json!({ "coldkey": key.account_id(), "hotkey": hotkey, "netuid": netuid, "amount_rao": amount });
        report(
            output,
            &submitted,
            fee,
            &format!("{verb}d {amount} {}", if add { "TAO" } else { "alpha" }),
            extra,
        )
    })
}
