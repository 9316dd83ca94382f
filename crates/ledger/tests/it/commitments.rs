use crate::support::*;
use hyphae_ledger::{
    commitments::{COMMITMENT_LEN_MAX, COMMITMENT_RATE_LIMIT_DEFAULT},
    hyperparameters::{GlobalParameter, SubnetHyperparameter},
    Call, State, TxError,
};
use hyphae_primitives::{NetUid, Uid};

fn commit(data: &[u8]) -> Call {
    Call::Commit {
        netuid: NETUID,
        data: data.to_vec(),
    }
}

/// Every stored commitment (from the persisted rows) belongs to a hotkey registered on its
/// subnet: pruning removes it and `swap_hotkey` moves it.
pub fn check_only_registered(state: &State) {
    for (key, _) in state.rows() {
        if key.first() == Some(&12) {
            let netuid = NetUid(u16::from_be_bytes([key[1], key[2]]));
            let hotkey = hyphae_primitives::AccountId(key[3..35].try_into().unwrap());
            assert!(
                state.uid_of(netuid, &hotkey).is_some(),
                "a commitment outlived its neuron"
            );
        }
    }
}

#[test]
fn commit_rules_and_rate_limit() {
    let mut chain = Chain::dev();
    let hot = key("//Bob//hot");
    chain.ok(
        &key("//Bob"),
        Call::Transfer {
            dest: hot.account_id(),
            amount: tao(1),
        },
    );
    assert_eq!(
        chain.call(&hot, commit(&[1; 32])),
        Err(TxError::NotRegistered)
    );
    chain.register("//Bob", "//Bob//hot");
    assert_eq!(
        chain.call(
            &hot,
            Call::Commit {
                netuid: NetUid(0),
                data: vec![1]
            }
        ),
        Err(TxError::RootSubnetNotAllowed)
    );
    assert_eq!(
        chain.call(
            &hot,
            Call::Commit {
                netuid: NetUid(9),
                data: vec![1]
            }
        ),
        Err(TxError::SubnetNotFound)
    );
    assert_eq!(chain.call(&hot, commit(&[])), Err(TxError::CommitmentEmpty));
    assert_eq!(
        chain.call(&hot, commit(&[7; COMMITMENT_LEN_MAX + 1])),
        Err(TxError::CommitmentTooLong)
    );
    let root_before = chain.state.root();
    chain.ok(&hot, commit(&[7; COMMITMENT_LEN_MAX]));
    let committed_at = chain.block();
    let stored = chain
        .state
        .commitment(NETUID, &hot.account_id())
        .unwrap()
        .clone();
    assert_eq!(stored.block.0, committed_at);
    assert_eq!(stored.data, vec![7; COMMITMENT_LEN_MAX]);
    assert_ne!(
        chain.state.root(),
        root_before,
        "commitments are in the root"
    );
    let listed = chain.state.commitments(NETUID);
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].0, listed[0].1), (Uid(0), hot.account_id()));

    // The default rate limit, then a root change of it.
    assert_eq!(
        chain.state.globals().commitment_rate_limit,
        COMMITMENT_RATE_LIMIT_DEFAULT
    );
    assert_eq!(
        chain.call(&hot, commit(&[8; 32])),
        Err(TxError::CommitmentRateLimited)
    );
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::CommitmentRateLimit(5),
        },
    );
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::SudoSetGlobal {
                param: GlobalParameter::CommitmentRateLimit(0),
            }
        ),
        Err(TxError::NotRoot)
    );
    // Three blocks since the commit (the refused commit, the two sudos); the next call lands
    // in the 4th, still inside the limit of 5, and the one after in the 5th.
    assert_eq!(chain.block() - committed_at, 3);
    assert_eq!(
        chain.call(&hot, commit(&[8; 32])),
        Err(TxError::CommitmentRateLimited),
    );
    // The failed commit left the old one in place.
    assert_eq!(
        chain
            .state
            .commitment(NETUID, &hot.account_id())
            .unwrap()
            .data,
        vec![7; COMMITMENT_LEN_MAX]
    );
    chain.ok(&hot, commit(&[8; 32]));
    let replaced = chain.state.commitment(NETUID, &hot.account_id()).unwrap();
    assert_eq!(replaced.data, vec![8; 32]);
    assert_eq!(replaced.block.0, chain.block());

    // Persisted rows rebuild the commitments exactly.
    let rebuilt = State::from_rows(chain.state.rows()).unwrap();
    assert_eq!(rebuilt, chain.state);
    assert_eq!(rebuilt.root(), chain.state.root());
}

#[test]
fn swap_moves_and_pruning_drops_a_commitment() {
    let mut chain = Chain::dev();
    chain.sudo(SubnetHyperparameter::MaxAllowedUids(1));
    chain.sudo(SubnetHyperparameter::ImmunityPeriod(0));
    chain.register("//Bob", "//Bob//hot");
    let hot = key("//Bob//hot");
    chain.ok(&hot, commit(b"update hash"));
    chain.ok(
        &key("//Bob"),
        Call::SwapHotkey {
            old: hot.account_id(),
            new: id("//Bob//hot2"),
        },
    );
    assert!(chain.state.commitment(NETUID, &hot.account_id()).is_none());
    assert_eq!(
        chain
            .state
            .commitment(NETUID, &id("//Bob//hot2"))
            .unwrap()
            .data,
        b"update hash".to_vec()
    );
    check_only_registered(&chain.state);
    // A full one-slot subnet: the next registration prunes uid 0 and its commitment.
    chain.register("//Charlie", "//Charlie//hot");
    assert_eq!(
        chain.state.uid_of(NETUID, &id("//Charlie//hot")),
        Some(Uid(0))
    );
    assert!(chain.state.commitment(NETUID, &id("//Bob//hot2")).is_none());
    assert!(chain.state.commitments(NETUID).is_empty());
    check_only_registered(&chain.state);
}
