//! `hyphae metagraph` and `hyphae explain`: a subnet's neurons, and why a uid earned what it
//! earned in one of the last 8 epochs.

use clap::Args;
use hyphae_ledger::explain::EpochSelector;
use hyphae_primitives::{BlockNumber, NetUid, Rao, Uid};
use hyphae_rpc::types::MetagraphOptions;
use serde_json::{json, Value};

use super::chain::{block_on, connect, rpc_error, RpcArgs};
use crate::output::{outln, print_json, user_error, OutputFormat};

/// `hyphae metagraph`.
#[derive(Debug, Args)]
pub struct MetagraphArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Include each neuron's stored weight row.
    #[arg(long)]
    weights: bool,
}

impl MetagraphArgs {
    /// Runs `hyphae metagraph`.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        block_on(async move {
            let client = connect(&self.rpc).await?;
            let options = MetagraphOptions {
                weights: self.weights,
                bonds: false,
            };
            let graph = client
                .metagraph(NetUid(self.netuid), options)
                .await
                .map_err(rpc_error)?
                .ok_or_else(|| user_error(format!("subnet {} does not exist", self.netuid)))?;
            let mut neurons = Vec::with_capacity(graph.uids.len());
            for (index, uid) in graph.uids.iter().enumerate() {
                let at = |values: &[u16]| values.get(index).copied();
                // Always an object, as the Python SDK's `AxonInfo`: unserved is 0.0.0.0:0.
                let axon = match graph.axons.get(index).cloned().flatten() {
                    Some(axon) => {
                        let mut value = serde_json::to_value(axon)?;
                        if let Some(object) = value.as_object_mut() {
                            object.insert("is_serving".into(), Value::Bool(true));
                        }
                        value
                    }
                    None => json!({
                        "block": 0, "version": 0, "ip": "0.0.0.0", "port": 0, "ip_type": 4, "protocol": 4,
                        "placeholder1": 0, "placeholder2": 0, "is_serving": false,
                    }),
                };
                let mut neuron = json!({
                    "uid": uid,
                    "hotkey": graph.hotkeys.get(index),
                    "coldkey": graph.coldkeys.get(index),
                    "stake_rao": graph.stake_rao.get(index),
                    "alpha_stake": graph.alpha_stake.get(index),
                    "tao_stake_rao": graph.tao_stake_rao.get(index),
                    "stake_tao_value_rao": graph.stake_tao_value_rao.get(index),
                    "incentive": at(&graph.incentive),
                    "dividends": at(&graph.dividends),
                    "consensus": at(&graph.consensus),
                    "validator_trust": at(&graph.validator_trust),
                    "emission_rao": graph.emission_rao.get(index),
                    "validator_permit": graph.validator_permit.get(index),
                    "active": graph.active.get(index),
                    "last_update": graph.last_update.get(index),
                    "block_at_registration": graph.block_at_registration.get(index),
                    "axon": axon,
                });
                if let (Some(rows), Some(object)) = (graph.weights.as_ref(), neuron.as_object_mut())
                {
                    object.insert("weights".into(), json!(rows.get(index)));
                }
                neurons.push(neuron);
            }
            match output {
                OutputFormat::Json => print_json(&json!({
                    "netuid": graph.netuid,
                    "block": graph.block,
                    "n": graph.n,
                    "price_rao_per_alpha": graph.price_rao_per_alpha,
                    "moving_price_rao_per_alpha": graph.moving_price_rao_per_alpha,
                    "tao_reserve_rao": graph.tao_reserve_rao,
                    "alpha_reserve": graph.alpha_reserve,
                    "emission_share_ppb": graph.emission_share_ppb,
                    "neurons": neurons,
                })),
                OutputFormat::Text => {
                    outln!(
                        "subnet {} at block {}: {} neurons",
                        graph.netuid,
                        graph.block,
                        graph.n
                    )?;
                    outln!(
                        "price {} TAO/alpha (EMA {}), pool {} TAO / {} alpha, emission share {}",
                        Rao(graph.price_rao_per_alpha),
                        Rao(graph.moving_price_rao_per_alpha),
                        graph.tao_reserve_rao,
                        graph.alpha_reserve,
                        ppb_percent(graph.emission_share_ppb)
                    )?;
                    outln!(
                        "{:>5}  {:<48}  {:>18}  {:>18}  {:>18}  {:>6}  {:>6}  {:>6}  {:>14}  {:>4}  axon",
                        "uid", "hotkey", "alpha stake", "TAO value", "root TAO stake", "I", "D", "C", "emission", "vp"
                    )?;
                    for neuron in &neurons {
                        // serde_json's Display ignores widths: format numbers as strings first.
                        let number = |key: &str| {
                            neuron[key]
                                .as_u64()
                                .map(|v| v.to_string())
                                .unwrap_or_default()
                        };
                        let amount = |key: &str| {
                            neuron[key]
                                .as_u64()
                                .map(|rao| Rao(rao).to_string())
                                .unwrap_or_default()
                        };
                        let stake = amount("alpha_stake");
                        let emission = neuron["emission_rao"]
                            .as_u64()
                            .map(|rao| Rao(rao).to_string())
                            .unwrap_or_default();
                        let permit = if neuron["validator_permit"] == Value::Bool(true) {
                            "yes"
                        } else {
                            "no"
                        };
                        let served = neuron
                            .get("axon")
                            .filter(|axon| axon.get("is_serving") == Some(&Value::Bool(true)));
                        let axon = match served {
                            Some(axon) => format!(
                                "{}:{}",
                                axon.get("ip").and_then(Value::as_str).unwrap_or_default(),
                                axon.get("port").map(number_of).unwrap_or_default()
                            ),
                            None => "-".to_owned(),
                        };
                        outln!(
                            "{:>5}  {:<48}  {:>18}  {:>18}  {:>18}  {:>6}  {:>6}  {:>6}  {:>14}  {:>4}  {axon}",
                            number("uid"),
                            neuron["hotkey"].as_str().unwrap_or_default(),
                            stake,
                            amount("stake_tao_value_rao"),
                            amount("tao_stake_rao"),
                            number("incentive"),
                            number("dividends"),
                            number("consensus"),
                            emission,
                            permit,
                        )?;
                    }
                    Ok(())
                }
            }
        })
    }
}

/// Parts per billion as a percentage with four decimals (truncated).
pub fn ppb_percent(ppb: u64) -> String {
    format!("{}.{:04} %", ppb / 10_000_000, (ppb % 10_000_000) / 1_000)
}

fn number_of(value: &Value) -> String {
    value.as_u64().map(|v| v.to_string()).unwrap_or_default()
}

/// `hyphae explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Neuron.
    #[arg(long)]
    uid: u16,
    /// Explain the epoch that ran at this block (one of the subnet's last 8) instead of the
    /// latest.
    #[arg(long, conflicts_with = "epochs_back")]
    epoch_block: Option<u64>,
    /// Explain the epoch this many epochs before the latest (0 = latest, at most 7).
    #[arg(long)]
    epochs_back: Option<u32>,
}

impl ExplainArgs {
    /// Runs `hyphae explain`.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        block_on(async move {
            let client = connect(&self.rpc).await?;
            let (epoch, which) = match (self.epoch_block, self.epochs_back) {
                (Some(block), _) => (
                    EpochSelector::Block(BlockNumber(block)),
                    format!("at block {block} (it may be older than the last 8 epochs)"),
                ),
                (None, Some(back)) => (
                    EpochSelector::Back(back),
                    format!("{back} epochs back (the chain keeps the last 8)"),
                ),
                (None, None) => (EpochSelector::Latest, "has run yet".to_owned()),
            };
            let receipt = client
                .explain_at(NetUid(self.netuid), Uid(self.uid), epoch)
                .await
                .map_err(rpc_error)?
                .ok_or_else(|| {
                    user_error(format!(
                        "no epoch of subnet {} with uid {} {which}",
                        self.netuid, self.uid
                    ))
                })?;
            match output {
                OutputFormat::Json => print_json(&receipt),
                OutputFormat::Text => {
                    outln!(
                        "uid {} ({}) on subnet {}, epoch at block {}",
                        receipt.uid,
                        receipt.hotkey,
                        receipt.netuid,
                        receipt.epoch_block
                    )?;
                    outln!(
                        "  stake {} TAO, stake weight {}",
                        receipt.stake,
                        receipt.stake_weight
                    )?;
                    outln!(
                        "  consensus {}, incentive {}, dividends {}",
                        receipt.consensus,
                        receipt.incentive,
                        receipt.dividends
                    )?;
                    outln!(
                        "  emission {} TAO (miner {} TAO, validator {} TAO)",
                        receipt.emission,
                        receipt.server_emission,
                        receipt.validator_emission
                    )?;
                    for weight in &receipt.weights_received {
                        outln!(
                            "  weight from uid {}: raw {}, normalized {}, clipped {}",
                            weight.validator,
                            weight.raw,
                            weight.normalized,
                            weight.clipped
                        )?;
                    }
                    for reason in &receipt.zero_reasons {
                        outln!(
                            "  reason: {}",
                            serde_json::to_value(reason)?.as_str().unwrap_or_default()
                        )?;
                    }
                    Ok(())
                }
            }
        })
    }
}
