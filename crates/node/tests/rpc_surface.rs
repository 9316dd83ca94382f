//! The RPC surface: docs/rpc.md lists exactly the methods the server registers, and the
//! server registers exactly `hyphae_rpc::method::ALL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use hyphae_ledger::ChainSpec;
use hyphae_node::{
    chain::{ChainFacts, Shared},
    server, Mempool, MempoolConfig,
};
use std::{collections::BTreeSet, sync::Arc};

fn registered() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let facts = ChainFacts {
        name: "dev".into(),
        dev: true,
        block_time_ms: 1000,
    };
    let (shared, _) = Shared::open(
        &dir.path().join("chain.redb"),
        &ChainSpec::dev().unwrap(),
        facts,
        Mempool::new(MempoolConfig::default()),
        4,
    )
    .unwrap();
    let module = server::module(Arc::new(shared)).unwrap();
    module.method_names().map(str::to_owned).collect()
}

fn documented() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rpc.md");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("### `"))
        .map(|rest| rest.trim_end_matches('`').to_owned())
        .collect()
}

#[test]
fn docs_list_exactly_the_registered_methods() {
    let registered = registered();
    let documented = documented();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "undocumented: {undocumented:?}; documented but not served: {stale:?}"
    );
}

#[test]
fn the_client_names_every_registered_method() {
    let all: BTreeSet<String> = hyphae_rpc::method::ALL
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(all, registered());
}
