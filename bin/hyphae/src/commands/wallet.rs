//! `hyphae wallet …`: Bittensor-compatible coldkeys and hotkeys on disk.
//!
//! The layout and keyfile format are exactly btwallet's, so `--wallet-path ~/.bittensor/wallets`
//! works on existing wallets. Passwords come from `--password-file`, `HYPHAE_WALLET_PASSWORD`,
//! or a prompt, and are never printed or logged.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use hyphae_keys::{verify, wallet::Wallet, KeyError, Keypair, Mnemonic, Signature};
use hyphae_primitives::AccountId;
use serde_json::json;
use zeroize::Zeroizing;

use crate::output::{print_json, user_error, OutputFormat};

const PASSWORD_ENV: &str = "HYPHAE_WALLET_PASSWORD";
const MNEMONIC_WARNING: &str = "Write this mnemonic down and keep it offline. \
Anyone who has it controls the key; it will not be shown again.";

/// Which wallet, on which path.
#[derive(Debug, Args)]
pub struct WalletSelect {
    /// Folder that holds wallets (`~/.bittensor/wallets` works too).
    #[arg(long, env = "HYPHAE_WALLET_PATH", default_value_os_t = default_wallet_path())]
    pub wallet_path: PathBuf,
    /// Wallet name: the folder under the wallet path.
    #[arg(long, default_value = "default", env = "HYPHAE_WALLET_NAME")]
    pub name: String,
    /// Hotkey name: the file under `<wallet>/hotkeys/`.
    #[arg(long, default_value = "default", env = "HYPHAE_WALLET_HOTKEY")]
    pub hotkey: String,
}

impl WalletSelect {
    fn open(&self) -> anyhow::Result<Wallet> {
        Ok(Wallet::new(&self.wallet_path, &self.name)?)
    }
}

/// How a new key's password is chosen, and where an existing key's password comes from.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Store new keys unencrypted (hotkeys always are, as in Bittensor).
    #[arg(long)]
    pub no_password: bool,
    /// Read the password from the first line of this file instead of prompting.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

/// Flags shared by the commands that write keys.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Replace existing key files.
    #[arg(long)]
    pub overwrite: bool,
}

/// Flags of the commands that generate a coldkey.
#[derive(Debug, Args)]
pub struct NewKeyArgs {
    #[command(flatten)]
    select: WalletSelect,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    write: WriteArgs,
    /// Mnemonic length: 12, 15, 18, 21 or 24 words.
    #[arg(long, default_value_t = 12)]
    n_words: usize,
}

/// `hyphae wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a new coldkey (encrypted unless --no-password) and a new hotkey.
    Create(NewKeyArgs),
    /// Create a new coldkey only.
    NewColdkey(NewKeyArgs),
    /// Create a new hotkey in an existing (or new) wallet.
    NewHotkey {
        #[command(flatten)]
        select: WalletSelect,
        #[command(flatten)]
        write: WriteArgs,
        /// Mnemonic length: 12, 15, 18, 21 or 24 words.
        #[arg(long, default_value_t = 12)]
        n_words: usize,
    },
    /// Rebuild a coldkey from its mnemonic.
    RegenColdkey {
        #[command(flatten)]
        select: WalletSelect,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// The BIP39 mnemonic, words separated by spaces.
        #[arg(long)]
        mnemonic: String,
    },
    /// Rebuild a hotkey from its mnemonic.
    RegenHotkey {
        #[command(flatten)]
        select: WalletSelect,
        #[command(flatten)]
        write: WriteArgs,
        /// The BIP39 mnemonic, words separated by spaces.
        #[arg(long)]
        mnemonic: String,
    },
    /// Write a watch-only coldkeypub.txt from an ss58 address.
    RegenColdkeypub {
        #[command(flatten)]
        select: WalletSelect,
        #[command(flatten)]
        write: WriteArgs,
        /// The coldkey's ss58 address.
        #[arg(long)]
        ss58: String,
    },
    /// List the wallets under the wallet path, with their addresses.
    List {
        /// Folder that holds wallets.
        #[arg(long, env = "HYPHAE_WALLET_PATH", default_value_os_t = default_wallet_path())]
        wallet_path: PathBuf,
    },
    /// Show a wallet's coldkey and hotkey addresses (reads public files; no password).
    Show {
        #[command(flatten)]
        select: WalletSelect,
    },
    /// Sign a message with the hotkey (or the coldkey with --coldkey).
    Sign {
        #[command(flatten)]
        select: WalletSelect,
        #[command(flatten)]
        password: PasswordArgs,
        /// The message, signed as its UTF-8 bytes.
        #[arg(long)]
        message: String,
        /// Sign with the coldkey instead of the hotkey.
        #[arg(long)]
        coldkey: bool,
    },
    /// Verify a signature made by an ss58 address.
    Verify {
        /// The message, as signed (UTF-8).
        #[arg(long)]
        message: String,
        /// `0x` + 128 hex digits.
        #[arg(long)]
        signature: String,
        /// The signer's ss58 address.
        #[arg(long)]
        address: String,
    },
}

impl WalletCommand {
    /// Run the subcommand.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        match self {
            Self::Create(args) => create(&args, output),
            Self::NewColdkey(NewKeyArgs {
                select,
                password,
                write,
                n_words,
            }) => {
                let wallet = select.open()?;
                let (key, mnemonic) = Keypair::generate(n_words)?;
                write_coldkey(&wallet, &key, &mnemonic, &password, &write)?;
                report_new(
                    output,
                    &[("coldkey", &key, &mnemonic)],
                    &wallet_json(&select),
                )
            }
            Self::NewHotkey {
                select,
                write,
                n_words,
            } => {
                let wallet = select.open()?;
                let (key, mnemonic) = Keypair::generate(n_words)?;
                wallet.write_hotkey(
                    &select.hotkey,
                    &key,
                    Some(&mnemonic),
                    None,
                    write.overwrite,
                )?;
                report_new(
                    output,
                    &[("hotkey", &key, &mnemonic)],
                    &wallet_json(&select),
                )
            }
            Self::RegenColdkey {
                select,
                password,
                write,
                mnemonic,
            } => {
                let wallet = select.open()?;
                let mnemonic = Mnemonic::parse(&mnemonic)?;
                let key = Keypair::from_phrase(mnemonic.phrase(), None)?;
                write_coldkey(&wallet, &key, &mnemonic, &password, &write)?;
                report_address(output, "coldkey", &key.account_id(), &select)
            }
            Self::RegenHotkey {
                select,
                write,
                mnemonic,
            } => {
                let wallet = select.open()?;
                let mnemonic = Mnemonic::parse(&mnemonic)?;
                let key = Keypair::from_phrase(mnemonic.phrase(), None)?;
                wallet.write_hotkey(
                    &select.hotkey,
                    &key,
                    Some(&mnemonic),
                    None,
                    write.overwrite,
                )?;
                report_address(output, "hotkey", &key.account_id(), &select)
            }
            Self::RegenColdkeypub {
                select,
                write,
                ss58,
            } => {
                let wallet = select.open()?;
                let account: AccountId = ss58
                    .parse()
                    .with_context(|| format!("invalid --ss58 {ss58:?}"))?;
                wallet.write_coldkeypub(&account, write.overwrite)?;
                report_address(output, "coldkey", &account, &select)
            }
            Self::List { wallet_path } => list(&wallet_path, output),
            Self::Show { select } => show(&select, output),
            Self::Sign {
                select,
                password,
                message,
                coldkey,
            } => sign(&select, &password, &message, coldkey, output),
            Self::Verify {
                message,
                signature,
                address,
            } => verify_cmd(&message, &signature, &address, output),
        }
    }
}

fn create(args: &NewKeyArgs, output: OutputFormat) -> anyhow::Result<()> {
    let NewKeyArgs {
        select,
        password,
        write,
        n_words,
    } = args;
    let n_words = *n_words;
    let wallet = select.open()?;
    // Refuse before prompting or writing anything, so an existing wallet is never half-replaced.
    if !write.overwrite {
        for path in [wallet.coldkey_path(), wallet.hotkey_path(&select.hotkey)] {
            if path.exists() {
                return Err(user_error(format!(
                    "{} already exists; pass --overwrite to replace it",
                    path.display()
                )));
            }
        }
    }
    let (coldkey, cold_mnemonic) = Keypair::generate(n_words)?;
    let (hotkey, hot_mnemonic) = Keypair::generate(n_words)?;
    write_coldkey(&wallet, &coldkey, &cold_mnemonic, password, write)?;
    wallet.write_hotkey(
        &select.hotkey,
        &hotkey,
        Some(&hot_mnemonic),
        None,
        write.overwrite,
    )?;
    report_new(
        output,
        &[
            ("coldkey", &coldkey, &cold_mnemonic),
            ("hotkey", &hotkey, &hot_mnemonic),
        ],
        &wallet_json(select),
    )
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

fn wallet_json(select: &WalletSelect) -> JsonMap {
    let mut doc = JsonMap::new();
    doc.insert(
        "wallet_path".into(),
        json!(select.wallet_path.display().to_string()),
    );
    doc.insert("name".into(), json!(select.name));
    doc.insert("hotkey_name".into(), json!(select.hotkey));
    doc
}

/// Report newly created keys, showing each mnemonic once with a warning.
fn report_new(
    output: OutputFormat,
    keys: &[(&str, &Keypair, &Mnemonic)],
    wallet: &JsonMap,
) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => {
            let mut doc = wallet.clone();
            for (role, key, mnemonic) in keys {
                doc.insert(role.to_string(), json!(key.account_id().to_ss58()));
                doc.insert(format!("{role}_mnemonic"), json!(mnemonic.phrase()));
            }
            doc.insert("warning".into(), json!(MNEMONIC_WARNING));
            print_json(&doc)
        }
        OutputFormat::Text => {
            for (role, key, mnemonic) in keys {
                println!("{role}: {}", key.account_id());
                println!("{role} mnemonic: {}", mnemonic.phrase());
            }
            println!("\nWARNING: {MNEMONIC_WARNING}");
            Ok(())
        }
    }
}

fn report_address(
    output: OutputFormat,
    role: &str,
    account: &AccountId,
    select: &WalletSelect,
) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => {
            let mut doc = wallet_json(select);
            doc.insert(role.into(), json!(account.to_ss58()));
            print_json(&doc)
        }
        OutputFormat::Text => {
            println!("{role}: {account}");
            Ok(())
        }
    }
}

fn show(select: &WalletSelect, output: OutputFormat) -> anyhow::Result<()> {
    let wallet = select.open()?;
    let coldkey = wallet.coldkeypub()?;
    let hotkey = wallet.hotkeypub(&select.hotkey)?;
    match output {
        OutputFormat::Json => {
            let mut doc = wallet_json(select);
            doc.insert("coldkey".into(), json!(coldkey.to_ss58()));
            doc.insert("hotkey".into(), json!(hotkey.to_ss58()));
            doc.insert(
                "coldkey_encrypted".into(),
                json!(wallet.coldkey_is_encrypted().unwrap_or(false)),
            );
            print_json(&doc)
        }
        OutputFormat::Text => {
            println!(
                "wallet:  {} ({})",
                select.name,
                select.wallet_path.display()
            );
            println!("coldkey: {coldkey}");
            println!("hotkey:  {hotkey} ({})", select.hotkey);
            Ok(())
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct WalletEntry {
    name: String,
    coldkey: Option<String>,
    hotkeys: Vec<HotkeyEntry>,
}

#[derive(Debug, serde::Serialize)]
struct HotkeyEntry {
    name: String,
    hotkey: Option<String>,
}

fn list(root: &Path, output: OutputFormat) -> anyhow::Result<()> {
    let names = if root.exists() {
        hyphae_keys::wallet::list_wallets(root)?
    } else {
        Vec::new()
    };
    let mut wallets = Vec::with_capacity(names.len());
    for name in names {
        let wallet = Wallet::new(root, &name)?;
        // A wallet with a damaged file is still listed, with the address missing.
        let coldkey = wallet.coldkeypub().ok().map(|a| a.to_ss58());
        let hotkeys = wallet
            .hotkey_names()
            .unwrap_or_default()
            .into_iter()
            .map(|h| HotkeyEntry {
                hotkey: wallet.hotkeypub(&h).ok().map(|a| a.to_ss58()),
                name: h,
            })
            .collect();
        wallets.push(WalletEntry {
            name,
            coldkey,
            hotkeys,
        });
    }
    match output {
        OutputFormat::Json => {
            print_json(&json!({ "wallet_path": root.display().to_string(), "wallets": wallets }))
        }
        OutputFormat::Text => {
            println!("Wallets in {}", root.display());
            for w in &wallets {
                println!(
                    "{} (coldkey {})",
                    w.name,
                    w.coldkey.as_deref().unwrap_or("missing")
                );
                for h in &w.hotkeys {
                    println!(
                        "  └─ {} ({})",
                        h.name,
                        h.hotkey.as_deref().unwrap_or("missing")
                    );
                }
            }
            Ok(())
        }
    }
}

fn sign(
    select: &WalletSelect,
    password: &PasswordArgs,
    message: &str,
    use_coldkey: bool,
    output: OutputFormat,
) -> anyhow::Result<()> {
    let wallet = select.open()?;
    let what = if use_coldkey { "coldkey" } else { "hotkey" };
    let load = |pw: Option<&str>| {
        if use_coldkey {
            wallet.coldkey(pw)
        } else {
            wallet.hotkey(&select.hotkey, pw)
        }
    };
    // Try without a password first, so a missing, corrupt or foreign file is reported as such
    // before anyone is asked for a password.
    let key = match load(None) {
        Err(KeyError::PasswordRequired { .. }) => {
            let pw = existing_password(password, what)?;
            load(Some(pw.as_str()))?
        }
        other => other?,
    };
    let signature = key.sign(message.as_bytes());
    let address = key.account_id().to_ss58();
    match output {
        OutputFormat::Json => {
            print_json(&json!({ "address": address, "signature": signature.to_hex() }))
        }
        OutputFormat::Text => {
            println!("address:   {address}");
            println!("signature: {}", signature.to_hex());
            Ok(())
        }
    }
}

fn verify_cmd(
    message: &str,
    signature: &str,
    address: &str,
    output: OutputFormat,
) -> anyhow::Result<()> {
    let signer: AccountId = address
        .parse()
        .with_context(|| format!("invalid --address {address:?}"))?;
    let signature = Signature::from_hex(signature).context("invalid --signature")?;
    let valid = verify(&signer, message.as_bytes(), &signature);
    if output == OutputFormat::Json {
        print_json(&json!({ "address": signer.to_ss58(), "valid": valid }))?;
    } else if valid {
        println!("valid signature by {signer}");
    }
    if valid {
        Ok(())
    } else {
        Err(user_error(format!("signature is NOT valid for {signer}")))
    }
}

/// Write a coldkey, encrypted with a new password unless `--no-password`.
fn write_coldkey(
    wallet: &Wallet,
    key: &Keypair,
    mnemonic: &Mnemonic,
    password: &PasswordArgs,
    write: &WriteArgs,
) -> anyhow::Result<()> {
    let pw = new_password(password)?;
    let pw = pw.as_deref().map(String::as_str);
    wallet.write_coldkey(key, Some(mnemonic), pw, write.overwrite)?;
    Ok(())
}

/// The password for a key being written, or `None` for `--no-password`.
fn new_password(args: &PasswordArgs) -> anyhow::Result<Option<Zeroizing<String>>> {
    if args.no_password {
        return Ok(None);
    }
    if let Some(pw) = password_from_file_or_env(args)? {
        return Ok(Some(pw));
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(user_error(format!(
            "a password is needed to encrypt the coldkey: pass --no-password, --password-file, or set {PASSWORD_ENV}"
        )));
    }
    let first = Zeroizing::new(rpassword::prompt_password(
        "Password to encrypt the coldkey: ",
    )?);
    let second = Zeroizing::new(rpassword::prompt_password("Repeat the password: ")?);
    if first != second {
        return Err(user_error("the two passwords differ"));
    }
    if first.is_empty() {
        return Err(user_error(
            "empty password; use --no-password to store the key unencrypted",
        ));
    }
    Ok(Some(first))
}

/// The password of an existing encrypted key.
fn existing_password(args: &PasswordArgs, what: &str) -> anyhow::Result<Zeroizing<String>> {
    if let Some(pw) = password_from_file_or_env(args)? {
        return Ok(pw);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(user_error(format!(
            "the {what} is encrypted: pass --password-file or set {PASSWORD_ENV}"
        )));
    }
    Ok(Zeroizing::new(rpassword::prompt_password(format!(
        "Password for the {what}: "
    ))?))
}

fn password_from_file_or_env(args: &PasswordArgs) -> anyhow::Result<Option<Zeroizing<String>>> {
    if let Some(path) = &args.password_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading password file {}", path.display()))?,
        );
        let line = text.lines().next().unwrap_or_default();
        return Ok(Some(Zeroizing::new(line.to_owned())));
    }
    Ok(std::env::var(PASSWORD_ENV).ok().map(Zeroizing::new))
}

fn default_wallet_path() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".hyphae")
        .join("wallets")
}
