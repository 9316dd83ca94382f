//! `hyphae axon serve`: publish where a neuron's axon listens (signed by its hotkey).

use std::net::IpAddr;

use clap::Subcommand;
use hyphae_ledger::{serving::AxonArgs, Call};
use hyphae_primitives::NetUid;
use serde_json::json;

use super::chain::{block_on, connect, fee_of, report, rpc_error, submit, SignedArgs};
use crate::output::OutputFormat;

/// `hyphae axon` subcommands.
#[derive(Debug, Subcommand)]
pub enum AxonCommand {
    /// Publish an axon endpoint (`serve_axon`); `--uri` or the wallet's hotkey signs.
    Serve {
        #[command(flatten)]
        signed: SignedArgs,
        /// Subnet.
        #[arg(long)]
        netuid: u16,
        /// Public IPv4 or IPv6 address.
        #[arg(long)]
        ip: IpAddr,
        /// Port.
        #[arg(long)]
        port: u16,
        /// Client version (`major·10⁶ + minor·10³ + patch`).
        #[arg(long, default_value_t = 1000)]
        axon_version: u32,
        /// Wire protocol (the Python SDK serves 4).
        #[arg(long, default_value_t = 4)]
        protocol: u8,
    },
}

impl AxonCommand {
    /// Runs the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        let Self::Serve {
            signed: SignedArgs { rpc, signer, tx },
            netuid,
            ip,
            port,
            axon_version: version,
            protocol,
        } = self;
        block_on(async move {
            let client = connect(&rpc).await?;
            let info = client.info().await.map_err(rpc_error)?;
            let key = signer.hotkey(&info)?;
            let (ip_value, ip_type) = match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4),
                IpAddr::V6(v6) => (u128::from(v6), 6),
            };
            let axon = AxonArgs {
                version,
                ip: ip_value,
                port,
                ip_type,
                protocol,
                placeholder1: 0,
                placeholder2: 0,
            };
            let call = Call::ServeAxon {
                netuid: NetUid(netuid),
                axon,
            };
            let fee = fee_of(&info, &call);
            let submitted = submit(&client, &info, &key, call, &tx, output).await?;
            let extra = json!({ "netuid": netuid, "hotkey": key.account_id(), "ip": ip.to_string(), "port": port, "ip_type": ip_type, "protocol": protocol, "version": version });
            report(
                output,
                &submitted,
                fee,
                &format!("axon {ip}:{port} served on subnet {netuid}"),
                extra,
            )
        })
    }
}
