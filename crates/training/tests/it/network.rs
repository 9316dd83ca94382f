//! One round over real sockets: miners' axons on 127.0.0.1, fetched by a dendrite.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hyphae_ml::codec::UpdateHash;
use hyphae_ml::params::ModelHash;
use hyphae_training::chain::{Chain, ChainError, Commitment, InProcessChain};
use hyphae_training::config::SimulationConfig;
use hyphae_training::miner::{ServedUpdates, UpdateSource};
use hyphae_training::simulation::Simulation;
use hyphae_yuma::{NeuronOutput, RowEntry};

#[test]
fn a_networked_round_matches_the_in_process_one() -> anyhow::Result<()> {
    let config = SimulationConfig {
        n_epochs: 1,
        ..SimulationConfig::default()
    };
    let local = hyphae_training::run(&config)?;
    let networked = hyphae_training::run(&SimulationConfig {
        networked: true,
        ..config
    })?;
    let (Some(local), Some(remote)) = (local.epochs.first(), networked.epochs.first()) else {
        anyhow::bail!("no epoch ran");
    };
    // Every update arrived over HTTP, hash-checked: none is missing or forged.
    assert!(remote.verdicts.iter().all(|v| !matches!(
        v.verdict.as_str(),
        "missing" | "hash_mismatch" | "malformed"
    )));
    assert_eq!(local.verdicts, remote.verdicts);
    assert_eq!(local.model_hash, remote.model_hash);
    Ok(())
}

/// What happened, in order: `("final", round)` when a round's commitments were read as final,
/// `("publish", round)` when an update was put on the network.
type Log = Arc<Mutex<Vec<(&'static str, u64)>>>;

fn record(log: &Log, event: &'static str, round: u64) {
    if let Ok(mut log) = log.lock() {
        log.push((event, round));
    }
}

/// The in-process chain, logging when commitments are read.
struct LoggedChain {
    inner: InProcessChain,
    log: Log,
}

impl Chain for LoggedChain {
    fn open_round(&self) -> u64 {
        self.inner.open_round()
    }
    fn commit_update(
        &mut self,
        uid: u16,
        round: u64,
        hash: UpdateHash,
    ) -> Result<Commitment, ChainError> {
        self.inner.commit_update(uid, round, hash)
    }
    fn update_commitments(&mut self, round: u64) -> Result<Vec<Commitment>, ChainError> {
        record(&self.log, "final", round);
        self.inner.update_commitments(round)
    }
    fn set_weights(&mut self, uid: u16, weights: Vec<RowEntry>) -> Result<(), ChainError> {
        self.inner.set_weights(uid, weights)
    }
    fn run_epoch(&mut self) -> Result<Vec<NeuronOutput>, ChainError> {
        self.inner.run_epoch()
    }
    fn last_epoch(&self) -> &[NeuronOutput] {
        self.inner.last_epoch()
    }
    fn commit_model(&mut self, uid: u16, round: u64, hash: ModelHash) -> Result<(), ChainError> {
        self.inner.commit_model(uid, round, hash)
    }
    fn model_commitments(&self, round: u64) -> BTreeMap<u16, ModelHash> {
        self.inner.model_commitments(round)
    }
}

/// An in-memory network, logging when updates are published.
struct LoggedNetwork {
    served: ServedUpdates,
    log: Log,
}

impl UpdateSource for LoggedNetwork {
    fn publish(&mut self, uid: u16, round: u64, bytes: &[u8]) {
        record(&self.log, "publish", round);
        self.served.publish(uid, round, bytes);
    }
    fn fetch(&mut self, uid: u16, round: u64) -> Option<Vec<u8>> {
        self.served.fetch(uid, round)
    }
}

#[test]
fn updates_reach_the_network_only_after_their_commitments_are_final() -> anyhow::Result<()> {
    let config = SimulationConfig {
        n_epochs: 2,
        ..SimulationConfig::default()
    };
    let log = Log::default();
    let mut simulation = Simulation::new(config.clone())?;
    simulation.use_chain(Box::new(LoggedChain {
        inner: InProcessChain::new(&config.stakes_rao(), config.emission_rao, 1),
        log: Arc::clone(&log),
    }));
    simulation.fetch_through(Box::new(LoggedNetwork {
        served: ServedUpdates::new(),
        log: Arc::clone(&log),
    }));
    for _ in 0..config.n_epochs {
        simulation.step()?;
    }
    let log = log
        .lock()
        .map_err(|_| anyhow::anyhow!("log poisoned"))?
        .clone();
    let rounds: std::collections::BTreeSet<u64> = log
        .iter()
        .filter(|(event, _)| *event == "publish")
        .map(|(_, round)| *round)
        .collect();
    assert_eq!(rounds.len(), 2, "both rounds published updates");
    for (at, (event, round)) in log.iter().enumerate() {
        if *event == "publish" {
            let settled = log.iter().take(at).any(|e| *e == ("final", *round));
            assert!(
                settled,
                "round {round}'s update published before its commitments were final"
            );
        }
    }
    Ok(())
}
