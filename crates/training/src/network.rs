//! The networked path: each miner serves its encoded updates from a real [`Axon`] on
//! 127.0.0.1 as a [`GetUpdate`] synapse, and validators fetch them with a real [`Dendrite`].
//!
//! [`NetworkedUpdates`] is an [`UpdateSource`]: the simulation publishes each committed
//! update to the serving miner's axon and the validators read it back over HTTP, signed
//! and verified by the neuron SDK. Nothing else in a round changes, so a networked run
//! and an in-process run of the same config produce the same model hashes.
//!
//! Async stays inside this adapter: it owns a small tokio runtime and blocks on it, so
//! the simulation's core remains synchronous.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hyphae_keys::Keypair;
use hyphae_neuron::axon::{Axon, AxonConfig, AxonHandle, ForwardError};
use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig, DendriteError};
use hyphae_neuron::synapse::{Synapse, SynapseMessage};
use serde::{Deserialize, Serialize};

use crate::miner::{ServedUpdates, UpdateSource};

/// Seconds a validator waits for one update.
const FETCH_TIMEOUT_S: f64 = 12.0;
/// Runtime threads: the axons and the dendrite only move a few hundred bytes per call.
const WORKER_THREADS: usize = 2;

/// A validator's request for a miner's update of `round`; the miner fills `update_hex`
/// with the encoded update (hex), or leaves it empty when it has none.
#[derive(Debug, Clone, Serialize, Deserialize, Synapse)]
#[synapse(hash(round))]
pub struct GetUpdate {
    /// The round whose update is asked for.
    pub round: u64,
    /// The encoded update, hex; `None` in the request.
    #[serde(default)]
    pub update_hex: Option<String>,
}

/// Why the networked path could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The tokio runtime could not be built.
    #[error("starting the network runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A miner's axon could not bind.
    #[error("binding uid {uid}'s axon: {source}")]
    Bind { uid: u16, source: std::io::Error },
    /// The validator's dendrite could not be built.
    #[error(transparent)]
    Dendrite(#[from] DendriteError),
}

/// Miners' axons and one validator's dendrite, on 127.0.0.1.
pub struct NetworkedUpdates {
    runtime: tokio::runtime::Runtime,
    served: Arc<Mutex<ServedUpdates>>,
    axons: Vec<AxonHandle>,
    targets: BTreeMap<u16, AxonInfo>,
    dendrite: Dendrite,
}

impl std::fmt::Debug for NetworkedUpdates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkedUpdates")
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

impl NetworkedUpdates {
    /// Starts one axon per `(uid, hotkey)` on an ephemeral port and a dendrite signing
    /// with `validator`.
    pub fn start(miners: Vec<(u16, Keypair)>, validator: Keypair) -> Result<Self, NetworkError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .enable_all()
            .build()
            .map_err(NetworkError::Runtime)?;
        let served = Arc::new(Mutex::new(ServedUpdates::new()));
        let mut axons = Vec::with_capacity(miners.len());
        let mut targets = BTreeMap::new();
        for (uid, hotkey) in miners {
            let handle = runtime
                .block_on(serve_updates(
                    uid,
                    hotkey,
                    Ipv4Addr::LOCALHOST,
                    Arc::clone(&served),
                ))
                .map_err(|source| NetworkError::Bind { uid, source })?;
            targets.insert(
                uid,
                AxonInfo {
                    ip: "127.0.0.1".to_owned(),
                    port: handle.local_addr().port(),
                    hotkey: handle.hotkey().to_owned(),
                },
            );
            axons.push(handle);
        }
        let dendrite = {
            let _context = runtime.enter();
            Dendrite::new(validator, DendriteConfig::default())?
        };
        Ok(Self {
            runtime,
            served,
            axons,
            targets,
            dendrite,
        })
    }

    /// Where each miner's axon listens.
    #[must_use]
    pub fn targets(&self) -> &BTreeMap<u16, AxonInfo> {
        &self.targets
    }

    /// Stops every axon.
    pub fn shutdown(self) -> std::io::Result<()> {
        let Self { runtime, axons, .. } = self;
        runtime.block_on(async {
            for axon in axons {
                axon.shutdown().await?;
            }
            Ok(())
        })
    }
}

/// Serves `uid`'s updates from `served` on `ip`, any port.
pub(crate) async fn serve_updates(
    uid: u16,
    hotkey: Keypair,
    ip: Ipv4Addr,
    served: Arc<Mutex<ServedUpdates>>,
) -> std::io::Result<AxonHandle> {
    let config = AxonConfig {
        bind: SocketAddr::new(IpAddr::V4(ip), 0),
        ..AxonConfig::default()
    };
    let forward = move |message: SynapseMessage<GetUpdate>| {
        let served = Arc::clone(&served);
        async move {
            let mut request = message.body;
            let bytes = served
                .lock()
                .map_err(|_| ForwardError::new("update store poisoned"))?
                .get(&(request.round, uid))
                .cloned();
            request.update_hex = bytes.map(hex::encode);
            Ok(request)
        }
    };
    Axon::new(hotkey, config).attach(forward).serve().await
}

impl UpdateSource for NetworkedUpdates {
    fn publish(&mut self, uid: u16, round: u64, bytes: &[u8]) {
        publish_update(&self.served, uid, round, bytes);
    }

    fn fetch(&mut self, uid: u16, round: u64) -> Option<Vec<u8>> {
        fetch_update(
            &self.runtime,
            &self.dendrite,
            self.targets.get(&uid)?,
            round,
        )
    }
}

/// Stores an update for the axons to serve.
pub(crate) fn publish_update(served: &Mutex<ServedUpdates>, uid: u16, round: u64, bytes: &[u8]) {
    // A poisoned lock means a forward panicked; the update is then simply not served and
    // validators see it as missing.
    if let Ok(mut served) = served.lock() {
        served.insert((round, uid), bytes.to_vec());
    }
}

/// Asks the axon at `target` for its update of `round`; `None` when it has none or fails.
pub(crate) fn fetch_update(
    runtime: &tokio::runtime::Runtime,
    dendrite: &Dendrite,
    target: &AxonInfo,
    round: u64,
) -> Option<Vec<u8>> {
    let request = GetUpdate {
        round,
        update_hex: None,
    };
    let answer = runtime.block_on(dendrite.call(target, request, FETCH_TIMEOUT_S));
    if !answer.is_success() {
        return None;
    }
    hex::decode(answer.body.update_hex?).ok()
}
