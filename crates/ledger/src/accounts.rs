//! Accounts: free balances and nonces, and the `transfer` / `transfer_all` calls.

use crate::{codec::RaoCodec, event::Event, state::State};
use hyphae_primitives::{AccountId, Rao, TxError};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// One account's free balance and the next nonce it must sign with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Account {
    /// Spendable TAO.
    #[codec(encoded_as = "RaoCodec")]
    pub balance: Rao,
    /// The nonce of the next transaction; starts at 0 and only increases.
    pub nonce: u64,
}

impl State {
    /// The free balance of `who` (zero for an unknown account).
    pub fn balance(&self, who: &AccountId) -> Rao {
        self.accounts
            .get(who)
            .map_or(Rao::ZERO, |account| account.balance)
    }

    /// The next nonce `who` must use.
    pub fn nonce(&self, who: &AccountId) -> u64 {
        self.accounts.get(who).map_or(0, |account| account.nonce)
    }

    /// Takes `amount` from `who`'s free balance.
    pub(crate) fn withdraw(&mut self, who: &AccountId, amount: Rao) -> Result<(), TxError> {
        let account = self
            .accounts
            .get_mut(who)
            .ok_or(TxError::InsufficientBalance)?;
        account.balance = account
            .balance
            .checked_sub(amount)
            .ok_or(TxError::InsufficientBalance)?;
        if account.balance.is_zero() && account.nonce == 0 {
            // An account that never signed and holds nothing carries no state worth hashing.
            self.accounts.remove(who);
        }
        Ok(())
    }

    /// Adds `amount` to `who`'s free balance, creating the account.
    pub(crate) fn deposit(&mut self, who: &AccountId, amount: Rao) -> Result<(), TxError> {
        if amount.is_zero() {
            return Ok(());
        }
        let account = self.accounts.entry(*who).or_default();
        account.balance = account
            .balance
            .checked_add(amount)
            .ok_or(TxError::ArithmeticOverflow)?;
        Ok(())
    }

    /// Destroys `amount` of `who`'s balance, lowering issuance (fees and registration burns).
    pub(crate) fn burn_from(&mut self, who: &AccountId, amount: Rao) -> Result<(), TxError> {
        self.withdraw(who, amount)?;
        self.note_burned(amount);
        Ok(())
    }
}

/// `transfer(dest, amount)`: moves free balance.
pub(crate) fn transfer(
    state: &mut State,
    from: &AccountId,
    dest: &AccountId,
    amount: Rao,
) -> Result<Vec<Event>, TxError> {
    if amount.is_zero() {
        return Err(TxError::AmountZero);
    }
    if from == dest {
        return Err(TxError::TransferToSelf);
    }
    if state.balance(from) < amount {
        return Err(TxError::InsufficientBalance);
    }
    state
        .balance(dest)
        .checked_add(amount)
        .ok_or(TxError::ArithmeticOverflow)?;
    state.withdraw(from, amount)?;
    state.deposit(dest, amount)?;
    Ok(vec![Event::Transfer {
        from: *from,
        to: *dest,
        amount,
    }])
}

/// `transfer_all(dest)`: moves the whole free balance (after the fee was taken).
pub(crate) fn transfer_all(
    state: &mut State,
    from: &AccountId,
    dest: &AccountId,
) -> Result<Vec<Event>, TxError> {
    let amount = state.balance(from);
    transfer(state, from, dest, amount)
}
