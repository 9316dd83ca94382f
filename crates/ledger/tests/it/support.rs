//! A dev chain driven block by block, with a replica that re-applies every block.

use hyphae_keys::Keypair;
use hyphae_ledger::{
    apply_block, build_block, Call, ChainSpec, Receipt, State, Transaction, TxError,
};
use hyphae_primitives::{AccountId, NetUid, Rao, RAO_PER_TAO};
use std::{
    collections::BTreeMap,
    sync::{Mutex, OnceLock},
};

pub const NETUID: NetUid = NetUid(1);

/// Derives (once per uri: BIP39 seed stretching is slow in debug builds) the keypair of `uri`.
pub fn key(uri: &str) -> Keypair {
    static CACHE: Mutex<BTreeMap<String, Keypair>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap();
    cache
        .entry(uri.to_owned())
        .or_insert_with(|| Keypair::from_uri(uri).unwrap())
        .clone()
}

pub fn id(uri: &str) -> AccountId {
    key(uri).account_id()
}

pub fn tao(n: u64) -> Rao {
    Rao(n * RAO_PER_TAO)
}

pub struct Chain {
    pub state: State,
    replica: State,
    pub time_ms: u64,
}

impl Chain {
    pub fn dev() -> Self {
        static DEV: OnceLock<ChainSpec> = OnceLock::new();
        Self::from_spec(DEV.get_or_init(|| ChainSpec::dev().unwrap()))
    }

    pub fn from_spec(spec: &ChainSpec) -> Self {
        let (state, _) = spec.build().unwrap();
        Self {
            replica: state.clone(),
            state,
            time_ms: 0,
        }
    }

    pub fn block(&self) -> u64 {
        self.state.head().number.0
    }

    pub fn sign(&self, signer: &Keypair, call: Call) -> Transaction {
        let nonce = self.state.nonce(&signer.account_id());
        Transaction::sign(
            signer,
            &self.state.head().genesis_hash,
            nonce,
            Rao::ZERO,
            call,
        )
    }

    /// Builds a block from `txs`, checks every one was included, re-applies it on the replica.
    pub fn produce(&mut self, txs: Vec<Transaction>) -> Vec<Receipt> {
        self.time_ms += 12_000;
        let built = build_block(&mut self.state, txs, self.time_ms, id("//Ferdie"));
        assert!(built.rejected.is_empty(), "rejected: {:?}", built.rejected);
        // apply_block checks the replica's root against the header the builder sealed.
        apply_block(&mut self.replica, &built.block).unwrap();
        crate::invariants::check(&self.state);
        built.receipts.transactions
    }

    pub fn advance(&mut self, blocks: u64) {
        for _ in 0..blocks {
            self.produce(Vec::new());
        }
    }

    /// One transaction in its own block; returns its outcome.
    pub fn call(&mut self, signer: &Keypair, call: Call) -> Result<(), TxError> {
        let tx = self.sign(signer, call);
        let receipt = self.produce(vec![tx]).remove(0);
        match receipt.tx_error() {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    pub fn ok(&mut self, signer: &Keypair, call: Call) {
        self.call(signer, call.clone())
            .unwrap_or_else(|e| panic!("{} failed: {e}", call.name()));
    }

    /// Registers `hotkey_uri` under `coldkey_uri` on netuid 1.
    /// Registers `hotkey_uri` under `coldkey_uri` on netuid 1 and funds the hotkey's fees.
    pub fn register(&mut self, coldkey_uri: &str, hotkey_uri: &str) {
        let coldkey = key(coldkey_uri);
        let fund = self.sign(
            &coldkey,
            Call::Transfer {
                dest: id(hotkey_uri),
                amount: tao(10),
            },
        );
        let nonce = self.state.nonce(&coldkey.account_id()) + 1;
        let call = Call::BurnedRegister {
            netuid: NETUID,
            hotkey: id(hotkey_uri),
        };
        let register = Transaction::sign(
            &coldkey,
            &self.state.head().genesis_hash,
            nonce,
            Rao::ZERO,
            call,
        );
        let receipts = self.produce(vec![fund, register]);
        assert!(receipts.iter().all(|r| r.error.is_none()), "{receipts:?}");
    }

    pub fn stake(&mut self, coldkey_uri: &str, hotkey_uri: &str, amount: Rao) {
        self.ok(
            &key(coldkey_uri),
            Call::AddStake {
                hotkey: id(hotkey_uri),
                netuid: NETUID,
                amount,
            },
        );
    }

    pub fn sudo(&mut self, param: hyphae_ledger::hyperparameters::SubnetHyperparameter) {
        self.ok(
            &key("//Alice"),
            Call::SudoSetHyperparameter {
                netuid: NETUID,
                param,
            },
        );
    }
}
