//! Node benchmarks over real loopback RPC (WebSocket), in-process node:
//!
//! 1. **Transfers:** 6 dev accounts × `TRANSFERS_PER_ACCOUNT` pre-signed transfers, each account
//!    submitting in nonce order concurrently; reports submissions/s and finalized transfers/s
//!    (first submit → last transfer final).
//! 2. **Metagraph:** latency of `subnet_metagraph` on a subnet with 4096 genesis neurons.
//!
//! `cargo run --release -p hyphae-node --example bench [transfers_per_account] [block_time_ms]`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic
)]

use hyphae_keys::Keypair;
use hyphae_ledger::{
    genesis::{GenesisNeuron, GenesisSubnet, DEV_NAMES},
    subnets::SubnetParams,
    Call, ChainSpec, Transaction,
};
use hyphae_node::{Node, NodeConfig};
use hyphae_primitives::{AccountId, NetUid, Rao};
use hyphae_rpc::{types::MetagraphOptions, Client};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

fn config(dir: &std::path::Path, block_time_ms: u64) -> NodeConfig {
    let mut config = NodeConfig::dev(dir.to_owned());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = None;
    config.block_time = Duration::from_millis(block_time_ms);
    config
}

async fn transfers(per_account: u64, block_time_ms: u64) {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(config(dir.path(), block_time_ms), ChainSpec::dev().unwrap())
        .await
        .unwrap();
    let url = format!("ws://{}", node.rpc_addr());
    let client = Arc::new(Client::connect(&url).await.unwrap());
    let genesis = client.info().await.unwrap().genesis_hash;
    let dest: AccountId = Keypair::from_uri("//Dest").unwrap().account_id();
    let keys: Vec<Keypair> = DEV_NAMES
        .iter()
        .map(|name| Keypair::from_uri(&format!("//{name}")).unwrap())
        .collect();
    let signed: Vec<Vec<Transaction>> = keys
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
                            amount: Rao(1_000_000),
                        },
                    )
                })
                .collect()
        })
        .collect();
    let total = per_account * keys.len() as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for batch in signed {
        let client = Arc::clone(&client);
        tasks.push(tokio::spawn(async move {
            for tx in &batch {
                client.submit(tx).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let submitted = started.elapsed();
    let mut heads = client.subscribe_finalized_heads().await.unwrap();
    loop {
        let mut done = true;
        for key in &keys {
            if client.account(&key.account_id()).await.unwrap().nonce < per_account {
                done = false;
                break;
            }
        }
        if done {
            break;
        }
        heads.next().await.unwrap().unwrap();
    }
    let finalized = started.elapsed();
    println!(
        "transfers: {total} submitted over RPC in {:.2} s ({:.0}/s); all finalized after {:.2} s ({:.0}/s), block time {block_time_ms} ms",
        submitted.as_secs_f64(),
        total as f64 / submitted.as_secs_f64(),
        finalized.as_secs_f64(),
        total as f64 / finalized.as_secs_f64(),
    );
    node.stop().await;
}

async fn metagraph(uids: u16, calls: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = ChainSpec::dev().unwrap();
    let owner = spec.root_key;
    let neurons = (0..uids)
        .map(|index| {
            let mut bytes = [0u8; 32];
            bytes[..2].copy_from_slice(&index.to_be_bytes());
            bytes[31] = 0xaa;
            GenesisNeuron {
                hotkey: AccountId(bytes),
                coldkey: owner,
                stake: Rao(1_000_000_000),
            }
        })
        .collect();
    let params = SubnetParams {
        max_allowed_uids: uids,
        tempo: 0,
        ..SubnetParams::default()
    };
    spec.subnets.push(GenesisSubnet {
        owner_coldkey: owner,
        owner_hotkey: AccountId([0xbb; 32]),
        start_emission: false,
        params,
        neurons,
    });
    let node = Node::start(config(dir.path(), 1000), spec).await.unwrap();
    let client = Client::connect(&format!("ws://{}", node.rpc_addr()))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let graph = client
            .metagraph(NetUid(2), MetagraphOptions::default())
            .await
            .unwrap()
            .unwrap();
        samples.push(started.elapsed());
        assert_eq!(graph.hotkeys.len(), usize::from(uids));
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "metagraph: {uids} uids, {calls} calls over WebSocket: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(samples[calls / 2]),
        ms(samples[calls * 95 / 100]),
        ms(samples[calls - 1]),
    );
    // Cold: the first call after each new block builds and serializes the snapshot.
    let mut heads = client.subscribe_new_heads().await.unwrap();
    let mut cold = Vec::new();
    for _ in 0..5 {
        heads.next().await.unwrap().unwrap();
        let started = Instant::now();
        client
            .metagraph(NetUid(2), MetagraphOptions::default())
            .await
            .unwrap()
            .unwrap();
        cold.push(started.elapsed());
    }
    cold.sort();
    println!(
        "metagraph: first call after a new block (5 blocks): median {:.1} ms, max {:.1} ms",
        ms(cold[2]),
        ms(cold[4])
    );
    node.stop().await;
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let per_account: u64 = args.next().map_or(1000, |value| value.parse().unwrap());
    let block_time_ms: u64 = args.next().map_or(100, |value| value.parse().unwrap());
    metagraph(4096, 50).await;
    transfers(per_account, block_time_ms).await;
}
