use crate::support::*;
use hyphae_ledger::{
    genesis::GenesisSubnet, hyperparameters::SubnetHyperparameter, subnets::SubnetParams, Call,
    ChainSpec, TxError,
};
use hyphae_primitives::{Rao, Uid};

#[test]
fn register_appends_burns_and_bumps_price() {
    let mut chain = Chain::dev();
    let burned = chain.state.globals().burned;
    let price = chain.state.subnet(NETUID).unwrap().burn;
    chain.register("//Bob", "//Bob//hot");
    assert_eq!(chain.state.uid_of(NETUID, &id("//Bob//hot")), Some(Uid(0)));
    assert_eq!(
        chain.state.hotkey_owner(&id("//Bob//hot")),
        Some(id("//Bob"))
    );
    assert!(
        chain.state.globals().burned.0 > burned.0 + price.0 / 2,
        "the burn is destroyed"
    );
    let after = chain.state.subnet(NETUID).unwrap().burn;
    assert!(
        after.0 > price.0,
        "price bumps by 1.26 (net of one block of decay)"
    );
    chain.advance(360);
    let decayed = chain.state.subnet(NETUID).unwrap().burn;
    assert!(
        decayed.0 <= after.0 / 2 + 1 && decayed.0 >= after.0 / 2 - after.0 / 100,
        "halves over the half-life: {after:?} -> {decayed:?}"
    );
}

#[test]
fn registration_rejections() {
    let mut chain = Chain::dev();
    chain.register("//Bob", "//Bob//hot");
    let bob = key("//Bob");
    let charlie = key("//Charlie");
    assert_eq!(
        chain.call(
            &bob,
            Call::BurnedRegister {
                netuid: NETUID,
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::HotkeyAlreadyRegistered)
    );
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: hyphae_ledger::hyperparameters::GlobalParameter::NetworkRateLimit(0),
        },
    );
    // Charlie cannot register a hotkey Bob owns (on another subnet).
    chain.ok(
        &bob,
        Call::RegisterNetwork {
            hotkey: id("//Bob//hot"),
        },
    );
    chain.ok(
        &bob,
        Call::StartCall {
            netuid: hyphae_primitives::NetUid(2),
        },
    );
    assert_eq!(
        chain.call(
            &charlie,
            Call::BurnedRegister {
                netuid: hyphae_primitives::NetUid(2),
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::NotHotkeyOwner)
    );
    assert_eq!(
        chain.call(
            &charlie,
            Call::RegisterLimit {
                netuid: NETUID,
                hotkey: id("//Charlie//hot"),
                max_price: Rao(1)
            }
        ),
        Err(TxError::MaxPriceExceeded)
    );
}

#[test]
fn one_registration_per_block() {
    let mut chain = Chain::dev();
    let a = chain.sign(
        &key("//Bob"),
        Call::BurnedRegister {
            netuid: NETUID,
            hotkey: id("//Bob//hot"),
        },
    );
    let b = chain.sign(
        &key("//Charlie"),
        Call::BurnedRegister {
            netuid: NETUID,
            hotkey: id("//Charlie//hot"),
        },
    );
    let receipts = chain.produce(vec![a, b]);
    assert_eq!(receipts[0].tx_error(), None);
    assert_eq!(
        receipts[1].tx_error(),
        Some(TxError::TooManyRegistrationsThisBlock)
    );
}

#[test]
fn full_subnet_prunes_lowest_emission_earliest_registration() {
    let mut chain = Chain::dev();
    chain.sudo(SubnetHyperparameter::MaxAllowedUids(3));
    chain.sudo(SubnetHyperparameter::ImmunityPeriod(0));
    chain.register("//Alice", "//Alice//hot");
    chain.register("//Bob", "//Bob//hot");
    chain.register("//Charlie", "//Charlie//hot");
    chain.ok(
        &key("//Alice//hot"),
        Call::SetWeights {
            netuid: NETUID,
            weights: hyphae_ledger::weights::WeightsArgs {
                uids: vec![1, 2],
                values: vec![10, 20],
                version_key: 0,
            },
        },
    );
    chain.register("//Eve", "//Eve//hot");
    assert_eq!(
        chain.state.uid_of(NETUID, &id("//Bob//hot")),
        None,
        "earliest non-owner registration pruned"
    );
    assert_eq!(chain.state.uid_of(NETUID, &id("//Eve//hot")), Some(Uid(1)));
    let owner = chain.state.neuron(NETUID, Uid(0)).unwrap();
    assert_eq!(
        owner.weights,
        vec![(1, 0), (2, 65535)],
        "weights on the replaced uid are zeroed in place"
    );
    let fresh = chain.state.neuron(NETUID, Uid(1)).unwrap();
    assert_eq!(fresh.registered_at.0, chain.block());
    assert!(fresh.weights.is_empty() && fresh.bonds.is_empty() && fresh.axon.is_none());
}

#[test]
fn owner_hotkey_is_never_pruned() {
    let mut chain = Chain::dev();
    chain.sudo(SubnetHyperparameter::MaxAllowedUids(1));
    chain.register("//Alice", "//Alice//hot");
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::BurnedRegister {
                netuid: NETUID,
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::NoNeuronIdAvailable)
    );
}

#[test]
fn zero_max_uids_refuses_registration() {
    let mut spec = ChainSpec::dev().unwrap();
    let alice = id("//Alice");
    spec.subnets.push(GenesisSubnet {
        owner_coldkey: alice,
        owner_hotkey: id("//Alice//hot2"),
        start_emission: false,
        params: SubnetParams {
            max_allowed_uids: 0,
            ..SubnetParams::default()
        },
        neurons: Vec::new(),
    });
    let mut chain = Chain::from_spec(&spec);
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::BurnedRegister {
                netuid: hyphae_primitives::NetUid(2),
                hotkey: id("//Bob//hot")
            }
        ),
        Err(TxError::NoUidsAllowed)
    );
}

#[test]
fn owner_hotkey_is_immortal_even_when_registered_last() {
    let mut chain = Chain::dev();
    chain.sudo(SubnetHyperparameter::MaxAllowedUids(2));
    chain.sudo(SubnetHyperparameter::ImmunityPeriod(0));
    // Alice (the owner coldkey) registers another hotkey first, then the owner hotkey.
    chain.register("//Alice", "//Alice//other");
    chain.register("//Alice", "//Alice//hot");
    chain.register("//Bob", "//Bob//hot");
    assert_eq!(
        chain.state.uid_of(NETUID, &id("//Alice//hot")),
        Some(Uid(1)),
        "owner hotkey kept"
    );
    assert_eq!(
        chain.state.uid_of(NETUID, &id("//Alice//other")),
        None,
        "only ImmuneOwnerUidsLimit = 1 is immortal"
    );
}
