//! Four validators on commonware's deterministic runtime and simulated network (seeded and
//! replayable), each with the real ledger and a redb store: honest agreement, a proposer of
//! invalid blocks, an equivocating leader, a 2|2 partition, and a late joiner that backfills.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use commonware_consensus::simplex::{
    elector::RoundRobin,
    mocks::{equivocator, relay::Relay},
    scheme::ed25519::Scheme,
};
use commonware_consensus::types::Epoch;
use commonware_cryptography::{ed25519::PublicKey, Sha256};
use commonware_p2p::simulated::{self, Link, Oracle};
use commonware_runtime::{deterministic, Clock, Quota, Runner as _, Supervisor as _};
use commonware_utils::{ordered::Set, NZUsize, Probability, TryCollect, NZU32};
use hyphae_consensus::{
    engine::{self, channel, Channels, EngineParams, Timeouts},
    BuildParams, Fault, Finalized, Host, HostError, ValidatorKey,
};
use hyphae_keys::Keypair;
use hyphae_ledger::{Call, ChainSpec, Header, State, StateStore, Transaction};
use hyphae_primitives::{Hash, Rao};
use hyphae_store::RedbStore;
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

const BLOCK_TIME: Duration = Duration::from_millis(1000);

/// A validator's node side: a redb store, a list of pending transactions, and a record of
/// every finalized block (height → (hash, state root)).
struct TestHost {
    store: Mutex<RedbStore>,
    pending: Mutex<Vec<Transaction>>,
    finalized: Mutex<BTreeMap<u64, (Hash, Hash)>>,
}

impl Host for TestHost {
    fn candidates(&self, max: usize) -> Vec<Transaction> {
        self.pending
            .lock()
            .unwrap()
            .iter()
            .take(max)
            .cloned()
            .collect()
    }

    fn finalized(&self, finalized: Finalized<'_>) -> Result<(), HostError> {
        self.store
            .lock()
            .unwrap()
            .commit_block(finalized.block, finalized.receipts, finalized.state)
            .map_err(|error| HostError(error.to_string()))?;
        let header = finalized.block.header;
        let included: Vec<[u8; 32]> = finalized
            .receipts
            .transactions
            .iter()
            .map(|receipt| receipt.tx_hash)
            .collect();
        self.pending.lock().unwrap().retain(|tx| {
            !included.contains(
                &hyphae_ledger::codec::blake2_256(&parity_scale_codec::Encode::encode(tx)).0,
            )
        });
        let previous = self
            .finalized
            .lock()
            .unwrap()
            .insert(header.number.0, (header.hash(), header.state_root));
        assert!(
            previous.is_none(),
            "height {} finalized twice",
            header.number.0
        );
        Ok(())
    }

    fn peer_transactions(&self, transactions: Vec<Transaction>) {
        self.pending.lock().unwrap().extend(transactions);
    }
}

impl TestHost {
    fn height(&self) -> u64 {
        self.finalized
            .lock()
            .unwrap()
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }

    fn blocks(&self) -> BTreeMap<u64, (Hash, Hash)> {
        self.finalized.lock().unwrap().clone()
    }
}

/// What a validator slot runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Honest,
    Faulty(Fault),
    Equivocator,
    /// Honest, started only when [`Net::start_late`] is called.
    Late,
}

struct Net {
    context: deterministic::Context,
    oracle: Oracle<PublicKey, deterministic::Context>,
    keys: Vec<ValidatorKey>,
    genesis: (State, Header),
    dirs: Vec<tempfile::TempDir>,
    hosts: Vec<Option<Arc<TestHost>>>,
}

fn link() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        success_rate: Probability::new(1, 1).unwrap(),
    }
}

impl Net {
    async fn new(context: deterministic::Context, validators: usize) -> Net {
        let keys: Vec<ValidatorKey> = (0..validators as u64)
            .map(ValidatorKey::from_seed)
            .collect();
        let peers: Vec<PublicKey> = keys.iter().map(ValidatorKey::public).collect();
        let (network, oracle) = simulated::Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: engine::max_message_size(validators),
                max_peers_per_set: NZUsize!(validators),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            peers.clone(),
        )
        .await;
        network.start();
        for a in &peers {
            for b in &peers {
                if a != b {
                    oracle.add_link(a.clone(), b.clone(), link()).await.unwrap();
                }
            }
        }
        let spec = ChainSpec::dev().unwrap();
        Net {
            context,
            oracle,
            keys,
            genesis: spec.build().unwrap(),
            dirs: (0..validators)
                .map(|_| tempfile::tempdir().unwrap())
                .collect(),
            hosts: vec![None; validators],
        }
    }

    fn participants(&self) -> Vec<PublicKey> {
        self.keys.iter().map(ValidatorKey::public).collect()
    }

    async fn channels(
        &self,
        index: usize,
    ) -> Channels<
        simulated::Sender<PublicKey, deterministic::Context>,
        simulated::Receiver<PublicKey>,
    > {
        let control = self.oracle.control(self.keys[index].public());
        let quota = Quota::per_second(NZU32!(10_000));
        Channels {
            votes: control.register(channel::VOTES, quota).await.unwrap(),
            certificates: control
                .register(channel::CERTIFICATES, quota)
                .await
                .unwrap(),
            resolver: control.register(channel::RESOLVER, quota).await.unwrap(),
            blocks: control.register(channel::BLOCKS, quota).await.unwrap(),
            backfill: control.register(channel::BACKFILL, quota).await.unwrap(),
            transactions: control
                .register(channel::TRANSACTIONS, quota)
                .await
                .unwrap(),
        }
    }

    async fn start(&mut self, index: usize, role: Role) {
        let key = self.keys[index].clone();
        if role == Role::Equivocator {
            let control = self.oracle.control(key.public());
            let quota = Quota::per_second(NZU32!(10_000));
            let votes = control.register(channel::VOTES, quota).await.unwrap();
            let certificates = control
                .register(channel::CERTIFICATES, quota)
                .await
                .unwrap();
            let namespace = self.genesis.1.hash().0.to_vec();
            let set: Set<PublicKey> = self.participants().into_iter().try_collect().unwrap();
            let scheme = Scheme::signer(&namespace, set, key.private().clone()).unwrap();
            let byzantine = equivocator::Equivocator::<_, _, _, Sha256>::new(
                self.context.child("equivocator"),
                equivocator::Config {
                    scheme,
                    elector: RoundRobin::<Sha256>::default(),
                    epoch: Epoch::zero(),
                    relay: Arc::new(Relay::default()),
                },
            );
            byzantine.start(votes, certificates);
            return;
        }
        let mut store = RedbStore::open(self.dirs[index].path().join("chain.redb")).unwrap();
        let (state, header) = self.genesis.clone();
        store.commit_genesis(&header, &state).unwrap();
        let host = Arc::new(TestHost {
            store: Mutex::new(store),
            pending: Mutex::new(Vec::new()),
            finalized: Mutex::new(BTreeMap::new()),
        });
        let fault = match role {
            Role::Faulty(fault) => fault,
            _ => Fault::None,
        };
        let params = EngineParams {
            signer: key.private().clone(),
            participants: self.participants(),
            namespace: header.hash().0.to_vec(),
            genesis: header,
            build: BuildParams {
                block_time_ms: 1000,
                block_transactions_max: 1024,
                author: state.globals().root_key,
                future_drift_ms: 10_000,
                fault,
            },
            timeouts: Timeouts::for_block_time(BLOCK_TIME),
            partition: format!("validator-{index}"),
            mailbox_size: 1024,
        };
        let (gossip, outbox) = tokio::sync::mpsc::channel(1024);
        // Keep the gossip outbox open for the life of the test.
        std::mem::forget(gossip);
        let channels = self.channels(index).await;
        let control = self.oracle.control(key.public());
        engine::run(
            self.context
                .child("validator")
                .with_attribute("index", index),
            params,
            Arc::clone(&host) as Arc<dyn Host>,
            state,
            channels,
            self.oracle.manager(),
            control,
            outbox,
        )
        .await
        .unwrap();
        self.hosts[index] = Some(host);
    }

    fn host(&self, index: usize) -> &Arc<TestHost> {
        self.hosts[index].as_ref().unwrap()
    }

    fn honest(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|index| self.hosts[*index].is_some())
            .collect()
    }

    /// Advances simulated time until every listed validator finalized `height`.
    async fn wait_height(&self, nodes: &[usize], height: u64, limit: Duration) {
        let deadline = self.context.current() + limit;
        while !nodes
            .iter()
            .all(|index| self.host(*index).height() >= height)
        {
            assert!(
                self.context.current() < deadline,
                "heights {:?} did not all reach {height} within {limit:?}",
                nodes
                    .iter()
                    .map(|index| self.host(*index).height())
                    .collect::<Vec<_>>()
            );
            self.context.sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every running honest validator finalized the same hash and state root at every height
    /// they share.
    fn assert_no_fork(&self) {
        let honest = self.honest();
        let first = self.host(honest[0]).blocks();
        for index in &honest[1..] {
            for (height, block) in self.host(*index).blocks() {
                if let Some(other) = first.get(&height) {
                    assert_eq!(*other, block, "fork at height {height}");
                }
            }
        }
    }

    async fn set_links(&mut self, groups: &[&[usize]], connected: bool) {
        let peers = self.participants();
        for (i, a) in groups.iter().enumerate() {
            for b in groups.iter().skip(i + 1) {
                for x in a.iter() {
                    for y in b.iter() {
                        for (from, to) in [(*x, *y), (*y, *x)] {
                            if connected {
                                self.oracle
                                    .add_link(peers[from].clone(), peers[to].clone(), link())
                                    .await
                                    .unwrap();
                            } else {
                                let _ = self
                                    .oracle
                                    .remove_link(peers[from].clone(), peers[to].clone())
                                    .await;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn simulate<F, Fut>(seed: u64, scenario: F)
where
    F: FnOnce(deterministic::Context) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let config = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    deterministic::Runner::new(config).start(scenario);
}

#[test]
fn four_honest_validators_agree_and_carry_a_transfer() {
    simulate(1, |context| async move {
        let mut net = Net::new(context, 4).await;
        for index in 0..4 {
            net.start(index, Role::Honest).await;
        }
        net.wait_height(&[0, 1, 2, 3], 3, Duration::from_secs(60))
            .await;
        // A transfer handed to validator 2 only: whoever leads next includes it.
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap().account_id();
        let tx = Transaction::sign(
            &alice,
            &net.genesis.1.hash(),
            0,
            Rao(0),
            Call::Transfer {
                dest: bob,
                amount: Rao(1_000),
            },
        );
        net.host(2).pending.lock().unwrap().push(tx);
        net.wait_height(&[0, 1, 2, 3], 10, Duration::from_secs(60))
            .await;
        net.assert_no_fork();
        let store = net.host(0).store.lock().unwrap();
        let state = store.load_state().unwrap().unwrap();
        assert_eq!(
            state.nonce(&alice.account_id()),
            1,
            "the transfer was finalized"
        );
    });
}

fn byzantine_proposer(role: Role, seed: u64) {
    simulate(seed, move |context| async move {
        let mut net = Net::new(context, 4).await;
        net.start(3, role).await;
        for index in 0..3 {
            net.start(index, Role::Honest).await;
        }
        // Every 4th view is the byzantine leader's: the honest three still finalize, and never a
        // block they could not execute.
        net.wait_height(&[0, 1, 2], 12, Duration::from_secs(120))
            .await;
        net.assert_no_fork();
        // The faulty proposer's blocks commit to forged roots: none of them was finalized.
        for (height, (_, root)) in net.host(0).blocks() {
            assert!(
                root != Hash([0xbd; 32]) && root != Hash([0xbe; 32]),
                "a forged block was finalized at {height}"
            );
        }
        if let Role::Faulty(_) = role {
            // The faulty validator never committed past what the honest ones agree on.
            let faulty = net.host(3).blocks();
            let honest = net.host(0).blocks();
            for (height, block) in faulty {
                if let Some(other) = honest.get(&height) {
                    assert_eq!(*other, block, "the faulty node forked at {height}");
                }
            }
        }
    });
}

#[test]
fn a_proposer_of_bad_state_roots_neither_forks_nor_halts() {
    byzantine_proposer(Role::Faulty(Fault::BadStateRoot), 2);
}

#[test]
fn a_proposer_of_invalid_transactions_neither_forks_nor_halts() {
    byzantine_proposer(Role::Faulty(Fault::BadTransaction), 3);
}

#[test]
fn an_equivocating_leader_neither_forks_nor_halts() {
    byzantine_proposer(Role::Equivocator, 4);
}

#[test]
fn a_two_two_partition_halts_finality_then_heals() {
    simulate(5, |context| async move {
        let mut net = Net::new(context, 4).await;
        for index in 0..4 {
            net.start(index, Role::Honest).await;
        }
        net.wait_height(&[0, 1, 2, 3], 3, Duration::from_secs(60))
            .await;
        net.set_links(&[&[0, 1], &[2, 3]], false).await;
        // Let in-flight certificates land, then nothing more may finalize.
        net.context.sleep(Duration::from_secs(3)).await;
        let halted: Vec<u64> = (0..4).map(|index| net.host(index).height()).collect();
        net.context.sleep(Duration::from_secs(20)).await;
        let still: Vec<u64> = (0..4).map(|index| net.host(index).height()).collect();
        assert_eq!(halted, still, "no quorum, yet finality advanced");
        net.assert_no_fork();
        net.set_links(&[&[0, 1], &[2, 3]], true).await;
        let top = *still.iter().max().unwrap();
        net.wait_height(&[0, 1, 2, 3], top + 3, Duration::from_secs(120))
            .await;
        net.assert_no_fork();
    });
}

#[test]
fn a_late_validator_backfills_to_the_same_state_root() {
    simulate(6, |context| async move {
        let mut net = Net::new(context, 4).await;
        for index in 0..3 {
            net.start(index, Role::Honest).await;
        }
        net.wait_height(&[0, 1, 2], 8, Duration::from_secs(120))
            .await;
        net.start(3, Role::Late).await;
        let target = net.host(0).height() + 2;
        net.wait_height(&[0, 1, 2, 3], target, Duration::from_secs(120))
            .await;
        net.assert_no_fork();
        let late = net.host(3).blocks();
        assert!(
            late.contains_key(&1),
            "the late validator committed from height 1"
        );
    });
}
