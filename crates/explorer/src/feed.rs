//! [`TrainingFeed`]: how a process that runs the training subnet (`hyphae localnet`) hands the
//! explorer figures the chain does not hold: the global model's accuracy and loss, the
//! adversaries' share of emission, and which uid plays which role.
//!
//! The chain knows stake and emission; only the process that runs the miners and validators
//! knows which of them are adversaries and how good the aggregated model is. So these figures
//! arrive through this handle rather than over RPC.

use hyphae_primitives::{NetUid, Uid};
use serde::Serialize;
use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::watch;

/// Longest role label kept (longer labels are cut at a character boundary).
pub const ROLE_LABEL_LEN_MAX: usize = 32;
/// Most uids with a role label.
pub const ROLES_MAX: usize = 4096;
/// Training epochs kept by default.
pub const TRAINING_EPOCHS_MAX: usize = 512;

/// The figures of one training epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainingEpoch {
    /// The subnet's epoch index (or the trainer's own round counter).
    pub epoch: u64,
    /// Block at which the figures were taken, when known.
    pub block: Option<u64>,
    /// The global model's accuracy on held-out data, a proportion in `[0, 1]`.
    pub accuracy: f64,
    /// The global model's loss on held-out data.
    pub loss: f64,
    /// What a reference (e.g. a model trained on all the data alone) reaches, a proportion.
    pub baseline_accuracy: Option<f64>,
    /// The adversaries' share of the subnet's miner emission this epoch, a proportion.
    pub adversary_emission_share: Option<f64>,
}

/// What the explorer serves at `/api/training`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainingSnapshot {
    /// Whether a training subnet reports here.
    pub present: bool,
    /// The training subnet.
    pub netuid: Option<NetUid>,
    /// Role label of each uid (`miner`, `validator`, `adversary: poison`, …).
    pub roles: BTreeMap<Uid, String>,
    /// Epoch figures, oldest first.
    pub epochs: Vec<TrainingEpoch>,
}

#[derive(Debug)]
struct FeedState {
    netuid: Option<NetUid>,
    roles: BTreeMap<Uid, String>,
    epochs: VecDeque<TrainingEpoch>,
    epochs_max: usize,
}

#[derive(Debug)]
struct FeedShared {
    state: Mutex<FeedState>,
    /// Bumped on every change; the explorer's live sockets watch it (a watch keeps only the
    /// latest value, so a burst of pushes cannot queue up).
    version: watch::Sender<u64>,
}

/// A cheap, clonable handle: the training process pushes figures, the explorer reads them.
/// Without any push the explorer says "no training subnet".
#[derive(Clone, Debug)]
pub struct TrainingFeed {
    shared: Arc<FeedShared>,
}

impl Default for TrainingFeed {
    fn default() -> Self {
        Self::with_capacity(TRAINING_EPOCHS_MAX)
    }
}

impl TrainingFeed {
    /// An empty feed keeping at most [`TRAINING_EPOCHS_MAX`] epochs.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty feed keeping at most `epochs_max` epochs (the oldest are dropped).
    pub fn with_capacity(epochs_max: usize) -> Self {
        let (version, _) = watch::channel(0);
        Self {
            shared: Arc::new(FeedShared {
                state: Mutex::new(FeedState {
                    netuid: None,
                    roles: BTreeMap::new(),
                    epochs: VecDeque::new(),
                    epochs_max: epochs_max.max(1),
                }),
                version,
            }),
        }
    }

    /// Names the training subnet; the page shows the training charts from then on.
    pub fn set_subnet(&self, netuid: NetUid) {
        self.update(|state| state.netuid = Some(netuid));
    }

    /// Replaces the role labels (`uid → label`). Labels are cut to [`ROLE_LABEL_LEN_MAX`]
    /// bytes and at most [`ROLES_MAX`] uids are kept.
    pub fn set_roles(&self, roles: impl IntoIterator<Item = (Uid, String)>) {
        let roles: BTreeMap<Uid, String> = roles
            .into_iter()
            .take(ROLES_MAX)
            .map(|(uid, label)| (uid, clip_label(label)))
            .collect();
        self.update(|state| state.roles = roles);
    }

    /// Appends one epoch's figures; an epoch already present is replaced.
    pub fn push(&self, epoch: TrainingEpoch) {
        self.update(|state| {
            if let Some(existing) = state.epochs.iter_mut().find(|e| e.epoch == epoch.epoch) {
                *existing = epoch;
                return;
            }
            while state.epochs.len() >= state.epochs_max {
                state.epochs.pop_front();
            }
            state.epochs.push_back(epoch);
        });
    }

    /// Everything pushed so far.
    pub fn snapshot(&self) -> TrainingSnapshot {
        let state = self.lock();
        TrainingSnapshot {
            present: state.netuid.is_some() || !state.epochs.is_empty(),
            netuid: state.netuid,
            roles: state.roles.clone(),
            epochs: state.epochs.iter().cloned().collect(),
        }
    }

    /// The role label of `uid` in `netuid`, if the training subnet is `netuid` and labels it.
    pub fn role(&self, netuid: NetUid, uid: Uid) -> Option<String> {
        let state = self.lock();
        (state.netuid == Some(netuid))
            .then(|| state.roles.get(&uid).cloned())
            .flatten()
    }

    /// A receiver that sees a new value after every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut FeedState)) {
        change(&mut self.lock());
        self.shared
            .version
            .send_modify(|version| *version = version.wrapping_add(1));
    }
}

fn clip_label(mut label: String) -> String {
    if label.len() > ROLE_LABEL_LEN_MAX {
        let mut end = ROLE_LABEL_LEN_MAX;
        while !label.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        label.truncate(end);
    }
    label
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn epoch(index: u64) -> TrainingEpoch {
        TrainingEpoch {
            epoch: index,
            block: Some(index * 10),
            accuracy: 0.5,
            loss: 1.0,
            baseline_accuracy: None,
            adversary_emission_share: Some(0.1),
        }
    }

    #[test]
    fn empty_feed_is_absent_and_pushes_are_bounded() {
        let feed = TrainingFeed::with_capacity(3);
        assert!(!feed.snapshot().present);
        let changes = feed.subscribe();
        for index in 0..5 {
            feed.push(epoch(index));
        }
        assert!(changes.has_changed().unwrap());
        let snapshot = feed.snapshot();
        assert!(snapshot.present);
        let kept: Vec<u64> = snapshot.epochs.iter().map(|e| e.epoch).collect();
        assert_eq!(kept, vec![2, 3, 4]);
        feed.push(TrainingEpoch {
            accuracy: 0.9,
            ..epoch(4)
        });
        assert_eq!(feed.snapshot().epochs.len(), 3);
        assert_eq!(feed.snapshot().epochs[2].accuracy, 0.9);
    }

    #[test]
    fn roles_are_per_training_subnet_and_clipped() {
        let feed = TrainingFeed::new();
        feed.set_roles([(Uid(0), "validator".into()), (Uid(1), "é".repeat(40))]);
        assert_eq!(feed.role(NetUid(1), Uid(0)), None, "no subnet named yet");
        feed.set_subnet(NetUid(1));
        assert_eq!(feed.role(NetUid(1), Uid(0)).as_deref(), Some("validator"));
        assert_eq!(feed.role(NetUid(2), Uid(0)), None);
        let clipped = feed.role(NetUid(1), Uid(1)).unwrap();
        assert!(clipped.len() <= ROLE_LABEL_LEN_MAX && clipped.starts_with('é'));
    }
}
