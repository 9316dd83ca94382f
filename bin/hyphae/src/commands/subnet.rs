//! `hyphae subnet …`: create, inspect, configure, start and register on subnets.

use anyhow::Context;
use clap::{Args, Subcommand};
use hyphae_ledger::{hyperparameters::SubnetHyperparameter, Call};
use hyphae_primitives::{AccountId, NetUid, Rao};
use hyphae_rpc::types::SubnetInfo;
use serde_json::json;

use super::chain::{
    block_on, confirm, connect, fee_of, report, rpc_error, submit, RpcArgs, SignedArgs,
};
use crate::output::{outln, print_json, user_error, OutputFormat};

/// A hotkey named by address or dev URI.
#[derive(Debug, Args)]
pub struct HotkeyChoice {
    /// The hotkey as an SS58 address (default: the wallet's hotkey).
    #[arg(long)]
    hotkey_address: Option<AccountId>,
    /// Dev chains: the hotkey as a dev URI (`//Alice//hot`).
    #[arg(long)]
    hotkey_uri: Option<String>,
}

/// A subnet.
#[derive(Debug, Args)]
pub struct NetuidArg {
    /// Subnet id.
    #[arg(long)]
    netuid: u16,
}

/// `hyphae subnet` subcommands.
#[derive(Debug, Subcommand)]
pub enum SubnetCommand {
    /// Create a subnet, locking TAO (`register_network`).
    Create {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        hotkey: HotkeyChoice,
    },
    /// List every subnet.
    List {
        #[command(flatten)]
        rpc: RpcArgs,
    },
    /// Show one subnet.
    Show {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        netuid: NetuidArg,
    },
    /// Show a subnet's hyperparameters.
    Hyperparameters {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        netuid: NetuidArg,
    },
    /// Set a hyperparameter (subnet owner within bounds, or the root key).
    SetHyperparameter {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        netuid: NetuidArg,
        /// Parameter name in snake case (`tempo`, `kappa`, `commit_reveal_weights_enabled`,
        /// `weights_set_rate_limit`, `alpha_values`, …).
        #[arg(long)]
        param: String,
        /// The value as JSON: `10`, `true`, `[45875, 58982]`.
        #[arg(long)]
        value: String,
    },
    /// Switch emission on for a subnet you own (`start_call`).
    Start {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        netuid: NetuidArg,
    },
    /// Register a hotkey on a subnet, burning the registration price (signed by the coldkey).
    Register {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        netuid: NetuidArg,
        #[command(flatten)]
        hotkey: HotkeyChoice,
        /// Highest burn accepted, TAO (default: the current price).
        #[arg(long)]
        max_price: Option<Rao>,
    },
    /// Store up to 128 bytes for your hotkey on a subnet, e.g. a hash (`commit`, signed by the
    /// hotkey; it replaces the hotkey's previous commitment).
    Commit {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        netuid: NetuidArg,
        /// The bytes as hex (`0x` optional).
        #[arg(long)]
        data: String,
    },
    /// List a subnet's commitments (hotkey, uid, block, data).
    Commitments {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        netuid: NetuidArg,
    },
}

fn subnet_text(subnet: &SubnetInfo) -> std::io::Result<()> {
    outln!(
        "netuid {:>3}  n {:>5}  tempo {:>5}  burn {} TAO  {}  owner {}{}",
        subnet.netuid,
        subnet.n,
        subnet.hyperparameters.tempo,
        subnet.burn_rao,
        if subnet.emitting {
            "emitting"
        } else {
            "not started"
        },
        subnet.owner_coldkey,
        subnet
            .name
            .as_ref()
            .map(|name| format!("  {name:?}"))
            .unwrap_or_default(),
    )?;
    outln!(
        "            price {} TAO/alpha (EMA {})  pool {} TAO / {} alpha  emission share {}",
        Rao(subnet.price_rao_per_alpha),
        Rao(subnet.moving_price_rao_per_alpha),
        subnet.tao_reserve_rao,
        subnet.alpha_reserve,
        super::metagraph::ppb_percent(subnet.emission_share_ppb)
    )
}

async fn fetch(rpc: &RpcArgs, netuid: u16) -> anyhow::Result<SubnetInfo> {
    let client = connect(rpc).await?;
    client
        .subnet(NetUid(netuid))
        .await
        .map_err(rpc_error)?
        .ok_or_else(|| user_error(format!("subnet {netuid} does not exist")))
}

/// Parses `--param NAME --value JSON` into a hyperparameter change.
pub fn parse_hyperparameter(name: &str, value: &str) -> anyhow::Result<SubnetHyperparameter> {
    let value: serde_json::Value =
        serde_json::from_str(value).with_context(|| format!("--value {value:?} is not JSON"))?;
    let mut object = serde_json::Map::new();
    object.insert(name.to_owned(), value);
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| user_error(format!("--param {name} with that --value: {error}")))
}

impl SubnetCommand {
    /// Runs the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        match self {
            Self::List { rpc } => block_on(async move {
                let client = connect(&rpc).await?;
                let subnets = client.subnets().await.map_err(rpc_error)?;
                match output {
                    OutputFormat::Json => print_json(&json!({ "subnets": subnets })),
                    OutputFormat::Text => {
                        for subnet in &subnets {
                            subnet_text(subnet)?;
                        }
                        Ok(())
                    }
                }
            }),
            Self::Show { rpc, netuid } => block_on(async move {
                let subnet = fetch(&rpc, netuid.netuid).await?;
                match output {
                    OutputFormat::Json => print_json(&subnet),
                    OutputFormat::Text => {
                        subnet_text(&subnet)?;
                        outln!(
                            "last epoch at block {}, {} epochs so far, pending emission {} TAO",
                            subnet.last_epoch_block,
                            subnet.epoch_index,
                            subnet.pending_emission_rao
                        )?;
                        Ok(())
                    }
                }
            }),
            Self::Hyperparameters { rpc, netuid } => block_on(async move {
                let subnet = fetch(&rpc, netuid.netuid).await?;
                match output {
                    OutputFormat::Json => print_json(
                        &json!({ "netuid": subnet.netuid, "hyperparameters": subnet.hyperparameters }),
                    ),
                    OutputFormat::Text => {
                        let value = serde_json::to_value(&subnet.hyperparameters)?;
                        if let Some(map) = value.as_object() {
                            for (name, value) in map {
                                outln!("{name:<32} {value}")?;
                            }
                        }
                        Ok(())
                    }
                }
            }),
            Self::Create {
                signed: SignedArgs { rpc, signer, tx },
                hotkey,
            } => block_on(async move {
                let client = connect(&rpc).await?;
                let info = client.info().await.map_err(rpc_error)?;
                let key = signer.coldkey(&info)?;
                let hotkey =
                    signer.hotkey_address(hotkey.hotkey_uri.as_deref(), hotkey.hotkey_address)?;
                let call = Call::RegisterNetwork { hotkey };
                let fee = fee_of(&info, &call);
                let summary = format!(
                    "create a subnet owned by {} (hotkey {hotkey}), locking {} TAO",
                    key.account_id(),
                    info.network_lock_cost_rao
                );
                confirm(&tx, &summary, fee)?;
                let submitted = submit(&client, &info, &key, call, &tx, output).await?;
                let netuid = match submitted.block {
                    Some(block) => client
                        .block_by_number(block)
                        .await
                        .map_err(rpc_error)?
                        .and_then(|block| {
                            block
                                .transactions
                                .iter()
                                .find(|tx| tx.hash == submitted.hash)
                                .and_then(|tx| {
                                    tx.events.iter().find_map(|event| match event {
                                        hyphae_ledger::Event::NetworkAdded { netuid, .. } => {
                                            Some(*netuid)
                                        }
                                        _ => None,
                                    })
                                })
                        }),
                    None => None,
                };
                let extra = json!({ "netuid": netuid, "lock_rao": info.network_lock_cost_rao, "owner_hotkey": hotkey });
                let text = match netuid {
                    Some(netuid) => format!("created subnet {netuid}"),
                    None => "subnet creation submitted".to_owned(),
                };
                report(output, &submitted, fee, &text, extra)
            }),
            Self::SetHyperparameter {
                signed: SignedArgs { rpc, signer, tx },
                netuid,
                param,
                value,
            } => block_on(async move {
                let change = parse_hyperparameter(&param, &value)?;
                let client = connect(&rpc).await?;
                let info = client.info().await.map_err(rpc_error)?;
                let key = signer.coldkey(&info)?;
                let call = Call::SudoSetHyperparameter {
                    netuid: NetUid(netuid.netuid),
                    param: change,
                };
                let fee = fee_of(&info, &call);
                let submitted = submit(&client, &info, &key, call, &tx, output).await?;
                let extra = json!({ "netuid": netuid.netuid, "param": param, "value": serde_json::to_value(change)? });
                report(
                    output,
                    &submitted,
                    fee,
                    &format!("set {param} = {value} on subnet {}", netuid.netuid),
                    extra,
                )
            }),
            Self::Start {
                signed: SignedArgs { rpc, signer, tx },
                netuid,
            } => block_on(async move {
                let client = connect(&rpc).await?;
                let info = client.info().await.map_err(rpc_error)?;
                let key = signer.coldkey(&info)?;
                let call = Call::StartCall {
                    netuid: NetUid(netuid.netuid),
                };
                let fee = fee_of(&info, &call);
                let submitted = submit(&client, &info, &key, call, &tx, output).await?;
                report(
                    output,
                    &submitted,
                    fee,
                    &format!("subnet {} now emits", netuid.netuid),
                    json!({ "netuid": netuid.netuid }),
                )
            }),
            Self::Register {
                signed: SignedArgs { rpc, signer, tx },
                netuid,
                hotkey,
                max_price,
            } => block_on(async move {
                let client = connect(&rpc).await?;
                let info = client.info().await.map_err(rpc_error)?;
                let subnet = client
                    .subnet(NetUid(netuid.netuid))
                    .await
                    .map_err(rpc_error)?
                    .ok_or_else(|| {
                        user_error(format!("subnet {} does not exist", netuid.netuid))
                    })?;
                let key = signer.coldkey(&info)?;
                let hotkey =
                    signer.hotkey_address(hotkey.hotkey_uri.as_deref(), hotkey.hotkey_address)?;
                let max_price = max_price.unwrap_or(subnet.burn_rao);
                let call = Call::RegisterLimit {
                    netuid: NetUid(netuid.netuid),
                    hotkey,
                    max_price,
                };
                let fee = fee_of(&info, &call);
                let summary = format!("register hotkey {hotkey} on subnet {}, burning {} TAO (at most {max_price} TAO)", netuid.netuid, subnet.burn_rao);
                confirm(&tx, &summary, fee)?;
                let submitted = submit(&client, &info, &key, call, &tx, output).await?;
                let uid = match submitted.block {
                    Some(_) => client
                        .epoch_timing(NetUid(netuid.netuid), Some(hotkey))
                        .await
                        .map_err(rpc_error)?
                        .and_then(|timing| timing.hotkey)
                        .and_then(|h| h.uid),
                    None => None,
                };
                let extra = json!({ "netuid": netuid.netuid, "hotkey": hotkey, "uid": uid, "burn_rao": subnet.burn_rao, "max_price_rao": max_price });
                let text = match uid {
                    Some(uid) => format!(
                        "registered {hotkey} as uid {uid} on subnet {}",
                        netuid.netuid
                    ),
                    None => format!("registration of {hotkey} submitted"),
                };
                report(output, &submitted, fee, &text, extra)
            }),
            Self::Commit {
                signed: SignedArgs { rpc, signer, tx },
                netuid,
                data,
            } => block_on(async move {
                let bytes = hex::decode(data.strip_prefix("0x").unwrap_or(&data))
                    .map_err(|e| user_error(format!("--data is not hex: {e}")))?;
                let client = connect(&rpc).await?;
                let info = client.info().await.map_err(rpc_error)?;
                let key = signer.hotkey(&info)?;
                let call = Call::Commit {
                    netuid: NetUid(netuid.netuid),
                    data: bytes,
                };
                let fee = fee_of(&info, &call);
                let submitted = submit(&client, &info, &key, call, &tx, output).await?;
                let extra =
                    json!({ "netuid": netuid.netuid, "hotkey": key.account_id(), "data": data });
                report(
                    output,
                    &submitted,
                    fee,
                    &format!("committed on subnet {}", netuid.netuid),
                    extra,
                )
            }),
            Self::Commitments { rpc, netuid } => block_on(async move {
                let client = connect(&rpc).await?;
                let commitments = client
                    .commitments(NetUid(netuid.netuid))
                    .await
                    .map_err(rpc_error)?
                    .ok_or_else(|| {
                        user_error(format!("subnet {} does not exist", netuid.netuid))
                    })?;
                match output {
                    OutputFormat::Json => {
                        print_json(&json!({ "netuid": netuid.netuid, "commitments": commitments }))
                    }
                    OutputFormat::Text => {
                        for c in &commitments {
                            outln!(
                                "uid {:>4}  block {:>8}  {}  {}",
                                c.uid.0,
                                c.block,
                                c.hotkey,
                                c.data
                            )?;
                        }
                        Ok(())
                    }
                }
            }),
        }
    }
}
