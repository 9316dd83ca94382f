//! The explorer against a real in-process dev node: the page and its assets, the JSON API
//! (chain, subnets, metagraph rows, epoch history, a neuron with its `explain` receipt, the
//! training feed), live pushes over `/ws`, start-up errors and a clean stop.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::float_arithmetic
)]

use futures_util::StreamExt;
use hyphae_explorer::{serve, ExplorerConfig, ExplorerError, TrainingEpoch, TrainingFeed};
use hyphae_ledger::{
    genesis::{GenesisNeuron, GenesisSubnet},
    subnets::SubnetParams,
    ChainSpec,
};
use hyphae_node::{Node, NodeConfig};
use hyphae_primitives::{AccountId, NetUid, Rao, Uid};
use serde_json::Value;
use std::time::{Duration, Instant};

const NEURONS: u8 = 4;

/// The dev chain plus subnet 2 with four genesis neurons, emitting, tempo 3.
fn spec() -> ChainSpec {
    let mut spec = ChainSpec::dev().unwrap();
    let owner = spec.root_key;
    let neurons = (0..NEURONS)
        .map(|index| GenesisNeuron {
            hotkey: AccountId([index + 1; 32]),
            coldkey: owner,
            stake: Rao(1_000_000_000),
        })
        .collect();
    spec.subnets.push(GenesisSubnet {
        owner_coldkey: owner,
        owner_hotkey: AccountId([0xee; 32]),
        start_emission: true,
        params: SubnetParams {
            tempo: 3,
            ..SubnetParams::default()
        },
        neurons,
    });
    spec
}

async fn start_node(dir: &std::path::Path) -> Node {
    let mut config = NodeConfig::dev(dir.to_owned());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.metrics_addr = None;
    config.block_time = Duration::from_millis(50);
    Node::start(config, spec()).await.unwrap()
}

fn local_config(rpc: &str) -> ExplorerConfig {
    let mut config = ExplorerConfig::new(rpc);
    config.addr = "127.0.0.1:0".parse().unwrap();
    config
}

async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn get_json(url: &str) -> Value {
    let (status, _, body) = get(url).await;
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `url` every 25 ms until `done` accepts its JSON; fails after 30 s.
async fn wait_json(url: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = get_json(url).await;
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {value}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next live message whose `type` is `kind`, within 30 s.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let message = socket.next().await.expect("socket open").expect("frame");
            let Ok(text) = message.into_text() else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            if value["type"] == kind {
                return value;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind:?} message within 30 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_page_api_and_live_updates_from_a_dev_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path()).await;
    let rpc = format!("http://{}", node.rpc_addr());
    let feed = TrainingFeed::new();
    let explorer = serve(local_config(&rpc), feed.clone()).await.unwrap();
    let addr = explorer.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let base = format!("http://{addr}");
    assert_eq!(explorer.url(), format!("{base}/"));

    // The page and its embedded assets, the chart library with its licence.
    let (status, content_type, page) = get(&format!("{base}/")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("/assets/app.js") && page.contains("/assets/uPlot.iife.min.js"));
    let (status, content_type, script) = get(&format!("{base}/assets/app.js")).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert!(script.contains("new WebSocket"));
    let (status, _, chart_lib) = get(&format!("{base}/assets/uPlot.iife.min.js")).await;
    assert_eq!(status, 200);
    assert!(chart_lib.len() > 10_000);
    let (status, _, licence) = get(&format!("{base}/assets/uPlot.LICENSE.txt")).await;
    assert_eq!(status, 200);
    assert!(licence.contains("MIT License") && licence.contains("Leon Sorokin"));
    assert_eq!(get(&format!("{base}/assets/secrets.txt")).await.0, 404);
    assert_eq!(get(&format!("{base}/nothing/here")).await.0, 404);

    // Live socket: a hello, then heads and finalized blocks as the chain moves.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    next_of(&mut socket, "hello").await;
    let head = next_of(&mut socket, "head").await;
    let block = next_of(&mut socket, "block").await;
    assert!(head["best"]["number"].as_u64().is_some(), "{head}");
    let number = block["block"]["number"].as_u64().unwrap();
    assert!(block["block"]["hash"].as_str().unwrap().starts_with("0x"));
    assert!(block["finalized"]["number"].as_u64().unwrap() >= number);
    let epoch = next_of(&mut socket, "epoch").await;
    assert!(epoch["netuid"] == 1 || epoch["netuid"] == 2, "{epoch}");

    // Chain overview with the recent blocks the explorer recorded, newest first.
    let chain = wait_json(&format!("{base}/api/chain"), "recent blocks", |chain| {
        chain["recent_blocks"].as_array().unwrap().len() >= 3
    })
    .await;
    assert_eq!(chain["chain"], "dev");
    assert!(chain["best"]["number"].as_u64().unwrap() >= number);
    let recent: Vec<u64> = chain["recent_blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["number"].as_u64().unwrap())
        .collect();
    assert!(recent.windows(2).all(|w| w[0] > w[1]), "{recent:?}");
    assert!(recent.len() <= 32);

    // Subnets with price, emission share, tempo and neuron count.
    let subnets = get_json(&format!("{base}/api/subnets")).await;
    let two = subnets
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["netuid"] == 2)
        .expect("subnet 2 listed")
        .clone();
    assert_eq!(two["n"], u64::from(NEURONS));
    assert_eq!(two["tempo"], 3);
    assert!(two["price_rao_per_alpha"].as_u64().unwrap() > 0, "{two}");
    assert!(two["emission_share_ppb"].as_u64().is_some(), "{two}");
    assert_eq!(two["training"], false);

    // The metagraph rows and a per-epoch history that grows as epochs run.
    let page = wait_json(&format!("{base}/api/subnets/2"), "two epochs", |page| {
        page["history"].as_array().unwrap().len() >= 2
    })
    .await;
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), usize::from(NEURONS));
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row["uid"], index as u64);
        assert_eq!(row["role"], "miner", "no feed, no weights: {row}");
        // Genesis stake plus what the epochs paid since.
        assert!(row["stake_rao"].as_u64().unwrap() >= 1_000_000_000, "{row}");
        for key in [
            "incentive",
            "dividends",
            "emission_rao",
            "validator_trust",
            "last_update",
        ] {
            assert!(row[key].as_u64().is_some(), "{key} in {row}");
        }
        assert!(row["axon"].is_null());
    }
    let history = page["history"].as_array().unwrap();
    let epochs: Vec<u64> = history
        .iter()
        .map(|p| p["epoch_index"].as_u64().unwrap())
        .collect();
    assert!(epochs.windows(2).all(|w| w[0] < w[1]), "{epochs:?}");
    assert_eq!(
        history[0]["uids"].as_array().unwrap().len(),
        usize::from(NEURONS)
    );
    assert_eq!(page["timing"]["tempo"], 3);
    let (status, _, missing) = get(&format!("{base}/api/subnets/99")).await;
    assert_eq!(status, 404, "{missing}");
    assert!(missing.contains("subnet 99 not found"), "{missing}");

    // A neuron with its explain receipt and its own history.
    let neuron = get_json(&format!("{base}/api/subnets/2/neurons/1")).await;
    assert_eq!(neuron["neuron"]["hotkey"], AccountId([2; 32]).to_ss58());
    assert_eq!(neuron["explain"]["uid"], 1, "{neuron}");
    assert!(neuron["explain"]["epoch_block"].as_u64().is_some());
    assert!(!neuron["history"].as_array().unwrap().is_empty());
    assert_eq!(
        get(&format!("{base}/api/subnets/2/neurons/77")).await.0,
        404
    );

    // The training feed: absent, then present with roles, figures and a live push.
    let training = get_json(&format!("{base}/api/training")).await;
    assert_eq!(training["present"], false);
    feed.set_subnet(NetUid(2));
    feed.set_roles([
        (Uid(0), "validator".to_owned()),
        (Uid(3), "adversary: poison".to_owned()),
    ]);
    feed.push(TrainingEpoch {
        epoch: 1,
        block: Some(3),
        accuracy: 0.625,
        loss: 1.25,
        baseline_accuracy: Some(0.75),
        adversary_emission_share: Some(0.125),
    });
    let pushed = next_of(&mut socket, "training").await;
    assert!(pushed["version"].as_u64().unwrap() >= 1);
    let training = get_json(&format!("{base}/api/training")).await;
    assert_eq!(training["present"], true);
    assert_eq!(training["netuid"], 2);
    assert_eq!(training["epochs"][0]["accuracy"], 0.625);
    assert_eq!(training["epochs"][0]["adversary_emission_share"], 0.125);
    assert_eq!(training["roles"]["3"], "adversary: poison");
    let page = get_json(&format!("{base}/api/subnets/2")).await;
    let roles: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["validator", "miner", "miner", "adversary: poison"]);
    assert_eq!(page["subnet"]["training"], true);

    // Stop closes the live socket and the listener.
    explorer.stop().await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(message)) if message.is_close() => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the live socket stays open after stop");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_errors_name_the_node_or_the_port() {
    // Nothing listens on this port: bind one, note it, and drop it.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let error = serve(
        local_config(&format!("http://127.0.0.1:{port}")),
        TrainingFeed::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ExplorerError::Node { .. }), "{error}");
    assert!(
        error.to_string().contains("cannot reach the node"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path()).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = local_config(&format!("http://{}", node.rpc_addr()));
    config.addr = taken.local_addr().unwrap();
    let error = serve(config, TrainingFeed::new()).await.unwrap_err();
    assert!(matches!(error, ExplorerError::Bind { .. }), "{error}");
    assert!(error.to_string().contains("cannot listen on"), "{error}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sockets_are_capped_and_freed_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path()).await;
    let mut config = local_config(&format!("http://{}", node.rpc_addr()));
    config.limits.live_sockets_max = 1;
    let explorer = serve(config, TrainingFeed::new()).await.unwrap();
    let url = format!("ws://{}/ws", explorer.local_addr());

    let (mut first, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    next_of(&mut first, "hello").await;
    let refused = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(refused.to_string().contains("503"), "{refused}");

    // Closing the first socket frees its slot (once the server has seen the close).
    first.close(None).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut second = loop {
        match tokio_tungstenite::connect_async(&url).await {
            Ok((socket, _)) => break socket,
            Err(error) => {
                assert!(Instant::now() < deadline, "slot never freed: {error}");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    };
    next_of(&mut second, "hello").await;
    explorer.stop().await;
    node.stop().await;
}
