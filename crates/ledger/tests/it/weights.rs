use crate::support::*;
use hyphae_ledger::{
    hyperparameters::{GlobalParameter, SubnetHyperparameter},
    weights::{commit_hash, WeightsArgs, COMMITS_PER_HOTKEY_MAX},
    Call, TxError,
};
use hyphae_primitives::{Hash, Uid};

/// Bob//hot (uid 0) is a staked validator with a permit; Charlie//hot and Dave//hot are miners.
pub fn with_validator() -> Chain {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    chain.register("//Charlie", "//Charlie//hot");
    chain.register("//Dave", "//Dave//hot");
    chain.stake("//Bob", "//Bob//hot", tao(100));
    chain.advance(11);
    assert!(chain.state.neuron(NETUID, Uid(0)).unwrap().validator_permit);
    chain
}

fn args(uids: &[u16], values: &[u16]) -> WeightsArgs {
    WeightsArgs {
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key: 0,
    }
}

fn set(chain: &mut Chain, who: &str, weights: WeightsArgs) -> Result<(), TxError> {
    chain.call(
        &key(who),
        Call::SetWeights {
            netuid: NETUID,
            weights,
        },
    )
}

#[test]
fn set_weights_stores_upscaled_in_caller_order() {
    let mut chain = with_validator();
    set(&mut chain, "//Bob//hot", args(&[2, 1], &[1, 2])).unwrap();
    let neuron = chain.state.neuron(NETUID, Uid(0)).unwrap();
    assert_eq!(neuron.weights, vec![(2, 32768), (1, 65535)]);
    assert_eq!(neuron.last_update.0, chain.block());
}

#[test]
fn set_weights_rules_in_order() {
    let mut chain = with_validator();
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 2], &[1])),
        Err(TxError::WeightsLengthMismatch)
    );
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[0, 1, 2, 3], &[1, 1, 1, 1])),
        Err(TxError::TooManyWeights)
    );
    chain.ok(
        &key("//Eve"),
        Call::Transfer {
            dest: id("//Eve//hot"),
            amount: tao(1),
        },
    );
    assert_eq!(
        set(&mut chain, "//Eve//hot", args(&[1], &[1])),
        Err(TxError::NotRegistered)
    );
    assert_eq!(
        set(&mut chain, "//Charlie//hot", args(&[2], &[1])),
        Err(TxError::NoValidatorPermit)
    );
    set(&mut chain, "//Charlie//hot", args(&[1], &[1])).expect("self-weight needs no permit");
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 1], &[1, 1])),
        Err(TxError::DuplicateUids)
    );
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 7], &[1, 1])),
        Err(TxError::UidNotFound)
    );
    chain.sudo(SubnetHyperparameter::MinAllowedWeights(2));
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1], &[1])),
        Err(TxError::WeightVecTooShort)
    );
    chain.sudo(SubnetHyperparameter::MaxWeightsLimit(40_000));
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 2], &[1, 100])),
        Err(TxError::MaxWeightExceeded)
    );
    set(&mut chain, "//Bob//hot", args(&[1, 2], &[100, 100])).unwrap();
    chain.sudo(SubnetHyperparameter::WeightsVersionKey(5));
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 2], &[1, 1])),
        Err(TxError::IncorrectWeightVersionKey)
    );
    let newer = WeightsArgs {
        version_key: 5,
        ..args(&[1, 2], &[1, 1])
    };
    chain.sudo(SubnetHyperparameter::WeightsSetRateLimit(100));
    assert_eq!(
        set(&mut chain, "//Bob//hot", newer),
        Err(TxError::WeightsRateLimited)
    );
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::StakeThreshold(tao(1_000).0),
        },
    );
    assert_eq!(
        set(&mut chain, "//Bob//hot", args(&[1, 2], &[1, 1])),
        Err(TxError::NotEnoughStakeToSetWeights)
    );
}

#[test]
fn commit_reveal_flow() {
    let mut chain = with_validator();
    let bob = key("//Bob//hot");
    let weights = args(&[1, 2], &[3, 4]);
    let salt = vec![9u16, 8, 7];
    let hash = commit_hash(&id("//Bob//hot"), NETUID, &weights, &salt);
    assert_eq!(
        chain.call(
            &bob,
            Call::CommitWeights {
                netuid: NETUID,
                hash
            }
        ),
        Err(TxError::CommitRevealDisabled)
    );
    assert_eq!(
        chain.call(
            &bob,
            Call::RevealWeights {
                netuid: NETUID,
                weights: weights.clone(),
                salt: salt.clone()
            }
        ),
        Err(TxError::CommitRevealDisabled)
    );
    chain.sudo(SubnetHyperparameter::CommitRevealWeightsEnabled(true));
    assert_eq!(
        set(&mut chain, "//Bob//hot", weights.clone()),
        Err(TxError::CommitRevealEnabled)
    );
    chain.ok(
        &bob,
        Call::CommitWeights {
            netuid: NETUID,
            hash,
        },
    );
    let reveal = Call::RevealWeights {
        netuid: NETUID,
        weights: weights.clone(),
        salt: salt.clone(),
    };
    assert_eq!(
        chain.call(&bob, reveal.clone()),
        Err(TxError::RevealTooEarly)
    );
    let wrong = Call::RevealWeights {
        netuid: NETUID,
        weights: args(&[1, 2], &[4, 3]),
        salt: salt.clone(),
    };
    assert_eq!(chain.call(&bob, wrong), Err(TxError::NoWeightsCommitFound));
    let epoch = chain.state.subnet(NETUID).unwrap().epoch_index;
    while chain.state.subnet(NETUID).unwrap().epoch_index == epoch {
        chain.advance(1);
    }
    chain.ok(&bob, reveal.clone());
    assert_eq!(
        chain.state.neuron(NETUID, Uid(0)).unwrap().weights,
        vec![(1, 49151), (2, 65535)]
    );
    assert_eq!(chain.call(&bob, reveal), Err(TxError::NoWeightsCommitFound));

    // A commit left for two epochs expires.
    let late = commit_hash(&id("//Bob//hot"), NETUID, &weights, &[1]);
    chain.ok(
        &bob,
        Call::CommitWeights {
            netuid: NETUID,
            hash: late,
        },
    );
    chain.advance(21);
    assert_eq!(
        chain.call(
            &bob,
            Call::RevealWeights {
                netuid: NETUID,
                weights,
                salt: vec![1]
            }
        ),
        Err(TxError::ExpiredWeightCommit)
    );
}

#[test]
fn a_commit_moved_by_swap_hotkey_is_revealed_by_the_new_hotkey() {
    let mut chain = with_validator();
    chain.sudo(SubnetHyperparameter::CommitRevealWeightsEnabled(true));
    let (old, new) = (id("//Bob//hot"), id("//Bob//new"));
    let weights = args(&[1, 2], &[3, 4]);
    let salt = vec![5u16, 6];
    chain.ok(
        &key("//Bob//hot"),
        Call::CommitWeights {
            netuid: NETUID,
            hash: commit_hash(&old, NETUID, &weights, &salt),
        },
    );
    chain.ok(&key("//Bob"), Call::SwapHotkey { old, new });
    chain.ok(
        &key("//Alice"),
        Call::Transfer {
            dest: new,
            amount: tao(1),
        },
    );
    let epoch = chain.state.subnet(NETUID).unwrap().epoch_index;
    while chain.state.subnet(NETUID).unwrap().epoch_index == epoch {
        chain.advance(1);
    }
    chain.ok(
        &key("//Bob//new"),
        Call::RevealWeights {
            netuid: NETUID,
            weights,
            salt,
        },
    );
    assert_eq!(
        chain.state.neuron(NETUID, Uid(0)).unwrap().weights,
        vec![(1, 49151), (2, 65535)]
    );
}

#[test]
fn unrevealed_commits_are_capped() {
    let mut chain = with_validator();
    chain.sudo(SubnetHyperparameter::CommitRevealWeightsEnabled(true));
    let bob = key("//Bob//hot");
    let txs: Vec<_> = (0..=COMMITS_PER_HOTKEY_MAX as u8)
        .map(|i| {
            let nonce = chain.state.nonce(&bob.account_id()) + u64::from(i);
            hyphae_ledger::Transaction::sign(
                &bob,
                &chain.state.head().genesis_hash,
                nonce,
                hyphae_primitives::Rao::ZERO,
                Call::CommitWeights {
                    netuid: NETUID,
                    hash: Hash([i; 32]),
                },
            )
        })
        .collect();
    let receipts = chain.produce(txs);
    assert!(receipts[..COMMITS_PER_HOTKEY_MAX]
        .iter()
        .all(|r| r.error.is_none()));
    assert_eq!(
        receipts[COMMITS_PER_HOTKEY_MAX].tx_error(),
        Some(TxError::TooManyUnrevealedCommits)
    );
}

#[test]
fn pending_commit_reaches_the_epoch_input() {
    let mut chain = with_validator();
    chain.sudo(SubnetHyperparameter::CommitRevealWeightsEnabled(true));
    let hash = commit_hash(&id("//Bob//hot"), NETUID, &args(&[1], &[1]), &[1]);
    chain.ok(
        &key("//Bob//hot"),
        Call::CommitWeights {
            netuid: NETUID,
            hash,
        },
    );
    let committed_at = chain.block();
    let input =
        hyphae_ledger::epoch::epoch_input(&chain.state, NETUID, chain.state.head().number).unwrap();
    assert!(input.params.commit_reveal);
    assert_eq!(input.neurons[0].commit_block, Some(committed_at));
    assert_eq!(
        input.neurons[0].last_update, committed_at,
        "a commit counts as a weight update"
    );
    assert_eq!(input.neurons[1].commit_block, None);
}
