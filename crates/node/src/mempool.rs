//! The mempool: signed transactions waiting for a block.
//!
//! Rules, in the order [`Mempool::insert`] applies them:
//! 1. **At the door**, a transaction must verify (signature over this chain's genesis hash)
//!    and carry exactly the next nonce of its signer (the chain's nonce plus the signer's
//!    pending count), or the nonce of a pending one it replaces. Its signer must be able to
//!    pay for it *after* everything it already has pending: fee and tip (else `CannotPayFee`)
//!    and the TAO the call moves out, a transfer's or a stake's amount, where `transfer_all`
//!    takes whatever is left (else `InsufficientBalance`). Refusals are the ledger's
//!    [`TxError`]s (`BadSignature`, `NonceStale`, `NonceFuture`, `CannotPayFee`,
//!    `InsufficientBalance`). A gap is never queued, so every account's pending nonces are
//!    contiguous from the chain's nonce, and one fee's worth of balance cannot queue a
//!    thousand transactions bound to fail.
//! 2. **Replacement:** a transaction with the nonce of a pending one replaces it if it tips
//!    more. A `set_weights` replaces a pending `set_weights` of the same hotkey and netuid at
//!    the same nonce whatever the tip: newer weights supersede older ones. A signer may
//!    replace at most `replacements_per_account` transactions between two blocks, so every
//!    replaced transaction's `dropped` report survives until the block.
//! 3. **Bounds:** at most `capacity` transactions in all and `per_account` per signer. A full
//!    pool makes room for a transaction that tips more than the cheapest pending tail (the
//!    last transaction of the account whose last tip is lowest), which is dropped as
//!    `Evicted`; otherwise the newcomer is refused.
//!
//! [`Mempool::ready`] picks a block's candidates: each account's transactions in nonce order,
//! accounts interleaved by tip (highest first, then arrival).

use hyphae_keys::verify;
use hyphae_ledger::{codec::blake2_256, Call, State, Transaction};
use hyphae_primitives::{AccountId, Hash, Rao, TxError};
use parity_scale_codec::Encode;
use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap},
};

/// Limits of the mempool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most transactions pending in all.
    pub capacity: usize,
    /// Most transactions pending per signer.
    pub per_account: usize,
    /// Most replacements per signer between two blocks.
    pub replacements_per_account: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            capacity: 16_384,
            per_account: 1_024,
            replacements_per_account: 16,
        }
    }
}

/// Why the mempool refused a transaction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// A ledger rule refuses it.
    #[error("invalid transaction: {0}")]
    Invalid(TxError),
    /// The mempool is full.
    #[error("the mempool is full ({capacity} transactions)")]
    Full {
        /// Its capacity.
        capacity: usize,
    },
    /// The signer has too many pending transactions.
    #[error("the signer already has {limit} pending transactions")]
    AccountFull {
        /// The per-account limit.
        limit: usize,
    },
    /// The signer replaced too many transactions since the last block, or the pool's
    /// record of replaced transactions is full until the next block.
    #[error("too many replacements before the next block (at most {limit} per signer)")]
    ReplacementLimit {
        /// The per-signer limit.
        limit: usize,
    },
    /// A pending transaction with this nonce tips at least as much.
    #[error("a pending transaction with nonce {nonce} tips at least as much")]
    ReplacementUnderpriced {
        /// The contested nonce.
        nonce: u64,
    },
    /// The same transaction is already pending.
    #[error("transaction {0} is already pending")]
    AlreadyKnown(Hash),
}

/// What [`Mempool::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inserted {
    /// The new transaction's hash.
    pub hash: Hash,
    /// The pending transaction it replaced.
    pub replaced: Option<Hash>,
}

#[derive(Clone, Debug)]
struct Pending {
    tx: Transaction,
    hash: Hash,
    arrival: u64,
    /// What it may take from the signer's free balance: fee, tip and outflow, as priced at
    /// admission.
    cost: Rao,
}

/// The TAO `call` moves out of the signer's free balance besides fee and tip, as far as the
/// call itself says; `rest` is what is left after everything before it, which is what a
/// `transfer_all` takes.
fn outflow(call: &Call, rest: Rao) -> Rao {
    match call {
        Call::Transfer { amount, .. } | Call::AddStake { amount, .. } => *amount,
        Call::AddStakeLimit { amount, .. } => *amount,
        Call::TransferAll { .. } => rest,
        _ => Rao::ZERO,
    }
}

/// The hash a transaction is known by (and its receipt carries).
pub fn tx_hash(tx: &Transaction) -> Hash {
    blake2_256(&tx.encode())
}

/// Whether the signature verifies over `genesis_hash`. Pure CPU: call it before taking a lock.
pub fn signature_valid(tx: &Transaction, genesis_hash: &Hash) -> bool {
    let payload =
        Transaction::signing_payload(genesis_hash, &tx.signer, tx.nonce, tx.tip, &tx.call);
    verify(&tx.signer, &payload, &tx.signature)
}

/// Pending transactions, per account in nonce order.
#[derive(Debug, Default)]
pub struct Mempool {
    config: MempoolConfig,
    accounts: BTreeMap<AccountId, BTreeMap<u64, Pending>>,
    by_hash: BTreeMap<Hash, (AccountId, u64)>,
    /// Transactions replaced or evicted since the last block, reported as dropped by
    /// [`Mempool::on_block`]; bounded by `capacity`.
    replaced: Vec<(Hash, TxError)>,
    /// Replacements per signer since the last block.
    replacements: BTreeMap<AccountId, usize>,
    arrivals: u64,
    /// Where transactions admitted here (not from peers) go to be gossiped; bounded, and a
    /// full outbox drops the announcement, never the transaction.
    announce: Option<tokio::sync::mpsc::Sender<Transaction>>,
}

impl Mempool {
    /// An empty mempool.
    pub fn new(config: MempoolConfig) -> Self {
        Self {
            config,
            accounts: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            replaced: Vec::new(),
            replacements: BTreeMap::new(),
            arrivals: 0,
            announce: None,
        }
    }

    /// Gossips every transaction [`Mempool::insert`] admits from now on to `outbox`.
    pub fn set_announcer(&mut self, outbox: tokio::sync::mpsc::Sender<Transaction>) {
        self.announce = Some(outbox);
    }

    /// Like [`Mempool::insert`], for a transaction a peer gossiped (check its signature with
    /// [`signature_valid`] first, outside the lock): it is not gossiped again, since every
    /// validator hears every other directly.
    pub fn insert_from_peer(
        &mut self,
        tx: Transaction,
        state: &State,
    ) -> Result<Inserted, MempoolError> {
        self.admit(tx, state, false)
    }

    /// Transactions pending.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The nonce `who` should sign with next: the chain's plus its pending count.
    pub fn next_nonce(&self, who: &AccountId, state: &State) -> u64 {
        let pending = self.accounts.get(who).map_or(0, BTreeMap::len);
        state
            .nonce(who)
            .saturating_add(u64::try_from(pending).unwrap_or(u64::MAX))
    }

    /// Checks `tx` against `state` and the pending set, and queues it. The signature must
    /// have been checked with [`signature_valid`] (it is checked again here only if
    /// `check_signature` is set).
    pub fn insert(
        &mut self,
        tx: Transaction,
        state: &State,
        check_signature: bool,
    ) -> Result<Inserted, MempoolError> {
        let announced = self.announce.as_ref().map(|_| tx.clone());
        let inserted = self.admit(tx, state, check_signature)?;
        if let (Some(outbox), Some(tx)) = (&self.announce, announced) {
            // Full: peers learn of it when it lands in a block this node proposes.
            let _ = outbox.try_send(tx);
        }
        Ok(inserted)
    }

    fn admit(
        &mut self,
        tx: Transaction,
        state: &State,
        check_signature: bool,
    ) -> Result<Inserted, MempoolError> {
        if check_signature && !signature_valid(&tx, &state.head().genesis_hash) {
            return Err(MempoolError::Invalid(TxError::BadSignature));
        }
        let hash = tx_hash(&tx);
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::AlreadyKnown(hash));
        }
        let chain_nonce = state.nonce(&tx.signer);
        if tx.nonce < chain_nonce {
            return Err(MempoolError::Invalid(TxError::NonceStale));
        }
        let next = self.next_nonce(&tx.signer, state);
        if tx.nonce > next {
            return Err(MempoolError::Invalid(TxError::NonceFuture));
        }
        let cost = self.check_funds(&tx, state)?;
        let replaced = if tx.nonce < next {
            Some(self.check_replacement(&tx)?)
        } else {
            self.make_room(&tx)?;
            None
        };
        if let Some(old) = replaced {
            self.by_hash.remove(&old);
            self.replaced.push((old, TxError::NonceStale));
            let count = self.replacements.entry(tx.signer).or_default();
            *count = count.saturating_add(1);
        }
        self.arrivals = self.arrivals.saturating_add(1);
        self.by_hash.insert(hash, (tx.signer, tx.nonce));
        let nonce = tx.nonce;
        let signer = tx.signer;
        let pending = Pending {
            tx,
            hash,
            arrival: self.arrivals,
            cost,
        };
        self.accounts
            .entry(signer)
            .or_default()
            .insert(nonce, pending);
        Ok(Inserted { hash, replaced })
    }

    /// `tx`'s cost, if its signer can pay it after its other pending transactions (the one
    /// `tx` would replace excepted): `CannotPayFee` if fee and tip do not fit,
    /// `InsufficientBalance` if the amount the call moves does not.
    fn check_funds(&self, tx: &Transaction, state: &State) -> Result<Rao, MempoolError> {
        let invalid = |why| move || MempoolError::Invalid(why);
        let committed = self
            .accounts
            .get(&tx.signer)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter(|p| p.tx.nonce != tx.nonce)
            .try_fold(Rao::ZERO, |sum, p| sum.checked_add(p.cost))
            .ok_or_else(invalid(TxError::CannotPayFee))?;
        let fee_and_tip = tx
            .call
            .fee(state)
            .checked_add(tx.tip)
            .ok_or_else(invalid(TxError::CannotPayFee))?;
        let rest = state
            .balance(&tx.signer)
            .checked_sub(committed)
            .and_then(|left| left.checked_sub(fee_and_tip))
            .ok_or_else(invalid(TxError::CannotPayFee))?;
        let moved = outflow(&tx.call, rest);
        if moved > rest {
            return Err(MempoolError::Invalid(TxError::InsufficientBalance));
        }
        fee_and_tip
            .checked_add(moved)
            .ok_or_else(invalid(TxError::InsufficientBalance))
    }

    /// Checks the bounds for a new nonce of `tx`'s signer and, when the pool is full, evicts
    /// the cheapest pending tail if `tx` tips more.
    fn make_room(&mut self, tx: &Transaction) -> Result<(), MempoolError> {
        let pending = self.accounts.get(&tx.signer).map_or(0, BTreeMap::len);
        if pending >= self.config.per_account {
            return Err(MempoolError::AccountFull {
                limit: self.config.per_account,
            });
        }
        if self.len() < self.config.capacity {
            return Ok(());
        }
        let full = MempoolError::Full {
            capacity: self.config.capacity,
        };
        if self.replaced.len() >= self.config.capacity {
            return Err(full);
        }
        let cheapest = self
            .accounts
            .iter()
            .filter(|(signer, _)| **signer != tx.signer)
            .filter_map(|(signer, queue)| queue.last_key_value().map(|(_, last)| (signer, last)))
            .min_by_key(|(_, last)| (last.tx.tip, Reverse(last.arrival)))
            .filter(|(_, last)| tx.tip > last.tx.tip)
            .map(|(signer, last)| (*signer, last.tx.nonce));
        let Some((victim, nonce)) = cheapest else {
            return Err(full);
        };
        if let Some(queue) = self.accounts.get_mut(&victim) {
            if let Some(gone) = queue.remove(&nonce) {
                self.by_hash.remove(&gone.hash);
                self.replaced.push((gone.hash, TxError::Evicted));
            }
            if queue.is_empty() {
                self.accounts.remove(&victim);
            }
        }
        Ok(())
    }

    /// The hash of the pending transaction `tx` may replace, or why not.
    fn check_replacement(&self, tx: &Transaction) -> Result<Hash, MempoolError> {
        let limit = self.config.replacements_per_account;
        let used = self.replacements.get(&tx.signer).copied().unwrap_or(0);
        if used >= limit || self.replaced.len() >= self.config.capacity {
            return Err(MempoolError::ReplacementLimit { limit });
        }
        let old = self
            .accounts
            .get(&tx.signer)
            .and_then(|pending| pending.get(&tx.nonce))
            .ok_or(MempoolError::Invalid(TxError::NonceFuture))?;
        let newer_weights = matches!(
            (&old.tx.call, &tx.call),
            (Call::SetWeights { netuid: a, .. }, Call::SetWeights { netuid: b, .. }) if a == b
        );
        if newer_weights || tx.tip > old.tx.tip {
            Ok(old.hash)
        } else {
            Err(MempoolError::ReplacementUnderpriced { nonce: tx.nonce })
        }
    }

    /// Up to `max` candidates for the next block: per account in nonce order, accounts
    /// interleaved by tip, then by arrival.
    pub fn ready(&self, max: usize) -> Vec<Transaction> {
        let queues: Vec<Vec<&Pending>> = self
            .accounts
            .values()
            .map(|pending| pending.values().collect())
            .collect();
        let mut heap = BinaryHeap::new();
        for (account_idx, queue) in queues.iter().enumerate() {
            if let Some(first) = queue.first() {
                heap.push((first.tx.tip, Reverse(first.arrival), account_idx, 0usize));
            }
        }
        let mut out = Vec::with_capacity(max.min(self.len()));
        while out.len() < max {
            let Some((_, _, account_idx, position)) = heap.pop() else {
                break;
            };
            let Some(queue) = queues.get(account_idx) else {
                continue;
            };
            if let Some(pending) = queue.get(position) {
                out.push(pending.tx.clone());
            }
            let next_position = position.saturating_add(1);
            if let Some(next) = queue.get(next_position) {
                heap.push((
                    next.tx.tip,
                    Reverse(next.arrival),
                    account_idx,
                    next_position,
                ));
            }
        }
        out
    }

    /// After a block: drops what the chain has consumed (nonce below the account's new nonce)
    /// and everything from a `rejected` transaction onwards in its account (the nonces after
    /// it can no longer follow). Returns the dropped hashes that were not in the block, with
    /// why.
    pub fn on_block(
        &mut self,
        state: &State,
        included: &[Hash],
        rejected: &[(Hash, TxError)],
    ) -> Vec<(Hash, TxError)> {
        let included: std::collections::BTreeSet<&Hash> = included.iter().collect();
        // Replaced transactions lost their nonce to another one.
        let mut dropped: Vec<(Hash, TxError)> = std::mem::take(&mut self.replaced);
        self.replacements.clear();
        for (hash, error) in rejected {
            let Some(&(signer, nonce)) = self.by_hash.get(hash) else {
                continue;
            };
            if let Some(pending) = self.accounts.get_mut(&signer) {
                let later = pending.split_off(&nonce);
                for (_, gone) in later {
                    self.by_hash.remove(&gone.hash);
                    let why = if gone.hash == *hash {
                        *error
                    } else {
                        TxError::NonceFuture
                    };
                    dropped.push((gone.hash, why));
                }
            }
        }
        for (signer, pending) in &mut self.accounts {
            let chain_nonce = state.nonce(signer);
            let keep = pending.split_off(&chain_nonce);
            for (_, done) in std::mem::replace(pending, keep) {
                self.by_hash.remove(&done.hash);
                if !included.contains(&done.hash) {
                    dropped.push((done.hash, TxError::NonceStale));
                }
            }
        }
        self.accounts.retain(|_, pending| !pending.is_empty());
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyphae_keys::Keypair;
    use hyphae_ledger::{build_block, weights::WeightsArgs, ChainSpec};
    use hyphae_primitives::{NetUid, Rao};

    fn setup() -> (State, Keypair, AccountId) {
        let (state, _) = ChainSpec::dev().unwrap().build().unwrap();
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap().account_id();
        (state, alice, bob)
    }

    fn transfer(
        state: &State,
        key: &Keypair,
        nonce: u64,
        tip: u64,
        dest: AccountId,
    ) -> Transaction {
        let call = Call::Transfer {
            dest,
            amount: Rao(1_000),
        };
        Transaction::sign(key, &state.head().genesis_hash, nonce, Rao(tip), call)
    }

    #[test]
    fn door_rejects_bad_signature_stale_and_gapped_nonces() {
        let (state, alice, bob) = setup();
        let mut pool = Mempool::new(MempoolConfig::default());
        let mut forged = transfer(&state, &alice, 0, 0, bob);
        forged.tip = Rao(1);
        assert_eq!(
            pool.insert(forged, &state, true),
            Err(MempoolError::Invalid(TxError::BadSignature))
        );
        assert_eq!(
            pool.insert(transfer(&state, &alice, 1, 0, bob), &state, true),
            Err(MempoolError::Invalid(TxError::NonceFuture))
        );
        let first = transfer(&state, &alice, 0, 0, bob);
        let ok = pool.insert(first.clone(), &state, true).unwrap();
        assert_eq!(
            pool.insert(first, &state, true),
            Err(MempoolError::AlreadyKnown(ok.hash))
        );
        pool.insert(transfer(&state, &alice, 1, 0, bob), &state, true)
            .unwrap();
        assert_eq!(pool.next_nonce(&alice.account_id(), &state), 2);
        let poor = Keypair::from_uri("//Nobody").unwrap();
        assert_eq!(
            pool.insert(transfer(&state, &poor, 0, 0, bob), &state, true),
            Err(MempoolError::Invalid(TxError::CannotPayFee))
        );
    }

    #[test]
    fn replacement_needs_a_higher_tip_except_for_newer_weights() {
        let (state, alice, bob) = setup();
        let mut pool = Mempool::new(MempoolConfig::default());
        let first = pool
            .insert(transfer(&state, &alice, 0, 5, bob), &state, true)
            .unwrap();
        let other = Keypair::from_uri("//Charlie").unwrap().account_id();
        assert_eq!(
            pool.insert(transfer(&state, &alice, 0, 5, other), &state, true),
            Err(MempoolError::ReplacementUnderpriced { nonce: 0 })
        );
        let second = pool
            .insert(transfer(&state, &alice, 0, 6, other), &state, true)
            .unwrap();
        assert_eq!(second.replaced, Some(first.hash));
        assert_eq!(pool.len(), 1);
        assert_eq!(
            pool.on_block(&state, &[], &[]),
            vec![(first.hash, TxError::NonceStale)]
        );
        assert_eq!(pool.len(), 1);

        let hot = Keypair::from_uri("//Alice//hot").unwrap();
        let mut state = state;
        // Fund the hotkey so it can pay fees.
        let fund = Transaction::sign(
            &alice,
            &state.head().genesis_hash,
            0,
            Rao::ZERO,
            Call::Transfer {
                dest: hot.account_id(),
                amount: Rao(1_000_000_000),
            },
        );
        build_block(&mut state, vec![fund], 1, alice.account_id());
        let weights = |values: Vec<u16>| Call::SetWeights {
            netuid: NetUid(1),
            weights: WeightsArgs {
                uids: vec![0],
                values,
                version_key: 0,
            },
        };
        let mut pool = Mempool::new(MempoolConfig::default());
        let old = pool
            .insert(
                Transaction::sign(
                    &hot,
                    &state.head().genesis_hash,
                    0,
                    Rao(9),
                    weights(vec![1]),
                ),
                &state,
                true,
            )
            .unwrap();
        let new = pool
            .insert(
                Transaction::sign(
                    &hot,
                    &state.head().genesis_hash,
                    0,
                    Rao(0),
                    weights(vec![2]),
                ),
                &state,
                true,
            )
            .unwrap();
        assert_eq!(new.replaced, Some(old.hash));
    }

    #[test]
    fn bounds_and_tip_priority() {
        let (state, alice, bob) = setup();
        let mut pool = Mempool::new(MempoolConfig {
            capacity: 3,
            per_account: 2,
            ..MempoolConfig::default()
        });
        pool.insert(transfer(&state, &alice, 0, 1, bob), &state, true)
            .unwrap();
        pool.insert(transfer(&state, &alice, 1, 100, bob), &state, true)
            .unwrap();
        assert_eq!(
            pool.insert(transfer(&state, &alice, 2, 0, bob), &state, true),
            Err(MempoolError::AccountFull { limit: 2 })
        );
        let bob_key = Keypair::from_uri("//Bob").unwrap();
        let charlie = Keypair::from_uri("//Charlie").unwrap();
        pool.insert(
            transfer(&state, &bob_key, 0, 50, alice.account_id()),
            &state,
            true,
        )
        .unwrap();
        assert_eq!(
            pool.insert(transfer(&state, &charlie, 0, 0, bob), &state, true),
            Err(MempoolError::Full { capacity: 3 })
        );
        let ready = pool.ready(10);
        // Bob tips 50 > Alice's first (1); Alice's nonces stay in order.
        let order: Vec<(AccountId, u64)> = ready.iter().map(|tx| (tx.signer, tx.nonce)).collect();
        assert_eq!(
            order,
            vec![
                (bob_key.account_id(), 0),
                (alice.account_id(), 0),
                (alice.account_id(), 1)
            ]
        );
    }

    #[test]
    fn on_block_drops_included_stale_and_followers_of_rejected() {
        let (mut state, alice, bob) = setup();
        let mut pool = Mempool::new(MempoolConfig::default());
        let a0 = pool
            .insert(transfer(&state, &alice, 0, 0, bob), &state, true)
            .unwrap();
        let a1 = pool
            .insert(transfer(&state, &alice, 1, 0, bob), &state, true)
            .unwrap();
        let built = build_block(&mut state, pool.ready(1), 1, alice.account_id());
        assert_eq!(built.block.transactions.len(), 1);
        let dropped = pool.on_block(&state, &[a0.hash], &[]);
        assert!(dropped.is_empty());
        assert!(pool.contains(&a1.hash) && !pool.contains(&a0.hash));
        let dropped = pool.on_block(&state, &[], &[(a1.hash, TxError::CannotPayFee)]);
        assert_eq!(dropped, vec![(a1.hash, TxError::CannotPayFee)]);
        assert!(pool.is_empty());
    }

    /// A key funded with `amount` rao by Alice in a block applied to `state`.
    fn funded(state: &mut State, alice: &Keypair, uri: &str, amount: Rao) -> Keypair {
        let key = Keypair::from_uri(uri).unwrap();
        let nonce = state.nonce(&alice.account_id());
        let fund = Transaction::sign(
            alice,
            &state.head().genesis_hash,
            nonce,
            Rao::ZERO,
            Call::Transfer {
                dest: key.account_id(),
                amount,
            },
        );
        build_block(state, vec![fund], 1, alice.account_id());
        assert_eq!(state.balance(&key.account_id()), amount);
        key
    }

    #[test]
    fn pending_transactions_are_paid_for_before_a_new_one_is_admitted() {
        let (mut state, alice, bob) = setup();
        let one = transfer(&state, &alice, 0, 0, bob);
        let price = one.call.fee(&state).checked_add(Rao(1_000)).unwrap();
        // Enough for one transfer and its fee, not for two.
        let poor = funded(&mut state, &alice, "//Poor", Rao(price.0 + price.0 / 2));
        let mut pool = Mempool::new(MempoolConfig::default());
        pool.insert(transfer(&state, &poor, 0, 0, bob), &state, true)
            .unwrap();
        assert_eq!(
            pool.insert(transfer(&state, &poor, 1, 0, bob), &state, true),
            Err(MempoolError::Invalid(TxError::CannotPayFee))
        );
        // Replacing nonce 0 is judged without the transaction it replaces.
        pool.insert(transfer(&state, &poor, 0, 1, bob), &state, true)
            .unwrap();
        // More than what is left after the pending one moves: refused at the door.
        let rich = funded(&mut state, &alice, "//Rich", Rao(1_000_000_000));
        let big = Call::Transfer {
            dest: bob,
            amount: Rao(1_000_000_000),
        };
        let genesis = state.head().genesis_hash;
        assert_eq!(
            pool.insert(
                Transaction::sign(&rich, &genesis, 0, Rao::ZERO, big),
                &state,
                true
            ),
            Err(MempoolError::Invalid(TxError::InsufficientBalance))
        );
        // Nothing can follow a transfer_all: it takes whatever is left.
        let all = Call::TransferAll { dest: bob };
        pool.insert(
            Transaction::sign(&rich, &genesis, 0, Rao::ZERO, all),
            &state,
            true,
        )
        .unwrap();
        assert_eq!(
            pool.insert(transfer(&state, &rich, 1, 0, bob), &state, true),
            Err(MempoolError::Invalid(TxError::CannotPayFee))
        );
    }

    #[test]
    fn a_full_pool_evicts_the_cheapest_tail_for_a_higher_tip() {
        let (state, alice, bob) = setup();
        let bob_key = Keypair::from_uri("//Bob").unwrap();
        let charlie = Keypair::from_uri("//Charlie").unwrap();
        let mut pool = Mempool::new(MempoolConfig {
            capacity: 3,
            ..MempoolConfig::default()
        });
        pool.insert(transfer(&state, &alice, 0, 5, bob), &state, true)
            .unwrap();
        let cheap = pool
            .insert(transfer(&state, &alice, 1, 1, bob), &state, true)
            .unwrap();
        pool.insert(
            transfer(&state, &bob_key, 0, 3, alice.account_id()),
            &state,
            true,
        )
        .unwrap();
        // Tipping no more than the cheapest tail (Alice's nonce 1, tip 1) is refused.
        assert_eq!(
            pool.insert(transfer(&state, &charlie, 0, 1, bob), &state, true),
            Err(MempoolError::Full { capacity: 3 })
        );
        let newcomer = pool
            .insert(transfer(&state, &charlie, 0, 2, bob), &state, true)
            .unwrap();
        assert_eq!(pool.len(), 3);
        assert!(pool.contains(&newcomer.hash) && !pool.contains(&cheap.hash));
        // Alice's remaining nonces stay contiguous, and the evicted one is reported.
        assert_eq!(pool.next_nonce(&alice.account_id(), &state), 1);
        assert_eq!(
            pool.on_block(&state, &[], &[]),
            vec![(cheap.hash, TxError::Evicted)]
        );
    }

    #[test]
    fn replacements_are_bounded_between_blocks_and_all_reported() {
        let (state, alice, bob) = setup();
        let mut pool = Mempool::new(MempoolConfig {
            replacements_per_account: 2,
            ..MempoolConfig::default()
        });
        let mut hashes = Vec::new();
        for tip in 0..3 {
            hashes.push(
                pool.insert(transfer(&state, &alice, 0, tip, bob), &state, true)
                    .unwrap()
                    .hash,
            );
        }
        assert_eq!(
            pool.insert(transfer(&state, &alice, 0, 9, bob), &state, true),
            Err(MempoolError::ReplacementLimit { limit: 2 })
        );
        assert_eq!(
            pool.on_block(&state, &[], &[]),
            vec![
                (hashes[0], TxError::NonceStale),
                (hashes[1], TxError::NonceStale)
            ]
        );
        // A block resets the count.
        pool.insert(transfer(&state, &alice, 0, 9, bob), &state, true)
            .unwrap();
    }
}
