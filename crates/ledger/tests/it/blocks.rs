use crate::support::*;
use hyphae_ledger::{
    apply_block, build_block, extrinsics_root, BlockError, Call, ChainSpec, MemoryStore,
    StateStore, Transaction, TxError,
};
use hyphae_primitives::{Hash, Rao};
use parity_scale_codec::Encode;

fn transfer(amount: u64) -> Call {
    Call::Transfer {
        dest: id("//Bob"),
        amount: Rao(amount),
    }
}

#[test]
fn invalid_transactions_are_skipped_by_the_builder() {
    let mut chain = Chain::dev();
    let alice = key("//Alice");
    let genesis = chain.state.head().genesis_hash;
    let good = Transaction::sign(&alice, &genesis, 0, Rao::ZERO, transfer(1));
    let replay = good.clone();
    let future = Transaction::sign(&alice, &genesis, 5, Rao::ZERO, transfer(1));
    let mut forged = Transaction::sign(&alice, &genesis, 1, Rao::ZERO, transfer(1));
    forged.call = transfer(1_000);
    let other_chain = Transaction::sign(&alice, &Hash([7; 32]), 1, Rao::ZERO, transfer(1));
    let pauper = Transaction::sign(&key("//Nobody"), &genesis, 0, Rao::ZERO, transfer(1));
    let built = build_block(
        &mut chain.state,
        vec![good, replay, future, forged, other_chain, pauper],
        1,
        id("//Ferdie"),
    );
    assert_eq!(built.block.transactions.len(), 1);
    assert_eq!(
        built.rejected,
        vec![
            (1, TxError::NonceStale),
            (2, TxError::NonceFuture),
            (3, TxError::BadSignature),
            (4, TxError::BadSignature),
            (5, TxError::CannotPayFee),
        ]
    );
}

#[test]
fn bad_encoding_is_typed() {
    assert_eq!(
        Transaction::from_bytes(&[1, 2, 3]),
        Err(TxError::BadEncoding)
    );
    let chain = Chain::dev();
    let tx = chain.sign(&key("//Alice"), transfer(1));
    let bytes = parity_scale_codec::Encode::encode(&tx);
    assert_eq!(Transaction::from_bytes(&bytes), Ok(tx));
}

#[test]
fn tip_goes_to_author_and_fee_is_burned() {
    let mut chain = Chain::dev();
    let alice = key("//Alice");
    let tx = Transaction::sign(
        &alice,
        &chain.state.head().genesis_hash,
        0,
        Rao(777),
        transfer(1),
    );
    let ferdie = chain.state.balance(&id("//Ferdie"));
    chain.produce(vec![tx]);
    assert_eq!(chain.state.balance(&id("//Ferdie")), Rao(ferdie.0 + 777));
}

#[test]
fn apply_rejects_bad_headers_and_invalid_transactions() {
    let (genesis_state, _) = ChainSpec::dev().unwrap().build().unwrap();
    let mut proposer = genesis_state.clone();
    let tx = Transaction::sign(
        &key("//Alice"),
        &genesis_state.head().genesis_hash,
        0,
        Rao::ZERO,
        transfer(1),
    );
    let built = build_block(&mut proposer, vec![tx], 10, id("//Ferdie"));
    let block = built.block;

    let mut bad = block.clone();
    bad.header.number.0 = 2;
    assert!(matches!(
        apply_block(&mut genesis_state.clone(), &bad),
        Err(BlockError::WrongNumber { .. })
    ));
    let mut bad = block.clone();
    bad.header.parent_hash = Hash([1; 32]);
    assert!(matches!(
        apply_block(&mut genesis_state.clone(), &bad),
        Err(BlockError::WrongParent { .. })
    ));
    let mut bad = block.clone();
    bad.header.state_root = Hash([1; 32]);
    assert!(matches!(
        apply_block(&mut genesis_state.clone(), &bad),
        Err(BlockError::StateRoot { .. })
    ));
    let mut bad = block.clone();
    bad.transactions.push(bad.transactions[0].clone());
    assert_eq!(
        apply_block(&mut genesis_state.clone(), &bad),
        Err(BlockError::ExtrinsicsRoot)
    );
    bad.header.extrinsics_root = extrinsics_root(&bad.transactions);
    assert_eq!(
        apply_block(&mut genesis_state.clone(), &bad),
        Err(BlockError::InvalidTransaction {
            index: 1,
            error: TxError::NonceStale
        })
    );
    let mut replica = genesis_state.clone();
    apply_block(&mut replica, &block).unwrap();
    assert_eq!(replica, proposer);
    let mut late = block.clone();
    late.header.number.0 = 2;
    late.header.parent_hash = block.header.hash();
    late.header.timestamp_ms = 9;
    assert!(matches!(
        apply_block(&mut replica, &late),
        Err(BlockError::TimestampBackwards { .. })
    ));
}

#[test]
fn state_rows_round_trip_and_root_is_deterministic() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    chain.stake("//Bob", "//Bob//hot", tao(10));
    chain.advance(12);
    let rows = chain.state.rows();
    let rebuilt = hyphae_ledger::State::from_rows(rows).unwrap();
    assert_eq!(rebuilt, chain.state);
    assert_eq!(rebuilt.root(), chain.state.root());
}

#[test]
fn memory_store_keeps_blocks() {
    let spec = ChainSpec::dev().unwrap();
    let (mut state, genesis) = spec.build().unwrap();
    let mut store = MemoryStore::default();
    store.commit_genesis(&genesis, &state).unwrap();
    let built = build_block(&mut state, Vec::new(), 1, id("//Ferdie"));
    store
        .commit_block(&built.block, &built.receipts, &state)
        .unwrap();
    assert_eq!(
        store.block_by_hash(&built.block.header.hash()).unwrap(),
        Some(built.block.clone())
    );
    assert_eq!(store.load_state().unwrap(), Some(state));
}

#[test]
fn chain_spec_json_round_trips_and_dev_is_funded() {
    let dev = ChainSpec::dev().unwrap();
    let json = serde_json::to_string_pretty(&dev).unwrap();
    assert_eq!(ChainSpec::from_json(&json).unwrap(), dev);
    let minimal = format!(
        r#"{{ "name": "x", "root_key": "{}", "subnets": [{{ "owner_coldkey": "{0}", "owner_hotkey": "{0}", "params": {{ "tempo": 99 }} }}] }}"#,
        id("//Alice")
    );
    let (state, genesis) = ChainSpec::from_json(&minimal).unwrap().build().unwrap();
    assert_eq!(
        state
            .subnet(hyphae_primitives::NetUid(1))
            .unwrap()
            .params
            .tempo,
        99
    );
    assert_eq!(state.head().genesis_hash, genesis.hash());
    assert!(ChainSpec::from_json(r#"{ "name": "x", "root_key": "nope" }"#).is_err());
    let (dev_state, _) = dev.build().unwrap();
    for name in hyphae_ledger::genesis::DEV_NAMES {
        assert_eq!(
            dev_state.balance(&id(&format!("//{name}"))),
            hyphae_ledger::genesis::DEV_BALANCE
        );
    }
    // The dev subnet's pool is seeded with the minimum lock of newly issued TAO.
    assert_eq!(
        dev_state.globals().issuance.0,
        6 * hyphae_ledger::genesis::DEV_BALANCE.0 + dev_state.globals().network_min_lock.0
    );
    assert_eq!(dev.validators.len(), 1);
}

#[test]
fn the_genesis_hash_names_the_chain_and_its_validators() {
    let dev = ChainSpec::dev().unwrap();
    let genesis_hash = |spec: &ChainSpec| spec.build().unwrap().1.hash();
    let renamed = ChainSpec {
        name: format!("{}-2", dev.name),
        ..dev.clone()
    };
    let mut other_set = dev.clone();
    other_set.validators[0].consensus_key = id("//Bob").to_hex();
    let mut moved = dev.clone();
    moved.validators[0].p2p_address = "127.0.0.1:40444".into();
    // Same balances and subnets, so the same state: only the chain id tells them apart, and a
    // transaction signed for one does not verify on the other.
    assert_eq!(
        renamed.build().unwrap().0.root(),
        dev.build().unwrap().0.root()
    );
    assert_ne!(genesis_hash(&renamed), genesis_hash(&dev));
    assert_ne!(genesis_hash(&other_set), genesis_hash(&dev));
    // A validator's address is not its identity.
    assert_eq!(genesis_hash(&moved), genesis_hash(&dev));
}

/// A transaction from Alice of exactly `size` encoded bytes (a commitment of padding).
fn sized_tx(genesis: &Hash, nonce: u64, size: usize) -> Transaction {
    let sign = |len: usize| {
        let call = Call::Commit {
            netuid: hyphae_primitives::NetUid(1),
            data: vec![0; len],
        };
        Transaction::sign(&key("//Alice"), genesis, nonce, Rao::ZERO, call)
    };
    let overhead = sign(size).encoded_size() - size;
    let tx = sign(size - overhead);
    assert_eq!(tx.encoded_size(), size);
    tx
}

#[test]
fn a_block_filled_to_the_byte_limit_applies_everywhere() {
    let (mut state, _) = ChainSpec::dev().unwrap().build().unwrap();
    let mut replica = state.clone();
    let genesis = state.head().genesis_hash;
    let per_tx = hyphae_ledger::BLOCK_BYTES_MAX / 64;
    let candidates: Vec<Transaction> = (0..65).map(|n| sized_tx(&genesis, n, per_tx)).collect();
    let built = build_block(&mut state, candidates, 1, id("//Ferdie"));
    assert_eq!(built.block.transactions.len(), 64);
    assert_eq!(
        hyphae_ledger::transactions_bytes(&built.block.transactions),
        hyphae_ledger::BLOCK_BYTES_MAX
    );
    apply_block(&mut replica, &built.block).unwrap();
    assert_eq!(replica.root(), state.root());
}

#[test]
fn oversized_blocks_are_rejected() {
    let (mut state, _) = ChainSpec::dev().unwrap().build().unwrap();
    let tx = Transaction::sign(
        &key("//Alice"),
        &state.head().genesis_hash,
        0,
        Rao::ZERO,
        transfer(1),
    );
    let mut block = build_block(&mut state.clone(), Vec::new(), 1, id("//Ferdie")).block;
    block.transactions = vec![tx; hyphae_ledger::BLOCK_TRANSACTIONS_MAX + 1];
    assert!(matches!(
        apply_block(&mut state, &block),
        Err(BlockError::TooLarge { .. })
    ));
}
