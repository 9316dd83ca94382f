//! Four BFT validators in one process (each a full [`Node`] with its own store, RPC and commonware
//! p2p over loopback TCP): finality latency and finalized transfers per second.
//!
//! `ACCOUNTS` funded accounts each submit `per_account` pre-signed transfers in nonce order over
//! WebSocket RPC, spread over the four validators (account i → validator i mod 4), at up to
//! `rate` transactions per second in all. Validator 0's finalized blocks give, per transfer,
//! the latency from submission to finalization, and the finalized rate.
//!
//! `cargo run --release -p hyphae-node --example bft_bench [per_account] [rate] [block_time_ms]`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic
)]

use hyphae_consensus::ValidatorKey;
use hyphae_keys::Keypair;
use hyphae_ledger::{
    genesis::{GenesisAccount, GenesisValidator},
    Call, ChainSpec, Transaction,
};
use hyphae_node::{BftConfig, Finality, Node, NodeConfig};
use hyphae_primitives::{AccountId, Hash, Rao};
use hyphae_rpc::Client;
use std::{
    collections::BTreeMap,
    net::{SocketAddr, TcpListener},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const VALIDATORS: usize = 4;
const ACCOUNTS: usize = 32;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let per_account: u64 = args.next().map_or(600, |value| value.parse().unwrap());
    let rate: u64 = args.next().map_or(2_500, |value| value.parse().unwrap());
    let block_time_ms: u64 = args.next().map_or(1000, |value| value.parse().unwrap());

    // The spec: the dev preset plus ACCOUNTS funded senders, and four validators.
    let keys: Vec<ValidatorKey> = (0..VALIDATORS as u64)
        .map(|seed| ValidatorKey::from_seed(1_000 + seed))
        .collect();
    let ports: Vec<SocketAddr> = (0..VALIDATORS)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|listener| listener.local_addr().unwrap())
        .collect();
    let senders: Vec<Keypair> = (0..ACCOUNTS)
        .map(|index| Keypair::from_uri(&format!("//bench/{index}")).unwrap())
        .collect();
    let mut spec = ChainSpec::dev().unwrap();
    spec.name = "bench".into();
    for sender in &senders {
        spec.accounts.push(GenesisAccount {
            address: sender.account_id(),
            balance: Rao(1_000_000_000_000_000),
        });
    }
    spec.validators = keys
        .iter()
        .zip(&ports)
        .map(|(key, address)| GenesisValidator {
            consensus_key: key.public_hex(),
            p2p_address: address.to_string(),
            account: None,
        })
        .collect();

    let dirs: Vec<tempfile::TempDir> = (0..VALIDATORS)
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let started_nodes = Instant::now();
    let mut nodes = Vec::new();
    for (key, dir) in keys.iter().zip(&dirs) {
        let mut config = NodeConfig::dev(dir.path().to_owned());
        config.rpc_addr = "127.0.0.1:0".parse().unwrap();
        config.metrics_addr = None;
        config.block_time = Duration::from_millis(block_time_ms);
        config.finality = Finality::Bft(Box::new(
            BftConfig::from_spec(&spec, key.clone(), None).unwrap(),
        ));
        nodes.push(Node::start(config, spec.clone()).await.unwrap());
    }
    // Warm up: every validator finalized a block.
    while nodes
        .iter()
        .any(|node| node.shared().view().finalized.number.0 < 1)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "4 validators up; first block final on all after {:.2} s",
        started_nodes.elapsed().as_secs_f64()
    );

    let genesis = nodes[0].shared().view().state.head().genesis_hash;
    let dest = AccountId([0xde; 32]);
    let signed: Vec<Vec<Transaction>> = senders
        .iter()
        .map(|key| {
            (0..per_account)
                .map(|nonce| {
                    Transaction::sign(
                        key,
                        &genesis,
                        nonce,
                        Rao::ZERO,
                        Call::Transfer {
                            dest,
                            amount: Rao(1_000),
                        },
                    )
                })
                .collect()
        })
        .collect();
    let total = per_account as usize * ACCOUNTS;

    // Validator 0's finalized blocks: when each transfer became final there.
    let finalized_at: Arc<Mutex<BTreeMap<Hash, Instant>>> = Arc::default();
    let blocks: Arc<Mutex<Vec<(u64, usize, Instant)>>> = Arc::default();
    let mut notices = nodes[0].shared().notices.subscribe();
    let (record_at, record_blocks) = (Arc::clone(&finalized_at), Arc::clone(&blocks));
    let recorder = tokio::spawn(async move {
        while let Ok(notice) = notices.recv().await {
            let now = Instant::now();
            let mut at = record_at.lock().unwrap();
            for (hash, _) in &notice.transactions {
                at.insert(*hash, now);
            }
            record_blocks.lock().unwrap().push((
                notice.header.number.0,
                notice.transactions.len(),
                now,
            ));
            if at.len() >= total {
                break;
            }
        }
    });

    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(Arc::new(
            Client::connect(&format!("ws://{}", node.rpc_addr()))
                .await
                .unwrap(),
        ));
    }
    let submitted_at: Arc<Mutex<BTreeMap<Hash, Instant>>> = Arc::default();
    let per_task_interval = Duration::from_secs_f64(ACCOUNTS as f64 / rate as f64);
    let first_submit = Instant::now();
    let mut tasks = Vec::new();
    for (index, batch) in signed.into_iter().enumerate() {
        let client = Arc::clone(&clients[index % VALIDATORS]);
        let submitted_at = Arc::clone(&submitted_at);
        tasks.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(per_task_interval);
            for tx in &batch {
                ticker.tick().await;
                let at = Instant::now();
                let hash = client.submit(tx).await.unwrap();
                submitted_at.lock().unwrap().insert(hash, at);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let submit_secs = first_submit.elapsed().as_secs_f64();
    tokio::time::timeout(Duration::from_secs(120), recorder)
        .await
        .expect("not every transfer was finalized within 120 s")
        .unwrap();

    let submitted = submitted_at.lock().unwrap().clone();
    let finalized = finalized_at.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = submitted
        .iter()
        .filter_map(|(hash, at)| finalized.get(hash).map(|done| done.duration_since(*at)))
        .collect();
    latencies.sort();
    let last = finalized.values().max().copied().unwrap();
    let span = last.duration_since(first_submit).as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let blocks = blocks.lock().unwrap().clone();
    let loaded: Vec<_> = blocks.iter().filter(|(_, txs, _)| *txs > 0).collect();
    let intervals: Vec<f64> = loaded
        .windows(2)
        .map(|pair| pair[1].2.duration_since(pair[0].2).as_secs_f64() * 1000.0)
        .collect();
    let mean_interval = intervals.iter().sum::<f64>() / intervals.len().max(1) as f64;
    let largest = loaded.iter().map(|(_, txs, _)| *txs).max().unwrap_or(0);
    println!(
        "{total} transfers submitted over RPC to 4 validators in {submit_secs:.2} s ({:.0}/s offered); all final on validator 0 after {span:.2} s: {:.0} finalized tx/s",
        total as f64 / submit_secs,
        total as f64 / span,
    );
    println!(
        "finality latency (submit -> final on validator 0): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 9 / 10]),
        ms(latencies[latencies.len() * 99 / 100]),
        ms(latencies[latencies.len() - 1]),
    );
    println!(
        "{} blocks carried transfers (largest {largest}); mean interval between them {mean_interval:.0} ms; block time {block_time_ms} ms",
        loaded.len()
    );
    // The others may be a block behind validator 0: wait (bounded) until all hold its height.
    let number = nodes[0].shared().view().finalized.number;
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes
        .iter()
        .any(|node| node.shared().view().finalized.number < number)
    {
        assert!(
            Instant::now() < deadline,
            "validators did not reach height {}",
            number.0
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let roots: Vec<Hash> = nodes
        .iter()
        .map(|node| {
            node.shared()
                .block(number)
                .unwrap()
                .unwrap()
                .0
                .header
                .state_root
        })
        .collect();
    println!(
        "state roots at validator 0's finalized height agree: {}",
        roots.windows(2).all(|pair| pair[0] == pair[1])
    );
    for node in nodes {
        node.stop().await;
    }
}
