//! Genesis: the JSON [`ChainSpec`] and the `dev` preset.
//!
//! ```json
//! {
//!   "name": "dev",
//!   "timestamp_ms": 0,
//!   "root_key": "5Grw…",
//!   "accounts": [{ "address": "5Grw…", "balance": 1000000000000000 }],
//!   "subnets": [{ "owner_coldkey": "5Grw…", "owner_hotkey": "5F…", "start_emission": true,
//!                 "params": { "tempo": 10, "commit_reveal": false } }],
//!   "validators": [{ "consensus_key": "0x…", "p2p_address": "127.0.0.1:30333" }]
//! }
//! ```
//!
//! The validator set is carried verbatim for the consensus layer; the ledger reads only its
//! consensus keys, into the chain id ([`ChainSpec::chain_id`]).

use crate::{
    block::{extrinsics_root, Header},
    codec::blake2_256,
    neurons::Neuron,
    pool::{Pool, SubnetPool},
    state::{Globals, State},
    subnets::{new_subnet, SubnetParams},
};
use hyphae_keys::Keypair;
use hyphae_primitives::{AccountId, BlockNumber, Hash, NetUid, Rao, Uid, RAO_PER_TAO};
use parity_scale_codec::Encode;
use serde::{Deserialize, Serialize};

/// A funded account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// SS58 address.
    pub address: AccountId,
    /// Free balance, rao.
    pub balance: Rao,
}

/// A subnet that exists from block 0. No lock is taken: its pool is seeded with
/// `network_min_lock` of newly issued TAO and as much alpha (price 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSubnet {
    /// Owner coldkey.
    pub owner_coldkey: AccountId,
    /// Owner hotkey.
    pub owner_hotkey: AccountId,
    /// Whether it emits from block 1 (as if `start_call` ran at genesis).
    #[serde(default)]
    pub start_emission: bool,
    /// Hyperparameters; missing fields take the new-subnet defaults.
    #[serde(default)]
    pub params: SubnetParams,
    /// Neurons registered at genesis, uid = position (for localnets and benchmarks).
    #[serde(default)]
    pub neurons: Vec<GenesisNeuron>,
}

/// A neuron registered at genesis, with the stake its coldkey holds on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNeuron {
    /// Hotkey.
    pub hotkey: AccountId,
    /// Owning coldkey.
    pub coldkey: AccountId,
    /// Stake of `coldkey` on `hotkey`, bought at price 1: this TAO joins the pool (counted in
    /// issuance) and the coldkey holds as much alpha.
    #[serde(default)]
    pub stake: Rao,
}

/// A consensus validator, carried for the BFT layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Consensus public key, hex.
    pub consensus_key: String,
    /// Where its p2p endpoint listens.
    pub p2p_address: String,
    /// Its account, if any.
    #[serde(default)]
    pub account: Option<AccountId>,
}

/// The chain spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    /// Chain name.
    pub name: String,
    /// Genesis timestamp.
    #[serde(default)]
    pub timestamp_ms: u64,
    /// Sudo key.
    pub root_key: AccountId,
    /// Funded accounts.
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    /// Initial subnets, netuid 1, 2, … in order.
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
    /// Consensus validators.
    #[serde(default)]
    pub validators: Vec<GenesisValidator>,
}

/// Why a chain spec cannot build.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// JSON does not parse.
    #[error("chain spec JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Balances overflow.
    #[error("genesis balances overflow u64")]
    Overflow,
    /// An account is listed twice.
    #[error("account {0} is listed twice")]
    DuplicateAccount(AccountId),
    /// Too many subnets.
    #[error("more than 65535 subnets")]
    TooManySubnets,
    /// A genesis neuron's hotkey is registered twice, owned by another coldkey, or the subnet is full.
    #[error("genesis neuron {0} is invalid")]
    BadNeuron(AccountId),
    /// A dev key failed to derive.
    #[error("dev key: {0}")]
    Key(String),
}

fn add_genesis_neuron(
    state: &mut State,
    netuid: NetUid,
    spec: &GenesisNeuron,
    issuance: u64,
) -> Result<u64, GenesisError> {
    if state
        .hotkey_owners
        .get(&spec.hotkey)
        .is_some_and(|owner| *owner != spec.coldkey)
        || state.uid_of(netuid, &spec.hotkey).is_some()
    {
        return Err(GenesisError::BadNeuron(spec.hotkey));
    }
    let subnet = state
        .subnets
        .get_mut(&netuid)
        .ok_or(GenesisError::BadNeuron(spec.hotkey))?;
    let uid = Uid(subnet.n);
    subnet.n = subnet
        .n
        .checked_add(1)
        .ok_or(GenesisError::BadNeuron(spec.hotkey))?;
    state.hotkey_owners.insert(spec.hotkey, spec.coldkey);
    state
        .neurons
        .insert((netuid, uid), Neuron::fresh(spec.hotkey, BlockNumber(0)));
    state.uid_index.insert((netuid, spec.hotkey), uid);
    if !spec.stake.is_zero() {
        state
            .stakes
            .insert((netuid, spec.hotkey, spec.coldkey), spec.stake);
        // Genesis stake buys alpha at price 1 without slippage: its TAO and as much alpha
        // join the pool, and the staker holds that much alpha outstanding.
        let pool = state
            .pools
            .get_mut(&netuid)
            .ok_or(GenesisError::BadNeuron(spec.hotkey))?;
        pool.amm
            .inject(spec.stake, spec.stake)
            .map_err(|_| GenesisError::Overflow)?;
        pool.mint_outstanding(spec.stake);
        pool.alpha_minted = pool
            .alpha_minted
            .checked_add(spec.stake)
            .ok_or(GenesisError::Overflow)?;
    }
    issuance
        .checked_add(spec.stake.0)
        .ok_or(GenesisError::Overflow)
}

/// The dev accounts' names, in order.
pub const DEV_NAMES: [&str; 6] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];
/// Each dev account's balance: one million TAO.
pub const DEV_BALANCE: Rao = Rao(1_000_000 * RAO_PER_TAO);

impl ChainSpec {
    /// Parses a JSON chain spec.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The `dev` preset: //Alice … //Ferdie hold a million TAO each, Alice is root, and one
    /// emitting subnet (netuid 1, owner //Alice with hotkey //Alice//hot, tempo 10,
    /// commit-reveal off, no weights rate limit) exists. Alice is the single consensus validator.
    pub fn dev() -> Result<Self, GenesisError> {
        let key = |uri: &str| {
            Keypair::from_uri(uri)
                .map(|k| k.account_id())
                .map_err(|e| GenesisError::Key(e.to_string()))
        };
        let alice = key("//Alice")?;
        let accounts = DEV_NAMES
            .iter()
            .map(|name| {
                Ok(GenesisAccount {
                    address: key(&format!("//{name}"))?,
                    balance: DEV_BALANCE,
                })
            })
            .collect::<Result<Vec<_>, GenesisError>>()?;
        // Fast-runtime flavour: short tempo, no commit-reveal, no weights rate limit.
        let params = SubnetParams {
            tempo: 10,
            commit_reveal: false,
            weights_set_rate_limit: 0,
            ..SubnetParams::default()
        };
        Ok(Self {
            name: "dev".into(),
            timestamp_ms: 0,
            root_key: alice,
            accounts,
            subnets: vec![GenesisSubnet {
                owner_coldkey: alice,
                owner_hotkey: key("//Alice//hot")?,
                start_emission: true,
                params,
                neurons: Vec::new(),
            }],
            validators: vec![GenesisValidator {
                consensus_key: alice.to_hex(),
                p2p_address: "127.0.0.1:30333".into(),
                account: Some(alice),
            }],
        })
    }

    /// What names this chain apart from any other built from the same balances and subnets:
    /// its name and its validators' consensus keys (not their addresses, which may move). It
    /// is the genesis header's parent hash, so the genesis hash, which every transaction
    /// signs, differs between two networks whose state starts out the same.
    pub fn chain_id(&self) -> Hash {
        let keys: Vec<&str> = self
            .validators
            .iter()
            .map(|v| v.consensus_key.as_str())
            .collect();
        blake2_256(&(b"hyphae/chain-id/v1".as_slice(), self.name.as_str(), keys).encode())
    }

    /// The genesis state and header. The header's hash is the genesis hash that every
    /// transaction signs; its parent hash is [`ChainSpec::chain_id`].
    pub fn build(&self) -> Result<(State, Header), GenesisError> {
        let mut state = State::empty(Globals::with_root(self.root_key));
        let mut issuance = 0u64;
        for account in &self.accounts {
            if state.accounts.contains_key(&account.address) {
                return Err(GenesisError::DuplicateAccount(account.address));
            }
            issuance = issuance
                .checked_add(account.balance.0)
                .ok_or(GenesisError::Overflow)?;
            state.accounts.insert(
                account.address,
                crate::accounts::Account {
                    balance: account.balance,
                    nonce: 0,
                },
            );
        }
        for (index, spec) in self.subnets.iter().enumerate() {
            let netuid = u16::try_from(index)
                .ok()
                .and_then(|i| i.checked_add(1))
                .ok_or(GenesisError::TooManySubnets)?;
            let mut subnet = new_subnet(
                BlockNumber(0),
                spec.owner_coldkey,
                spec.owner_hotkey,
                Rao::ZERO,
                spec.params.clone(),
            );
            subnet.first_emission_block = spec.start_emission.then_some(0);
            state
                .hotkey_owners
                .entry(spec.owner_hotkey)
                .or_insert(spec.owner_coldkey);
            let netuid = NetUid(netuid);
            state.subnets.insert(netuid, subnet);
            // A genesis subnet locks nothing, so its pool is seeded with newly issued TAO, as
            // if it had locked the minimum: staking needs a price from the first block.
            let seed = state.globals.network_min_lock;
            state.pools.insert(netuid, SubnetPool::seeded(seed));
            issuance = issuance.checked_add(seed.0).ok_or(GenesisError::Overflow)?;
            for neuron in &spec.neurons {
                issuance = add_genesis_neuron(&mut state, netuid, neuron, issuance)?;
            }
        }
        state.globals.issuance = Rao(issuance);
        let header = Header {
            parent_hash: self.chain_id(),
            number: BlockNumber(0),
            timestamp_ms: self.timestamp_ms,
            state_root: state.root(),
            extrinsics_root: extrinsics_root(&[]),
            author: AccountId::default(),
        };
        state.head.genesis_hash = header.hash();
        state.head.hash = header.hash();
        state.head.timestamp_ms = self.timestamp_ms;
        Ok((state, header))
    }
}
