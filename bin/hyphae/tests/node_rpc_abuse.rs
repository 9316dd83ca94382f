//! Bad input over RPC: each is answered with a typed JSON-RPC error, and the node keeps
//! serving (and producing blocks) through a burst of 1,000 of them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

mod node_support;

use hyphae_keys::Keypair;
use hyphae_ledger::{Call, Transaction};
use hyphae_primitives::{Hash, Rao};
use node_support::{NodeProc, BOB};
use parity_scale_codec::Encode;
use serde_json::{json, Value};
use std::time::Duration;

fn genesis(node: &NodeProc) -> Hash {
    node.call("system_info", json!([]))["result"]["genesis_hash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn signed(genesis: &Hash, uri: &str, nonce: u64) -> String {
    let key = Keypair::from_uri(uri).unwrap();
    let call = Call::Transfer {
        dest: BOB.parse().unwrap(),
        amount: Rao(1_000),
    };
    format!(
        "0x{}",
        hex::encode(Transaction::sign(&key, genesis, nonce, Rao::ZERO, call).encode())
    )
}

fn submit(node: &NodeProc, tx: &str) -> Value {
    node.call("tx_submit", json!([tx]))
}

/// The error's code, and the ledger's `TxError` code when there is one.
fn error_of(response: &Value) -> (i64, Option<u64>) {
    let error = &response["error"];
    assert!(error.is_object(), "expected an error, got {response}");
    (
        error["code"].as_i64().unwrap(),
        error["data"]["tx_error"].as_u64(),
    )
}

#[test]
fn bad_requests_get_typed_errors_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), 100);
    let genesis = genesis(&node);

    // Malformed JSON, unknown method, bad params.
    let (_, body) = node.post(b"{\"jsonrpc\":\"2.0\",\"id\":1,");
    assert_eq!(error_of(&serde_json::from_str(&body).unwrap()).0, -32700);
    assert_eq!(error_of(&node.call("no_such_method", json!([]))).0, -32601);
    assert_eq!(
        error_of(&node.call("account_get", json!(["not an address"]))).0,
        -32602
    );
    assert_eq!(
        error_of(&node.call("chain_getBlockByNumber", json!(["seven"]))).0,
        -32602
    );

    // An oversized body (2 MiB against a 1 MiB limit).
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx_submit\",\"params\":[\"0x{}\"]}}",
        "00".repeat(1024 * 1024)
    );
    let (status, body) = node.post(big.as_bytes());
    assert!(
        status.contains("413") || body.contains("-32007"),
        "{status} {body}"
    );

    // Transactions: undecodable, bad signature, wrong genesis hash, nonce gap.
    assert_eq!(error_of(&submit(&node, "0xdeadbeef")), (1010, Some(5)));
    assert_eq!(error_of(&submit(&node, "not hex")), (1010, Some(5)));
    let mut forged = hex::decode(signed(&genesis, "//Alice", 0).trim_start_matches("0x")).unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        error_of(&submit(&node, &format!("0x{}", hex::encode(&forged)))),
        (1010, Some(1))
    );
    assert_eq!(
        error_of(&submit(&node, &signed(&Hash([7; 32]), "//Alice", 0))),
        (1010, Some(1))
    );
    assert_eq!(
        error_of(&submit(&node, &signed(&genesis, "//Alice", 5))),
        (1010, Some(3))
    );

    // Replay: once a transaction is final, the same bytes are stale; while pending, known.
    let tx = signed(&genesis, "//Alice", 0);
    assert!(submit(&node, &tx)["result"]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    let again = submit(&node, &tx);
    if again["error"]["code"] == 1013 {
        node.wait_until(Duration::from_secs(30), "the transfer to land", |node| {
            node.call("account_get", json!([node_support::ALICE]))["result"]["nonce"] == 1
        });
        assert_eq!(error_of(&submit(&node, &tx)), (1010, Some(2)));
    } else {
        assert_eq!(error_of(&again), (1010, Some(2)));
    }

    // A burst of 1,000 bad requests of every kind, then the node still answers and produces.
    let height = node.best();
    let kinds: Vec<Vec<u8>> = vec![
        b"{\"jsonrpc\":\"2.0\",".to_vec(),
        json!({"jsonrpc":"2.0","id":1,"method":"nope","params":[]}).to_string().into_bytes(),
        json!({"jsonrpc":"2.0","id":1,"method":"tx_submit","params":[format!("0x{}", hex::encode(&forged))]}).to_string().into_bytes(),
        json!({"jsonrpc":"2.0","id":1,"method":"tx_submit","params":[signed(&genesis, "//Bob", 9)]}).to_string().into_bytes(),
        json!({"jsonrpc":"2.0","id":1,"method":"tx_submit","params":[tx]}).to_string().into_bytes(),
        json!({"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["0x00"]}).to_string().into_bytes(),
    ];
    let addr = node.rpc.trim_start_matches("http://").to_owned();
    let handles: Vec<_> = (0..4)
        .map(|worker| {
            let kinds = kinds.clone();
            let addr = addr.clone();
            std::thread::spawn(move || {
                for index in 0..250 {
                    let body = &kinds[(worker + index) % kinds.len()];
                    let (_, text) = node_support::post_raw(&addr, body);
                    let response: Value =
                        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
                    assert!(
                        response["error"]["code"].as_i64().is_some(),
                        "untyped answer {response}"
                    );
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    node.wait_until(Duration::from_secs(30), "blocks after the burst", |node| {
        node.best() > height
    });
    assert!(node.call("system_info", json!([]))["result"]["chain"] == "dev");
}
