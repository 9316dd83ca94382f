//! Axon-side nonce rules (replay protection), as pure logic over an explicit `now`.
//!
//! Python (`default_verify`, bittensor ≥ 7.2.0 dendrites):
//! * the first nonce of an endpoint `"{hotkey}:{uuid}"` must be newer than
//!   `now − 4 s − timeout`;
//! * later nonces must be strictly greater than the last accepted one.
//!
//! hyphae is stricter, on purpose:
//! * **future bound**: a nonce more than [`NoncePolicy::future_skew`] ahead of `now` is
//!   rejected (Python accepts any future nonce, which poisons the endpoint for honest nonces);
//! * **timeout cap**: the `timeout` widening the first-nonce window is capped at
//!   [`NoncePolicy::timeout_max_s`] (the header is caller-chosen);
//! * **the window applies whatever the dendrite version** (Python skips it below 7.2.0);
//! * **bounded memory**: at most [`NoncePolicy::capacity`] endpoints are remembered, least
//!   recently used first out. An entry is only evicted once its last nonce has left the
//!   acceptance window, so eviction can never re-open a replay; when every entry is still fresh
//!   the new endpoint is refused (`Nonce memory full`) instead.
//! * **fixed-size entries**: an endpoint is remembered by the SHA3-256 of its key, so a
//!   caller-chosen uuid cannot make an entry larger than 32 bytes plus the nonce.
//! * **a separate pool for unregistered callers**: endpoints recorded as
//!   [`Caller::Unregistered`] live in their own memory of [`NoncePolicy::unregistered_capacity`]
//!   entries, so free identities cannot fill the memory that registered hotkeys need.

use std::time::Duration;

use lru::LruCache;
use sha3::{Digest, Sha3_256};

/// Limits of the nonce memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoncePolicy {
    /// The fixed part of the first-nonce window (Python: 4 s).
    pub base_window: Duration,
    /// The most a nonce may be ahead of the axon's clock.
    pub future_skew: Duration,
    /// Cap on the caller's `timeout` used to widen the window, in seconds.
    pub timeout_max_s: f64,
    /// Most endpoints (`hotkey:uuid`) of registered callers remembered (every caller counts as
    /// registered when the axon has no directory).
    pub capacity: usize,
    /// Most endpoints of unregistered callers remembered, in a pool of their own.
    pub unregistered_capacity: usize,
}

/// Which nonce pool an endpoint's first nonce is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A hotkey the axon's directory knows (or any hotkey when there is no directory).
    Registered,
    /// A hotkey the directory does not know.
    Unregistered,
}

/// An endpoint as remembered: SHA3-256 of its key, so every entry has the same size.
type EndpointKey = [u8; 32];

fn endpoint_key(key: &str) -> EndpointKey {
    Sha3_256::digest(key.as_bytes()).into()
}

impl Default for NoncePolicy {
    fn default() -> Self {
        Self {
            base_window: Duration::from_secs(4),
            future_skew: Duration::from_secs(4),
            timeout_max_s: 120.0,
            capacity: 100_000,
            unregistered_capacity: 10_000,
        }
    }
}

/// Why a nonce was refused; `Display` is the Python reason text where Python has one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NonceError {
    /// First nonce older than the window.
    #[error("Nonce is too old: acceptable delta is {window_s:.2} seconds but request was {age_s:.2} seconds old")]
    TooOld {
        /// `4 + timeout`, seconds.
        window_s: f64,
        /// How old the nonce is, seconds.
        age_s: f64,
    },
    /// Not greater than the last accepted nonce of the endpoint.
    #[error("Nonce is too old, a newer one was last processed")]
    NotIncreasing,
    /// Too far in the future (hyphae only).
    #[error(
        "Nonce is too far in the future: {ahead_s:.2} seconds ahead, at most {skew_s:.2} allowed"
    )]
    TooNew {
        /// How far ahead, seconds.
        ahead_s: f64,
        /// The allowed skew, seconds.
        skew_s: f64,
    },
    /// Nonce memory full of fresh endpoints (hyphae only).
    #[error("Nonce memory full, try again later")]
    MemoryFull,
}

/// Remembers the last accepted nonce per endpoint, bounded.
#[derive(Debug)]
pub struct NonceTracker {
    policy: NoncePolicy,
    registered: LruCache<EndpointKey, u64>,
    unregistered: LruCache<EndpointKey, u64>,
}

#[allow(clippy::float_arithmetic)] // seconds for the Python-compatible error messages only
fn ns_to_s(ns: u64) -> f64 {
    // u64 → f64 loses precision above 2^53 ns (104 days); fine for a message.
    ns as f64 / 1e9
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl NonceTracker {
    /// An empty tracker.
    pub fn new(policy: NoncePolicy) -> Self {
        Self {
            policy,
            registered: LruCache::unbounded(),
            unregistered: LruCache::unbounded(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &NoncePolicy {
        &self.policy
    }

    /// Number of endpoints remembered, both pools.
    pub fn len(&self) -> usize {
        self.registered
            .len()
            .saturating_add(self.unregistered.len())
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.registered.is_empty() && self.unregistered.is_empty()
    }

    /// The last accepted nonce of an endpoint, whichever pool holds it.
    fn last_nonce(&self, key: &EndpointKey) -> Option<u64> {
        self.registered
            .peek(key)
            .or_else(|| self.unregistered.peek(key))
            .copied()
    }

    fn window(&self, timeout_s: f64) -> Duration {
        let capped = if timeout_s.is_finite() && timeout_s >= 0.0 {
            timeout_s.min(self.policy.timeout_max_s)
        } else {
            0.0
        };
        let timeout = Duration::try_from_secs_f64(capped).unwrap_or_default();
        self.policy
            .base_window
            .checked_add(timeout)
            .unwrap_or(Duration::MAX)
    }

    /// The widest window any request can get: entries older than this can be forgotten safely.
    fn window_max(&self) -> Duration {
        self.window(self.policy.timeout_max_s)
            .checked_add(self.policy.future_skew)
            .unwrap_or(Duration::MAX)
    }

    /// Checks a nonce without recording it.
    pub fn check(
        &self,
        key: &str,
        nonce: u64,
        timeout_s: f64,
        now_ns: u64,
    ) -> Result<(), NonceError> {
        let skew_ns = duration_ns(self.policy.future_skew);
        if nonce > now_ns.saturating_add(skew_ns) {
            return Err(NonceError::TooNew {
                ahead_s: ns_to_s(nonce.saturating_sub(now_ns)),
                skew_s: ns_to_s(skew_ns),
            });
        }
        match self.last_nonce(&endpoint_key(key)) {
            Some(last) if nonce <= last => Err(NonceError::NotIncreasing),
            Some(_) => Ok(()),
            None => {
                let window = self.window(timeout_s);
                let oldest = now_ns.saturating_sub(duration_ns(window));
                if nonce > oldest {
                    Ok(())
                } else {
                    Err(NonceError::TooOld {
                        window_s: window.as_secs_f64(),
                        age_s: ns_to_s(now_ns.saturating_sub(nonce)),
                    })
                }
            }
        }
    }

    /// Checks again and records the nonce atomically (call after the signature verified), in
    /// the registered callers' pool.
    pub fn check_and_record(
        &mut self,
        key: &str,
        nonce: u64,
        timeout_s: f64,
        now_ns: u64,
    ) -> Result<(), NonceError> {
        self.check_and_record_as(key, nonce, timeout_s, now_ns, Caller::Registered)
    }

    /// [`NonceTracker::check_and_record`], with a new endpoint going into `caller`'s pool. A
    /// known endpoint is updated in whichever pool holds it, so moving between pools never
    /// forgets a nonce.
    pub fn check_and_record_as(
        &mut self,
        key: &str,
        nonce: u64,
        timeout_s: f64,
        now_ns: u64,
        caller: Caller,
    ) -> Result<(), NonceError> {
        self.check(key, nonce, timeout_s, now_ns)?;
        let key = endpoint_key(key);
        for pool in [&mut self.registered, &mut self.unregistered] {
            if let Some(last) = pool.get_mut(&key) {
                *last = nonce;
                return Ok(());
            }
        }
        let forget_before = now_ns.saturating_sub(duration_ns(self.window_max()));
        let (pool, capacity) = match caller {
            Caller::Registered => (&mut self.registered, self.policy.capacity),
            Caller::Unregistered => (&mut self.unregistered, self.policy.unregistered_capacity),
        };
        if pool.len() >= capacity {
            match pool.peek_lru() {
                Some((_, &oldest_nonce)) if oldest_nonce < forget_before => {
                    pool.pop_lru();
                }
                _ => return Err(NonceError::MemoryFull),
            }
        }
        pool.put(key, nonce);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_694_964_000_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn python_rules() {
        let mut t = NonceTracker::new(NoncePolicy::default());
        let err = t.check("k", NOW - 72 * S, 12.0, NOW).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Nonce is too old: acceptable delta is 16.00 seconds but request was 72.00 seconds old"
        );
        t.check_and_record("k", NOW - 10 * S, 12.0, NOW).unwrap();
        assert_eq!(
            t.check_and_record("k", NOW - 10 * S, 12.0, NOW)
                .unwrap_err(),
            NonceError::NotIncreasing
        );
        // later nonces only need to increase: no window
        t.check_and_record("k", NOW - 10 * S + 1, 12.0, NOW + 100 * S)
            .unwrap();
    }

    #[test]
    fn stricter_rules() {
        let mut t = NonceTracker::new(NoncePolicy {
            capacity: 2,
            ..NoncePolicy::default()
        });
        assert!(matches!(
            t.check("k", NOW + 5 * S, 12.0, NOW),
            Err(NonceError::TooNew { .. })
        ));
        t.check_and_record("a", NOW, 12.0, NOW).unwrap();
        t.check_and_record("b", NOW, 12.0, NOW).unwrap();
        assert_eq!(
            t.check_and_record("c", NOW, 12.0, NOW),
            Err(NonceError::MemoryFull)
        );
        // once "a" is older than the widest window it can be forgotten
        let later = NOW + 200 * S;
        t.check_and_record("c", later, 12.0, later).unwrap();
        assert_eq!(t.len(), 2);
        // a huge timeout does not widen the window past the cap
        assert!(t.check("d", later - 1000 * S, 1e9, later).is_err());
    }

    #[test]
    fn entries_are_fixed_size_whatever_the_key() {
        let mut t = NonceTracker::new(NoncePolicy::default());
        let uuid = "u".repeat(100_000);
        let long = format!("hotkey:{uuid}");
        t.check_and_record(&long, NOW, 12.0, NOW).unwrap();
        // The entry is stored under the key's hash: its size does not grow with the uuid.
        assert_eq!(t.registered.peek(&endpoint_key(&long)), Some(&NOW));
        // keys differing only far past any prefix are still distinct endpoints
        let other = format!("{long}x");
        t.check_and_record(&other, NOW, 12.0, NOW).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.check_and_record(&long, NOW, 12.0, NOW),
            Err(NonceError::NotIncreasing)
        );
    }

    #[test]
    fn unregistered_callers_cannot_fill_the_registered_pool() {
        let mut t = NonceTracker::new(NoncePolicy {
            capacity: 2,
            unregistered_capacity: 2,
            ..NoncePolicy::default()
        });
        let free = Caller::Unregistered;
        t.check_and_record_as("x:1", NOW, 12.0, NOW, free).unwrap();
        t.check_and_record_as("x:2", NOW, 12.0, NOW, free).unwrap();
        assert_eq!(
            t.check_and_record_as("x:3", NOW, 12.0, NOW, free),
            Err(NonceError::MemoryFull)
        );
        // a registered caller still has its whole pool
        t.check_and_record("bob:1", NOW, 12.0, NOW).unwrap();
        t.check_and_record("bob:2", NOW, 12.0, NOW).unwrap();
        // an endpoint that moves pools keeps its nonce: no replay re-opens
        assert_eq!(
            t.check_and_record("x:1", NOW, 12.0, NOW),
            Err(NonceError::NotIncreasing)
        );
        t.check_and_record("x:1", NOW + 1, 12.0, NOW).unwrap();
        assert_eq!(t.len(), 4);
    }
}
