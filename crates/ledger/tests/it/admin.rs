use crate::support::*;
use hyphae_ledger::{
    hyperparameters::{GlobalParameter, SubnetHyperparameter},
    Call, TxError,
};

#[test]
fn owner_and_root_setters() {
    let mut chain = Chain::dev();
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::NetworkRateLimit(0),
        },
    );
    chain.ok(
        &key("//Bob"),
        Call::RegisterNetwork {
            hotkey: id("//Bob//hot"),
        },
    );
    let two = hyphae_primitives::NetUid(2);
    let set = |param| Call::SudoSetHyperparameter { netuid: two, param };
    assert_eq!(
        chain.call(&key("//Charlie"), set(SubnetHyperparameter::Kappa(1))),
        Err(TxError::NotSubnetOwner)
    );
    assert_eq!(
        chain.call(&key("//Bob"), set(SubnetHyperparameter::MaxAllowedUids(10))),
        Err(TxError::NotOwnerSettable)
    );
    assert_eq!(
        chain.call(&key("//Bob"), set(SubnetHyperparameter::Tempo(10))),
        Err(TxError::ValueOutOfBounds)
    );
    assert_eq!(
        chain.call(
            &key("//Bob"),
            set(SubnetHyperparameter::AlphaValues(100, 50_000))
        ),
        Err(TxError::ValueOutOfBounds)
    );
    chain.ok(&key("//Bob"), set(SubnetHyperparameter::Kappa(30_000)));
    assert_eq!(chain.state.subnet(two).unwrap().params.kappa, 30_000);
    assert_eq!(
        chain.call(&key("//Bob"), set(SubnetHyperparameter::Kappa(31_000))),
        Err(TxError::HyperparameterRateLimited)
    );
    // Another parameter is not rate-limited by the first, and root is never rate-limited.
    chain.ok(&key("//Bob"), set(SubnetHyperparameter::Rho(11)));
    chain.ok(&key("//Alice"), set(SubnetHyperparameter::Kappa(31_000)));
    chain.ok(&key("//Alice"), set(SubnetHyperparameter::Tempo(10)));
    assert_eq!(
        chain.call(
            &key("//Bob"),
            Call::SudoSetGlobal {
                param: GlobalParameter::SubnetLimit(1)
            }
        ),
        Err(TxError::NotRoot)
    );
    assert_eq!(
        chain.call(
            &key("//Alice"),
            Call::SudoSetGlobal {
                param: GlobalParameter::MaxEpochsPerBlock(0)
            }
        ),
        Err(TxError::ValueOutOfBounds)
    );
    // Fees stay payable: the bounds refuse a price that would lock every account out.
    for param in [
        GlobalParameter::BaseFee(hyphae_ledger::hyperparameters::BASE_FEE_MAX_RAO + 1),
        GlobalParameter::ByteFee(hyphae_ledger::hyperparameters::BYTE_FEE_MAX_RAO + 1),
    ] {
        assert_eq!(
            chain.call(&key("//Alice"), Call::SudoSetGlobal { param }),
            Err(TxError::ValueOutOfBounds)
        );
    }
    chain.ok(
        &key("//Alice"),
        Call::SudoSetGlobal {
            param: GlobalParameter::BaseFee(hyphae_ledger::hyperparameters::BASE_FEE_MAX_RAO),
        },
    );
}

#[test]
fn every_error_code_has_a_rejecting_test() {
    // Codes a call cannot reach through the public interface, with the reason.
    let unreachable = [
        (
            TxError::ArithmeticOverflow,
            "balances are bounded by a u64 issuance",
        ),
        (
            TxError::Evicted,
            "the mempool's, never the ledger's; tested in hyphae-node's mempool",
        ),
    ];
    let source: String = [
        "accounts.rs",
        "admin.rs",
        "blocks.rs",
        "commitments.rs",
        "registration.rs",
        "root.rs",
        "serving.rs",
        "stake.rs",
        "subnets.rs",
        "weights.rs",
    ]
    .iter()
    .map(|file| {
        std::fs::read_to_string(format!("{}/tests/it/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    })
    .collect();
    for error in TxError::ALL {
        let named = source.contains(&format!("TxError::{}", error.name()));
        let excused = unreachable.iter().any(|(e, _)| e == error);
        assert!(named || excused, "no rejecting test for {error}");
    }
}
