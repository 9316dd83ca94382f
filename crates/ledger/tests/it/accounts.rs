use crate::support::*;
use hyphae_ledger::{Call, TxError};
use hyphae_primitives::Rao;

#[test]
fn transfer_moves_balance_and_burns_fee() {
    let mut chain = Chain::dev();
    let before = chain.state.balance(&id("//Alice"));
    let issuance = chain.state.globals().issuance;
    let call = Call::Transfer {
        dest: id("//Bob"),
        amount: tao(3),
    };
    let fee = call.fee(&chain.state);
    chain.ok(&key("//Alice"), call);
    assert_eq!(
        chain.state.balance(&id("//Alice")),
        Rao(before.0 - tao(3).0 - fee.0)
    );
    assert_eq!(
        chain.state.balance(&id("//Bob")),
        Rao(1_000_003 * 1_000_000_000)
    );
    assert_eq!(chain.state.globals().burned, fee);
    // One block minted 1 TAO of emission into the dev subnet.
    assert_eq!(
        chain.state.globals().issuance.0 + fee.0,
        issuance.0 + 1_000_000_000
    );
    assert_eq!(chain.state.nonce(&id("//Alice")), 1);
}

#[test]
fn transfer_all_empties_the_sender() {
    let mut chain = Chain::dev();
    chain.ok(&key("//Eve"), Call::TransferAll { dest: id("//Bob") });
    assert_eq!(chain.state.balance(&id("//Eve")), Rao::ZERO);
    assert_eq!(
        chain.state.nonce(&id("//Eve")),
        1,
        "the nonce survives an emptied account"
    );
}

#[test]
fn transfer_rejections() {
    let mut chain = Chain::dev();
    let alice = key("//Alice");
    assert_eq!(
        chain.call(
            &alice,
            Call::Transfer {
                dest: id("//Bob"),
                amount: tao(2_000_000)
            }
        ),
        Err(TxError::InsufficientBalance)
    );
    assert_eq!(
        chain.call(
            &alice,
            Call::Transfer {
                dest: id("//Bob"),
                amount: Rao::ZERO
            }
        ),
        Err(TxError::AmountZero)
    );
    assert_eq!(
        chain.call(
            &alice,
            Call::Transfer {
                dest: id("//Alice"),
                amount: tao(1)
            }
        ),
        Err(TxError::TransferToSelf)
    );
    // A failed call still pays its fee and consumes its nonce.
    assert_eq!(chain.state.nonce(&id("//Alice")), 3);
}
