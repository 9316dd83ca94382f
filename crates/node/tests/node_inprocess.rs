//! An in-process node driven through the typed client: subscriptions (new heads, finalized
//! heads, events, watched transactions), mempool replacement over RPC, and a metagraph of
//! genesis neurons.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use hyphae_keys::Keypair;
use hyphae_ledger::{
    genesis::{GenesisNeuron, GenesisSubnet},
    subnets::SubnetParams,
    Call, ChainSpec, Event, Transaction,
};
use hyphae_node::{Node, NodeConfig};
use hyphae_primitives::{AccountId, NetUid, Rao, TxError, Uid};
use hyphae_rpc::{
    error_code,
    types::{MetagraphOptions, TxStatus},
    Client, ClientError,
};
use std::time::Duration;

async fn start(spec: ChainSpec, block_time_ms: u64) -> (Node, Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::dev(dir.path().to_owned());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = None;
    config.block_time = Duration::from_millis(block_time_ms);
    let node = Node::start(config, spec).await.unwrap();
    let client = Client::connect(&format!("http://{}", node.rpc_addr()))
        .await
        .unwrap();
    (node, client, dir)
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("timed out after 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_blocks_transactions_and_events() {
    let (node, client, _dir) = start(ChainSpec::dev().unwrap(), 50).await;
    let mut heads = client.subscribe_new_heads().await.unwrap();
    let mut finalized = client.subscribe_finalized_heads().await.unwrap();
    let mut events = client.subscribe_events().await.unwrap();
    let first = within(heads.next()).await.unwrap().unwrap();
    let second = within(heads.next()).await.unwrap().unwrap();
    assert_eq!(second.number, first.number + 1);
    assert_eq!(second.parent_hash, first.hash);
    let final_head = within(finalized.next()).await.unwrap().unwrap();
    assert!(final_head.number >= first.number);

    let info = client.info().await.unwrap();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap().account_id();
    let tx = Transaction::sign(
        &alice,
        &info.genesis_hash,
        0,
        Rao::ZERO,
        Call::Transfer {
            dest: bob,
            amount: Rao(42),
        },
    );
    let mut watch = client.submit_and_watch(&tx).await.unwrap();
    assert!(matches!(
        within(watch.next()).await.unwrap().unwrap(),
        TxStatus::Ready { .. }
    ));
    let done = within(watch.wait_for(|status| matches!(status, TxStatus::Finalized { .. })))
        .await
        .unwrap();
    let TxStatus::Finalized { block, error, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(error, None);
    let stored = client.block_by_number(block).await.unwrap().unwrap();
    assert!(stored.finalized);
    assert_eq!(stored.transactions.len(), 1);

    let transfer_seen = within(async {
        loop {
            let block_events = events.next().await.unwrap().unwrap();
            if block_events.events.iter().any(|record| {
                matches!(
                    record.event,
                    Event::Transfer {
                        amount: Rao(42),
                        ..
                    }
                )
            }) {
                return block_events.number;
            }
        }
    })
    .await;
    assert_eq!(transfer_seen, block);

    // Replaying the final transaction is refused with a typed error.
    match client.submit(&tx).await {
        Err(ClientError::Rejected { code, tx_error, .. }) => {
            assert_eq!(code, error_code::TX_INVALID);
            assert_eq!(tx_error, Some(TxError::NonceStale));
        }
        other => panic!("{other:?}"),
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacement_over_rpc_needs_a_higher_tip() {
    // A long block time keeps both transactions pending.
    let (node, client, _dir) = start(ChainSpec::dev().unwrap(), 60_000).await;
    let info = client.info().await.unwrap();
    let alice = Keypair::from_uri("//Alice").unwrap();
    let bob = Keypair::from_uri("//Bob").unwrap().account_id();
    let sign = |tip: u64, amount: u64| {
        Transaction::sign(
            &alice,
            &info.genesis_hash,
            0,
            Rao(tip),
            Call::Transfer {
                dest: bob,
                amount: Rao(amount),
            },
        )
    };
    client.submit(&sign(10, 1)).await.unwrap();
    match client.submit(&sign(10, 2)).await {
        Err(ClientError::Rejected { code, .. }) => {
            assert_eq!(code, error_code::POOL_REPLACEMENT_UNDERPRICED)
        }
        other => panic!("{other:?}"),
    }
    client.submit(&sign(11, 3)).await.unwrap();
    let account = client.account(&alice.account_id()).await.unwrap();
    assert_eq!((account.nonce, account.next_nonce), (0, 1));
    assert_eq!(client.info().await.unwrap().mempool_len, 1);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metagraph_neuron_and_timing_of_genesis_neurons() {
    let mut spec = ChainSpec::dev().unwrap();
    let owner = spec.root_key;
    let hotkeys: Vec<AccountId> = (0u8..8).map(|index| AccountId([index + 1; 32])).collect();
    let neurons = hotkeys
        .iter()
        .map(|hotkey| GenesisNeuron {
            hotkey: *hotkey,
            coldkey: owner,
            stake: Rao(5),
        })
        .collect();
    let params = SubnetParams {
        tempo: 7,
        ..SubnetParams::default()
    };
    spec.subnets.push(GenesisSubnet {
        owner_coldkey: owner,
        owner_hotkey: AccountId([0xee; 32]),
        start_emission: false,
        params,
        neurons,
    });
    let (node, client, _dir) = start(spec, 50).await;

    let graph = client
        .metagraph(
            NetUid(2),
            MetagraphOptions {
                weights: true,
                bonds: true,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(graph.n, 8);
    assert_eq!(graph.hotkeys, hotkeys);
    assert!(graph.coldkeys.iter().all(|coldkey| *coldkey == owner));
    assert!(graph.stake_rao.iter().all(|stake| *stake == Rao(5)));
    assert_eq!(graph.weights.as_ref().unwrap().len(), 8);
    assert!(graph.axons.iter().all(Option::is_none));
    assert!(client
        .metagraph(NetUid(9), MetagraphOptions::default())
        .await
        .unwrap()
        .is_none());

    let neuron = client.neuron(NetUid(2), Uid(3)).await.unwrap().unwrap();
    assert_eq!(neuron.hotkey, hotkeys[3]);
    assert_eq!(neuron.stakers, vec![(owner, Rao(5))]);

    let timing = client
        .epoch_timing(NetUid(2), Some(hotkeys[0]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(timing.tempo, 7);
    assert_eq!(timing.next_epoch_block, Some(timing.last_epoch_block + 7));
    assert_eq!(timing.hotkey.unwrap().uid, Some(Uid(0)));
    let subnets = client.subnets().await.unwrap();
    assert_eq!(
        subnets
            .iter()
            .map(|subnet| subnet.netuid)
            .collect::<Vec<_>>(),
        vec![NetUid(1), NetUid(2)]
    );
    assert!(client.stakes(&owner).await.unwrap().len() >= 8);
    node.stop().await;
}
