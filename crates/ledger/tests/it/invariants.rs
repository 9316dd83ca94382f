//! Invariants checked after every block of every test.

use hyphae_ledger::State;
use std::collections::BTreeSet;

pub fn check(state: &State) {
    assert_eq!(
        u128::from(state.globals().issuance.0),
        state.accounted_total(),
        "issuance must equal balances + pool TAO"
    );
    for netuid in state.netuids() {
        if let Some(error) = state.alpha_books_error(netuid) {
            panic!("alpha books: {error}");
        }
        let mut hotkeys = BTreeSet::new();
        let mut expected_uid = 0u16;
        for (uid, neuron) in state.neurons_of(netuid) {
            assert_eq!(uid.0, expected_uid, "uids are dense");
            expected_uid += 1;
            assert!(
                hotkeys.insert(neuron.hotkey),
                "hotkey holds two uids on {netuid}"
            );
            assert_eq!(state.uid_of(netuid, &neuron.hotkey), Some(uid));
        }
        assert_eq!(state.subnet(netuid).unwrap().n, expected_uid);
    }
}
