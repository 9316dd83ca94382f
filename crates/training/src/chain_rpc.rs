//! [`RpcChain`]: the subnet's [`Chain`] on a running node, over JSON-RPC.
//!
//! Every write is a signed transaction from the neuron's own hotkey (`//neuron{uid}`):
//! - an update or model hash is a `commit` whose data is [`commitment_data`] (kind, round,
//!   hash), so a hotkey's latest commitment says which round it is for;
//! - a weight row is a `set_weights` (the run turns commit-reveal off: a revealed row would only
//!   count one epoch later, after the aggregate it should have decided).
//!
//! Writes are submitted without waiting and settled (awaited until final, refused ones turned
//! into [`ChainError::Refused`]) when the subnet next reads: in
//! [`Chain::update_commitments`] and [`Chain::run_epoch`]. That keeps a round to a few blocks
//! however many neurons there are, while the order the chain gave the commitments — block, then
//! position in the block — is still what [`Commitment::sequence`] reports.
//!
//! [`Chain::run_epoch`] does not run anything: it waits, on finalized-head notifications and
//! with a deadline, for the subnet's first epoch after every write of the round was final, then
//! reads that epoch's per-uid outcome (`subnet_explain` at its block: incentive, dividends,
//! emission split) and the permits (`subnet_metagraph`).
//!
//! Async stays inside: the chain owns no runtime but borrows one ([`LiveRuntime`]) and blocks
//! on it, so the subnet's round logic remains synchronous. Do not call it from inside an async
//! task (use `spawn_blocking` or a thread).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyphae_keys::Keypair;
use hyphae_ledger::explain::EpochSelector;
use hyphae_ledger::weights::WeightsArgs;
use hyphae_ledger::{Call, Transaction};
use hyphae_ml::codec::UpdateHash;
use hyphae_ml::params::ModelHash;
use hyphae_primitives::{AccountId, BlockNumber, Hash, NetUid, Rao, TxError, Uid};
use hyphae_rpc::types::{MetagraphOptions, TxStatus};
use hyphae_rpc::{Client, ClientError, TxWatch};
use hyphae_yuma::{NeuronOutput, RowEntry};

use crate::chain::{Chain, ChainError, Commitment};

/// The tokio runtime the live path blocks on (shared by the chain and the axons).
pub type LiveRuntime = Arc<tokio::runtime::Runtime>;

/// First byte of an update commitment.
pub const UPDATE_KIND: u8 = 1;
/// First byte of a model commitment.
pub const MODEL_KIND: u8 = 2;
/// Bytes of a commitment: kind, round (u64 big-endian), 32-byte hash.
pub const COMMITMENT_LEN: usize = 41;

/// The bytes a neuron commits: `kind ‖ round (u64 BE) ‖ hash`.
#[must_use]
pub fn commitment_data(kind: u8, round: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut data = Vec::with_capacity(COMMITMENT_LEN);
    data.push(kind);
    data.extend_from_slice(&round.to_be_bytes());
    data.extend_from_slice(hash);
    data
}

/// Reads [`commitment_data`] back: `(kind, round, hash)`, or `None` for other bytes.
#[must_use]
pub fn parse_commitment(data: &[u8]) -> Option<(u8, u64, [u8; 32])> {
    if data.len() != COMMITMENT_LEN {
        return None;
    }
    let (&kind, rest) = data.split_first()?;
    let (round, hash) = rest.split_at_checked(8)?;
    Some((
        kind,
        u64::from_be_bytes(round.try_into().ok()?),
        hash.try_into().ok()?,
    ))
}

pub(crate) fn rpc_error(error: ClientError) -> ChainError {
    match error {
        ClientError::Rejected {
            tx_error: Some(tx_error),
            ..
        } => refused("submit", tx_error),
        other => ChainError::Rpc {
            reason: other.to_string(),
        },
    }
}

fn refused(call: &'static str, error: TxError) -> ChainError {
    ChainError::Refused {
        call,
        code: error.code(),
        name: error.name().to_owned(),
    }
}

/// A submitted transaction not yet known to be final.
struct Pending {
    call: &'static str,
    watch: TxWatch,
}

/// A final, successful transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The call's name.
    pub call: &'static str,
    /// Its block.
    pub block: u64,
    /// Its hash.
    pub hash: Hash,
}

/// Signs with locally tracked nonces, submits, and settles what it submitted.
pub struct Submitter {
    genesis_hash: Hash,
    nonces: BTreeMap<AccountId, u64>,
    pending: Vec<Pending>,
    tx_timeout: Duration,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Submitter {
    /// A submitter for the chain `client` talks to; a transaction must be final within
    /// `tx_timeout` of [`Submitter::settle`].
    pub async fn new(client: &Client, tx_timeout: Duration) -> Result<Self, ChainError> {
        let info = client.info().await.map_err(rpc_error)?;
        Ok(Self {
            genesis_hash: info.genesis_hash,
            nonces: BTreeMap::new(),
            pending: Vec::new(),
            tx_timeout,
        })
    }

    /// Signs `call` with `signer`'s next nonce and submits it (without waiting).
    pub async fn submit(
        &mut self,
        client: &Client,
        signer: &Keypair,
        call: Call,
    ) -> Result<(), ChainError> {
        let account = signer.account_id();
        let nonce = match self.nonces.get(&account) {
            Some(nonce) => *nonce,
            None => {
                client
                    .account(&account)
                    .await
                    .map_err(rpc_error)?
                    .next_nonce
            }
        };
        let name = call.name();
        let tx = Transaction::sign(signer, &self.genesis_hash, nonce, Rao::ZERO, call);
        let watch = client
            .submit_and_watch(&tx)
            .await
            .map_err(|error| match error {
                ClientError::Rejected {
                    tx_error: Some(tx_error),
                    ..
                } => refused(name, tx_error),
                other => rpc_error(other),
            })?;
        self.nonces.insert(account, nonce.saturating_add(1));
        self.pending.push(Pending { call: name, watch });
        Ok(())
    }

    /// Waits until every submitted transaction is final; fails on the first one the chain
    /// refused, dropped, or did not finalize in time.
    pub async fn settle(&mut self, stop: &AtomicBool) -> Result<Vec<Settled>, ChainError> {
        let deadline = Instant::now() + self.tx_timeout;
        let mut settled = Vec::with_capacity(self.pending.len());
        for Pending { call, mut watch } in std::mem::take(&mut self.pending) {
            if stop.load(Ordering::Relaxed) {
                return Err(ChainError::Stopped);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let status = tokio::time::timeout(
                left,
                watch.wait_for(|status| matches!(status, TxStatus::Finalized { .. })),
            )
            .await
            .map_err(|_| ChainError::Timeout {
                what: "a transaction to be final",
            })?
            .map_err(rpc_error)?;
            match status {
                TxStatus::Finalized {
                    error: None,
                    block,
                    hash,
                    ..
                } => settled.push(Settled { call, block, hash }),
                TxStatus::Finalized {
                    error: Some(code), ..
                }
                | TxStatus::Dropped { error: code, .. } => {
                    return Err(ChainError::Refused {
                        call,
                        code,
                        name: TxError::from_code(code)
                            .map_or_else(|| "unknown".to_owned(), |e| e.name().to_owned()),
                    });
                }
                TxStatus::Ready { .. } | TxStatus::Included { .. } => {
                    return Err(ChainError::Rpc {
                        reason: format!("{call}: the status stream ended before finality"),
                    });
                }
            }
        }
        Ok(settled)
    }
}

/// Waits on finalized heads, at most `timeout`, until `done` accepts the chain's state; `done`
/// is asked once before the first notification.
pub(crate) async fn wait_until<T, F, Fut>(
    client: &Client,
    stop: &AtomicBool,
    timeout: Duration,
    what: &'static str,
    mut done: F,
) -> Result<T, ChainError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ChainError>>,
{
    let deadline = Instant::now() + timeout;
    let mut heads = client
        .subscribe_finalized_heads()
        .await
        .map_err(rpc_error)?;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(ChainError::Stopped);
        }
        if let Some(found) = done().await? {
            return Ok(found);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, heads.next()).await {
            Err(_) => return Err(ChainError::Timeout { what }),
            Ok(None) => {
                return Err(ChainError::Rpc {
                    reason: "the node closed the finalized-heads subscription".to_owned(),
                })
            }
            Ok(Some(Err(error))) => {
                return Err(ChainError::Rpc {
                    reason: error.to_string(),
                })
            }
            Ok(Some(Ok(_header))) => {}
        }
    }
}

/// One commitment read back, with its place in the chain's order.
struct Found {
    uid: u16,
    block: u64,
    /// Among the block's successful `commit`s.
    position: u64,
    hash: [u8; 32],
}

/// The subnet's chain on a node: see the module docs.
pub struct RpcChain {
    runtime: LiveRuntime,
    client: Client,
    submitter: Submitter,
    netuid: NetUid,
    /// Hotkeys by uid.
    hotkeys: Vec<Keypair>,
    stop: Arc<AtomicBool>,
    epoch_timeout: Duration,
    open_round: u64,
    /// The block writes of the open round must precede (the epoch that closes it comes after).
    round_floor_block: u64,
    /// Round → block of the epoch that closed it.
    closed_at: BTreeMap<u64, u64>,
    last_epoch: Vec<NeuronOutput>,
    last_epoch_block: Option<u64>,
}

impl std::fmt::Debug for RpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcChain")
            .field("netuid", &self.netuid)
            .field("open_round", &self.open_round)
            .field("last_epoch_block", &self.last_epoch_block)
            .finish_non_exhaustive()
    }
}

impl RpcChain {
    /// The subnet `netuid` on the node `client` talks to, with `hotkeys[uid]` signing for
    /// `uid`. Round `first_round` is open. `run_epoch` waits at most `epoch_timeout`, and a
    /// transaction must be final within `tx_timeout`.
    pub fn new(
        runtime: LiveRuntime,
        client: Client,
        netuid: NetUid,
        hotkeys: Vec<Keypair>,
        first_round: u64,
        stop: Arc<AtomicBool>,
        (epoch_timeout, tx_timeout): (Duration, Duration),
    ) -> Result<Self, ChainError> {
        let submitter = runtime.block_on(Submitter::new(&client, tx_timeout))?;
        let head = runtime
            .block_on(client.finalized_head())
            .map_err(rpc_error)?;
        Ok(Self {
            runtime,
            client,
            submitter,
            netuid,
            hotkeys,
            stop,
            epoch_timeout,
            open_round: first_round,
            round_floor_block: head.number,
            closed_at: BTreeMap::new(),
            last_epoch: Vec::new(),
            last_epoch_block: None,
        })
    }

    /// The subnet.
    #[must_use]
    pub fn netuid(&self) -> NetUid {
        self.netuid
    }

    /// Block of the last epoch [`Chain::run_epoch`] read, if any.
    #[must_use]
    pub fn last_epoch_block(&self) -> Option<u64> {
        self.last_epoch_block
    }

    fn hotkey(&self, uid: u16) -> Result<&Keypair, ChainError> {
        self.hotkeys
            .get(usize::from(uid))
            .ok_or(ChainError::NotRegistered { uid })
    }

    fn submit(&mut self, uid: u16, call: Call) -> Result<(), ChainError> {
        let signer = self.hotkey(uid)?.clone();
        let Self {
            runtime,
            client,
            submitter,
            ..
        } = self;
        runtime.block_on(submitter.submit(client, &signer, call))
    }

    /// Settles every pending write; the round's epoch must come after the last of them.
    fn settle(&mut self) -> Result<(), ChainError> {
        let Self {
            runtime,
            submitter,
            stop,
            ..
        } = self;
        let settled = runtime.block_on(submitter.settle(stop))?;
        if let Some(block) = settled.iter().map(|s| s.block).max() {
            self.round_floor_block = self.round_floor_block.max(block);
        }
        Ok(())
    }

    /// The subnet's commitments of `kind` for `round`, in the chain's order.
    fn read_commitments(&self, kind: u8, round: u64) -> Result<Vec<Found>, ChainError> {
        let netuid = self.netuid;
        let client = &self.client;
        let closed_at = self.closed_at.get(&round).copied();
        self.runtime.block_on(async {
            let listed = client
                .commitments(netuid)
                .await
                .map_err(rpc_error)?
                .unwrap_or_default();
            let mut found = Vec::new();
            let mut blocks: BTreeMap<u64, Vec<AccountId>> = BTreeMap::new();
            for view in listed {
                let Some((k, r, hash)) = view.bytes().as_deref().and_then(parse_commitment) else {
                    continue;
                };
                // A commitment in (or after) the block of the epoch that closed the round is
                // late: the epoch hook runs before the block's transactions.
                if k != kind || r != round || closed_at.is_some_and(|closed| view.block >= closed) {
                    continue;
                }
                if let std::collections::btree_map::Entry::Vacant(slot) = blocks.entry(view.block) {
                    let signers = client
                        .block_by_number(view.block)
                        .await
                        .map_err(rpc_error)?
                        .map(|b| {
                            b.transactions
                                .into_iter()
                                .filter(|tx| tx.call == "commit" && tx.error.is_none())
                                .map(|tx| tx.signer)
                                .collect()
                        })
                        .unwrap_or_default();
                    slot.insert(signers);
                }
                let position = blocks
                    .get(&view.block)
                    .and_then(|signers| signers.iter().rposition(|s| *s == view.hotkey))
                    .unwrap_or(usize::MAX);
                found.push(Found {
                    uid: view.uid.0,
                    block: view.block,
                    position: u64::try_from(position).unwrap_or(u64::MAX),
                    hash,
                });
            }
            found.sort_by_key(|f| (f.block, f.position, f.uid));
            Ok(found)
        })
    }

    /// Waits for the first epoch after `round_floor_block` and reads its outcome.
    fn await_epoch(&mut self) -> Result<(u64, Vec<NeuronOutput>), ChainError> {
        let (netuid, floor) = (self.netuid, self.round_floor_block);
        let client = &self.client;
        let stop = &*self.stop;
        self.runtime.block_on(async {
            let epoch_block = wait_until(client, stop, self.epoch_timeout, "the epoch", || async {
                let subnet = client.subnet(netuid).await.map_err(rpc_error)?;
                Ok(subnet
                    .map(|s| s.last_epoch_block)
                    .filter(|&block| block > floor && block > 0))
            })
            .await?;
            let metagraph = client
                .metagraph(netuid, MetagraphOptions::default())
                .await
                .map_err(rpc_error)?
                .ok_or(ChainError::Rpc {
                    reason: format!("subnet {netuid} vanished"),
                })?;
            let mut outputs = Vec::with_capacity(usize::from(metagraph.n));
            for uid in 0..metagraph.n {
                let receipt = client
                    .explain_at(
                        netuid,
                        Uid(uid),
                        EpochSelector::Block(BlockNumber(epoch_block)),
                    )
                    .await
                    .map_err(rpc_error)?;
                let index = usize::from(uid);
                let flag = |flags: &[bool]| flags.get(index).copied().unwrap_or(false);
                outputs.push(NeuronOutput {
                    active: flag(&metagraph.active),
                    validator_permit: flag(&metagraph.validator_permit),
                    stake_weight: receipt.as_ref().map_or(0, |r| r.stake_weight),
                    consensus: receipt.as_ref().map_or(0, |r| r.consensus),
                    incentive: receipt.as_ref().map_or(0, |r| r.incentive),
                    dividends: receipt.as_ref().map_or(0, |r| r.dividends),
                    validator_trust: metagraph.validator_trust.get(index).copied().unwrap_or(0),
                    server_emission: receipt.as_ref().map_or(0, |r| r.server_emission.0),
                    validator_emission: receipt.as_ref().map_or(0, |r| r.validator_emission.0),
                    emission: receipt.as_ref().map_or(0, |r| r.emission.0),
                    bonds: Vec::new(),
                });
            }
            Ok((epoch_block, outputs))
        })
    }
}

impl Chain for RpcChain {
    fn open_round(&self) -> u64 {
        self.open_round
    }

    fn commit_update(
        &mut self,
        uid: u16,
        round: u64,
        hash: UpdateHash,
    ) -> Result<Commitment, ChainError> {
        if round != self.open_round {
            return Err(ChainError::RoundClosed {
                round,
                open: self.open_round,
            });
        }
        let netuid = self.netuid;
        self.submit(
            uid,
            Call::Commit {
                netuid,
                data: commitment_data(UPDATE_KIND, round, &hash.0),
            },
        )?;
        // The chain's order is only known once final; `update_commitments` reports it.
        Ok(Commitment {
            uid,
            round,
            hash,
            sequence: u64::MAX,
        })
    }

    fn update_commitments(&mut self, round: u64) -> Result<Vec<Commitment>, ChainError> {
        self.settle()?;
        Ok(self
            .read_commitments(UPDATE_KIND, round)?
            .into_iter()
            .map(|f| Commitment {
                uid: f.uid,
                round,
                hash: UpdateHash(f.hash),
                // Block, then position in the block: the chain's commit order.
                sequence: f.block.saturating_mul(1 << 16).saturating_add(f.position),
            })
            .collect())
    }

    fn set_weights(&mut self, uid: u16, weights: Vec<RowEntry>) -> Result<(), ChainError> {
        let (uids, values) = weights.into_iter().unzip();
        let netuid = self.netuid;
        self.submit(
            uid,
            Call::SetWeights {
                netuid,
                weights: WeightsArgs {
                    uids,
                    values,
                    version_key: 0,
                },
            },
        )
    }

    fn run_epoch(&mut self) -> Result<Vec<NeuronOutput>, ChainError> {
        self.settle()?;
        let (block, outputs) = self.await_epoch()?;
        self.closed_at.insert(self.open_round, block);
        self.open_round = self.open_round.saturating_add(1);
        // The next round's writes must land after this epoch.
        self.round_floor_block = block;
        self.last_epoch_block = Some(block);
        self.last_epoch.clone_from(&outputs);
        Ok(outputs)
    }

    fn last_epoch(&self) -> &[NeuronOutput] {
        &self.last_epoch
    }

    fn commit_model(&mut self, uid: u16, round: u64, hash: ModelHash) -> Result<(), ChainError> {
        let netuid = self.netuid;
        self.submit(
            uid,
            Call::Commit {
                netuid,
                data: commitment_data(MODEL_KIND, round, &hash.0),
            },
        )
    }

    /// The model hashes committed for `round` that are still each validator's latest
    /// commitment (the chain keeps one per hotkey); empty if the node cannot be read.
    fn model_commitments(&self, round: u64) -> BTreeMap<u16, ModelHash> {
        self.read_commitments(MODEL_KIND, round)
            .map(|found| {
                found
                    .into_iter()
                    .map(|f| (f.uid, ModelHash(f.hash)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_data_round_trips_and_rejects_other_bytes() {
        let data = commitment_data(UPDATE_KIND, 7, &[9; 32]);
        assert_eq!(data.len(), COMMITMENT_LEN);
        assert_eq!(parse_commitment(&data), Some((UPDATE_KIND, 7, [9; 32])));
        assert_eq!(parse_commitment(&data[..40]), None);
        assert_eq!(parse_commitment(&[]), None);
    }
}
