//! [`Validator`]: one validator on its own thread, with commonware's tokio runtime and
//! authenticated, encrypted TCP p2p.
//!
//! Why a dedicated thread: commonware's runner owns its runtime (storage, clock, metrics and
//! task supervision) and cannot run inside the node's tokio runtime. The two meet only at the
//! [`Host`] calls (short, synchronous) and one bounded transaction channel.

use crate::{
    app::BuildParams,
    engine::{self, channel, Channels, EngineParams, Timeouts},
    host::Host,
    keys::ValidatorKey,
};
use commonware_cryptography::{ed25519::PublicKey, ChaCha20Poly1305, Signer as _};
use commonware_p2p::{
    authenticated::{self, discovery},
    Manager as _,
};
use commonware_runtime::{tokio as cw_tokio, Quota, Runner as _, Spawner as _, Supervisor as _};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{ordered::Set, NZUsize, TryCollect, NZU32};
use hyphae_ledger::{Header, State, Transaction};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, thread::JoinHandle, time::Duration};
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info};

/// How long the node waits for the engine to open its storage and start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One validator's settings.
#[derive(Clone, Debug)]
pub struct ValidatorConfig {
    /// This validator's key.
    pub key: ValidatorKey,
    /// Every validator's key and dialable p2p address, from the chain spec.
    pub validators: Vec<(PublicKey, SocketAddr)>,
    /// Where this validator's p2p listens (loopback unless asked otherwise).
    pub listen: SocketAddr,
    /// Folder of the engine's own storage (votes journal, block archives).
    pub storage_dir: PathBuf,
    /// The genesis header (its hash separates this chain's signatures and messages).
    pub genesis: Header,
    /// Block building.
    pub build: BuildParams,
    /// Engine timeouts.
    pub timeouts: Timeouts,
    /// Capacity of the gossip outbox (transactions admitted locally, not yet sent).
    pub gossip_capacity: usize,
}

/// Why a validator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    /// This validator's key is not in the chain spec's validator set.
    #[error("this validator's key {0} is not in the chain spec's validator set")]
    NotAValidator(String),
    /// The engine failed to start.
    #[error("consensus engine: {0}")]
    Engine(String),
    /// The engine thread cannot be spawned.
    #[error("cannot spawn the consensus thread: {0}")]
    Thread(std::io::Error),
}

/// A running validator. Dropping it without [`Validator::stop`] leaves the thread running
/// until the process exits.
#[derive(Debug)]
pub struct Validator {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    outbox: mpsc::Sender<Transaction>,
}

impl Validator {
    /// Starts the engine on its own thread; returns once its storage is open and its p2p is
    /// listening. `committed` is the state after the node's last committed block.
    pub fn start(
        config: ValidatorConfig,
        host: Arc<dyn Host>,
        committed: State,
    ) -> Result<Self, ValidatorError> {
        let me = config.key.public();
        if !config.validators.iter().any(|(key, _)| *key == me) {
            return Err(ValidatorError::NotAValidator(config.key.public_hex()));
        }
        let (outbox, outbox_rx) = mpsc::channel(config.gossip_capacity.max(1));
        let (stop, stop_rx) = oneshot::channel();
        let (started, started_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("consensus".into())
            .spawn(move || run(config, host, committed, outbox_rx, stop_rx, started))
            .map_err(ValidatorError::Thread)?;
        match started_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(())) => Ok(Self {
                stop: Some(stop),
                thread: Some(thread),
                outbox,
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(ValidatorError::Engine(error))
            }
            Err(_) => Err(ValidatorError::Engine(
                "the engine did not start in time".into(),
            )),
        }
    }

    /// Where locally admitted transactions go to be gossiped (bounded; drop when full).
    pub fn gossip(&self) -> mpsc::Sender<Transaction> {
        self.outbox.clone()
    }

    /// Stops the engine and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(
    config: ValidatorConfig,
    host: Arc<dyn Host>,
    committed: State,
    outbox: mpsc::Receiver<Transaction>,
    stop: oneshot::Receiver<()>,
    started: std::sync::mpsc::SyncSender<Result<(), String>>,
) {
    let runtime = cw_tokio::Config::new()
        .with_storage_directory(config.storage_dir.clone())
        .with_worker_threads(2)
        .with_catch_panics(false);
    let executor = cw_tokio::Runner::new(runtime);
    executor.start(|context| async move {
        let signer = config.key.private().clone();
        let me = signer.public_key();
        let namespace = config.genesis.hash().0.to_vec();
        let validators: Vec<PublicKey> = config
            .validators
            .iter()
            .map(|(key, _)| key.clone())
            .collect();
        let Ok(set) = validators.iter().cloned().try_collect::<Set<PublicKey>>() else {
            let _ = started.send(Err("the validator set repeats a key".into()));
            return;
        };
        let bootstrappers = config
            .validators
            .iter()
            .filter(|(key, _)| *key != me)
            .map(|(key, addr)| (key.clone(), (*addr).into()))
            .collect();
        let dialable = config
            .validators
            .iter()
            .find(|(key, _)| *key == me)
            .map_or(config.listen, |(_, addr)| *addr);
        let max_peers = authenticated::peer_set_limit(&set, &me);
        let mut p2p = discovery::Config::local(
            Cups::<_, ChaCha20Poly1305>::new(
                Sake {
                    signer: signer.clone(),
                    synchrony_bound: Duration::from_secs(5),
                    max_handshake_age: Duration::from_secs(10),
                    version: sake::Version::V1,
                },
                cups::Version::V1,
            ),
            &[namespace.as_slice(), b"_P2P"].concat(),
            config.listen,
            dialable,
            bootstrappers,
            max_peers,
            engine::max_message_size(validators.len()),
            NZUsize!(4_096),
        );
        // Loopback and private networks are the normal case for a validator set we list.
        p2p.allow_private_ips = true;
        let (mut network, mut oracle) = discovery::Network::new(context.child("network"), p2p);
        let _ = oracle.track(0, set);
        let consensus_rate = Quota::per_second(NZU32!(10_000));
        let block_rate = Quota::per_second(NZU32!(1_000));
        let channels = Channels {
            votes: network.register(channel::VOTES, consensus_rate),
            certificates: network.register(channel::CERTIFICATES, consensus_rate),
            resolver: network.register(channel::RESOLVER, consensus_rate),
            blocks: network.register(channel::BLOCKS, block_rate),
            backfill: network.register(channel::BACKFILL, block_rate),
            transactions: network.register(channel::TRANSACTIONS, block_rate),
        };
        network.start();
        let params = EngineParams {
            signer,
            participants: validators,
            namespace,
            genesis: config.genesis,
            build: config.build,
            timeouts: config.timeouts,
            partition: "hyphae".into(),
            mailbox_size: 4_096,
        };
        let result = engine::run(
            context.child("validator"),
            params,
            host,
            committed,
            channels,
            oracle.clone(),
            oracle,
            outbox,
        )
        .await;
        match result {
            Ok(()) => {
                info!(listen = %config.listen, "consensus engine started");
                let _ = started.send(Ok(()));
            }
            Err(error) => {
                error!(%error, "consensus engine failed to start");
                let _ = started.send(Err(error.to_string()));
                return;
            }
        }
        let _ = stop.await;
        info!("stopping the consensus engine");
        let _ = context.stop(0, Some(Duration::from_secs(10))).await;
    });
}
