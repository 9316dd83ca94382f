//! What every chain command shares: `--rpc-url`, signers (wallet or dev URI), the fee
//! preview and confirmation, and submission with `--wait`. Also the `balance`, `transfer` and
//! `block` commands.

use std::{future::Future, io::IsTerminal, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Args, ValueEnum};
use hyphae_keys::{wallet::Wallet, KeyError, Keypair};
use hyphae_ledger::{Call, Transaction};
use hyphae_primitives::{AccountId, Hash, Rao, TxError};
use hyphae_rpc::{
    types::{HeaderView, SystemInfo, TxStatus},
    Client, ClientError,
};
use parity_scale_codec::Encode;
use serde_json::{json, Value};

use super::wallet::{existing_password, WalletSelect};
use crate::output::{errln, outln, print_json, user_error, OutputFormat};

/// Where the node is.
#[derive(Debug, Args, Clone)]
pub struct RpcArgs {
    /// The node's JSON-RPC URL (http:// or ws://; one port serves both).
    #[arg(long, env = "HYPHAE_RPC_URL", default_value = "http://127.0.0.1:9944")]
    pub rpc_url: String,
}

/// Who signs: a wallet on disk, or on dev chains a dev URI.
#[derive(Debug, Args)]
pub struct SignerArgs {
    /// Dev chains only: sign with this dev URI (`//Alice`) instead of a wallet.
    #[arg(long)]
    pub uri: Option<String>,
    /// Read the coldkey password from the first line of this file instead of prompting.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub wallet: WalletSelect,
}

/// How long to wait after submitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitFor {
    /// Until the block that includes it is final.
    Finalized,
    /// Until a block includes it.
    Included,
    /// Return once the node accepted it.
    None,
}

/// Flags of every command that sends a transaction.
#[derive(Debug, Args)]
pub struct TxArgs {
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait after submitting.
    #[arg(long, value_enum, default_value_t = WaitFor::Finalized)]
    pub wait: WaitFor,
    /// Tip for the block author, TAO.
    #[arg(long, default_value = "0")]
    pub tip: Rao,
}

/// The flags of every command that signs and submits a transaction.
#[derive(Debug, Args)]
pub struct SignedArgs {
    #[command(flatten)]
    pub rpc: RpcArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub tx: TxArgs,
}

/// Runs an async command body on a small runtime.
pub fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(future)
}

/// Connects to the node.
pub async fn connect(rpc: &RpcArgs) -> anyhow::Result<Client> {
    Client::connect(&rpc.rpc_url)
        .await
        .map_err(|error| match error {
            ClientError::BadUrl { .. } | ClientError::Connect { .. } => {
                user_error(error.to_string())
            }
            other => anyhow::Error::new(other),
        })
}

/// Maps RPC errors the user can fix (rejected transactions) to exit code 1.
pub fn rpc_error(error: ClientError) -> anyhow::Error {
    match error {
        ClientError::Rejected { .. } | ClientError::BadUrl { .. } | ClientError::Connect { .. } => {
            user_error(error.to_string())
        }
        other => anyhow::Error::new(other),
    }
}

fn dev_uri(info: &SystemInfo, uri: &str) -> anyhow::Result<Keypair> {
    if !info.dev {
        return Err(user_error(format!(
            "--uri is for dev chains only; chain {:?} is not one: use a wallet",
            info.chain
        )));
    }
    Ok(Keypair::from_uri(uri)?)
}

fn open_wallet(select: &WalletSelect) -> anyhow::Result<Wallet> {
    Ok(Wallet::new(&select.wallet_path, &select.name)?)
}

impl SignerArgs {
    /// The coldkey: `--uri`, or the wallet's coldkey (asking for its password if encrypted).
    pub fn coldkey(&self, info: &SystemInfo) -> anyhow::Result<Keypair> {
        if let Some(uri) = &self.uri {
            return dev_uri(info, uri);
        }
        let wallet = open_wallet(&self.wallet)?;
        match wallet.coldkey(None) {
            Err(KeyError::PasswordRequired { .. }) => {
                let pw = existing_password(self.password_file.as_deref(), "coldkey")?;
                Ok(wallet.coldkey(Some(pw.as_str()))?)
            }
            other => Ok(other?),
        }
    }

    /// The hotkey: `--uri`, or the wallet's hotkey.
    pub fn hotkey(&self, info: &SystemInfo) -> anyhow::Result<Keypair> {
        if let Some(uri) = &self.uri {
            return dev_uri(info, uri);
        }
        let wallet = open_wallet(&self.wallet)?;
        match wallet.hotkey(&self.wallet.hotkey, None) {
            Err(KeyError::PasswordRequired { .. }) => {
                let pw = existing_password(self.password_file.as_deref(), "hotkey")?;
                Ok(wallet.hotkey(&self.wallet.hotkey, Some(pw.as_str()))?)
            }
            other => Ok(other?),
        }
    }

    /// The coldkey's address without unlocking it (for read-only commands).
    pub fn coldkey_address(&self) -> anyhow::Result<AccountId> {
        if let Some(uri) = &self.uri {
            return Ok(Keypair::from_uri(uri)?.account_id());
        }
        Ok(open_wallet(&self.wallet)?.coldkeypub()?)
    }

    /// A hotkey address for coldkey-signed calls that name one: `--hotkey-uri`, an explicit
    /// address, or the wallet's hotkey.
    pub fn hotkey_address(
        &self,
        uri: Option<&str>,
        address: Option<AccountId>,
    ) -> anyhow::Result<AccountId> {
        if let Some(address) = address {
            return Ok(address);
        }
        if let Some(uri) = uri {
            return Ok(Keypair::from_uri(uri)?.account_id());
        }
        if self.uri.is_some() {
            return Err(user_error(
                "with --uri, name the hotkey with --hotkey-uri or --hotkey-address",
            ));
        }
        Ok(open_wallet(&self.wallet)?.hotkeypub(&self.wallet.hotkey)?)
    }
}

/// The fee of `call` on this chain.
pub fn fee_of(info: &SystemInfo, call: &Call) -> Rao {
    info.fee_for_len(call.encoded_size())
}

/// Prints what a value-moving transaction will do and asks to go on, unless `--yes`.
pub fn confirm(tx: &TxArgs, summary: &str, fee: Rao) -> anyhow::Result<()> {
    if tx.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(user_error(format!(
            "refusing to {summary} (fee {fee} TAO) without confirmation: stdin is not a terminal; pass --yes"
        )));
    }
    errln!("About to {summary}.");
    errln!("Fee: {fee} TAO (burned), tip: {} TAO.", tx.tip);
    {
        use std::io::Write as _;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "Proceed? [y/N] ").and_then(|()| stderr.flush());
    }
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(user_error("cancelled"))
    }
}

/// The outcome of a submitted transaction.
#[derive(Debug)]
pub struct Submitted {
    /// Transaction hash.
    pub hash: Hash,
    /// Block number, when waited for.
    pub block: Option<u64>,
    /// Block hash, when waited for.
    pub block_hash: Option<Hash>,
    /// `submitted`, `included` or `finalized`.
    pub status: &'static str,
}

impl Submitted {
    /// The common JSON fields.
    pub fn json(&self, fee: Rao, extra: Value) -> Value {
        let mut doc = json!({
            "hash": self.hash,
            "block": self.block,
            "block_hash": self.block_hash,
            "status": self.status,
            "fee_rao": fee,
        });
        if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
            doc.extend(extra);
        }
        doc
    }
}

/// Signs `call` with the next nonce, submits it and waits as asked.
pub async fn submit(
    client: &Client,
    info: &SystemInfo,
    key: &Keypair,
    call: Call,
    tx: &TxArgs,
    output: OutputFormat,
) -> anyhow::Result<Submitted> {
    let account = client.account(&key.account_id()).await.map_err(rpc_error)?;
    let name = call.name();
    let signed = Transaction::sign(key, &info.genesis_hash, account.next_nonce, tx.tip, call);
    if tx.wait == WaitFor::None {
        let hash = client.submit(&signed).await.map_err(rpc_error)?;
        return Ok(Submitted {
            hash,
            block: None,
            block_hash: None,
            status: "submitted",
        });
    }
    let spinner = (output == OutputFormat::Text).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(100));
        bar.set_message(format!("{name}: submitting"));
        bar
    });
    let mut watch = client.submit_and_watch(&signed).await.map_err(rpc_error)?;
    let want = tx.wait;
    let mut last = None;
    while let Some(status) = watch.next().await {
        let status = status.map_err(rpc_error)?;
        if let Some(bar) = &spinner {
            bar.set_message(format!("{name}: {}", status_word(&status)));
        }
        let done = match &status {
            TxStatus::Ready { .. } => false,
            TxStatus::Included { .. } => want == WaitFor::Included,
            TxStatus::Finalized { .. } | TxStatus::Dropped { .. } => true,
        };
        last = Some(status);
        if done {
            break;
        }
    }
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    match last {
        Some(TxStatus::Included {
            hash,
            block,
            block_hash,
            error,
        }) => {
            check_call(hash, block, error)?;
            Ok(Submitted {
                hash,
                block: Some(block),
                block_hash: Some(block_hash),
                status: "included",
            })
        }
        Some(TxStatus::Finalized {
            hash,
            block,
            block_hash,
            error,
        }) => {
            check_call(hash, block, error)?;
            Ok(Submitted {
                hash,
                block: Some(block),
                block_hash: Some(block_hash),
                status: "finalized",
            })
        }
        Some(TxStatus::Dropped { hash, error }) => Err(user_error(format!(
            "transaction {hash} was dropped: {}",
            describe(error)
        ))),
        Some(TxStatus::Ready { .. }) | None => Err(anyhow::anyhow!(
            "the node closed the subscription before the transaction was {}",
            if want == WaitFor::Included {
                "included"
            } else {
                "finalized"
            }
        )),
    }
}

fn status_word(status: &TxStatus) -> &'static str {
    match status {
        TxStatus::Ready { .. } => "in the mempool",
        TxStatus::Included { .. } => "included",
        TxStatus::Finalized { .. } => "finalized",
        TxStatus::Dropped { .. } => "dropped",
    }
}

fn describe(code: u16) -> String {
    TxError::from_code(code).map_or_else(|| format!("error code {code}"), |error| error.to_string())
}

fn check_call(hash: Hash, block: u64, error: Option<u16>) -> anyhow::Result<()> {
    match error {
        None => Ok(()),
        Some(code) => Err(user_error(format!(
            "transaction {hash} in block {block} failed: {} (the fee was paid)",
            describe(code)
        ))),
    }
}

/// Prints a finished transaction.
pub fn report(
    output: OutputFormat,
    submitted: &Submitted,
    fee: Rao,
    text: &str,
    extra: Value,
) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&submitted.json(fee, extra)),
        OutputFormat::Text => {
            outln!("{text}")?;
            match submitted.block {
                Some(block) => outln!(
                    "{} in block {block} ({}), fee {fee} TAO",
                    submitted.status,
                    submitted.hash
                ),
                None => outln!("submitted {}, fee {fee} TAO", submitted.hash),
            }?;
            Ok(())
        }
    }
}

/// `hyphae balance`.
#[derive(Debug, Args)]
pub struct BalanceArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// The account (default: the signer's coldkey).
    #[arg(long)]
    address: Option<AccountId>,
    #[command(flatten)]
    signer: SignerArgs,
}

impl BalanceArgs {
    /// Runs `hyphae balance`.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        block_on(async move {
            let client = connect(&self.rpc).await?;
            let address = match self.address {
                Some(address) => address,
                None => self.signer.coldkey_address()?,
            };
            let account = client.account(&address).await.map_err(rpc_error)?;
            match output {
                OutputFormat::Json => print_json(&json!({
                    "address": account.address,
                    "free_rao": account.free_rao,
                    "free_tao": account.free_rao.to_string(),
                    "nonce": account.nonce,
                    "block": account.block,
                })),
                OutputFormat::Text => {
                    outln!(
                        "{}: {} TAO (nonce {}, block {})",
                        account.address,
                        account.free_rao,
                        account.nonce,
                        account.block
                    )?;
                    Ok(())
                }
            }
        })
    }
}

/// `hyphae transfer`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    #[command(flatten)]
    pub rpc: RpcArgs,
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub tx: TxArgs,
    /// Receiver's SS58 address.
    #[arg(long)]
    dest: AccountId,
    /// Amount in TAO (up to nine decimals).
    #[arg(long)]
    amount: Rao,
}

impl TransferArgs {
    /// Runs `hyphae transfer`.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        block_on(async move {
            let client = connect(&self.rpc).await?;
            let info = client.info().await.map_err(rpc_error)?;
            let key = self.signer.coldkey(&info)?;
            let call = Call::Transfer {
                dest: self.dest,
                amount: self.amount,
            };
            let fee = fee_of(&info, &call);
            let summary = format!(
                "transfer {} TAO from {} to {}",
                self.amount,
                key.account_id(),
                self.dest
            );
            confirm(&self.tx, &summary, fee)?;
            let submitted = submit(&client, &info, &key, call, &self.tx, output).await?;
            let extra =
                json!({ "from": key.account_id(), "dest": self.dest, "amount_rao": self.amount });
            report(
                output,
                &submitted,
                fee,
                &format!("transferred {} TAO to {}", self.amount, self.dest),
                extra,
            )
        })
    }
}

/// `hyphae block`.
#[derive(Debug, Args)]
pub struct BlockArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    /// Show this block instead of the heads.
    #[arg(long)]
    number: Option<u64>,
}

fn head_json(header: &HeaderView) -> Value {
    json!({ "number": header.number, "hash": header.hash, "state_root": header.state_root })
}

impl BlockArgs {
    /// Runs `hyphae block`.
    pub fn run(self, output: OutputFormat) -> anyhow::Result<()> {
        block_on(async move {
            let client = connect(&self.rpc).await?;
            match self.number {
                None => {
                    let head = client.head().await.map_err(rpc_error)?;
                    match output {
                        OutputFormat::Json => print_json(&json!({
                            "best": head_json(&head.best),
                            "finalized": head_json(&head.finalized),
                        })),
                        OutputFormat::Text => {
                            outln!("best:      #{} {}", head.best.number, head.best.hash)?;
                            outln!(
                                "finalized: #{} {}",
                                head.finalized.number,
                                head.finalized.hash
                            )?;
                            Ok(())
                        }
                    }
                }
                Some(number) => {
                    let block = client
                        .block_by_number(number)
                        .await
                        .map_err(rpc_error)?
                        .ok_or_else(|| user_error(format!("block {number} does not exist yet")))?;
                    match output {
                        OutputFormat::Json => print_json(&json!({
                            "number": block.header.number,
                            "hash": block.header.hash,
                            "parent_hash": block.header.parent_hash,
                            "state_root": block.header.state_root,
                            "extrinsics_root": block.header.extrinsics_root,
                            "timestamp_ms": block.header.timestamp_ms,
                            "author": block.header.author,
                            "finalized": block.finalized,
                            "transactions": block.transactions,
                            "hook_events": block.hook_events,
                        })),
                        OutputFormat::Text => {
                            outln!(
                                "block #{} {}{}",
                                block.header.number,
                                block.header.hash,
                                if block.finalized { " (finalized)" } else { "" }
                            )?;
                            outln!("state root {}", block.header.state_root)?;
                            for tx in &block.transactions {
                                let outcome = tx.error_name.as_deref().unwrap_or("ok");
                                outln!(
                                    "  {} {} nonce {} by {}: {outcome}",
                                    tx.hash,
                                    tx.call,
                                    tx.nonce,
                                    tx.signer
                                )?;
                            }
                            Ok(())
                        }
                    }
                }
            }
        })
    }
}
