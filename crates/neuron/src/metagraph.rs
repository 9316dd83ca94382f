//! [`Metagraph`]: one subnet's `subnet_metagraph` snapshot, kept fresh from the node's
//! finalized heads.
//!
//! **Is:** a read-only, cheaply cloned view of the chain's neurons (uids, hotkeys, stake,
//! validator permits, served axons) and a [`NeuronDirectory`] for the axon's blacklists and
//! rate limits. **Is not:** a cache of anything but the latest snapshot: it never holds two.
//!
//! [`Metagraph::sync`] loads a snapshot, then follows `chain_subscribeFinalizedHeads`: for each
//! finalized head newer than the snapshot it loads one new snapshot. Heads that arrive while a
//! load is running are skipped when the new snapshot already covers them, so a slow node costs
//! at most one load per head and never a backlog.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hyphae_neuron::metagraph::Metagraph;
//! use hyphae_primitives::NetUid;
//! let client = std::sync::Arc::new(hyphae_rpc::Client::connect("http://127.0.0.1:9944").await?);
//! let (_stop, stop_rx) = tokio::sync::watch::channel(false);
//! let (metagraph, _task) = Metagraph::sync(client, NetUid(1), stop_rx).await?;
//! println!("{} neurons at block {}", metagraph.snapshot().n(), metagraph.snapshot().block());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hyphae_primitives::{AccountId, NetUid};
use hyphae_rpc::types::{AxonView, MetagraphOptions, MetagraphView};
use hyphae_rpc::{Client, ClientError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::guard::{NeuronDirectory, NeuronInfo};

/// Why the metagraph cannot be loaded or followed.
#[derive(Debug, thiserror::Error)]
pub enum MetagraphError {
    /// The RPC call failed.
    #[error("metagraph of netuid {netuid}: {source}")]
    Rpc {
        /// Subnet.
        netuid: NetUid,
        /// Why.
        source: ClientError,
    },
    /// The subnet does not exist.
    #[error("netuid {netuid} does not exist")]
    NoSubnet {
        /// Subnet.
        netuid: NetUid,
    },
    /// The node ended the finalized-heads subscription.
    #[error("the node closed the finalized-heads subscription")]
    SubscriptionClosed,
    /// A wait for a condition passed its deadline.
    #[error("timed out after {waited:?} waiting for the metagraph")]
    TimedOut {
        /// How long it waited.
        waited: Duration,
    },
}

/// One snapshot with a hotkey index.
#[derive(Debug, Clone)]
pub struct Snapshot {
    view: MetagraphView,
    uid_by_hotkey: BTreeMap<AccountId, u16>,
}

impl Snapshot {
    /// Indexes a `subnet_metagraph` answer.
    pub fn new(view: MetagraphView) -> Self {
        let uid_by_hotkey = view
            .hotkeys
            .iter()
            .zip(view.uids.iter())
            .map(|(hotkey, uid)| (*hotkey, *uid))
            .collect();
        Self {
            view,
            uid_by_hotkey,
        }
    }

    /// The raw RPC view.
    pub fn view(&self) -> &MetagraphView {
        &self.view
    }

    /// Subnet.
    pub fn netuid(&self) -> NetUid {
        self.view.netuid
    }

    /// The block the snapshot was read at.
    pub fn block(&self) -> u64 {
        self.view.block
    }

    /// Number of neurons.
    pub fn n(&self) -> u16 {
        self.view.n
    }

    /// The uid of `hotkey`, if registered.
    pub fn uid_of(&self, hotkey: &AccountId) -> Option<u16> {
        self.uid_by_hotkey.get(hotkey).copied()
    }

    /// The hotkey at `uid`.
    pub fn hotkey(&self, uid: u16) -> Option<AccountId> {
        self.view.hotkeys.get(usize::from(uid)).copied()
    }

    /// What the axon's guards need to know about `uid`.
    pub fn neuron(&self, uid: u16) -> Option<NeuronInfo> {
        let index = usize::from(uid);
        Some(NeuronInfo {
            uid,
            stake_rao: self.view.stake_rao.get(index)?.0,
            validator_permit: *self.view.validator_permit.get(index)?,
        })
    }

    /// What the axon's guards need to know about `hotkey`.
    pub fn neuron_by_hotkey(&self, hotkey: &AccountId) -> Option<NeuronInfo> {
        self.neuron(self.uid_of(hotkey)?)
    }

    /// The axon served at `uid`, if any.
    pub fn axon(&self, uid: u16) -> Option<&AxonView> {
        self.view.axons.get(usize::from(uid))?.as_ref()
    }

    /// Every uid with a served axon, with a dendrite target for it.
    pub fn serving(&self) -> Vec<(u16, crate::dendrite::AxonInfo)> {
        self.view
            .uids
            .iter()
            .filter_map(|&uid| {
                let axon = self.axon(uid)?;
                let hotkey = self.hotkey(uid)?;
                Some((
                    uid,
                    crate::dendrite::AxonInfo {
                        ip: axon.ip.clone(),
                        port: axon.port,
                        hotkey: hotkey.to_ss58(),
                    },
                ))
            })
            .collect()
    }

    /// The stored weight row of `uid` (only when synced with weights).
    pub fn weights(&self, uid: u16) -> Option<&[(u16, u16)]> {
        self.view
            .weights
            .as_ref()?
            .get(usize::from(uid))
            .map(Vec::as_slice)
    }
}

/// A live metagraph: clone it freely, every clone sees the newest snapshot.
#[derive(Debug, Clone)]
pub struct Metagraph {
    netuid: NetUid,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    /// A fixed metagraph keeps its own sender so waits wait instead of failing at once.
    _fixed: Option<Arc<watch::Sender<Arc<Snapshot>>>>,
}

/// Sync settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Also load the weight rows (heavier: the whole `W`).
    pub weights: bool,
}

async fn load(
    client: &Client,
    netuid: NetUid,
    options: SyncOptions,
) -> Result<Snapshot, MetagraphError> {
    let options = MetagraphOptions {
        weights: options.weights,
        bonds: false,
    };
    let view = client
        .metagraph(netuid, options)
        .await
        .map_err(|source| MetagraphError::Rpc { netuid, source })?
        .ok_or(MetagraphError::NoSubnet { netuid })?;
    Ok(Snapshot::new(view))
}

impl Metagraph {
    /// A metagraph fixed at one snapshot (tests, offline tools).
    pub fn fixed(snapshot: Snapshot) -> Self {
        let netuid = snapshot.netuid();
        let (sender, snapshots) = watch::channel(Arc::new(snapshot));
        Self {
            netuid,
            snapshots,
            _fixed: Some(Arc::new(sender)),
        }
    }

    /// Loads the first snapshot, then refreshes it on every new finalized head until `stop`
    /// turns true (or its sender is dropped). The task ends with the error that stopped it.
    pub async fn sync(
        client: Arc<Client>,
        netuid: NetUid,
        stop: watch::Receiver<bool>,
    ) -> Result<(Self, JoinHandle<Result<(), MetagraphError>>), MetagraphError> {
        Self::sync_with(client, netuid, SyncOptions::default(), stop).await
    }

    /// [`Metagraph::sync`] with options.
    pub async fn sync_with(
        client: Arc<Client>,
        netuid: NetUid,
        options: SyncOptions,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(Self, JoinHandle<Result<(), MetagraphError>>), MetagraphError> {
        let mut heads = client
            .subscribe_finalized_heads()
            .await
            .map_err(|source| MetagraphError::Rpc { netuid, source })?;
        let first = load(&client, netuid, options).await?;
        info!(netuid = %netuid, block = first.block(), n = first.n(), "metagraph loaded");
        let (sender, snapshots) = watch::channel(Arc::new(first));
        let task = tokio::spawn(async move {
            loop {
                let head = tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return Ok(()),
                    head = heads.next() => head,
                };
                let head = match head {
                    Some(Ok(head)) => head,
                    Some(Err(error)) => {
                        warn!(netuid = %netuid, %error, "undecodable finalized head skipped");
                        continue;
                    }
                    None => return Err(MetagraphError::SubscriptionClosed),
                };
                if sender.borrow().block() >= head.number {
                    continue;
                }
                match load(&client, netuid, options).await {
                    Ok(snapshot) => {
                        debug!(netuid = %netuid, block = snapshot.block(), n = snapshot.n(), "metagraph refreshed");
                        sender.send_replace(Arc::new(snapshot));
                    }
                    Err(MetagraphError::NoSubnet { netuid }) => {
                        return Err(MetagraphError::NoSubnet { netuid })
                    }
                    Err(error) => warn!(netuid = %netuid, %error, "metagraph refresh failed"),
                }
            }
        });
        Ok((
            Self {
                netuid,
                snapshots,
                _fixed: None,
            },
            task,
        ))
    }

    /// Subnet.
    pub fn netuid(&self) -> NetUid {
        self.netuid
    }

    /// The newest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    /// Waits until a snapshot satisfies `done`, for at most `limit`, and returns it.
    pub async fn wait_for(
        &self,
        limit: Duration,
        mut done: impl FnMut(&Snapshot) -> bool,
    ) -> Result<Arc<Snapshot>, MetagraphError> {
        let mut snapshots = self.snapshots.clone();
        let waited = tokio::time::timeout(limit, snapshots.wait_for(|s| done(s))).await;
        match waited {
            Ok(Ok(snapshot)) => Ok(Arc::clone(&snapshot)),
            Ok(Err(_)) => Err(MetagraphError::SubscriptionClosed),
            Err(_) => Err(MetagraphError::TimedOut { waited: limit }),
        }
    }

    /// Waits for the next snapshot (or the sync's end).
    pub async fn changed(&mut self) -> Result<Arc<Snapshot>, MetagraphError> {
        self.snapshots
            .changed()
            .await
            .map_err(|_| MetagraphError::SubscriptionClosed)?;
        Ok(Arc::clone(&self.snapshots.borrow_and_update()))
    }
}

impl NeuronDirectory for Metagraph {
    fn lookup(&self, hotkey: &str) -> Option<NeuronInfo> {
        let hotkey = AccountId::from_ss58(hotkey).ok()?;
        self.snapshots.borrow().neuron_by_hotkey(&hotkey)
    }
}
