//! `hyphae chain spec`: write a chain spec for a validator set, with a fresh consensus key
//! file for each validator.
//!
//! The spec starts from the dev preset (//Alice … //Ferdie funded, subnet 1), so wallets,
//! scripts and the localnet work on it unchanged; what differs is the validator set: N ed25519
//! consensus keys, each with a p2p address on `--host` from `--base-port` up.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Args, Subcommand};
use hyphae_consensus::ValidatorKey;
use hyphae_keys::Keypair;
use hyphae_ledger::{
    genesis::{GenesisValidator, DEV_NAMES},
    ChainSpec,
};
use serde_json::json;

use crate::output::{print_json, user_error, OutputFormat};

/// `hyphae chain …`
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// Write a chain spec with fresh validator keys.
    Spec(SpecArgs),
}

impl ChainCommand {
    /// Runs the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        match self {
            Self::Spec(args) => args.run(output),
        }
    }
}

/// `hyphae chain spec` flags.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// How many validators.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    validators: u16,
    /// Folder to write `spec.json` and `validator-<i>.json` key files into.
    #[arg(long)]
    out: PathBuf,
    /// Chain name.
    #[arg(long, default_value = "localnet")]
    name: String,
    /// Host of the validators' p2p addresses.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// P2p port of validator 0; validator i listens on this plus i.
    #[arg(long, default_value_t = 30333)]
    base_port: u16,
}

/// What [`write_spec`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenSpec {
    /// The spec file.
    pub spec: PathBuf,
    /// One key file per validator, in the spec's order.
    pub keys: Vec<PathBuf>,
}

/// Writes `dir/spec.json` and one key file per validator; `addresses` are their p2p addresses.
pub fn write_spec(dir: &Path, name: &str, addresses: &[SocketAddr]) -> anyhow::Result<WrittenSpec> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut spec = ChainSpec::dev().context("building the dev preset")?;
    spec.name = name.to_owned();
    let mut validators = Vec::with_capacity(addresses.len());
    let mut keys = Vec::with_capacity(addresses.len());
    for (index, address) in addresses.iter().enumerate() {
        let key = ValidatorKey::generate();
        let path = dir.join(format!("validator-{index}.json"));
        key.write(&path)?;
        // Each validator's tips go to a dev account, in order (//Alice, //Bob, …).
        let account = DEV_NAMES
            .get(index.checked_rem(DEV_NAMES.len()).unwrap_or(0))
            .map(|name| Keypair::from_uri(&format!("//{name}")).map(|pair| pair.account_id()))
            .transpose()
            .map_err(|error| anyhow::anyhow!("deriving a dev account: {error}"))?;
        validators.push(GenesisValidator {
            consensus_key: key.public_hex(),
            p2p_address: address.to_string(),
            account,
        });
        keys.push(path);
    }
    spec.validators = validators;
    let path = dir.join("spec.json");
    let text = serde_json::to_string_pretty(&spec)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(WrittenSpec { spec: path, keys })
}

impl SpecArgs {
    /// Writes the spec and keys.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        let addresses = (0..self.validators)
            .map(|index| {
                self.base_port
                    .checked_add(index)
                    .map(|port| SocketAddr::new(self.host, port))
                    .ok_or_else(|| user_error("--base-port plus --validators passes 65535"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let written = write_spec(&self.out, &self.name, &addresses)?;
        match output {
            OutputFormat::Json => print_json(&json!({
                "spec": written.spec,
                "keys": written.keys,
            }))?,
            OutputFormat::Text => {
                println!("wrote {}", written.spec.display());
                for key in &written.keys {
                    println!("  validator key {}", key.display());
                }
            }
        }
        Ok(())
    }
}
