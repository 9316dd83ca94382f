//! The miner and validator runtime: a library that runs a subnet's [`Miner`] or [`Validator`]
//! against a node, not a template to copy.
//!
//! [`run_miner`]: checks that the hotkey is registered on the netuid (else
//! [`RuntimeError::NotRegistered`]), follows the [`Metagraph`], lets the miner attach its
//! synapse handlers, serves the axon, publishes it on chain with `serve_axon` when the
//! on-chain endpoint differs, and runs until `stop` turns true.
//!
//! Both runtimes end with [`RuntimeError::Metagraph`] when the metagraph sync ends on its own
//! (the node went away or closed the subscription): serving or scoring on a frozen metagraph
//! would go on trusting stale registrations, so they stop and let a supervisor restart them.
//!
//! [`run_validator`]: the same registration check and metagraph sync, then one round per
//! `round_interval`: query every other serving axon with the dendrite (at most
//! `queries_in_flight_max` at once), [`Validator::score`] the answers, and set the weights when
//! the subnet's rate limit lets it (`subnet_epochTiming`). When the subnet uses commit-reveal,
//! the weights are committed first and revealed in the reveal epoch
//! (`commit epoch + reveal_period_epochs`); no new commit is made while one waits.
//!
//! Transactions are signed by the hotkey (which pays their fees) with the nonce the node
//! expects next, and followed until final or `tx_timeout`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hyphae_keys::Keypair;
use hyphae_ledger::serving::AxonArgs;
use hyphae_ledger::weights::{commit_hash, WeightsArgs};
use hyphae_ledger::{Call, Transaction};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError};
use hyphae_rpc::types::{AxonView, TxStatus};
use hyphae_rpc::{Client, ClientError};
use tokio::sync::watch;
use tracing::{debug, info, instrument, warn};

use crate::axon::{Axon, AxonConfig, AxonHandle};
use crate::dendrite::{Dendrite, DendriteConfig, DendriteError};
use crate::metagraph::{Metagraph, MetagraphError, Snapshot, SyncOptions};
use crate::synapse::{Synapse, SynapseMessage, SDK_VERSION};

/// Why a miner or validator stopped.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The hotkey has no uid on the subnet.
    #[error("hotkey {hotkey} is not registered on netuid {netuid}; register it first (`hyphae subnet register`)")]
    NotRegistered {
        /// The hotkey.
        hotkey: AccountId,
        /// The subnet.
        netuid: NetUid,
    },
    /// The subnet does not exist.
    #[error("netuid {netuid} does not exist")]
    NoSubnet {
        /// The subnet.
        netuid: NetUid,
    },
    /// Metagraph sync failed.
    #[error(transparent)]
    Metagraph(#[from] MetagraphError),
    /// An RPC call failed.
    #[error("{what}: {source}")]
    Rpc {
        /// What was being done.
        what: &'static str,
        /// Why.
        source: ClientError,
    },
    /// A transaction was included but failed, or was dropped.
    #[error("{call} failed on chain: {}", TxError::from_code(*code).map_or_else(|| format!("error {code}"), |e| e.name().to_owned()))]
    TxFailed {
        /// The call's name.
        call: &'static str,
        /// The [`TxError`] code.
        code: u16,
    },
    /// A transaction was not final in time.
    #[error("{call} was not final within {waited:?}")]
    TxTimedOut {
        /// The call's name.
        call: &'static str,
        /// How long it waited.
        waited: Duration,
    },
    /// The axon could not be served.
    #[error("cannot serve the axon: {0}")]
    Serve(#[from] std::io::Error),
    /// The dendrite could not be built.
    #[error(transparent)]
    Dendrite(#[from] DendriteError),
}

/// What both runtimes need.
#[derive(Clone)]
pub struct NeuronConfig {
    /// The node.
    pub client: Arc<Client>,
    /// The subnet.
    pub netuid: NetUid,
    /// The hotkey: signs requests and transactions.
    pub hotkey: Keypair,
    /// How long a transaction may take to become final.
    pub tx_timeout: Duration,
}

impl std::fmt::Debug for NeuronConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuronConfig")
            .field("netuid", &self.netuid)
            .field("hotkey", &self.hotkey.account_id())
            .field("tx_timeout", &self.tx_timeout)
            .finish()
    }
}

/// Miner settings.
#[derive(Debug, Clone)]
pub struct MinerConfig {
    /// Node, subnet, hotkey.
    pub neuron: NeuronConfig,
    /// The axon's settings (its `bind` is where it listens).
    pub axon: AxonConfig,
    /// The address published on chain; the bound address when `None`.
    pub external: Option<SocketAddr>,
}

/// Validator settings.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// Node, subnet, hotkey.
    pub neuron: NeuronConfig,
    /// The dendrite's settings.
    pub dendrite: DendriteConfig,
    /// Time between query rounds.
    pub round_interval: Duration,
    /// Axons queried at once.
    pub queries_in_flight_max: usize,
    /// Per-query timeout, seconds.
    pub query_timeout_s: f64,
}

/// A subnet's miner: what it serves.
pub trait Miner: Send + Sync + 'static {
    /// Attaches the synapse handlers (and their blacklists: `metagraph` is a
    /// [`NeuronDirectory`](crate::guard::NeuronDirectory)) to `axon`.
    fn attach(&self, axon: Axon, metagraph: &Metagraph) -> Axon;
}

/// A subnet's validator: what it asks and how it scores.
pub trait Validator: Send + Sync + 'static {
    /// The synapse sent to miners.
    type Query: Synapse;
    /// This round's query.
    fn query(&self, metagraph: &Snapshot) -> Self::Query;
    /// Weights `(uid, weight)` from the answers of this round, `(uid, answer)` in uid order.
    /// An empty result sets no weights.
    fn score(
        &self,
        metagraph: &Snapshot,
        responses: &[(u16, SynapseMessage<Self::Query>)],
    ) -> Vec<(u16, u16)>;
}

type SyncTask = tokio::task::JoinHandle<Result<(), MetagraphError>>;

/// What the end of the metagraph sync task means for its runtime: `Ok` when it saw `stop`
/// (its only clean end), otherwise no more snapshots will come.
fn sync_ended(
    ended: Result<Result<(), MetagraphError>, tokio::task::JoinError>,
) -> Result<(), RuntimeError> {
    match ended {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(RuntimeError::Metagraph(error)),
        // Panicked or aborted.
        Err(_) => Err(RuntimeError::Metagraph(MetagraphError::SubscriptionClosed)),
    }
}

/// Waits until `stop` turns true (`Ok`) or the metagraph sync ends (`Err`), whichever is first.
async fn until_stopped(
    stop: &mut watch::Receiver<bool>,
    sync: &mut SyncTask,
) -> Result<(), RuntimeError> {
    tokio::select! {
        _ = stop.wait_for(|stopped| *stopped) => Ok(()),
        ended = sync => sync_ended(ended),
    }
}

async fn sync_registered(
    neuron: &NeuronConfig,
    options: SyncOptions,
    stop: watch::Receiver<bool>,
) -> Result<
    (
        Metagraph,
        tokio::task::JoinHandle<Result<(), MetagraphError>>,
        u16,
    ),
    RuntimeError,
> {
    let (metagraph, task) =
        Metagraph::sync_with(Arc::clone(&neuron.client), neuron.netuid, options, stop)
            .await
            .map_err(|error| match error {
                MetagraphError::NoSubnet { netuid } => RuntimeError::NoSubnet { netuid },
                other => other.into(),
            })?;
    let hotkey = neuron.hotkey.account_id();
    let Some(uid) = metagraph.snapshot().uid_of(&hotkey) else {
        task.abort();
        return Err(RuntimeError::NotRegistered {
            hotkey,
            netuid: neuron.netuid,
        });
    };
    info!(netuid = %neuron.netuid, %hotkey, uid, "registered");
    Ok((metagraph, task, uid))
}

/// Whether `ip` is an address on the public internet: not loopback, private, shared (CGNAT),
/// link-local, unspecified, broadcast, documentation or multicast, nor an IPv6 unique-local
/// or link-local one (an IPv4-mapped IPv6 address is judged as its IPv4 address). Text that
/// is not an IP address is not public.
pub fn is_public_address(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => is_public_v4(v4),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => {
                let first = v6.segments().first().copied().unwrap_or_default();
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || first & 0xfe00 == 0xfc00
                    || first & 0xffc0 == 0xfe80)
            }
        },
        Err(_) => false,
    }
}

fn is_public_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && b & 0xc0 == 64;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || shared)
}

/// Signs `call` with the hotkey and waits until it is final and succeeded.
async fn submit(neuron: &NeuronConfig, name: &'static str, call: Call) -> Result<(), RuntimeError> {
    let rpc = |what| move |source| RuntimeError::Rpc { what, source };
    let client = &neuron.client;
    let info = client.info().await.map_err(rpc("system_info"))?;
    let account = client
        .account(&neuron.hotkey.account_id())
        .await
        .map_err(rpc("account_get"))?;
    let tx = Transaction::sign(
        &neuron.hotkey,
        &info.genesis_hash,
        account.next_nonce,
        Rao::ZERO,
        call,
    );
    let mut watch = client.submit_and_watch(&tx).await.map_err(rpc(name))?;
    let status = tokio::time::timeout(
        neuron.tx_timeout,
        watch.wait_for(|status| matches!(status, TxStatus::Finalized { .. })),
    )
    .await
    .map_err(|_| RuntimeError::TxTimedOut {
        call: name,
        waited: neuron.tx_timeout,
    })?
    .map_err(rpc(name))?;
    match status {
        TxStatus::Finalized {
            error: None, block, ..
        } => {
            info!(call = name, block, "transaction final");
            Ok(())
        }
        TxStatus::Finalized {
            error: Some(code), ..
        }
        | TxStatus::Dropped { error: code, .. } => Err(RuntimeError::TxFailed { call: name, code }),
        // `wait_for` returns only final or dropped statuses.
        TxStatus::Ready { .. } | TxStatus::Included { .. } => Err(RuntimeError::TxTimedOut {
            call: name,
            waited: neuron.tx_timeout,
        }),
    }
}

fn axon_args(address: SocketAddr) -> AxonArgs {
    let (ip, ip_type) = match address.ip() {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4),
        IpAddr::V6(v6) => (u128::from(v6), 6),
    };
    AxonArgs {
        version: u32::try_from(SDK_VERSION).unwrap_or(u32::MAX),
        ip,
        port: address.port(),
        ip_type,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    }
}

fn serves_at(on_chain: Option<&AxonView>, address: SocketAddr) -> bool {
    on_chain.is_some_and(|axon| {
        axon.port == address.port() && axon.ip.parse::<IpAddr>().ok() == Some(address.ip())
    })
}

/// Runs a miner until `stop` turns true (or its sender is dropped).
#[instrument(skip_all, fields(netuid = %config.neuron.netuid, hotkey = %config.neuron.hotkey.account_id()))]
pub async fn run_miner(
    config: MinerConfig,
    miner: impl Miner,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RuntimeError> {
    let neuron = &config.neuron;
    let (metagraph, mut sync, uid) =
        sync_registered(neuron, SyncOptions::default(), stop.clone()).await?;
    let directory: Arc<dyn crate::guard::NeuronDirectory> = Arc::new(metagraph.clone());
    let axon = Axon::with_directory(neuron.hotkey.clone(), config.axon.clone(), Some(directory));
    let axon = miner.attach(axon, &metagraph).serve().await?;
    let external = config.external.unwrap_or_else(|| axon.local_addr());
    info!(uid, listen = %axon.local_addr(), %external, "axon serving");
    let served = serve_on_chain(neuron, &metagraph, uid, external).await;
    let result = match served {
        Ok(()) => until_stopped(&mut stop, &mut sync).await,
        Err(error) => Err(error),
    };
    shutdown(axon, sync).await;
    info!("miner stopped");
    result
}

async fn serve_on_chain(
    neuron: &NeuronConfig,
    metagraph: &Metagraph,
    uid: u16,
    external: SocketAddr,
) -> Result<(), RuntimeError> {
    if serves_at(metagraph.snapshot().axon(uid), external) {
        debug!(%external, "on-chain axon is current");
        return Ok(());
    }
    let call = Call::ServeAxon {
        netuid: neuron.netuid,
        axon: axon_args(external),
    };
    submit(neuron, "serve_axon", call).await
}

async fn shutdown(axon: AxonHandle, sync: SyncTask) {
    if let Err(error) = axon.shutdown().await {
        warn!(%error, "axon shutdown");
    }
    sync.abort();
}

/// A commit waiting for its reveal epoch.
#[derive(Debug)]
struct PendingCommit {
    args: WeightsArgs,
    salt: Vec<u16>,
    reveal_epoch: u64,
}

/// Runs a validator until `stop` turns true (or its sender is dropped).
#[instrument(skip_all, fields(netuid = %config.neuron.netuid, hotkey = %config.neuron.hotkey.account_id()))]
pub async fn run_validator(
    config: ValidatorConfig,
    validator: impl Validator,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RuntimeError> {
    let neuron = &config.neuron;
    let (metagraph, mut sync, uid) =
        sync_registered(neuron, SyncOptions::default(), stop.clone()).await?;
    let dendrite = Dendrite::new(neuron.hotkey.clone(), config.dendrite.clone())?;
    // Outside dev chains, an axon a miner says is at a loopback, private or link-local address
    // is not queried: the validator would be sending signed requests into its own network.
    let private_ok = neuron
        .client
        .info()
        .await
        .map_err(|source| RuntimeError::Rpc {
            what: "system_info",
            source,
        })?
        .dev;
    let mut rounds = tokio::time::interval(config.round_interval);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut pending: Option<PendingCommit> = None;
    let result = loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break Ok(()),
            ended = &mut sync => break sync_ended(ended),
            _ = rounds.tick() => {}
        }
        let snapshot = metagraph.snapshot();
        if snapshot.uid_of(&neuron.hotkey.account_id()) != Some(uid) {
            break Err(RuntimeError::NotRegistered {
                hotkey: neuron.hotkey.account_id(),
                netuid: neuron.netuid,
            });
        }
        // A round in progress (queries, a transaction being followed) is abandoned on stop.
        let round = async {
            let weights =
                query_round(&config, &dendrite, &validator, &snapshot, uid, private_ok).await;
            set_weights(neuron, weights, &mut pending).await
        };
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break Ok(()),
            ended = &mut sync => break sync_ended(ended),
            outcome = round => if let Err(error) = outcome {
                warn!(%error, "weights not set this round");
            },
        }
    };
    sync.abort();
    info!("validator stopped");
    result
}

async fn query_round<V: Validator>(
    config: &ValidatorConfig,
    dendrite: &Dendrite,
    validator: &V,
    snapshot: &Snapshot,
    own_uid: u16,
    private_ok: bool,
) -> Vec<(u16, u16)> {
    let targets: Vec<_> = snapshot
        .serving()
        .into_iter()
        .filter(|(uid, _)| *uid != own_uid)
        .filter(|(_, target)| private_ok || is_public_address(&target.ip))
        .collect();
    if targets.is_empty() {
        debug!(block = snapshot.block(), "no serving axons to query");
        return Vec::new();
    }
    let query = validator.query(snapshot);
    let timeout_s = config.query_timeout_s;
    let mut responses: Vec<(u16, SynapseMessage<V::Query>)> = futures_util::stream::iter(targets)
        .map(|(uid, target)| {
            let query = query.clone();
            async move { (uid, dendrite.call(&target, query, timeout_s).await) }
        })
        .buffer_unordered(config.queries_in_flight_max.max(1))
        .collect()
        .await;
    responses.sort_by_key(|(uid, _)| *uid);
    let answered = responses.iter().filter(|(_, m)| m.is_success()).count();
    info!(
        block = snapshot.block(),
        queried = responses.len(),
        answered,
        "query round"
    );
    validator.score(snapshot, &responses)
}

/// Reveals a due commit, or sets (or commits) `weights` when the rate limit allows.
async fn set_weights(
    neuron: &NeuronConfig,
    weights: Vec<(u16, u16)>,
    pending: &mut Option<PendingCommit>,
) -> Result<(), RuntimeError> {
    let netuid = neuron.netuid;
    let hotkey = neuron.hotkey.account_id();
    let timing = neuron
        .client
        .epoch_timing(netuid, Some(hotkey))
        .await
        .map_err(|source| RuntimeError::Rpc {
            what: "subnet_epochTiming",
            source,
        })?
        .ok_or(RuntimeError::NoSubnet { netuid })?;
    if let Some(commit) = pending.take() {
        if timing.epoch_index < commit.reveal_epoch {
            debug!(
                epoch = timing.epoch_index,
                reveal_epoch = commit.reveal_epoch,
                "waiting to reveal"
            );
            *pending = Some(commit);
            return Ok(());
        }
        // The commit's epoch is read just before it lands, so an epoch may have passed in
        // between: a reveal one epoch late is still tried.
        if timing.epoch_index > commit.reveal_epoch.saturating_add(1) {
            warn!(
                epoch = timing.epoch_index,
                reveal_epoch = commit.reveal_epoch,
                "weight commit expired unrevealed"
            );
        } else {
            let call = Call::RevealWeights {
                netuid,
                weights: commit.args.clone(),
                salt: commit.salt.clone(),
            };
            match submit(neuron, "reveal_weights", call).await {
                Ok(()) => info!(n_weights = commit.args.uids.len(), "weights revealed"),
                Err(error) => {
                    *pending = Some(commit);
                    return Err(error);
                }
            }
        }
        return Ok(());
    }
    if weights.is_empty() {
        return Ok(());
    }
    let next_block = timing
        .hotkey
        .as_ref()
        .and_then(|hotkey| hotkey.next_weights_block);
    // The transaction lands in the block after the best one.
    if next_block.is_some_and(|next| timing.block.saturating_add(1) < next) {
        debug!(block = timing.block, ?next_block, "weights rate-limited");
        return Ok(());
    }
    let (uids, values) = weights.into_iter().unzip();
    let args = WeightsArgs {
        uids,
        values,
        version_key: SDK_VERSION,
    };
    if !timing.commit_reveal {
        let n_weights = args.uids.len();
        submit(
            neuron,
            "set_weights",
            Call::SetWeights {
                netuid,
                weights: args,
            },
        )
        .await?;
        info!(n_weights, "weights set");
        return Ok(());
    }
    let subnet = neuron
        .client
        .subnet(netuid)
        .await
        .map_err(|source| RuntimeError::Rpc {
            what: "subnet_get",
            source,
        })?
        .ok_or(RuntimeError::NoSubnet { netuid })?;
    let salt: Vec<u16> = (0..8).map(|_| rand::random::<u16>()).collect();
    let hash = commit_hash(&hotkey, netuid, &args, &salt);
    submit(
        neuron,
        "commit_weights",
        Call::CommitWeights { netuid, hash },
    )
    .await?;
    let reveal_epoch = timing
        .epoch_index
        .saturating_add(subnet.hyperparameters.reveal_period_epochs);
    info!(
        n_weights = args.uids.len(),
        reveal_epoch, "weights committed"
    );
    *pending = Some(PendingCommit {
        args,
        salt,
        reveal_epoch,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for public in [
            "8.8.8.8",
            "100.128.0.1",
            "2001:4860::8888",
            "::ffff:8.8.4.4",
        ] {
            assert!(is_public_address(public), "{public}");
        }
        for private in [
            "127.0.0.2",
            "10.0.0.5",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.1",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "not an address",
        ] {
            assert!(!is_public_address(private), "{private}");
        }
    }

    #[test]
    fn on_chain_axon_comparison() {
        let address: SocketAddr = "10.0.0.2:8091".parse().unwrap();
        let args = axon_args(address);
        assert_eq!(args.ip, 0x0a00_0002);
        assert_eq!(args.ip_type, 4);
        let view = AxonView {
            block: 1,
            version: 0,
            ip: "10.0.0.2".into(),
            port: 8091,
            ip_type: 4,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        };
        assert!(serves_at(Some(&view), address));
        assert!(!serves_at(Some(&view), "10.0.0.2:8092".parse().unwrap()));
        assert!(!serves_at(None, address));
    }

    #[tokio::test]
    async fn a_dead_metagraph_sync_ends_the_wait() {
        let (_stop_tx, mut stop) = watch::channel(false);
        let mut sync: SyncTask = tokio::spawn(async { Err(MetagraphError::SubscriptionClosed) });
        let ended =
            tokio::time::timeout(Duration::from_secs(10), until_stopped(&mut stop, &mut sync))
                .await
                .expect("the wait ignored the sync's end");
        assert!(
            matches!(
                ended,
                Err(RuntimeError::Metagraph(MetagraphError::SubscriptionClosed))
            ),
            "{ended:?}"
        );
        // a stop still ends it cleanly
        let (stop_tx, mut stop) = watch::channel(false);
        let mut sync: SyncTask = tokio::spawn(std::future::pending());
        stop_tx.send(true).unwrap();
        assert!(until_stopped(&mut stop, &mut sync).await.is_ok());
        sync.abort();
    }
}
