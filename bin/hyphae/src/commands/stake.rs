//! `hyphae stake add|remove|claim-root|list`: swap free TAO into stake (alpha) on a hotkey in a subnet's
//! pool, and back. `add` takes TAO; `remove` and `list` count alpha (in rao units, 10⁹ per alpha).
//!
//! `add` and `remove` first quote the swap (`subnet_quote`): what it pays, the spot price and
//! the price impact. They then submit `add_stake_limit` / `remove_stake_limit` with a limit
//! price `--max-slippage` (default 0.5 %) away from the spot price, so the chain refuses a
//! swap that would move the price further (`SlippageTooHigh`); with `--allow-partial` it fills
//! what the limit allows. A quote already past the bound is refused before submitting (no fee
//! is spent). Root stake (netuid 0) is TAO 1:1 and has no pool, so no quote or limit.
//! `claim-root` claims the signer's root dividends on a subnet (`claim_root`): kept as stake,
//! or with `--swap` sold through the pool into the free balance.

use clap::{Args, Subcommand};
use hyphae_ledger::{Call, RootClaimMode, SwapQuote, SwapSide};
use hyphae_primitives::{AccountId, NetUid, Rao};
use serde_json::json;

use super::chain::{
    block_on, confirm, connect, fee_of, report, rpc_error, submit, RpcArgs, SignedArgs, SignerArgs,
    TxArgs,
};
use crate::output::{errln, outln, print_json, user_error, OutputFormat};

/// Parts per billion in one percent.
const PPB_PER_PERCENT: u64 = 10_000_000;
const PPB: u128 = 1_000_000_000;

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
    /// Most the swap may move the subnet's price, in percent of the current price; the chain
    /// enforces it through the limit price.
    #[arg(long, default_value = "0.5", value_parser = parse_slippage)]
    max_slippage: u64,
    /// Fill as much as the limit price allows instead of refusing the whole amount.
    #[arg(long)]
    allow_partial: bool,
}

/// A percentage with at most seven decimals, as parts per billion.
fn parse_slippage(text: &str) -> Result<u64, String> {
    let bad = || format!("not a percentage from 0 to 1000000 with at most 7 decimals: {text}");
    let text = text.trim().trim_end_matches('%').trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 7
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: u64 = format!("{fraction:0<7}").parse().map_err(|_| bad())?;
    if whole > 1_000_000 {
        return Err(bad());
    }
    Ok(whole
        .saturating_mul(PPB_PER_PERCENT)
        .saturating_add(fraction))
}

/// The limit price `slippage_ppb` away from `price` (rao per alpha): above it for a buy
/// (floored), below it for a sell (rounded up, never below zero).
fn limit_price(price: u64, slippage_ppb: u64, add: bool) -> u64 {
    let price = u128::from(price);
    let slippage = u128::from(slippage_ppb);
    let limit = if add {
        price.saturating_mul(PPB.saturating_add(slippage)) / PPB
    } else {
        price
            .saturating_mul(PPB.saturating_sub(slippage))
            .div_ceil(PPB)
    };
    u64::try_from(limit).unwrap_or(u64::MAX)
}

/// Parts per billion as a percentage with four decimals (truncated).
fn percent(ppb: u64) -> String {
    format!(
        "{}.{:04} %",
        ppb / PPB_PER_PERCENT,
        (ppb % PPB_PER_PERCENT) / 1_000
    )
}

/// The quote's JSON fields.
fn quote_json(quote: &SwapQuote, limit: u64, max_slippage_ppb: u64) -> serde_json::Value {
    json!({
        "amount_in_rao": quote.amount_in,
        "amount_out_rao": quote.amount_out,
        "ideal_out_rao": quote.ideal_out,
        "price_rao_per_alpha": quote.price_rao_per_alpha,
        "price_after_rao_per_alpha": quote.price_after_rao_per_alpha,
        "price_impact_ppb": quote.price_impact_ppb,
        "slippage_ppb": quote.slippage_ppb,
        "limit_price_rao_per_alpha": limit,
        "max_slippage_ppb": max_slippage_ppb,
    })
}

/// `hyphae stake` subcommands.
#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Move free balance into stake on a hotkey.
    Add {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        target: StakeTarget,
    },
    /// Move stake back to free balance.
    Remove {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        target: StakeTarget,
    },
    /// Claim the signer's root dividends on a subnet: keep them as stake on the hotkey that
    /// earned them, or (`--swap`) swap them to TAO through the subnet's pool.
    ClaimRoot {
        #[command(flatten)]
        signed: SignedArgs,
        /// Subnet whose root dividends to claim.
        #[arg(long)]
        netuid: u16,
        /// Swap the claimed alpha to TAO (free balance) instead of keeping it as stake.
        #[arg(long)]
        swap: bool,
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
                signed: SignedArgs { rpc, signer, tx },
                target,
            } => move_stake(rpc, signer, tx, target, true, output),
            Self::Remove {
                signed: SignedArgs { rpc, signer, tx },
                target,
            } => move_stake(rpc, signer, tx, target, false, output),
            Self::ClaimRoot {
                signed: SignedArgs { rpc, signer, tx },
                netuid,
                swap,
            } => claim_root(rpc, signer, tx, NetUid(netuid), swap, output),
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
                        outln!("stake of {coldkey}:")?;
                        for entry in &stakes {
                            outln!(
                                "  netuid {:>3}  {}  {} alpha",
                                entry.netuid,
                                entry.hotkey,
                                entry.stake_rao
                            )?;
                        }
                        outln!("total: {} alpha (summed across subnets)", Rao(total))?;
                        Ok(())
                    }
                }
            }),
        }
    }
}

fn claim_root(
    rpc: RpcArgs,
    signer: SignerArgs,
    tx: TxArgs,
    netuid: NetUid,
    swap: bool,
    output: OutputFormat,
) -> anyhow::Result<()> {
    block_on(async move {
        let client = connect(&rpc).await?;
        let info = client.info().await.map_err(rpc_error)?;
        let key = signer.coldkey(&info)?;
        let coldkey = key.account_id();
        let claimable: Vec<_> = client
            .root_claimable(&coldkey)
            .await
            .map_err(rpc_error)?
            .into_iter()
            .filter(|entry| entry.netuid == netuid)
            .collect();
        let alpha = claimable
            .iter()
            .fold(0u64, |sum, entry| sum.saturating_add(entry.alpha.0));
        if alpha == 0 {
            // The chain would refuse it with NothingToClaim; spend no fee.
            return Err(user_error(format!(
                "nothing to claim: {coldkey} has no claimable root dividends on subnet {netuid}"
            )));
        }
        let mode = if swap {
            RootClaimMode::Swap
        } else {
            RootClaimMode::Keep
        };
        let call = Call::ClaimRoot {
            netuid: Some(netuid.0),
            mode,
        };
        let fee = fee_of(&info, &call);
        let verb = if swap { "swap to TAO" } else { "keep as stake" };
        let summary = format!(
            "claim {} alpha of root dividends on subnet {netuid} and {verb}",
            Rao(alpha)
        );
        confirm(&tx, &summary, fee)?;
        let submitted = submit(&client, &info, &key, call, &tx, output).await?;
        let extra = json!({
            "coldkey": coldkey,
            "netuid": netuid,
            "mode": mode,
            "claimable": claimable,
            "alpha_rao": alpha,
            "call": "claim_root",
        });
        report(
            output,
            &submitted,
            fee,
            &format!("claimed {} alpha of root dividends ({verb})", Rao(alpha)),
            extra,
        )
    })
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
        let (side, unit_in, unit_out) = if add {
            (SwapSide::Stake, "TAO", "alpha")
        } else {
            (SwapSide::Unstake, "alpha", "TAO")
        };
        // Root (netuid 0) has no pool: no quote, no limit.
        let quote = if netuid == NetUid(0) {
            None
        } else {
            client
                .quote(netuid, side, amount)
                .await
                .map_err(rpc_error)?
        };
        let max_slippage_ppb = target.max_slippage;
        let mut quote_fields = json!(null);
        let call = match &quote {
            None => {
                if add {
                    Call::AddStake {
                        hotkey,
                        netuid,
                        amount,
                    }
                } else {
                    Call::RemoveStake {
                        hotkey,
                        netuid,
                        amount,
                    }
                }
            }
            Some(quote) => {
                let limit = limit_price(quote.price_rao_per_alpha, max_slippage_ppb, add);
                quote_fields = quote_json(quote, limit, max_slippage_ppb);
                if output == OutputFormat::Text {
                    errln!(
                        "Quote: {amount} {unit_in} -> {} {unit_out} (at the spot price {} {unit_out}), before fees",
                        quote.amount_out, quote.ideal_out
                    );
                    errln!(
                        "Spot price {} TAO/alpha, after {} TAO/alpha: price impact {}, slippage {}",
                        Rao(quote.price_rao_per_alpha),
                        Rao(quote.price_after_rao_per_alpha),
                        percent(quote.price_impact_ppb),
                        percent(quote.slippage_ppb)
                    );
                    errln!(
                        "Limit price {} TAO/alpha (--max-slippage {}){}",
                        Rao(limit),
                        percent(max_slippage_ppb),
                        if target.allow_partial {
                            ", partial fill allowed"
                        } else {
                            ""
                        }
                    );
                }
                if quote.price_impact_ppb > max_slippage_ppb && !target.allow_partial {
                    return Err(user_error(format!(
                        "refusing to submit: price impact {} exceeds --max-slippage {} \
                         (the chain would refuse it with SlippageTooHigh); lower the amount, \
                         raise --max-slippage or pass --allow-partial",
                        percent(quote.price_impact_ppb),
                        percent(max_slippage_ppb)
                    )));
                }
                if add {
                    Call::AddStakeLimit {
                        hotkey,
                        netuid,
                        amount,
                        limit_price: limit,
                        allow_partial: target.allow_partial,
                    }
                } else {
                    Call::RemoveStakeLimit {
                        hotkey,
                        netuid,
                        amount,
                        limit_price: limit,
                        allow_partial: target.allow_partial,
                    }
                }
            }
        };
        let verb = if add { "stake" } else { "unstake" };
        let fee = fee_of(&info, &call);
        let summary = format!(
            "{verb} {amount} {} {} hotkey {hotkey} on subnet {netuid}",
            if add { "TAO" } else { "alpha" },
            if add { "on" } else { "from" }
        );
        confirm(&tx, &summary, fee)?;
        let call_name = call.name();
        let submitted = submit(&client, &info, &key, call, &tx, output).await?;
        let extra = json!({
            "coldkey": key.account_id(),
            "hotkey": hotkey,
            "netuid": netuid,
            "amount_rao": amount,
            "call": call_name,
            "quote": quote_fields,
        });
        report(
            output,
            &submitted,
            fee,
            &format!("{verb}d {amount} {}", if add { "TAO" } else { "alpha" }),
            extra,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slippage_parses_to_ppb() {
        assert_eq!(parse_slippage("0.5"), Ok(5_000_000));
        assert_eq!(parse_slippage("2%"), Ok(20_000_000));
        assert_eq!(parse_slippage(".01"), Ok(100_000));
        assert_eq!(parse_slippage("100000"), Ok(1_000_000_000_000));
        assert!(parse_slippage("-1").is_err());
        assert!(parse_slippage("0.12345678").is_err());
        assert!(parse_slippage("abc").is_err());
        assert!(parse_slippage(".").is_err());
        assert_eq!(percent(5_000_000), "0.5000 %");
    }

    #[test]
    fn limit_price_moves_away_from_the_price() {
        assert_eq!(limit_price(1_000_000_000, 5_000_000, true), 1_005_000_000);
        assert_eq!(limit_price(1_000_000_000, 5_000_000, false), 995_000_000);
        assert_eq!(limit_price(1_000_000_000, 2_000_000_000, false), 0);
        assert_eq!(limit_price(u64::MAX, 5_000_000, true), u64::MAX);
    }
}
