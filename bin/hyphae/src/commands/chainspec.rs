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

use crate::output::{outln, print_json, user_error, OutputFormat};

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
    /// Replace an existing spec and key files. The old keys are lost: a network already
    /// running on them cannot restart.
    #[arg(long)]
    overwrite: bool,
}

/// The longest chain name: it names a folder (`~/.hyphae/chains/<name>`).
const CHAIN_NAME_MAX: usize = 64;

/// Checks that a chain name is one plain folder name: 1 to 64 ASCII letters, digits, `.`, `_`
/// or `-`, and not `.` or `..`. The name picks `hyphae node`'s default base path, so anything
/// else (`/home/op/work`, `../..`, an empty name) would put a chain, and the cleanup of a fresh
/// start, in a folder outside `~/.hyphae/chains/<name>`.
pub fn check_chain_name(name: &str) -> anyhow::Result<()> {
    let plain = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if name.is_empty() || name.len() > CHAIN_NAME_MAX || !plain || name == "." || name == ".." {
        return Err(user_error(format!(
            "invalid chain name {name:?}: use 1 to {CHAIN_NAME_MAX} ASCII letters, digits, '.', '_' or '-' (not '.' or '..')"
        )));
    }
    Ok(())
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
///
/// Without `overwrite`, any of those files that exists already is refused before anything is
/// written, and a failure part way removes the files this call made: keys of a deployed network
/// are never lost to a rerun.
pub fn write_spec(
    dir: &Path,
    name: &str,
    addresses: &[SocketAddr],
    overwrite: bool,
) -> anyhow::Result<WrittenSpec> {
    check_chain_name(name)?;
    let written = WrittenSpec {
        spec: dir.join("spec.json"),
        keys: (0..addresses.len())
            .map(|index| dir.join(format!("validator-{index}.json")))
            .collect(),
    };
    if !overwrite {
        for path in std::iter::once(&written.spec).chain(&written.keys) {
            if path.symlink_metadata().is_ok() {
                return Err(user_error(format!(
                    "{} already exists; pass --overwrite to replace it (its keys are then lost)",
                    path.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut created = Vec::new();
    let result = write_files(&written, name, addresses, overwrite, &mut created);
    if result.is_err() && !overwrite {
        // Half a validator set is of no use, and a rerun would trip over it.
        for path in created {
            let _ = std::fs::remove_file(path);
        }
    }
    result.map(|()| written)
}

/// Writes the keys, then the spec; `created` collects the key files written so far.
fn write_files<'a>(
    written: &'a WrittenSpec,
    name: &str,
    addresses: &[SocketAddr],
    overwrite: bool,
    created: &mut Vec<&'a Path>,
) -> anyhow::Result<()> {
    let mut spec = ChainSpec::dev().context("building the dev preset")?;
    spec.name = name.to_owned();
    let mut validators = Vec::with_capacity(addresses.len());
    for (index, (address, path)) in addresses.iter().zip(&written.keys).enumerate() {
        let key = ValidatorKey::generate();
        let saved = if overwrite {
            key.write_replacing(path)
        } else {
            key.write(path)
        };
        saved.map_err(|error| user_error(error.to_string()))?;
        created.push(path);
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
    }
    spec.validators = validators;
    let text = serde_json::to_string_pretty(&spec)? + "\n";
    write_public_file(&written.spec, text.as_bytes(), overwrite)
}

/// Writes a file others may read (the spec is handed to every validator) atomically: a synced
/// temporary file renamed into place, or linked without `overwrite` so that nothing is replaced.
fn write_public_file(path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let context = || format!("writing {}", path.display());
    let mut file = tempfile::NamedTempFile::new_in(dir).with_context(context)?;
    file.write_all(bytes).with_context(context)?;
    file.as_file().sync_all().with_context(context)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let public = std::fs::Permissions::from_mode(0o644);
        file.as_file()
            .set_permissions(public)
            .with_context(context)?;
    }
    if overwrite {
        file.persist(path)
            .map_err(|error| error.error)
            .with_context(context)?;
    } else {
        file.persist_noclobber(path)
            .map_err(|error| error.error)
            .with_context(context)?;
    }
    Ok(())
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
        let written = write_spec(&self.out, &self.name, &addresses, self.overwrite)?;
        match output {
            OutputFormat::Json => print_json(&json!({
                "spec": written.spec,
                "keys": written.keys,
            }))?,
            OutputFormat::Text => {
                outln!("wrote {}", written.spec.display())?;
                for key in &written.keys {
                    outln!("  validator key {}", key.display())?;
                }
            }
        }
        Ok(())
    }
}
