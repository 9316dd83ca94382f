//! Wiring: simplex (votes and certificates over digests) + marshal (whole blocks, in order,
//! with backfill) + buffered broadcast (block relay) + the p2p resolver + transaction gossip,
//! around [`App`]. Generic over the runtime and the network, so the same code runs on the tokio
//! runtime with authenticated TCP p2p and on the deterministic runtime with a simulated network.

use crate::{
    app::{App, BuildParams, Chain, Finalizer},
    block::{digest_of, ChainBlock},
    host::Host,
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::Actor,
        resolver::p2p as resolver,
        standard::{Inline, Standard},
        Start,
    },
    simplex::{self, elector::RoundRobin, scheme::ed25519::Scheme, ForwardPolicy, SkipPolicy},
    types::{Epoch, FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    certificate::{ConstantProvider, Verifier as _},
    ed25519::{PrivateKey, PublicKey},
    Digested, Sha256, Signer as _,
};
use commonware_p2p::{Blocker, Provider, Receiver, Recipients, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{buffer::paged::CacheRef, Clock, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::{ordered::Set, NZDuration, NZUsize, TryCollect, NZU16, NZU64};
use hyphae_ledger::{Block, Header, State, Transaction};
use parity_scale_codec::{Decode, Encode};
use std::{
    num::NonZeroU64,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Most transactions in one gossip message.
pub const GOSSIP_BATCH_MAX: usize = 512;
/// Largest gossip message, bytes.
pub const GOSSIP_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Timeouts of the simplex engine.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// How long a view waits for the leader's proposal.
    pub leader: Duration,
    /// How long a view waits for a notarization certificate.
    pub certification: Duration,
    /// How often a timed-out view re-broadcasts its nullify vote.
    pub retry: Duration,
}

impl Timeouts {
    /// Timeouts for a block interval: the leader may take the whole interval to propose
    /// (it waits for its parent to age), plus a second for the network and execution.
    pub fn for_block_time(block_time: Duration) -> Self {
        let leader = block_time.saturating_add(Duration::from_secs(1));
        Self {
            leader,
            certification: leader.saturating_add(Duration::from_secs(1)),
            retry: Duration::from_secs(1),
        }
    }
}

/// Everything a validator needs besides the network.
#[derive(Clone, Debug)]
pub struct EngineParams {
    /// This validator's consensus key.
    pub signer: PrivateKey,
    /// The validator set, from the chain spec.
    pub participants: Vec<PublicKey>,
    /// Separates this chain's signatures from every other chain's (the genesis hash).
    pub namespace: Vec<u8>,
    /// The genesis header.
    pub genesis: Header,
    /// Block building.
    pub build: BuildParams,
    /// Engine timeouts.
    pub timeouts: Timeouts,
    /// Prefix of the engine's storage partitions.
    pub partition: String,
    /// Capacity of every engine mailbox.
    pub mailbox_size: usize,
}

/// The p2p channels the engine uses, one (sender, receiver) pair each.
#[derive(Debug)]
pub struct Channels<S, R> {
    /// Simplex votes.
    pub votes: (S, R),
    /// Simplex certificates.
    pub certificates: (S, R),
    /// Simplex certificate fetches.
    pub resolver: (S, R),
    /// Block broadcast.
    pub blocks: (S, R),
    /// Block backfill.
    pub backfill: (S, R),
    /// Transaction gossip.
    pub transactions: (S, R),
}

/// p2p channel numbers.
pub mod channel {
    /// Simplex votes.
    pub const VOTES: u64 = 0;
    /// Simplex certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Simplex fetches.
    pub const RESOLVER: u64 = 2;
    /// Block broadcast.
    pub const BLOCKS: u64 = 3;
    /// Block backfill.
    pub const BACKFILL: u64 = 4;
    /// Transaction gossip.
    pub const TRANSACTIONS: u64 = 5;
}

/// The largest message any channel carries: a whole block in a backfill response.
pub fn max_message_size(validators: usize) -> u32 {
    let participants = u32::try_from(validators).unwrap_or(u32::MAX);
    let consensus = simplex::max_payload_size::<Scheme, crate::block::Digest>(participants.max(1));
    let blocks =
        marshal::max_payload_size::<Standard<ChainBlock>, Scheme>(participants.max(1), &());
    let largest = consensus.max(blocks).max(GOSSIP_BYTES_MAX);
    u32::try_from(largest).unwrap_or(u32::MAX)
}

/// Why the engine cannot start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The validator set is empty, has duplicates, or lacks this validator.
    #[error("the validator set is empty, repeats a key, or does not contain this validator")]
    ValidatorSet,
    /// A storage archive failed to open.
    #[error("storage: {0}")]
    Storage(String),
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec: C,
) -> immutable::Config<C> {
    let buffer = NZUsize!(1024 * 1024);
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 4,
        freezer_table_resize_chunk_size: 256,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(1024),
        codec_config: codec,
        replay_buffer: buffer,
        freezer_key_write_buffer: buffer,
        freezer_value_write_buffer: buffer,
        ordinal_write_buffer: buffer,
    }
}

/// Runs a validator until the runtime stops. `committed` is the state after the last block the
/// host committed; `outbox` carries transactions this node admitted, to gossip.
#[allow(clippy::too_many_arguments)]
pub async fn run<E, S, R, P, B>(
    context: E,
    params: EngineParams,
    host: Arc<dyn Host>,
    committed: State,
    channels: Channels<S, R>,
    peers: P,
    blocker: B,
    outbox: mpsc::Receiver<Transaction>,
) -> Result<(), EngineError>
where
    E: Spawner + Clock + Metrics + Storage + rand_core_010::CryptoRng,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    let me = params.signer.public_key();
    let participants: Set<PublicKey> = params
        .participants
        .iter()
        .cloned()
        .try_collect()
        .map_err(|_| EngineError::ValidatorSet)?;
    if participants.is_empty() || participants.position(&me).is_none() {
        return Err(EngineError::ValidatorSet);
    }
    let namespace = params.namespace.clone();
    let scheme = Scheme::signer(&namespace, participants.clone(), params.signer.clone())
        .ok_or(EngineError::ValidatorSet)?;
    let mailbox_size = NZUsize!(params.mailbox_size.max(1));
    let page_cache = CacheRef::new(NZU16!(16_384), NZUsize!(1_024));
    let prefix = params.partition.clone();

    // Backfill and relay.
    let (resolver_rx, resolver_mailbox) = resolver::init(
        context.child("resolver"),
        resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(200),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size,
            deque_size: 16,
            priority: false,
            codec_config: (),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            &prefix,
            "finalizations",
            &page_cache,
            Scheme::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .map_err(|error| EngineError::Storage(error.to_string()))?;
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config(&prefix, "blocks", &page_cache, ()),
    )
    .await
    .map_err(|error| EngineError::Storage(error.to_string()))?;

    // One epoch for the whole chain: the validator set is fixed by the chain spec.
    let epocher = FixedEpocher::new(NonZeroU64::MAX);
    let genesis = ChainBlock::new(Block {
        header: params.genesis,
        transactions: Vec::new(),
    });
    let genesis_digest = digest_of(params.genesis.hash());
    let (actor, marshal_mailbox, _floor) = Actor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: ConstantProvider::new(scheme.clone()),
            epocher: epocher.clone(),
            start: Start::Genesis(Digested::precomputed(genesis, genesis_digest)),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size,
            view_retention: ViewDelta::new(64),
            prunable_items_per_section: NZU64!(64),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1024 * 1024),
            key_write_buffer: NZUsize!(1024 * 1024),
            value_write_buffer: NZUsize!(1024 * 1024),
            block_codec_config: (),
            max_repair: NZUsize!(16),
            max_pending_acks: NZUsize!(4),
            strategy: Sequential,
        },
    )
    .await;

    let chain = Arc::new(Mutex::new(Chain::new(committed)));
    let finalizer = Finalizer::new(Arc::clone(&chain), Arc::clone(&host));
    actor.start(finalizer, buffer, (resolver_rx, resolver_mailbox));

    let app = App::new(chain, Arc::clone(&host), params.build);
    let automaton = Inline::new(context.child("application"), app, marshal_mailbox, epocher);

    let timeouts = params.timeouts;
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: automaton.clone(),
            relay: automaton.clone(),
            reporter: automaton,
            partition: format!("{prefix}-simplex"),
            mailbox_size,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: NZUsize!(1024 * 1024),
            write_buffer: NZUsize!(1024 * 1024),
            leader_timeout: timeouts.leader,
            certification_timeout: timeouts.certification,
            timeout_retry: timeouts.retry,
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            view_retention: ViewDelta::new(64),
            skip: SkipPolicy::Enabled {
                timeout: timeouts.certification.saturating_mul(4),
                budget: simplex::SkipBudget::Participants,
            },
            page_cache,
            strategy: Sequential,
            forward: ForwardPolicy::Disabled,
            track_historical_votes: false,
        },
    );
    engine.start(channels.votes, channels.certificates, channels.resolver);

    let (gossip_sender, gossip_receiver) = channels.transactions;
    context
        .child("gossip_out")
        .spawn(move |_| gossip_out(gossip_sender, outbox));
    let inbound_host = Arc::clone(&host);
    context
        .child("gossip_in")
        .spawn(move |_| gossip_in(gossip_receiver, inbound_host));
    Ok(())
}

/// Sends this node's admitted transactions to every peer, in batches.
async fn gossip_out<S: Sender<PublicKey = PublicKey>>(
    mut sender: S,
    mut outbox: mpsc::Receiver<Transaction>,
) {
    while let Some(first) = outbox.recv().await {
        let mut batch = vec![first];
        let mut bytes = 0usize;
        while batch.len() < GOSSIP_BATCH_MAX && bytes < GOSSIP_BYTES_MAX / 2 {
            match outbox.try_recv() {
                Ok(tx) => {
                    bytes = bytes.saturating_add(tx.encoded_size());
                    batch.push(tx);
                }
                Err(_) => break,
            }
        }
        let encoded = batch.encode();
        let _ = sender.send(Recipients::All, encoded, false);
    }
}

/// Hands peers' transactions to the host.
async fn gossip_in<R: Receiver<PublicKey = PublicKey>>(mut receiver: R, host: Arc<dyn Host>) {
    loop {
        let Ok((peer, message)) = receiver.recv().await else {
            debug!("gossip receiver closed");
            return;
        };
        let bytes: &[u8] = message.as_ref();
        if bytes.len() > GOSSIP_BYTES_MAX {
            warn!(?peer, "oversized gossip message");
            continue;
        }
        let mut slice = bytes;
        match Vec::<Transaction>::decode(&mut slice) {
            Ok(transactions) if transactions.len() <= GOSSIP_BATCH_MAX => {
                host.peer_transactions(transactions);
            }
            _ => warn!(?peer, "undecodable gossip message"),
        }
    }
}
