//! Axon request guards: blacklist helpers over a metagraph-like view, per-hotkey rate limits
//! weighted by stake, and a bounded priority admission queue.
//!
//! The metagraph is abstracted as [`NeuronDirectory`]: the live
//! [`Metagraph`](crate::metagraph::Metagraph) is one, and so is any
//! `Fn(&str) -> Option<NeuronInfo>` closure (tests, fixed lists).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use tokio::sync::oneshot;

/// What the axon knows about a registered hotkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeuronInfo {
    /// The uid on the subnet.
    pub uid: u16,
    /// Total stake, in rao.
    pub stake_rao: u64,
    /// Whether the neuron holds a validator permit.
    pub validator_permit: bool,
}

/// A metagraph-like lookup of registered hotkeys (ss58).
pub trait NeuronDirectory: Send + Sync {
    /// The neuron registered under `hotkey`, if any.
    fn lookup(&self, hotkey: &str) -> Option<NeuronInfo>;
}

impl<F> NeuronDirectory for F
where
    F: Fn(&str) -> Option<NeuronInfo> + Send + Sync,
{
    fn lookup(&self, hotkey: &str) -> Option<NeuronInfo> {
        self(hotkey)
    }
}

/// What a blacklist or priority function sees: only header data, as in Python (body fields are
/// never available before the signature is checked).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestInfo {
    /// Synapse name (route).
    pub synapse: String,
    /// Caller's hotkey (ss58), when sent.
    pub hotkey: Option<String>,
    /// Caller's TCP peer address.
    pub peer: std::net::SocketAddr,
    /// Caller's `timeout` header, seconds.
    pub timeout_s: f64,
}

/// A blacklist decision: `Err(reason)` answers 403 `Forbidden. Key is blacklisted: {reason}.`
pub type BlacklistFn = Arc<dyn Fn(&RequestInfo) -> Result<(), String> + Send + Sync>;

/// A priority function: higher is served first when the axon is saturated.
pub type PriorityFn = Arc<dyn Fn(&RequestInfo) -> f64 + Send + Sync>;

/// Blacklist helpers for common subnet policies.
pub mod blacklist {
    use super::*;

    /// Refuses hotkeys that are not registered.
    pub fn registered_only(directory: Arc<dyn NeuronDirectory>) -> BlacklistFn {
        Arc::new(move |info: &RequestInfo| match info.hotkey.as_deref() {
            Some(hotkey) if directory.lookup(hotkey).is_some() => Ok(()),
            Some(hotkey) => Err(format!("Unrecognized hotkey {hotkey}")),
            None => Err("Missing hotkey".to_owned()),
        })
    }

    /// Refuses unregistered hotkeys and those with less than `stake_rao_min` stake.
    pub fn min_stake(directory: Arc<dyn NeuronDirectory>, stake_rao_min: u64) -> BlacklistFn {
        Arc::new(move |info: &RequestInfo| {
            let hotkey = info.hotkey.as_deref().ok_or("Missing hotkey")?;
            let neuron = directory
                .lookup(hotkey)
                .ok_or_else(|| format!("Unrecognized hotkey {hotkey}"))?;
            if neuron.stake_rao < stake_rao_min {
                return Err(format!(
                    "Stake {} rao of {hotkey} is below the minimum {stake_rao_min} rao",
                    neuron.stake_rao
                ));
            }
            Ok(())
        })
    }

    /// Refuses hotkeys without a validator permit.
    pub fn validator_permit_only(directory: Arc<dyn NeuronDirectory>) -> BlacklistFn {
        Arc::new(move |info: &RequestInfo| {
            let hotkey = info.hotkey.as_deref().ok_or("Missing hotkey")?;
            match directory.lookup(hotkey) {
                Some(neuron) if neuron.validator_permit => Ok(()),
                Some(_) => Err(format!("Hotkey {hotkey} has no validator permit")),
                None => Err(format!("Unrecognized hotkey {hotkey}")),
            }
        })
    }

    /// Refuses a fixed set of hotkeys.
    pub fn deny_hotkeys(hotkeys: Vec<String>) -> BlacklistFn {
        Arc::new(move |info: &RequestInfo| match info.hotkey.as_deref() {
            Some(hotkey) if hotkeys.iter().any(|h| h == hotkey) => {
                Err(format!("hotkey {hotkey} is blacklisted"))
            }
            _ => Ok(()),
        })
    }

    /// Passes only when every function passes (first refusal wins).
    pub fn all(functions: Vec<BlacklistFn>) -> BlacklistFn {
        Arc::new(move |info: &RequestInfo| functions.iter().try_for_each(|f| f(info)))
    }
}

/// Per-hotkey token buckets whose refill rate grows with stake.
///
/// Rate (requests/s) = `base_per_s + stake_tao × per_tao_per_s`, capped at `max_per_s`; the
/// burst is `burst_s` seconds of that rate (at least one request). With a directory, hotkeys it
/// does not know share **one** bucket at the base rate (fresh keypairs are free, so a bucket each
/// would let anyone multiply the base rate); without one, every hotkey has its own base-rate
/// bucket. At most `capacity` hotkeys are tracked (least recently used forgotten first).
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimit,
    directory: Option<Arc<dyn NeuronDirectory>>,
    buckets: Mutex<LruCache<String, Bucket>>,
}

impl std::fmt::Debug for dyn NeuronDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NeuronDirectory")
    }
}

/// Rate-limit settings, see [`RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second for any hotkey.
    pub base_per_s: f64,
    /// Extra requests per second per TAO of stake.
    pub per_tao_per_s: f64,
    /// Upper bound on the rate.
    pub max_per_s: f64,
    /// Burst size, in seconds of rate.
    pub burst_s: f64,
    /// Most hotkeys tracked.
    pub capacity: usize,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            base_per_s: 10.0,
            per_tao_per_s: 0.01,
            max_per_s: 1_000.0,
            burst_s: 2.0,
            capacity: 100_000,
        }
    }
}

/// The bucket every hotkey unknown to the directory shares (not an ss58 string, so no hotkey
/// that passed verification can collide with it).
const UNREGISTERED_BUCKET: &str = "<unregistered>";

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

// Token buckets are naturally fractional; nothing here feeds consensus.
#[allow(clippy::float_arithmetic)]
impl RateLimiter {
    /// A limiter; without a directory every hotkey gets the base rate.
    pub fn new(config: RateLimit, directory: Option<Arc<dyn NeuronDirectory>>) -> Self {
        let capacity =
            std::num::NonZeroUsize::new(config.capacity).unwrap_or(std::num::NonZeroUsize::MIN);
        Self {
            config,
            directory,
            buckets: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The bucket `hotkey` draws from and its rate.
    fn bucket_of<'a>(&self, hotkey: &'a str) -> (&'a str, f64) {
        let (key, stake_rao) = match &self.directory {
            None => (hotkey, 0),
            Some(directory) => match directory.lookup(hotkey) {
                Some(neuron) => (hotkey, neuron.stake_rao),
                None => (UNREGISTERED_BUCKET, 0),
            },
        };
        // u64 rao → f64 TAO: precision loss far below one request/s.
        let stake_tao = stake_rao as f64 / 1e9;
        let rate = (self.config.base_per_s + stake_tao * self.config.per_tao_per_s)
            .min(self.config.max_per_s);
        (key, rate)
    }

    /// Takes one token for `hotkey` at `now`; `Err(rate)` when the bucket is empty.
    pub fn try_acquire(&self, hotkey: &str, now: Instant) -> Result<(), f64> {
        let (key, rate) = self.bucket_of(hotkey);
        let burst = (rate * self.config.burst_s).max(1.0);
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let bucket = buckets.get_or_insert_mut(key.to_owned(), || Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(rate)
        }
    }
}

/// Why admission failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// Every slot is busy and the waiting queue is full.
    #[error("Service unavailable: the request queue is full")]
    QueueFull,
    /// Waited longer than the request's timeout.
    #[error("timed out waiting for a slot")]
    TimedOut,
}

struct Waiter {
    priority: f64,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    fn cmp(&self, other: &Self) -> Ordering {
        // Highest priority first; among equals, first come first served.
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct QueueState {
    running: usize,
    waiting: BinaryHeap<Waiter>,
    seq: u64,
}

/// A concurrency limit with a bounded, priority-ordered waiting queue.
pub struct Admission {
    slots: usize,
    waiting_max: usize,
    state: Mutex<QueueState>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("slots", &self.slots)
            .field("waiting_max", &self.waiting_max)
            .finish()
    }
}

/// A held slot; dropping it hands the slot to the highest-priority waiter.
#[derive(Debug)]
pub struct Slot {
    admission: Arc<Admission>,
}

impl Admission {
    /// `slots` concurrent requests, at most `waiting_max` more waiting.
    pub fn new(slots: usize, waiting_max: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: slots.max(1),
            waiting_max,
            state: Mutex::new(QueueState {
                running: 0,
                waiting: BinaryHeap::new(),
                seq: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Requests currently holding a slot.
    pub fn running(&self) -> usize {
        self.lock().running
    }

    /// Waits for a slot, ordered by `priority`, for at most `wait_max`.
    pub async fn acquire(
        self: &Arc<Self>,
        priority: f64,
        wait_max: Duration,
    ) -> Result<Slot, AdmissionError> {
        let receiver = {
            let mut state = self.lock();
            if state.running < self.slots {
                state.running = state.running.saturating_add(1);
                return Ok(Slot {
                    admission: Arc::clone(self),
                });
            }
            if state.waiting.len() >= self.waiting_max {
                // Waiters that gave up still sit in the heap until popped: drop them first.
                state.waiting.retain(|waiter| !waiter.wake.is_closed());
            }
            if state.waiting.len() >= self.waiting_max {
                return Err(AdmissionError::QueueFull);
            }
            let (wake, receiver) = oneshot::channel();
            let seq = state.seq;
            state.seq = state.seq.wrapping_add(1);
            state.waiting.push(Waiter {
                priority,
                seq,
                wake,
            });
            receiver
        };
        // From here on a slot may be handed to us at any moment; `Waiting` gives it back if
        // this future ends without taking it: timed out, or dropped (client gone).
        let mut waiting = Waiting {
            admission: self,
            receiver,
        };
        match tokio::time::timeout(wait_max, &mut waiting.receiver).await {
            // The releasing request transferred its slot to us.
            Ok(Ok(())) => {
                waiting.receiver = closed_receiver();
                Ok(Slot {
                    admission: Arc::clone(self),
                })
            }
            Ok(Err(_)) | Err(_) => Err(AdmissionError::TimedOut),
        }
    }

    fn release(&self) {
        let mut state = self.lock();
        while let Some(waiter) = state.waiting.pop() {
            if waiter.wake.send(()).is_ok() {
                return; // the slot passes on; `running` is unchanged
            }
        }
        state.running = state.running.saturating_sub(1);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.release();
    }
}

/// A queued request's end of its wake-up channel. Dropped without the slot being taken (time
/// out, or the request's future dropped because its client went away), it closes the channel
/// so no slot can arrive any more, and hands back one that arrived in between: otherwise that
/// slot would stay counted in `running` forever.
struct Waiting<'a> {
    admission: &'a Arc<Admission>,
    receiver: oneshot::Receiver<()>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.receiver.close();
        if self.receiver.try_recv().is_ok() {
            self.admission.release();
        }
    }
}

/// A receiver with nothing to receive, swapped in once the slot has been taken.
fn closed_receiver() -> oneshot::Receiver<()> {
    oneshot::channel().1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admission_orders_by_priority_and_bounds_the_queue() {
        let admission = Admission::new(1, 2);
        let first = admission
            .acquire(0.0, Duration::from_secs(5))
            .await
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        for priority in [1.0, 5.0] {
            let admission = Arc::clone(&admission);
            let tx = tx.clone();
            tokio::spawn(async move {
                let slot = admission
                    .acquire(priority, Duration::from_secs(5))
                    .await
                    .unwrap();
                tx.send(priority).await.unwrap();
                drop(slot);
            });
        }
        // wait until both are queued
        let deadline = Instant::now() + Duration::from_secs(5);
        while admission.lock().waiting.len() < 2 {
            assert!(Instant::now() < deadline);
            tokio::task::yield_now().await;
        }
        assert_eq!(
            admission
                .acquire(9.0, Duration::from_secs(5))
                .await
                .unwrap_err(),
            AdmissionError::QueueFull
        );
        drop(first);
        assert_eq!(rx.recv().await, Some(5.0));
        assert_eq!(rx.recv().await, Some(1.0));
    }

    #[tokio::test]
    async fn a_waiter_dropped_after_its_slot_arrived_hands_the_slot_back() {
        use std::future::Future as _;
        use std::task::{Context, Poll, Waker};

        let admission = Admission::new(1, 1);
        let held = admission
            .acquire(0.0, Duration::from_secs(10))
            .await
            .unwrap();
        let mut waiter = Box::pin(admission.acquire(0.0, Duration::from_secs(10)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(waiter.as_mut().poll(&mut cx).is_pending());
        // The slot passes to the queued waiter, whose client then goes away before it runs.
        drop(held);
        drop(waiter);
        assert_eq!(admission.running(), 0);
        let again = admission.acquire(0.0, Duration::ZERO).await;
        assert!(again.is_ok());
        // and a waiter that did take its slot keeps it
        let mut waiter = Box::pin(admission.acquire(0.0, Duration::from_secs(10)));
        assert!(waiter.as_mut().poll(&mut cx).is_pending());
        drop(again);
        let Poll::Ready(Ok(slot)) = waiter.as_mut().poll(&mut cx) else {
            panic!("the released slot was not handed over");
        };
        drop(waiter);
        assert_eq!(admission.running(), 1);
        drop(slot);
        assert_eq!(admission.running(), 0);
    }

    #[tokio::test]
    async fn abandoned_waiters_do_not_fill_the_queue() {
        use std::future::Future as _;
        use std::task::{Context, Waker};

        let admission = Admission::new(1, 1);
        let _held = admission
            .acquire(0.0, Duration::from_secs(10))
            .await
            .unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let mut gone = Box::pin(admission.acquire(0.0, Duration::from_secs(10)));
        assert!(gone.as_mut().poll(&mut cx).is_pending());
        drop(gone);
        let mut next = Box::pin(admission.acquire(0.0, Duration::from_secs(10)));
        assert!(
            next.as_mut().poll(&mut cx).is_pending(),
            "queued, not QueueFull"
        );
    }

    #[test]
    fn unregistered_hotkeys_share_one_bucket() {
        let directory: Arc<dyn NeuronDirectory> =
            Arc::new(|hotkey: &str| (hotkey == "bob").then_some(NeuronInfo::default()));
        let limit = RateLimit {
            base_per_s: 1.0,
            per_tao_per_s: 0.0,
            max_per_s: 1.0,
            burst_s: 1.0,
            capacity: 10,
        };
        let limiter = RateLimiter::new(limit, Some(directory));
        let now = Instant::now();
        assert!(limiter.try_acquire("fresh-1", now).is_ok());
        assert!(limiter.try_acquire("fresh-2", now).is_err());
        assert!(limiter.try_acquire("bob", now).is_ok());
        // without a directory nobody is known to be unregistered: a bucket each
        let limiter = RateLimiter::new(limit, None);
        assert!(limiter.try_acquire("fresh-1", now).is_ok());
        assert!(limiter.try_acquire("fresh-2", now).is_ok());
    }

    #[test]
    fn rate_limit_grows_with_stake() {
        let directory: Arc<dyn NeuronDirectory> = Arc::new(|hotkey: &str| {
            (hotkey == "rich").then_some(NeuronInfo {
                uid: 1,
                stake_rao: 1_000_000 * 1_000_000_000,
                validator_permit: true,
            })
        });
        let limiter = RateLimiter::new(
            RateLimit {
                base_per_s: 1.0,
                per_tao_per_s: 0.001,
                max_per_s: 100.0,
                burst_s: 1.0,
                capacity: 10,
            },
            Some(directory),
        );
        let now = Instant::now();
        assert!(limiter.try_acquire("poor", now).is_ok());
        assert!(limiter.try_acquire("poor", now).is_err());
        for _ in 0..100 {
            assert!(limiter.try_acquire("rich", now).is_ok());
        }
        assert!(limiter.try_acquire("rich", now).is_err());
        assert!(limiter
            .try_acquire("poor", now + Duration::from_secs(1))
            .is_ok());
    }
}
