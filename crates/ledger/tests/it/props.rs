//! Randomized block sequences; invariants are checked after every block.

use crate::support::*;
use hyphae_keys::Keypair;
use hyphae_ledger::{emission, serving::AxonArgs, weights::WeightsArgs, Call, State, Transaction};
use hyphae_primitives::{AccountId, NetUid, Rao};
use proptest::prelude::*;
use std::sync::OnceLock;

const COLDKEYS: [&str; 4] = ["//Bob", "//Charlie", "//Dave", "//Eve"];
const HOTKEYS: usize = 6;
/// Hotkeys 6.. are only reachable through `swap_hotkey`.
const SPARE_HOTKEYS: usize = 3;

fn keys() -> &'static (Vec<Keypair>, Vec<Keypair>) {
    static KEYS: OnceLock<(Vec<Keypair>, Vec<Keypair>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let coldkeys = COLDKEYS.iter().map(|uri| key(uri)).collect();
        let hotkeys = (0..HOTKEYS + SPARE_HOTKEYS)
            .map(|i| key(&format!("//hot{i}")))
            .collect();
        (coldkeys, hotkeys)
    })
}

fn small_subnet_spec() -> &'static hyphae_ledger::ChainSpec {
    static SPEC: OnceLock<hyphae_ledger::ChainSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut spec = hyphae_ledger::ChainSpec::dev().unwrap();
        let params = &mut spec.subnets[0].params;
        params.max_allowed_uids = 4;
        params.immunity_period = 0;
        params.max_registrations_per_block = 3;
        // A second emitting subnet, so that stake moves between pools.
        let second = hyphae_ledger::genesis::GenesisSubnet {
            owner_hotkey: id("//Alice//hot2"),
            ..spec.subnets[0].clone()
        };
        spec.subnets.push(second);
        spec
    })
}

#[derive(Clone, Debug)]
enum Action {
    Transfer {
        from: usize,
        to: usize,
        tao: u64,
    },
    Register {
        coldkey: usize,
        hotkey: usize,
    },
    AddStake {
        coldkey: usize,
        hotkey: usize,
        tao: u64,
    },
    RemoveStake {
        coldkey: usize,
        hotkey: usize,
        tao: u64,
    },
    SetWeights {
        hotkey: usize,
        targets: Vec<(u16, u16)>,
    },
    Serve {
        hotkey: usize,
        port: u16,
    },
    Swap {
        coldkey: usize,
        old: usize,
        new: usize,
    },
    StakeLimit {
        coldkey: usize,
        hotkey: usize,
        netuid: u16,
        amount: u64,
        /// Limit price in rao per alpha.
        limit: u64,
        partial: bool,
        remove: bool,
    },
    MoveStake {
        coldkey: usize,
        to_coldkey: usize,
        hotkeys: (usize, usize),
        netuids: (u16, u16),
        /// Alpha in milli-alpha.
        amount: u64,
        kind: u8,
    },
    Commit {
        hotkey: usize,
        len: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let c = 0..COLDKEYS.len();
    let h = 0..HOTKEYS;
    prop_oneof![
        (c.clone(), c.clone(), 0u64..2_000_000).prop_map(|(from, to, tao)| Action::Transfer {
            from,
            to,
            tao
        }),
        (c.clone(), h.clone()).prop_map(|(coldkey, hotkey)| Action::Register { coldkey, hotkey }),
        (c.clone(), h.clone(), 0u64..500).prop_map(|(coldkey, hotkey, tao)| Action::AddStake {
            coldkey,
            hotkey,
            tao
        }),
        (c, h.clone(), 0u64..500).prop_map(|(coldkey, hotkey, tao)| Action::RemoveStake {
            coldkey,
            hotkey,
            tao
        }),
        (
            h.clone(),
            proptest::collection::vec((0u16..8, any::<u16>()), 0..6)
        )
            .prop_map(|(hotkey, targets)| Action::SetWeights { hotkey, targets }),
        (h.clone(), any::<u16>()).prop_map(|(hotkey, port)| Action::Serve { hotkey, port }),
        (0..COLDKEYS.len(), h.clone(), 0..HOTKEYS + SPARE_HOTKEYS)
            .prop_map(|(coldkey, old, new)| Action::Swap { coldkey, old, new }),
        (
            (0..COLDKEYS.len(), h.clone(), 1u16..=2),
            (
                0u64..2_000,
                500_000_000u64..2_000_000_000,
                any::<bool>(),
                any::<bool>()
            )
        )
            .prop_map(
                |((coldkey, hotkey, netuid), (amount, limit, partial, remove))| {
                    Action::StakeLimit {
                        coldkey,
                        hotkey,
                        netuid,
                        amount,
                        limit,
                        partial,
                        remove,
                    }
                }
            ),
        (
            (0..COLDKEYS.len(), 0..COLDKEYS.len(), (h.clone(), h.clone())),
            ((1u16..=2, 1u16..=2), 0u64..60_000, 0u8..3)
        )
            .prop_map(
                |((coldkey, to_coldkey, (_, to)), (netuids, amount, kind))| {
                    // Coldkey i staked on hotkey i at setup: move from there.
                    Action::MoveStake {
                        coldkey,
                        to_coldkey,
                        hotkeys: (coldkey, to),
                        netuids,
                        amount,
                        kind,
                    }
                }
            ),
        (h, 0usize..140).prop_map(|(hotkey, len)| Action::Commit { hotkey, len }),
    ]
}

fn to_tx(
    state: &State,
    action: &Action,
    nonces: &mut std::collections::BTreeMap<AccountId, u64>,
) -> Transaction {
    let (coldkeys, hotkeys) = keys();
    let (signer, call) = match action.clone() {
        Action::Transfer {
            from,
            to,
            tao: amount,
        } => (
            &coldkeys[from],
            Call::Transfer {
                dest: coldkeys[to].account_id(),
                amount: Rao(amount * 1_000_000),
            },
        ),
        Action::Register { coldkey, hotkey } => (
            &coldkeys[coldkey],
            Call::BurnedRegister {
                netuid: NETUID,
                hotkey: hotkeys[hotkey].account_id(),
            },
        ),
        Action::AddStake {
            coldkey,
            hotkey,
            tao: amount,
        } => (
            &coldkeys[coldkey],
            Call::AddStake {
                hotkey: hotkeys[hotkey].account_id(),
                // Netuid 0 (root), 1 or 2, drawn from the amount.
                netuid: NetUid((amount % 3) as u16),
                amount: tao(amount),
            },
        ),
        Action::RemoveStake {
            coldkey,
            hotkey,
            tao: amount,
        } => (
            &coldkeys[coldkey],
            Call::RemoveStake {
                hotkey: hotkeys[hotkey].account_id(),
                netuid: NetUid((amount % 3) as u16),
                amount: tao(amount),
            },
        ),
        Action::SetWeights { hotkey, targets } => {
            let (uids, values) = targets.into_iter().unzip();
            (
                &hotkeys[hotkey],
                Call::SetWeights {
                    netuid: NETUID,
                    weights: WeightsArgs {
                        uids,
                        values,
                        version_key: 0,
                    },
                },
            )
        }
        Action::Serve { hotkey, port } => {
            let axon = AxonArgs {
                version: 1,
                ip: 0x0a00_0001,
                port,
                ip_type: 4,
                protocol: 4,
                placeholder1: 0,
                placeholder2: 0,
            };
            (
                &hotkeys[hotkey],
                Call::ServeAxon {
                    netuid: NETUID,
                    axon,
                },
            )
        }
        Action::Swap { coldkey, old, new } => (
            &coldkeys[coldkey],
            Call::SwapHotkey {
                old: hotkeys[old].account_id(),
                new: hotkeys[new].account_id(),
            },
        ),
        Action::StakeLimit {
            coldkey,
            hotkey,
            netuid,
            amount,
            limit,
            partial,
            remove,
        } => {
            let (hotkey, netuid, amount) =
                (hotkeys[hotkey].account_id(), NetUid(netuid), tao(amount));
            let call = if remove {
                Call::RemoveStakeLimit {
                    hotkey,
                    netuid,
                    amount,
                    limit_price: limit,
                    allow_partial: partial,
                }
            } else {
                Call::AddStakeLimit {
                    hotkey,
                    netuid,
                    amount,
                    limit_price: limit,
                    allow_partial: partial,
                }
            };
            (&coldkeys[coldkey], call)
        }
        Action::MoveStake {
            coldkey,
            to_coldkey,
            hotkeys: (from, to),
            netuids: (origin, destination),
            amount,
            kind,
        } => {
            let amount = Rao(amount * 1_000_000);
            let (origin_netuid, destination_netuid) = (NetUid(origin), NetUid(destination));
            let call = match kind {
                0 => Call::MoveStake {
                    origin_hotkey: hotkeys[from].account_id(),
                    destination_hotkey: hotkeys[to].account_id(),
                    origin_netuid,
                    destination_netuid,
                    amount,
                },
                1 => Call::TransferStake {
                    destination_coldkey: coldkeys[to_coldkey].account_id(),
                    hotkey: hotkeys[from].account_id(),
                    origin_netuid,
                    destination_netuid,
                    amount,
                },
                _ => Call::SwapStake {
                    hotkey: hotkeys[from].account_id(),
                    origin_netuid,
                    destination_netuid,
                    amount,
                },
            };
            (&coldkeys[coldkey], call)
        }
        Action::Commit { hotkey, len } => (
            &hotkeys[hotkey],
            Call::Commit {
                netuid: NETUID,
                data: vec![0xc0; len],
            },
        ),
    };
    let nonce = nonces
        .entry(signer.account_id())
        .or_insert_with(|| state.nonce(&signer.account_id()));
    let tx = Transaction::sign(signer, &state.head().genesis_hash, *nonce, Rao::ZERO, call);
    *nonce += 1;
    tx
}

fn check_block(before: &State, after: &State) {
    let mut accounts: Vec<AccountId> = keys()
        .0
        .iter()
        .chain(&keys().1)
        .map(Keypair::account_id)
        .collect();
    accounts.push(id("//Alice"));
    for account in accounts {
        assert!(
            after.nonce(&account) >= before.nonce(&account),
            "nonces only increase"
        );
    }
    let (b, a) = (before.globals(), after.globals());
    let minted =
        a.issuance.0 + (a.burned.0 - b.burned.0) + (a.recycled.0 - b.recycled.0) - b.issuance.0;
    let expected: u64 = emission::subnet_tao_emissions(before)
        .iter()
        .map(|(_, tao)| tao.0)
        .sum();
    assert!(expected <= emission::block_emission(b.issuance).0);
    assert_eq!(
        minted, expected,
        "emission follows the halving schedule and the split"
    );
    // Every subnet's pool TAO only grows by its share, or moves by stake swaps (which the
    // issuance invariant, checked after every block, keeps whole).
    for netuid in after.netuids() {
        let pool = after.pool(netuid).unwrap();
        assert!(pool.amm().k() > 0, "a seeded pool never empties");
    }
    crate::commitments::check_only_registered(after);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn random_blocks_keep_invariants(
        blocks in proptest::collection::vec((proptest::collection::vec(action(), 0..6), 0u64..8), 1..8)
    ) {
        // A small subnet so that registrations prune and replace.
        let mut chain = Chain::from_spec(small_subnet_spec());
        // Hotkeys need balance for their own fees.
        for hot in &keys().1 {
            chain.ok(&key("//Ferdie"), Call::Transfer { dest: hot.account_id(), amount: tao(100) });
        }
        // Own the first hotkeys and stake on them in both subnets, so that moves can happen.
        let (coldkeys, hotkeys) = keys();
        for (coldkey, hot) in coldkeys.iter().zip(hotkeys) {
            chain.ok(coldkey, Call::BurnedRegister { netuid: NETUID, hotkey: hot.account_id() });
            for netuid in [NETUID, NetUid(2)] {
                chain.ok(coldkey, Call::AddStake { hotkey: hot.account_id(), netuid, amount: tao(50) });
            }
        }
        for (actions, empty) in blocks {
            let mut nonces = std::collections::BTreeMap::new();
            let txs = actions.iter().map(|a| to_tx(&chain.state, a, &mut nonces)).collect();
            let before = chain.state.clone();
            chain.produce(txs);
            check_block(&before, &chain.state);
            for _ in 0..empty {
                let before = chain.state.clone();
                chain.advance(1);
                check_block(&before, &chain.state);
            }
        }
    }
}
