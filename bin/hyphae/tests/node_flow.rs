//! The whole subnet flow against a real dev node: fund → create a subnet → register hotkeys →
//! serve axons → stake → set weights → reach an epoch → incentive, dividends and emission in the
//! metagraph and `explain`. Plus the `block`, `balance` and `transfer` JSON contracts, and
//! restarts after SIGTERM and SIGKILL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod node_support;

use node_support::{NodeProc, ALICE, BOB};
use serde_json::{json, Value};
use std::time::Duration;

fn address(uri: &str) -> String {
    hyphae_keys::Keypair::from_uri(uri)
        .unwrap()
        .account_id()
        .to_ss58()
}

fn tx(node: &NodeProc, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--yes", "--wait", "finalized"]);
    let out = node.cli(&all);
    assert_eq!(out["status"], "finalized", "{out}");
    out
}

/// Sets subnet hyperparameters as the dev owner (`//Alice`), each finalized before the next.
fn set_hyperparameters(node: &NodeProc, netuid: &str, params: &[(&str, &str)]) {
    for (param, value) in params {
        let args = [
            "subnet",
            "set-hyperparameter",
            "--uri",
            "//Alice",
            "--netuid",
            netuid,
        ];
        tx(
            node,
            &[&args[..], &["--param", param, "--value", value]].concat(),
        );
    }
}

fn epoch_index(node: &NodeProc, netuid: u16) -> u64 {
    node.call("subnet_epochTiming", json!([netuid]))["result"]["epoch_index"]
        .as_u64()
        .unwrap()
}

fn wait_epochs(node: &NodeProc, netuid: u16, count: u64) {
    let target = epoch_index(node, netuid) + count;
    node.wait_until(Duration::from_secs(60), "an epoch", |node| {
        epoch_index(node, netuid) >= target
    });
}

#[test]
fn contracts_block_balance_transfer() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 100);
    node.wait_until(Duration::from_secs(30), "block 1", |node| node.best() >= 1);

    let head = node.cli(&["block"]);
    for key in ["best", "finalized"] {
        assert!(head[key]["number"].as_u64().is_some(), "{head}");
        assert!(head[key]["hash"].as_str().unwrap().starts_with("0x"));
        assert!(head[key]["state_root"].as_str().unwrap().starts_with("0x"));
    }
    let one = node.cli(&["block", "--number", "1"]);
    assert_eq!(one["number"], 1);
    assert_eq!(one["finalized"], true);
    assert!(one["hash"].as_str().unwrap().starts_with("0x"));
    assert!(one["state_root"].as_str().unwrap().starts_with("0x"));

    let before = node.cli(&["balance", "--address", BOB]);
    assert_eq!(before["address"], BOB);
    let sent = tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", BOB, "--amount", "2.5",
        ],
    );
    assert!(sent["hash"].as_str().unwrap().starts_with("0x"));
    assert!(sent["block"].as_u64().unwrap() >= 1);
    let after = node.cli(&["balance", "--address", BOB]);
    assert_eq!(
        after["free_rao"].as_u64().unwrap(),
        before["free_rao"].as_u64().unwrap() + 2_500_000_000
    );
    let included = node.cli(&["block", "--number", &sent["block"].to_string()]);
    assert_eq!(included["transactions"][0]["hash"], sent["hash"]);

    // Without --yes and without a terminal, a value-moving command refuses.
    let refused = node.cli_raw(&[
        "transfer", "--uri", "//Alice", "--dest", BOB, "--amount", "1",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    // A failing call is a user error (exit 1) that names the ledger error.
    let poor = node.cli_raw(&[
        "transfer", "--uri", "//Nobody", "--dest", BOB, "--amount", "1", "--yes",
    ]);
    assert_eq!(poor.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&poor.stderr).contains("CannotPayFee"),
        "{}",
        String::from_utf8_lossy(&poor.stderr)
    );

    // A password-protected wallet signs with the password from --password-file.
    let wallets = dir.path().join("wallets");
    let password = dir.path().join("pw");
    std::fs::write(&password, "s3cret-pass\n").unwrap();
    let wallet_flags = [
        "--wallet-path",
        wallets.to_str().unwrap(),
        "--name",
        "w",
        "--password-file",
        password.to_str().unwrap(),
    ];
    let created = std::process::Command::new(node_support::bin())
        .args(["wallet", "new-coldkey", "--output", "json"])
        .args(wallet_flags)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let coldkey = created["coldkey"].as_str().unwrap();
    tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", coldkey, "--amount", "3",
        ],
    );
    let mut send = vec!["transfer", "--dest", BOB, "--amount", "1"];
    send.extend(wallet_flags);
    tx(&node, &send);
    let mut wrong = send.clone();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "not-it\n").unwrap();
    let at = wrong
        .iter()
        .position(|arg| *arg == "--password-file")
        .unwrap();
    wrong[at + 1] = bad.to_str().unwrap();
    wrong.push("--yes");
    let refused = node.cli_raw(&wrong);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");

    let metrics = ureq_get(&node.metrics);
    assert!(metrics.contains("hyphae_best_height"), "{metrics}");
    assert!(metrics.contains("hyphae_rpc_request_seconds"), "{metrics}");
}

fn ureq_get(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').unwrap();
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn subnet_flow_reaches_an_epoch_with_incentive_dividends_and_emission() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 100);
    let zed = address("//Zed");
    let validator = address("//Alice//validator");
    let miners = [address("//Zed//m1"), address("//Zed//m2")];

    // Fund a fresh coldkey and every hotkey that will sign (hotkeys pay their own fees).
    tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", &zed, "--amount", "100",
        ],
    );
    for hotkey in [&validator, &miners[0], &miners[1]] {
        tx(
            &node,
            &[
                "transfer", "--uri", "//Alice", "--dest", hotkey, "--amount", "1",
            ],
        );
    }

    // Alice (root on dev) creates subnet 2 and shortens its tempo.
    let created = tx(
        &node,
        &[
            "subnet",
            "create",
            "--uri",
            "//Alice",
            "--hotkey-uri",
            "//Alice//owner",
        ],
    );
    assert_eq!(created["netuid"], 2, "{created}");
    set_hyperparameters(
        &node,
        "2",
        &[
            ("tempo", "5"),
            ("commit_reveal_weights_enabled", "false"),
            ("weights_set_rate_limit", "0"),
            ("max_registrations_per_block", "8"),
        ],
    );
    tx(
        &node,
        &["subnet", "start", "--uri", "//Alice", "--netuid", "2"],
    );
    let shown = node.cli(&["subnet", "hyperparameters", "--netuid", "2"]);
    assert_eq!(shown["hyperparameters"]["tempo"], 5);

    // Register a validator (Alice's) and two miners (Zed's).
    let v = tx(
        &node,
        &[
            "subnet",
            "register",
            "--uri",
            "//Alice",
            "--hotkey-uri",
            "//Alice//validator",
            "--netuid",
            "2",
            "--max-price",
            "10",
        ],
    );
    let m1 = tx(
        &node,
        &[
            "subnet",
            "register",
            "--uri",
            "//Zed",
            "--hotkey-uri",
            "//Zed//m1",
            "--netuid",
            "2",
            "--max-price",
            "10",
        ],
    );
    let m2 = tx(
        &node,
        &[
            "subnet",
            "register",
            "--uri",
            "//Zed",
            "--hotkey-uri",
            "//Zed//m2",
            "--netuid",
            "2",
            "--max-price",
            "10",
        ],
    );
    let (v_uid, m1_uid, m2_uid) = (
        v["uid"].as_u64().unwrap(),
        m1["uid"].as_u64().unwrap(),
        m2["uid"].as_u64().unwrap(),
    );

    for (uri, port) in [("//Zed//m1", "8091"), ("//Zed//m2", "8092")] {
        tx(
            &node,
            &[
                "axon", "serve", "--uri", uri, "--netuid", "2", "--ip", "10.0.0.1", "--port", port,
            ],
        );
    }
    tx(
        &node,
        &[
            "stake",
            "add",
            "--uri",
            "//Alice",
            "--hotkey-uri",
            "//Alice//validator",
            "--netuid",
            "2",
            "--amount",
            "1000",
            // 1000 TAO into a young ~1000 TAO pool quadruples its price: accept that.
            "--max-slippage",
            "100000",
        ],
    );
    let stakes = node.cli(&["stake", "list", "--address", ALICE]);
    assert!(
        stakes["stakes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["hotkey"] == validator.as_str()
                && s["netuid"] == 2
                && s["stake_rao"].as_u64().unwrap() > 0),
        "{stakes}"
    );

    // The first epoch hands out validator permits by stake.
    wait_epochs(&node, 2, 1);
    let uids = format!("{m1_uid},{m2_uid}");
    tx(
        &node,
        &[
            "weights",
            "set",
            "--uri",
            "//Alice//validator",
            "--netuid",
            "2",
            "--uids",
            &uids,
            "--weights",
            "1,3",
        ],
    );
    let timing = node.call("subnet_epochTiming", json!([2, validator]));
    assert!(
        timing["result"]["hotkey"]["next_weights_block"]
            .as_u64()
            .is_some(),
        "{timing}"
    );
    wait_epochs(&node, 2, 2);

    let graph = node.cli(&["metagraph", "--netuid", "2"]);
    assert_eq!(graph["netuid"], 2);
    assert_eq!(graph["n"], 3);
    let neurons = graph["neurons"].as_array().unwrap();
    let by_uid = |uid: u64| neurons.iter().find(|n| n["uid"] == uid).unwrap().clone();
    let (nv, n1, n2) = (by_uid(v_uid), by_uid(m1_uid), by_uid(m2_uid));
    assert_eq!(nv["hotkey"], validator.as_str());
    assert_eq!(n1["coldkey"], zed.as_str());
    assert!(n1["incentive"].as_u64().unwrap() > 0, "{graph}");
    assert!(
        n2["incentive"].as_u64().unwrap() > n1["incentive"].as_u64().unwrap(),
        "{graph}"
    );
    assert!(nv["dividends"].as_u64().unwrap() > 0, "{graph}");
    assert!(
        nv["emission_rao"].as_u64().unwrap() > 0 && n2["emission_rao"].as_u64().unwrap() > 0,
        "{graph}"
    );
    assert_eq!(nv["validator_permit"], true);
    // Dynamic TAO: alpha and TAO stake per neuron, the subnet's price, EMA, reserves and share.
    assert_eq!(nv["alpha_stake"], nv["stake_rao"]);
    assert_eq!(nv["tao_stake_rao"], 0, "no root stake in this flow");
    let (tao_reserve, alpha_reserve, price) = (
        graph["tao_reserve_rao"].as_u64().unwrap(),
        graph["alpha_reserve"].as_u64().unwrap(),
        graph["price_rao_per_alpha"].as_u64().unwrap(),
    );
    let expected = u128::from(tao_reserve) * 1_000_000_000 / u128::from(alpha_reserve);
    assert!(
        expected.abs_diff(u128::from(price)) <= 1,
        "price = tao/alpha: {graph}"
    );
    let value = u128::from(nv["alpha_stake"].as_u64().unwrap()) * u128::from(price) / 1_000_000_000;
    let shown = u128::from(nv["stake_tao_value_rao"].as_u64().unwrap());
    assert!(
        shown.abs_diff(value) <= value / 1_000_000 + 2,
        "{nv} at {price}"
    );
    assert!(
        graph["moving_price_rao_per_alpha"].as_u64().unwrap() > 0,
        "{graph}"
    );
    let subnets = node.cli(&["subnet", "list"]);
    let subnets = subnets["subnets"].as_array().unwrap();
    let share: u64 = subnets
        .iter()
        .map(|s| s["emission_share_ppb"].as_u64().unwrap())
        .sum();
    assert!(
        (999_000_000..=1_000_000_000).contains(&share),
        "shares add up: {subnets:?}"
    );
    for subnet in subnets.iter().filter(|s| s["netuid"] != 0) {
        let (tao, alpha, price) = (
            subnet["tao_reserve_rao"].as_u64().unwrap(),
            subnet["alpha_reserve"].as_u64().unwrap(),
            subnet["price_rao_per_alpha"].as_u64().unwrap(),
        );
        let expected = u128::from(tao) * 1_000_000_000 / u128::from(alpha);
        assert!(expected.abs_diff(u128::from(price)) <= 1, "{subnet}");
        assert!(
            subnet["moving_price_rao_per_alpha"].as_u64().is_some(),
            "{subnet}"
        );
        assert!(subnet["alpha_outstanding"].as_u64().is_some(), "{subnet}");
    }
    let two = subnets.iter().find(|s| s["netuid"] == 2).unwrap();
    assert!(two["emission_share_ppb"].as_u64().unwrap() > 0, "{two}");
    assert_eq!(n1["axon"]["ip"], "10.0.0.1");
    assert_eq!(n1["axon"]["port"], 8091);
    assert_eq!(n1["axon"]["is_serving"], true);
    assert_eq!(nv["axon"]["is_serving"], false);
    assert_eq!(nv["axon"]["ip"], "0.0.0.0");

    let explained = node.cli(&["explain", "--netuid", "2", "--uid", &m2_uid.to_string()]);
    assert!(explained["incentive"].as_u64().unwrap() > 0, "{explained}");
    assert_eq!(explained["weights_received"][0]["validator"], v_uid);
    // Older epochs stay explainable: by their block, or by how many epochs back.
    let m2 = m2_uid.to_string();
    let block = explained["epoch_block"].as_u64().unwrap();
    let args = ["explain", "--netuid", "2", "--uid", &m2];
    let same = node.cli(&[&args[..], &["--epoch-block", &block.to_string()]].concat());
    let back = node.cli(&[&args[..], &["--epochs-back", "1"]].concat());
    let latest = node.cli(&args);
    if latest["epoch_block"] == explained["epoch_block"] {
        assert_eq!(same, explained);
        assert!(back["epoch_block"].as_u64().unwrap() < block, "{back}");
    } else {
        // An epoch ran in between; the older one is still kept.
        assert_eq!(same["epoch_block"], explained["epoch_block"]);
    }
    let gone = node.cli_raw(&[&args[..], &["--epoch-block", "1"]].concat());
    assert!(!gone.status.success());
}

#[test]
fn restart_after_sigterm_and_sigkill_keeps_height_and_balances() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = NodeProc::start(dir.path(), 50);
    let sent = tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", BOB, "--amount", "7",
        ],
    );
    let balance = node.cli(&["balance", "--address", BOB])["free_rao"]
        .as_u64()
        .unwrap();
    for signal in ["TERM", "KILL"] {
        let height = node.best();
        assert!(height >= sent["block"].as_u64().unwrap());
        node.signal(signal);
        let status = node.wait_exit();
        if signal == "TERM" {
            assert!(
                status.success(),
                "SIGTERM should stop the node cleanly: {status:?}"
            );
        }
        node = NodeProc::start(dir.path(), 50);
        let restarted = node.best();
        assert!(
            restarted >= height,
            "height went back from {height} to {restarted} after SIG{signal}"
        );
        assert_eq!(
            node.cli(&["balance", "--address", BOB])["free_rao"]
                .as_u64()
                .unwrap(),
            balance
        );
        node.wait_until(Duration::from_secs(30), "production to resume", |node| {
            node.best() > restarted
        });
        let block = node.cli(&["block", "--number", &sent["block"].to_string()]);
        assert_eq!(block["transactions"][0]["hash"], sent["hash"]);
    }
    // And a transaction still goes through after the restarts.
    tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", BOB, "--amount", "1",
        ],
    );
}

#[test]
fn weights_commit_then_reveal_in_the_next_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 100);
    let owner_hot = address("//Alice//hot");
    tx(
        &node,
        &[
            "transfer", "--uri", "//Alice", "--dest", &owner_hot, "--amount", "5",
        ],
    );
    let registered = tx(
        &node,
        &[
            "subnet",
            "register",
            "--uri",
            "//Alice",
            "--hotkey-uri",
            "//Alice//hot",
            "--netuid",
            "1",
        ],
    );
    let uid = registered["uid"].to_string();
    set_hyperparameters(
        &node,
        "1",
        &[("tempo", "20"), ("commit_reveal_weights_enabled", "true")],
    );
    // Direct weights are refused while commit-reveal is on (exit 1, the ledger's error named).
    let direct = node.cli_raw(&[
        "weights",
        "set",
        "--uri",
        "//Alice//hot",
        "--netuid",
        "1",
        "--uids",
        &uid,
        "--weights",
        "1",
        "--yes",
    ]);
    assert_eq!(direct.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&direct.stderr).contains("CommitRevealEnabled"));

    let weights = [
        "--netuid",
        "1",
        "--uids",
        &uid,
        "--weights",
        "1",
        "--salt",
        "7,8,9",
    ];
    let mut commit = vec!["weights", "commit", "--uri", "//Alice//hot"];
    commit.extend(weights);
    let committed = tx(&node, &commit);
    assert!(committed["commit_hash"].as_str().unwrap().starts_with("0x"));
    // The commit's epoch is the index after its block's hooks; an epoch may have run since.
    let timing = node.call("subnet_epochTiming", json!([1]))["result"].clone();
    let ran_since =
        timing["last_epoch_block"].as_u64().unwrap() > committed["block"].as_u64().unwrap();
    let commit_epoch = timing["epoch_index"].as_u64().unwrap() - u64::from(ran_since);
    node.wait_until(Duration::from_secs(60), "the reveal epoch", |node| {
        epoch_index(node, 1) > commit_epoch
    });
    let mut reveal = vec!["weights", "reveal", "--uri", "//Alice//hot"];
    reveal.extend(weights);
    tx(&node, &reveal);
    let neuron = node.call("subnet_neuron", json!([1, registered["uid"]]));
    assert_eq!(
        neuron["result"]["weights"],
        json!([[registered["uid"], 65535]]),
        "{neuron}"
    );
}

#[test]
fn staking_is_slippage_bounded_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 250);
    node.wait_until(Duration::from_secs(30), "block 1", |node| node.best() >= 1);
    let stake = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut args = vec![
            "stake",
            "add",
            "--uri",
            "//Alice",
            "--hotkey-uri",
            "//Alice//hot",
            "--netuid",
            "1",
            "--yes",
            "--wait",
            "finalized",
        ];
        args.extend_from_slice(extra);
        args
    };
    let nonce =
        |node: &NodeProc| node.call("account_get", json!([ALICE]))["result"]["nonce"].clone();

    // The quote: 500 TAO into the ~1000 TAO genesis pool moves its price by far more than 1 %.
    let quote =
        node.call("subnet_quote", json!([1, "stake", 500_000_000_000u64]))["result"].clone();
    let (price, after) = (
        quote["price_rao_per_alpha"].as_u64().unwrap(),
        quote["price_after_rao_per_alpha"].as_u64().unwrap(),
    );
    assert!(
        after > price && quote["price_impact_ppb"].as_u64().unwrap() > 10_000_000,
        "{quote}"
    );
    assert!(quote["amount_out"].as_u64().unwrap() < quote["ideal_out"].as_u64().unwrap());
    assert!(node.call("subnet_quote", json!([0, "stake", 1]))["result"].is_null());

    // A large stake with a tiny bound is refused, and nothing is submitted.
    let before = nonce(&node);
    let refused = node.cli_raw(&stake(&["--amount", "500", "--max-slippage", "0.01"]));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("SlippageTooHigh") && stderr.contains("max-slippage"),
        "{stderr}"
    );
    assert_eq!(nonce(&node), before);

    // With --allow-partial the chain fills what the limit price allows. (Alice also owns
    // subnet 1, so epochs add her owner cut to this position: count TAO, not alpha.)
    let free = |node: &NodeProc| {
        node.call("account_get", json!([ALICE]))["result"]["free_rao"]
            .as_u64()
            .unwrap()
    };
    let before = free(&node);
    let partial = node.cli(&stake(&[
        "--amount",
        "500",
        "--max-slippage",
        "1",
        "--allow-partial",
    ]));
    assert_eq!(partial["call"], "add_stake_limit", "{partial}");
    let paid = before - free(&node);
    assert!(
        paid > 10_000_000 && paid < 50_000_000_000,
        "a partial fill of a few TAO, not 500: {paid} {partial}"
    );

    let alpha_on_hot = |node: &NodeProc| {
        node.call("account_stakes", json!([ALICE]))["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["netuid"] == 1 && s["hotkey"] == address("//Alice//hot").as_str())
            .map(|s| s["stake_rao"].as_u64().unwrap())
            .sum::<u64>()
    };

    // A normal stake passes under the default 0.5 %, with the quote in the JSON. (Each
    // block's emission also lifts this pool's price by ~0.2 %, so keep the stake small.)
    let staked = node.cli(&stake(&["--amount", "0.1"]));
    assert_eq!(staked["call"], "add_stake_limit", "{staked}");
    let q = &staked["quote"];
    assert_eq!(q["max_slippage_ppb"], 5_000_000);
    assert_eq!(q["amount_in_rao"], 100_000_000);
    assert!(q["amount_out_rao"].as_u64().unwrap() > 0, "{staked}");
    assert!(
        q["price_impact_ppb"].as_u64().unwrap() < 5_000_000,
        "{staked}"
    );
    assert!(
        q["limit_price_rao_per_alpha"].as_u64().unwrap()
            > q["price_rao_per_alpha"].as_u64().unwrap()
    );
    let alpha_now = alpha_on_hot(&node);
    assert!(alpha_now > 0);

    // And back: remove quotes TAO out and bounds the price from below.
    let amount = format!(
        "{}.{:09}",
        (alpha_now / 2) / 1_000_000_000,
        (alpha_now / 2) % 1_000_000_000
    );
    let mut args: Vec<&str> = stake(&["--amount"]);
    args.push(&amount);
    args[1] = "remove";
    let before = free(&node);
    let removed = node.cli(&args);
    assert_eq!(removed["call"], "remove_stake_limit", "{removed}");
    let q = &removed["quote"];
    assert!(q["amount_out_rao"].as_u64().unwrap() > 0, "{removed}");
    assert!(
        q["limit_price_rao_per_alpha"].as_u64().unwrap()
            < q["price_rao_per_alpha"].as_u64().unwrap()
    );
    assert!(free(&node) > before, "the unstaked TAO arrived");

    // Root dividends: the dev chain has one subnet (Σ moving prices is not above 1) and no
    // root stake, so nothing is claimable, and `claim-root` refuses without submitting.
    assert_eq!(
        node.call("account_rootClaimable", json!([ALICE]))["result"],
        json!([])
    );
    let before = nonce(&node);
    for swap in [false, true] {
        let mut args = vec![
            "stake",
            "claim-root",
            "--uri",
            "//Alice",
            "--netuid",
            "1",
            "--yes",
        ];
        if swap {
            args.push("--swap");
        }
        let refused = node.cli_raw(&args);
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("nothing to claim"), "{stderr}");
    }
    assert_eq!(nonce(&node), before);
}
