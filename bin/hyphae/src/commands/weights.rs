//! `hyphae weights set|commit|reveal`: a validator's weights (signed by its hotkey).

use clap::{Args, Subcommand};
use hyphae_ledger::{
    weights::{commit_hash, WeightsArgs},
    Call,
};
use hyphae_primitives::NetUid;
use serde_json::json;

use super::chain::{block_on, connect, fee_of, report, rpc_error, submit, SignedArgs};
use crate::output::{user_error, OutputFormat};

/// The weight vector.
#[derive(Debug, Args)]
pub struct WeightsInput {
    /// Subnet.
    #[arg(long)]
    netuid: u16,
    /// Target uids, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    uids: Vec<u16>,
    /// Raw u16 weights, same order (the chain max-upscales them).
    #[arg(long, value_delimiter = ',', required = true)]
    weights: Vec<u16>,
    /// Client version key.
    #[arg(long, default_value_t = 0)]
    version_key: u64,
}

impl WeightsInput {
    fn args(&self) -> anyhow::Result<WeightsArgs> {
        if self.uids.len() != self.weights.len() {
            return Err(user_error(format!(
                "{} uids but {} weights",
                self.uids.len(),
                self.weights.len()
            )));
        }
        Ok(WeightsArgs {
            uids: self.uids.clone(),
            values: self.weights.clone(),
            version_key: self.version_key,
        })
    }
}

/// `hyphae weights` subcommands.
#[derive(Debug, Subcommand)]
pub enum WeightsCommand {
    /// Set weights directly (subnets without commit-reveal).
    Set {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        input: WeightsInput,
    },
    /// Commit the hash of weights (commit-reveal subnets); reveal them a reveal period later.
    Commit {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        input: WeightsInput,
        /// Salt, comma-separated u16 values (keep it for the reveal).
        #[arg(long, value_delimiter = ',', required = true)]
        salt: Vec<u16>,
    },
    /// Reveal committed weights.
    Reveal {
        #[command(flatten)]
        signed: SignedArgs,
        #[command(flatten)]
        input: WeightsInput,
        /// The salt given to `commit`.
        #[arg(long, value_delimiter = ',', required = true)]
        salt: Vec<u16>,
    },
}

impl WeightsCommand {
    /// Runs the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        let (rpc, signer, tx, input, salt, kind) = match self {
            Self::Set {
                signed: SignedArgs { rpc, signer, tx },
                input,
            } => (rpc, signer, tx, input, None, "set"),
            Self::Commit {
                signed: SignedArgs { rpc, signer, tx },
                input,
                salt,
            } => (rpc, signer, tx, input, Some(salt), "commit"),
            Self::Reveal {
                signed: SignedArgs { rpc, signer, tx },
                input,
                salt,
            } => (rpc, signer, tx, input, Some(salt), "reveal"),
        };
        block_on(async move {
            let weights = input.args()?;
            let netuid = NetUid(input.netuid);
            let client = connect(&rpc).await?;
            let info = client.info().await.map_err(rpc_error)?;
            let key = signer.hotkey(&info)?;
            let mut commit = None;
            let call = match (kind, salt) {
                ("commit", Some(salt)) => {
                    let hash = commit_hash(&key.account_id(), netuid, &weights, &salt);
                    commit = Some(hash);
                    Call::CommitWeights { netuid, hash }
                }
                ("reveal", Some(salt)) => Call::RevealWeights {
                    netuid,
                    weights: weights.clone(),
                    salt,
                },
                _ => Call::SetWeights {
                    netuid,
                    weights: weights.clone(),
                },
            };
            let fee = fee_of(&info, &call);
            let submitted = submit(&client, &info, &key, call, &tx, output).await?;
            let extra = json!({ "netuid": netuid, "hotkey": key.account_id(), "uids": weights.uids, "weights": weights.values, "commit_hash": commit });
            report(
                output,
                &submitted,
                fee,
                &format!("weights {kind} on subnet {netuid}"),
                extra,
            )
        })
    }
}
