//! End to end: a subnet with 2 validators and 6 miners through 5 epochs.

use crate::support::*;
use hyphae_ledger::{
    epoch::epoch_input,
    epoch::EPOCH_HISTORY,
    explain::{explain, explain_at, EpochSelector, ZeroReason},
    hyperparameters::SubnetHyperparameter,
    weights::WeightsArgs,
    Call,
};
use hyphae_primitives::{NetUid, Rao, Uid};

const SUBNET: NetUid = NetUid(2);

fn sudo(chain: &mut Chain, param: SubnetHyperparameter) {
    chain.ok(
        &key("//Alice"),
        Call::SudoSetHyperparameter {
            netuid: SUBNET,
            param,
        },
    );
}

fn register(chain: &mut Chain, coldkey: &str, hotkey: &str) {
    chain.ok(
        &key(coldkey),
        Call::Transfer {
            dest: id(hotkey),
            amount: tao(10),
        },
    );
    chain.ok(
        &key(coldkey),
        Call::BurnedRegister {
            netuid: SUBNET,
            hotkey: id(hotkey),
        },
    );
}

fn set_weights(chain: &mut Chain, hotkey: &str, uids: &[u16], values: &[u16]) {
    let weights = WeightsArgs {
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key: 0,
    };
    chain.ok(
        &key(hotkey),
        Call::SetWeights {
            netuid: SUBNET,
            weights,
        },
    );
}

fn total_stake(chain: &Chain) -> u64 {
    chain
        .state
        .metagraph(SUBNET)
        .iter()
        .map(|view| view.stake.0)
        .sum::<u64>()
        + chain
            .state
            .total_hotkey_stake(SUBNET, &id("//Bob//owner"))
            .0
            * u64::from(chain.state.uid_of(SUBNET, &id("//Bob//owner")).is_none())
}

/// Advances to the block that runs the next epoch of SUBNET and checks it against Yuma.
fn run_epoch_and_check(chain: &mut Chain) {
    let index = chain.state.subnet(SUBNET).unwrap().epoch_index;
    loop {
        let before = chain.state.clone();
        let stake_before = total_stake(chain);
        chain.advance(1);
        if chain.state.subnet(SUBNET).unwrap().epoch_index == index {
            continue;
        }
        let record = chain.state.epochs_of(SUBNET).unwrap().clone();
        // The metagraph equals what Yuma computes from the pre-block state and E.
        let mut input = epoch_input(&before, SUBNET, chain.state.head().number).unwrap();
        input.emission_rao = record.emission.0;
        let output = hyphae_yuma::epoch(&input).unwrap();
        for (view, out) in chain.state.metagraph(SUBNET).iter().zip(&output.neurons) {
            let n = &view.neuron;
            assert_eq!(
                (n.consensus, n.incentive, n.dividends),
                (out.consensus, out.incentive, out.dividends)
            );
            assert_eq!(
                (n.validator_permit, n.active, n.emission.0),
                (out.validator_permit, out.active, out.emission)
            );
            assert_eq!(n.bonds, out.bonds);
        }
        // Explain accounts for every rao of E.
        let mut paid = 0u64;
        for uid in 0..chain.state.subnet(SUBNET).unwrap().n {
            let receipt = explain(&chain.state, SUBNET, Uid(uid)).unwrap();
            assert_eq!(
                receipt.paid_incentive.0 + receipt.recycled.0,
                receipt.server_emission.0
            );
            assert_eq!(
                receipt.paid_take.0 + receipt.paid_nominators.0,
                receipt.validator_emission.0
            );
            paid += receipt.paid_incentive.0 + receipt.paid_take.0 + receipt.paid_nominators.0;
        }
        assert_eq!(
            paid + record.recycled.0,
            record.emission.0,
            "E = paid + recycled"
        );
        assert!(
            record.recycled.0 < 100,
            "only rounding dust is recycled: {:?}",
            record.recycled
        );
        assert_eq!(
            total_stake(chain) - stake_before,
            paid + record.owner_cut.0,
            "stake grew by what was paid"
        );
        return;
    }
}

#[test]
fn two_validators_six_miners_five_epochs() {
    let mut chain = Chain::dev();
    chain.ok(
        &key("//Bob"),
        Call::RegisterNetwork {
            hotkey: id("//Bob//owner"),
        },
    );
    sudo(&mut chain, SubnetHyperparameter::Tempo(10));
    sudo(
        &mut chain,
        SubnetHyperparameter::CommitRevealWeightsEnabled(false),
    );
    sudo(&mut chain, SubnetHyperparameter::WeightsSetRateLimit(0));
    chain.ok(&key("//Bob"), Call::StartCall { netuid: SUBNET });

    register(&mut chain, "//Charlie", "//Charlie//v");
    register(&mut chain, "//Dave", "//Dave//v");
    for miner in 1..=6 {
        register(&mut chain, "//Eve", &format!("//Eve//m{miner}"));
    }
    chain.ok(
        &key("//Charlie"),
        Call::AddStake {
            hotkey: id("//Charlie//v"),
            netuid: SUBNET,
            amount: tao(100),
        },
    );
    chain.ok(
        &key("//Dave"),
        Call::AddStake {
            hotkey: id("//Dave//v"),
            netuid: SUBNET,
            amount: tao(50),
        },
    );
    chain.ok(
        &key("//Ferdie"),
        Call::AddStake {
            hotkey: id("//Charlie//v"),
            netuid: SUBNET,
            amount: tao(20),
        },
    );
    run_epoch_and_check(&mut chain); // hands out the permits
    assert!(chain.state.neuron(SUBNET, Uid(0)).unwrap().validator_permit);
    assert!(chain.state.neuron(SUBNET, Uid(1)).unwrap().validator_permit);

    let first = chain.state.epochs_of(SUBNET).unwrap().epoch_index;
    let ferdie_start = chain
        .state
        .stake(SUBNET, &id("//Charlie//v"), &id("//Ferdie"));
    for _ in 0..5 {
        // Miner 6 (uid 7) gets no weight; the validators agree on the others' order.
        set_weights(
            &mut chain,
            "//Charlie//v",
            &[2, 3, 4, 5, 6],
            &[10, 20, 30, 40, 50],
        );
        set_weights(
            &mut chain,
            "//Dave//v",
            &[2, 3, 4, 5, 6],
            &[12, 18, 30, 45, 50],
        );
        run_epoch_and_check(&mut chain);
    }
    let record = chain.state.epochs_of(SUBNET).unwrap();
    assert_eq!(record.epoch_index, first + 5);
    let m5 = explain(&chain.state, SUBNET, Uid(6)).unwrap();
    let m1 = explain(&chain.state, SUBNET, Uid(2)).unwrap();
    assert!(m5.incentive > m1.incentive && m1.incentive > 0);
    assert_eq!(m5.weights_received.len(), 2);
    let unweighted = explain(&chain.state, SUBNET, Uid(7)).unwrap();
    assert_eq!(unweighted.server_emission, Rao::ZERO);
    assert!(unweighted
        .zero_reasons
        .contains(&ZeroReason::NoWeightsReceived));
    assert!(unweighted.zero_reasons.contains(&ZeroReason::NoPermit));
    let validator = explain(&chain.state, SUBNET, Uid(0)).unwrap();
    assert!(
        validator.dividends > 0 && validator.paid_take.0 > 0 && validator.paid_nominators.0 > 0
    );
    assert!(
        chain
            .state
            .stake(SUBNET, &id("//Charlie//v"), &id("//Ferdie"))
            .0
            > ferdie_start.0,
        "nominator earns"
    );
    assert!(
        chain
            .state
            .stake(SUBNET, &id("//Bob//owner"), &id("//Bob"))
            .0
            > 0,
        "owner cut is staked"
    );
}

#[test]
fn explain_gives_reasons_for_zero() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//v");
    chain.register("//Charlie", "//Charlie//v");
    chain.register("//Dave", "//Dave//m1");
    chain.register("//Eve", "//Eve//m2");
    chain.stake("//Bob", "//Bob//v", tao(100));
    chain.stake("//Charlie", "//Charlie//v", tao(10));
    let epoch = |c: &Chain| c.state.subnet(crate::support::NETUID).unwrap().epoch_index;
    let start = epoch(&chain);
    while epoch(&chain) == start {
        chain.advance(1);
    }
    let netuid = crate::support::NETUID;
    let weights = |uids: &[u16]| WeightsArgs {
        uids: uids.to_vec(),
        values: vec![1; uids.len()],
        version_key: 0,
    };
    chain.ok(
        &key("//Bob//v"),
        Call::SetWeights {
            netuid,
            weights: weights(&[2]),
        },
    );
    chain.ok(
        &key("//Charlie//v"),
        Call::SetWeights {
            netuid,
            weights: weights(&[3]),
        },
    );
    let now = epoch(&chain);
    while epoch(&chain) == now {
        chain.advance(1);
    }
    let m1 = explain(&chain.state, netuid, Uid(2)).unwrap();
    assert!(
        m1.incentive > 0 && !m1.zero_reasons.contains(&ZeroReason::ClippedToZero),
        "{m1:?}"
    );
    assert_eq!(
        m1.zero_reasons,
        vec![ZeroReason::NoPermit],
        "a miner earns no dividends"
    );
    let m2 = explain(&chain.state, netuid, Uid(3)).unwrap();
    assert_eq!(m2.consensus, 0);
    assert_eq!(m2.weights_received[0].clipped, 0);
    assert!(
        m2.zero_reasons.contains(&ZeroReason::ClippedToZero),
        "{m2:?}"
    );
    // Nobody updates for longer than the activity cutoff (138 blocks at tempo 10).
    chain.advance(150);
    let idle = explain(&chain.state, netuid, Uid(2)).unwrap();
    assert!(
        idle.zero_reasons.contains(&ZeroReason::Inactive),
        "{idle:?}"
    );
    assert!(explain(&chain.state, netuid, Uid(9)).is_none());
}

#[test]
fn explain_reads_back_the_last_eight_epochs() {
    let netuid = crate::support::NETUID;
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//v");
    chain.register("//Dave", "//Dave//m1");
    chain.register("//Eve", "//Eve//m2");
    chain.stake("//Bob", "//Bob//v", tao(100));
    let epoch = |c: &Chain| c.state.subnet(netuid).unwrap().epoch_index;
    let start = epoch(&chain);
    while epoch(&chain) == start {
        chain.advance(1); // hands out the permit
    }
    let mut seen = Vec::new();
    for round in 0..11u16 {
        // Alternate the favoured miner so consecutive receipts differ.
        let weights = WeightsArgs {
            uids: vec![1, 2],
            values: if round % 2 == 0 {
                vec![3, 1]
            } else {
                vec![1, 3]
            },
            version_key: 0,
        };
        chain.ok(&key("//Bob//v"), Call::SetWeights { netuid, weights });
        let start = epoch(&chain);
        while epoch(&chain) == start {
            chain.advance(1);
        }
        let latest: Vec<_> = (0..3)
            .map(|uid| explain(&chain.state, netuid, Uid(uid)).unwrap())
            .collect();
        assert_eq!(
            latest[0],
            explain_at(&chain.state, netuid, Uid(0), EpochSelector::Back(0)).unwrap()
        );
        seen.push(latest);
        assert!(chain.state.epoch_history(netuid).count() <= EPOCH_HISTORY);
    }
    assert_eq!(chain.state.epoch_history(netuid).count(), EPOCH_HISTORY);
    assert_ne!(seen[9][1], seen[10][1], "receipts differ between epochs");
    let (dropped, kept) = seen.split_at(seen.len() - EPOCH_HISTORY);
    for (back, receipts) in kept.iter().rev().enumerate() {
        let block = receipts[0].epoch_block;
        for (uid, then) in receipts.iter().enumerate() {
            let uid = Uid(u16::try_from(uid).unwrap());
            let by_block = EpochSelector::Block(block);
            assert_eq!(
                explain_at(&chain.state, netuid, uid, by_block).as_ref(),
                Some(then)
            );
            let by_back = EpochSelector::Back(u32::try_from(back).unwrap());
            assert_eq!(
                explain_at(&chain.state, netuid, uid, by_back).as_ref(),
                Some(then)
            );
        }
    }
    for receipts in dropped {
        let by_block = EpochSelector::Block(receipts[0].epoch_block);
        assert!(explain_at(&chain.state, netuid, Uid(0), by_block).is_none());
    }
    let back = u32::try_from(EPOCH_HISTORY).unwrap();
    assert!(explain_at(&chain.state, netuid, Uid(0), EpochSelector::Back(back)).is_none());
    // The history is state: it survives the rows round trip and is in the root.
    let rebuilt = hyphae_ledger::State::from_rows(chain.state.rows()).unwrap();
    assert_eq!(rebuilt, chain.state);
    assert_eq!(rebuilt.root(), chain.state.root());
    // A store from before the history kept one record per subnet, keyed by netuid alone.
    let latest = kept.last().unwrap()[1].clone();
    let mut rows = chain.state.rows();
    let legacy = rows
        .iter()
        .rposition(|(key, _)| key.first() == Some(&9))
        .map(|at| rows[at].clone())
        .unwrap();
    rows.retain(|(key, _)| key.first() != Some(&9));
    rows.push((legacy.0[..3].to_vec(), legacy.1));
    let old = hyphae_ledger::State::from_rows(rows).unwrap();
    assert_eq!(old.epoch_history(netuid).count(), 1);
    assert_eq!(explain(&old, netuid, Uid(1)), Some(latest));
}
