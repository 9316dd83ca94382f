//! The SDK against a real in-process node on loopback: metagraph sync and the miner/validator
//! runtime.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use std::sync::Arc;
use std::time::Duration;

use hyphae_keys::Keypair;
use hyphae_ledger::genesis::GenesisNeuron;
use hyphae_ledger::serving::AxonArgs;
use hyphae_ledger::{Call, ChainSpec, Transaction};
use hyphae_neuron::axon::{Axon, AxonConfig, ForwardError, Hooks};
use hyphae_neuron::dendrite::DendriteConfig;
use hyphae_neuron::guard::{blacklist, NeuronDirectory, RequestInfo};
use hyphae_neuron::metagraph::{Metagraph, Snapshot, SyncOptions};
use hyphae_neuron::runtime::{
    run_miner, run_validator, Miner, MinerConfig, NeuronConfig, RuntimeError, Validator,
    ValidatorConfig,
};
use hyphae_neuron::synapse::{Synapse, SynapseMessage, SDK_VERSION};
use hyphae_node::{Node, NodeConfig};
use hyphae_primitives::{NetUid, Rao};
use hyphae_rpc::{types::TxStatus, Client};
use serde::{Deserialize, Serialize};

const DEADLINE: Duration = Duration::from_secs(30);

async fn start(spec: ChainSpec, block_time_ms: u64) -> (Node, Arc<Client>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev(dir.path().to_owned());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = None;
    config.block_time = Duration::from_millis(block_time_ms);
    let node = Node::start(config, spec).await.unwrap();
    let client = Client::connect(&format!("http://{}", node.rpc_addr()))
        .await
        .unwrap();
    (node, Arc::new(client), dir)
}

/// Signs `call` with `signer`'s next nonce and waits until it is final and succeeded.
async fn submit_final(client: &Client, signer: &Keypair, call: Call) {
    let info = client.info().await.unwrap();
    let nonce = client
        .account(&signer.account_id())
        .await
        .unwrap()
        .next_nonce;
    let tx = Transaction::sign(signer, &info.genesis_hash, nonce, Rao::ZERO, call);
    let mut watch = client.submit_and_watch(&tx).await.unwrap();
    let status = tokio::time::timeout(
        DEADLINE,
        watch.wait_for(|status| matches!(status, TxStatus::Finalized { .. })),
    )
    .await
    .expect("transaction not final within the deadline")
    .unwrap();
    assert!(
        matches!(status, TxStatus::Finalized { error: None, .. }),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metagraph_follows_a_registration_and_feeds_blacklists() {
    let (node, client, _dir) = start(ChainSpec::dev().unwrap(), 50).await;
    let netuid = NetUid(1);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let (metagraph, task) = Metagraph::sync(Arc::clone(&client), netuid, stop_rx)
        .await
        .unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap();
    let hotkey = Keypair::from_uri("//Bob//hot").unwrap().account_id();
    assert_eq!(metagraph.snapshot().uid_of(&hotkey), None);
    let blacklist = blacklist::registered_only(Arc::new(metagraph.clone()));
    let request = RequestInfo {
        synapse: "Dummy".into(),
        hotkey: Some(hotkey.to_ss58()),
        peer: "127.0.0.1:1".parse().unwrap(),
        timeout_s: 12.0,
    };
    assert!(blacklist(&request).is_err());

    submit_final(&client, &bob, Call::BurnedRegister { netuid, hotkey }).await;
    let snapshot = metagraph
        .wait_for(DEADLINE, |s| s.uid_of(&hotkey).is_some())
        .await
        .unwrap();
    let uid = snapshot.uid_of(&hotkey).unwrap();
    assert_eq!(snapshot.hotkey(uid), Some(hotkey));
    assert_eq!(snapshot.netuid(), netuid);
    let neuron = metagraph.lookup(&hotkey.to_ss58()).unwrap();
    assert_eq!(neuron.uid, uid);
    assert!(blacklist(&request).is_ok());

    stop.send(true).unwrap();
    tokio::time::timeout(DEADLINE, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    node.stop().await;
}

/// Python: `class DummyMath(bt.Synapse): a: int; b: int; result: Optional[int] = None`
#[derive(Debug, Clone, Serialize, Deserialize, Synapse)]
#[synapse(hash(a, b))]
struct DummyMath {
    a: i64,
    b: i64,
    result: Option<i64>,
}

struct MathMiner;

impl Miner for MathMiner {
    fn attach(&self, axon: Axon, metagraph: &Metagraph) -> Axon {
        let hooks = Hooks {
            blacklist: Some(blacklist::registered_only(Arc::new(metagraph.clone()))),
            priority: None,
        };
        axon.attach_with(
            |message: SynapseMessage<DummyMath>| async move {
                let mut math = message.body;
                math.result = math.a.checked_mul(math.b);
                Ok::<_, ForwardError>(math)
            },
            hooks,
        )
    }
}

struct MathValidator;

impl Validator for MathValidator {
    type Query = DummyMath;

    fn query(&self, metagraph: &Snapshot) -> DummyMath {
        DummyMath {
            a: i64::try_from(metagraph.block()).unwrap(),
            b: 3,
            result: None,
        }
    }

    fn score(
        &self,
        _metagraph: &Snapshot,
        responses: &[(u16, SynapseMessage<DummyMath>)],
    ) -> Vec<(u16, u16)> {
        responses
            .iter()
            .filter(|(_, answer)| {
                answer.is_success() && answer.body.result == Some(answer.body.a * answer.body.b)
            })
            .map(|(uid, _)| (*uid, 65_535))
            .collect()
    }
}

fn neuron_config(client: &Arc<Client>, uri: &str) -> NeuronConfig {
    NeuronConfig {
        client: Arc::clone(client),
        netuid: NetUid(1),
        hotkey: Keypair::from_uri(uri).unwrap(),
        tx_timeout: DEADLINE,
    }
}

/// A dev chain whose subnet uses commit-reveal, with a staked validator (//Dave, uid 0) and a
/// miner (//Eve, uid 1) registered at genesis.
fn commit_reveal_spec() -> ChainSpec {
    let mut spec = ChainSpec::dev().unwrap();
    let key = |uri: &str| Keypair::from_uri(uri).unwrap().account_id();
    let subnet = &mut spec.subnets[0];
    subnet.params.commit_reveal = true;
    subnet.params.reveal_period_epochs = 1;
    subnet.params.tempo = 10;
    subnet.params.weights_set_rate_limit = 5;
    subnet.neurons = vec![
        GenesisNeuron {
            hotkey: key("//Dave"),
            coldkey: key("//Bob"),
            stake: Rao(1_000_000_000_000),
        },
        GenesisNeuron {
            hotkey: key("//Eve"),
            coldkey: key("//Charlie"),
            stake: Rao::ZERO,
        },
    ];
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miner_and_validator_land_weights_through_commit_reveal() {
    let (node, client, _dir) = start(commit_reveal_spec(), 50).await;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);

    // 127.0.0.1 is refused on chain; 127.0.0.2 is loopback too and is accepted.
    let miner = MinerConfig {
        neuron: neuron_config(&client, "//Eve"),
        axon: AxonConfig {
            bind: "127.0.0.2:0".parse().unwrap(),
            ..AxonConfig::default()
        },
        external: None,
    };
    let validator = ValidatorConfig {
        neuron: neuron_config(&client, "//Dave"),
        dendrite: DendriteConfig::default(),
        round_interval: Duration::from_millis(100),
        queries_in_flight_max: 4,
        query_timeout_s: 5.0,
    };
    let miner_task = tokio::spawn(run_miner(miner, MathMiner, stop_rx.clone()));
    let validator_task = tokio::spawn(run_validator(validator, MathValidator, stop_rx.clone()));

    let (metagraph, sync) = Metagraph::sync_with(
        Arc::clone(&client),
        NetUid(1),
        SyncOptions { weights: true },
        stop_rx,
    )
    .await
    .unwrap();
    let timing = client.epoch_timing(NetUid(1), None).await.unwrap().unwrap();
    assert!(
        timing.commit_reveal,
        "set_weights is refused: only a reveal can land"
    );
    let snapshot = metagraph
        .wait_for(Duration::from_secs(60), |s| {
            s.weights(0).is_some_and(|row| row.contains(&(1, 65_535)))
        })
        .await
        .unwrap();
    assert!(snapshot.axon(1).is_some());
    let receipt = client
        .explain(NetUid(1), hyphae_primitives::Uid(0))
        .await
        .unwrap();
    assert!(receipt.is_some());

    stop.send(true).unwrap();
    for task in [miner_task, validator_task] {
        tokio::time::timeout(DEADLINE, task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    tokio::time::timeout(DEADLINE, sync)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_hotkey_is_refused_clearly() {
    let (node, client, _dir) = start(ChainSpec::dev().unwrap(), 50).await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let config = MinerConfig {
        neuron: neuron_config(&client, "//Ferdie"),
        axon: AxonConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..AxonConfig::default()
        },
        external: None,
    };
    let error = run_miner(config, MathMiner, stop_rx).await.unwrap_err();
    assert!(
        matches!(
            error,
            RuntimeError::NotRegistered {
                netuid: NetUid(1),
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("not registered on netuid 1"));
    node.stop().await;
}

/// A math miner that reports every query it answers.
struct ReportingMiner(tokio::sync::mpsc::Sender<()>);

impl Miner for ReportingMiner {
    fn attach(&self, axon: Axon, _metagraph: &Metagraph) -> Axon {
        let answered = self.0.clone();
        axon.attach(move |message: SynapseMessage<DummyMath>| {
            let _ = answered.try_send(());
            async move {
                let mut math = message.body;
                math.result = math.a.checked_mul(math.b);
                Ok::<_, ForwardError>(math)
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miner_and_validator_stop_when_the_node_goes_away() {
    let (node, client, _dir) = start(commit_reveal_spec(), 50).await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    // Eve's axon is on chain before she starts, so `run_miner` goes straight to serving.
    let port = std::net::TcpListener::bind("127.0.0.2:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = std::net::SocketAddr::from(([127, 0, 0, 2], port));
    let axon = AxonArgs {
        version: u32::try_from(SDK_VERSION).unwrap(),
        ip: u128::from(u32::from(std::net::Ipv4Addr::new(127, 0, 0, 2))),
        port,
        ip_type: 4,
        protocol: 4,
        placeholder1: 0,
        placeholder2: 0,
    };
    let eve = Keypair::from_uri("//Eve").unwrap();
    let netuid = NetUid(1);
    submit_final(&client, &eve, Call::ServeAxon { netuid, axon }).await;

    let (answered, mut queries) = tokio::sync::mpsc::channel(16);
    let miner = MinerConfig {
        neuron: neuron_config(&client, "//Eve"),
        axon: AxonConfig {
            bind: address,
            ..AxonConfig::default()
        },
        external: Some(address),
    };
    let validator = ValidatorConfig {
        neuron: neuron_config(&client, "//Dave"),
        dendrite: DendriteConfig::default(),
        round_interval: Duration::from_millis(100),
        queries_in_flight_max: 4,
        query_timeout_s: 5.0,
    };
    let miner_task = tokio::spawn(run_miner(miner, ReportingMiner(answered), stop_rx.clone()));
    let validator_task = tokio::spawn(run_validator(validator, MathValidator, stop_rx));
    // a query from the validator reaching the miner: both are past their start-up
    tokio::time::timeout(DEADLINE, queries.recv())
        .await
        .expect("the validator never queried the miner")
        .unwrap();

    node.stop().await;
    for task in [miner_task, validator_task] {
        let result = tokio::time::timeout(DEADLINE, task)
            .await
            .expect("a runtime kept going on a dead metagraph")
            .unwrap();
        assert!(
            matches!(result, Err(RuntimeError::Metagraph(_))),
            "{result:?}"
        );
    }
}
