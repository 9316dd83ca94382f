//! The training subnet on a running node: [`run`] creates the subnet through signed
//! transactions, registers and stakes its neurons, serves each miner's axon on loopback, then
//! plays the rounds with [`RpcChain`] so that every incentive, dividend and emission in the
//! [`Report`] is the chain's own Yuma output.
//!
//! Setup, all signed by the funder (`//Alice` on a dev chain, which is also its root key):
//! 1. root: `NetworkRateLimit = 0` (so a chain can host several demo runs) and
//!    `CommitmentRateLimit` = [`LiveConfig::commitment_rate_limit_blocks`];
//! 2. `register_network` with the owner hotkey `<funder>//training-owner` (not a neuron, so no
//!    uid is the owner's and nothing is recycled from the miners);
//! 3. root hyperparameters: the demo tempo, no weights rate limit, commit-reveal off (a
//!    revealed row would only count an epoch after the aggregate it should decide), enough
//!    registrations per block; `start_call`;
//! 4. per neuron (validators first, then miners, so uid `i` is `//neuron{i}` as in the
//!    simulation): a transfer for its fees and `burned_register`; per validator `add_stake`;
//! 5. one epoch, which hands out the validator permits;
//! 6. per miner, an axon on [`LiveConfig::axon_ip`] and its `serve_axon`.
//!
//! Validators then fetch updates from the axons the chain lists, with a real dendrite.
//!
//! Stake: a validator's stake is `stake_rao / stake_divisor` TAO swapped into the new
//! subnet's pool, which the lock seeded with 1000 TAO; the default divisor keeps the slippage
//! small, so the validators' alpha keeps the config's proportions.
//!
//! [`run`] blocks; call it from a thread or `spawn_blocking`, not from an async task.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyphae_keys::Keypair;
use hyphae_ledger::hyperparameters::{GlobalParameter, SubnetHyperparameter};
use hyphae_ledger::serving::AxonArgs;
use hyphae_ledger::{Call, Event};
use hyphae_ml::params::ModelHash;
use hyphae_neuron::axon::AxonHandle;
use hyphae_neuron::dendrite::{AxonInfo, Dendrite, DendriteConfig};
use hyphae_primitives::{NetUid, Rao};
use hyphae_rpc::types::MetagraphOptions;
use hyphae_rpc::Client;

use crate::chain::ChainError;
use crate::chain_rpc::{
    parse_commitment, rpc_error, wait_until, LiveRuntime, RpcChain, Submitter, MODEL_KIND,
};
use crate::config::{SimulationConfig, ValidatorSpec};
use crate::error::TrainingError;
use crate::miner::{ServedUpdates, UpdateSource};
use crate::network::{fetch_update, publish_update, serve_updates};
use crate::report::{EpochReport, Report};
use crate::role::Role;
use crate::simulation::Simulation;

/// Runtime threads: RPC, axons and the dendrite move little data.
const WORKER_THREADS: usize = 2;

/// What a live run needs besides the subnet's own config.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The node's RPC URL (`http://127.0.0.1:9944` or `ws://…`).
    pub rpc_url: String,
    /// Roles, data, training and scoring, as for a simulation (`networked` is ignored: a live
    /// run always serves updates from axons).
    pub simulation: SimulationConfig,
    /// Dev URI of the account that pays for everything and sets the hyperparameters; it must
    /// be the chain's root key (`//Alice` on a dev chain).
    pub funder_uri: String,
    /// Blocks per epoch (= round).
    pub tempo_blocks: u16,
    /// The chain-wide `CommitmentRateLimit` the run sets, blocks.
    pub commitment_rate_limit_blocks: u64,
    /// Where miners' axons listen. 127.0.0.1 is refused on chain; 127.0.0.2 is loopback too.
    pub axon_ip: Ipv4Addr,
    /// A validator stakes `stake_rao / stake_divisor` TAO.
    pub stake_divisor: u64,
    /// TAO sent to each neuron's hotkey for its fees, rao.
    pub hotkey_funding_rao: u64,
    /// How long a transaction may take to be final.
    pub tx_timeout: Duration,
    /// How long to wait for an epoch; `None`: four tempos of the node's block time, at least
    /// 30 s.
    pub epoch_timeout: Option<Duration>,
    /// Set it to stop the run cleanly (e.g. on Ctrl-C): the current wait ends with
    /// [`LiveError::Stopped`].
    pub stop: Arc<AtomicBool>,
    /// Told the new subnet's netuid as soon as it exists (e.g. so an explorer can follow it).
    pub subnet_created: Option<std::sync::mpsc::Sender<u16>>,
}

impl LiveConfig {
    /// The demo's live settings for `simulation` on the node at `rpc_url`.
    #[must_use]
    pub fn new(rpc_url: impl Into<String>, simulation: SimulationConfig) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            simulation,
            funder_uri: "//Alice".to_owned(),
            tempo_blocks: 10,
            commitment_rate_limit_blocks: 1,
            axon_ip: Ipv4Addr::new(127, 0, 0, 2),
            stake_divisor: 1000,
            hotkey_funding_rao: 1_000_000_000,
            tx_timeout: Duration::from_secs(60),
            epoch_timeout: None,
            stop: Arc::new(AtomicBool::new(false)),
            subnet_created: None,
        }
    }
}

/// Adversarial miner roles, in the order [`demo_config`] hands them out.
pub const ADVERSARY_ROLES: [Role; 4] = [
    Role::Poisoner,
    Role::Manipulator,
    Role::Copier,
    Role::FreeRider,
];

/// Total validator stake [`demo_config`] hands out, rao (the honest validator always holds
/// 55 %).
const DEMO_STAKE_RAO: u64 = 1_000_000_000_000;

/// The default demo scaled to these counts: `miners − adversarial` honest miners, then the
/// adversaries cycling through [`ADVERSARY_ROLES`]; an honest validator holding 55 % of the
/// stake, then lazy and cabal validators alternating, sharing the other 45 %. With 8, 3, 3
/// and 10 it is [`SimulationConfig::default`] with `seed`.
pub fn demo_config(
    seed: u64,
    miners: u16,
    adversarial: u16,
    validators: u16,
    epochs: u32,
) -> Result<SimulationConfig, LiveError> {
    if adversarial >= miners {
        return Err(LiveError::Config {
            reason: "at least one miner must be honest",
        });
    }
    if validators == 0 {
        return Err(LiveError::Config {
            reason: "at least one validator is needed",
        });
    }
    let honest = usize::from(miners - adversarial);
    let miners = std::iter::repeat_n(Role::Honest, honest)
        .chain(
            ADVERSARY_ROLES
                .iter()
                .copied()
                .cycle()
                .take(usize::from(adversarial)),
        )
        .collect();
    let others = u64::from(validators - 1);
    let honest_stake = DEMO_STAKE_RAO / 100 * 55;
    let other_total = DEMO_STAKE_RAO - honest_stake;
    // Two others split 150:300 as in the default demo; otherwise evenly.
    let other_stake = |index: u64| match (others, index) {
        (2, 0) => other_total / 3,
        (2, _) => other_total / 3 * 2,
        _ => other_total / others.max(1),
    };
    let validators = std::iter::once(ValidatorSpec {
        role: Role::Validator,
        stake_rao: honest_stake,
    })
    .chain((0..others).map(|index| ValidatorSpec {
        role: if index % 2 == 0 {
            Role::LazyValidator
        } else {
            Role::CabalValidator
        },
        stake_rao: other_stake(index),
    }))
    .collect();
    let config = SimulationConfig {
        seed,
        n_epochs: epochs,
        validators,
        miners,
        ..SimulationConfig::default()
    };
    config.validate()?;
    Ok(config)
}

/// Why a live run failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The config cannot run live.
    #[error("invalid live config: {reason}")]
    Config { reason: &'static str },
    /// The tokio runtime could not be built.
    #[error("starting the live runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A key could not be derived.
    #[error(transparent)]
    Key(#[from] hyphae_keys::KeyError),
    /// A setup step failed on chain.
    #[error("{step}: {source}")]
    Setup {
        step: &'static str,
        source: ChainError,
    },
    /// A miner's axon could not bind.
    #[error("binding uid {uid}'s axon: {source}")]
    Bind { uid: u16, source: std::io::Error },
    /// The validators' dendrite could not be built.
    #[error(transparent)]
    Dendrite(#[from] hyphae_neuron::dendrite::DendriteError),
    /// A round failed.
    #[error(transparent)]
    Training(TrainingError),
    /// The stop flag was set.
    #[error("stopped")]
    Stopped,
}

impl From<TrainingError> for LiveError {
    fn from(error: TrainingError) -> Self {
        match error {
            TrainingError::Chain(ChainError::Stopped) => Self::Stopped,
            other => Self::Training(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_scales_the_default_demo() -> Result<(), LiveError> {
        let default = SimulationConfig {
            seed: 4,
            ..SimulationConfig::default()
        };
        assert_eq!(demo_config(4, 8, 3, 3, 10)?, default);
        let small = demo_config(1, 5, 4, 1, 2)?;
        assert_eq!(
            small.miners,
            vec![
                Role::Honest,
                Role::Poisoner,
                Role::Manipulator,
                Role::Copier,
                Role::FreeRider
            ]
        );
        assert_eq!(small.validators.len(), 1);
        let many = demo_config(1, 10, 2, 5, 2)?;
        let stake: u64 = many.validators.iter().map(|v| v.stake_rao).sum();
        let honest = many.validators.first().map_or(0, |v| v.stake_rao);
        assert!(honest * 2 > stake, "the honest validator holds a majority");
        assert!(matches!(
            demo_config(1, 3, 3, 1, 1),
            Err(LiveError::Config { .. })
        ));
        assert!(matches!(
            demo_config(1, 3, 1, 0, 1),
            Err(LiveError::Config { .. })
        ));
        Ok(())
    }
}

fn setup(step: &'static str) -> impl FnOnce(ChainError) -> LiveError {
    move |source| match source {
        ChainError::Stopped => LiveError::Stopped,
        source => LiveError::Setup { step, source },
    }
}

/// A live run's result.
#[derive(Debug, Clone)]
pub struct LiveOutcome {
    /// The subnet the run created.
    pub netuid: u16,
    /// The report, its incentives and emissions read from the chain.
    pub report: Report,
}

/// Runs the demo on the node at `config.rpc_url` (see the module docs); `on_epoch` sees each
/// epoch's report entry as soon as it is measured.
pub fn run(
    config: &LiveConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<LiveOutcome, LiveError> {
    let started = Instant::now();
    let mut simulation_config = config.simulation.clone();
    simulation_config.networked = false;
    simulation_config.validate()?;
    if config.stake_divisor == 0 || config.tempo_blocks == 0 {
        return Err(LiveError::Config {
            reason: "stake_divisor and tempo_blocks must be positive",
        });
    }
    let runtime: LiveRuntime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .enable_all()
            .build()
            .map_err(LiveError::Runtime)?,
    );
    let uid_roles = simulation_config.uid_roles()?;
    let hotkeys = uid_roles
        .iter()
        .map(|(uid, _)| Keypair::from_uri(&format!("//neuron{uid}")))
        .collect::<Result<Vec<_>, _>>()?;
    let client = runtime
        .block_on(Client::connect(&config.rpc_url))
        .map_err(|e| setup("connecting to the node")(rpc_error(e)))?;
    let netuid = runtime.block_on(create_subnet(
        &client,
        config,
        &simulation_config,
        &uid_roles,
        &hotkeys,
    ))?;
    if let Some(created) = &config.subnet_created {
        // Nobody listening is fine: the name is only for display.
        let _ = created.send(netuid.0);
    }
    let updates = runtime.block_on(serve_miners(
        &runtime, &client, config, netuid, &uid_roles, &hotkeys,
    ))?;
    let timeout = epoch_timeout(&runtime, &client, config)?;
    let chain = RpcChain::new(
        Arc::clone(&runtime),
        client,
        netuid,
        hotkeys,
        1,
        Arc::clone(&config.stop),
        (timeout, config.tx_timeout),
    )
    .map_err(setup("opening the subnet's chain"))?;

    let mut simulation = Simulation::new(simulation_config.clone())?;
    simulation.use_chain(Box::new(chain));
    simulation.fetch_through(Box::new(updates));
    for _ in 0..simulation_config.n_epochs {
        if config.stop.load(Ordering::Relaxed) {
            return Err(LiveError::Stopped);
        }
        let epoch = simulation.step()?;
        on_epoch(&epoch);
    }
    let report = simulation.finish(started.elapsed().as_secs_f64());
    verify_final_model(&runtime, config, netuid, &uid_roles, &report)?;
    Ok(LiveOutcome {
        netuid: netuid.0,
        report,
    })
}

fn epoch_timeout(
    runtime: &LiveRuntime,
    client: &Client,
    config: &LiveConfig,
) -> Result<Duration, LiveError> {
    if let Some(timeout) = config.epoch_timeout {
        return Ok(timeout);
    }
    let info = runtime
        .block_on(client.info())
        .map_err(|e| setup("reading the node's block time")(rpc_error(e)))?;
    let blocks = u64::from(config.tempo_blocks)
        .saturating_add(2)
        .saturating_mul(4);
    Ok(
        Duration::from_millis(info.block_time_ms.saturating_mul(blocks))
            .max(Duration::from_secs(30)),
    )
}

/// Steps 1–5 of the module docs; returns the new subnet.
async fn create_subnet(
    client: &Client,
    config: &LiveConfig,
    simulation: &SimulationConfig,
    uid_roles: &[(u16, Role)],
    hotkeys: &[Keypair],
) -> Result<NetUid, LiveError> {
    let stop = &*config.stop;
    let funder = Keypair::from_uri(&config.funder_uri)?;
    let owner_hotkey = Keypair::from_uri(&format!("{}//training-owner", config.funder_uri))?;
    let mut submitter = Submitter::new(client, config.tx_timeout)
        .await
        .map_err(setup("reading the chain"))?;
    let step = "creating the subnet";
    for call in [
        Call::SudoSetGlobal {
            param: GlobalParameter::NetworkRateLimit(0),
        },
        Call::SudoSetGlobal {
            param: GlobalParameter::CommitmentRateLimit(config.commitment_rate_limit_blocks),
        },
        Call::RegisterNetwork {
            hotkey: owner_hotkey.account_id(),
        },
    ] {
        submitter
            .submit(client, &funder, call)
            .await
            .map_err(setup(step))?;
    }
    let settled = submitter.settle(stop).await.map_err(setup(step))?;
    let created = settled
        .iter()
        .find(|s| s.call == "register_network")
        .ok_or(LiveError::Config {
            reason: "register_network was not settled",
        })?;
    let netuid = network_added(client, created.block, created.hash)
        .await
        .map_err(setup(step))?;

    let step = "configuring the subnet and registering its neurons";
    let n = u16::try_from(hotkeys.len()).map_err(|_| LiveError::Config {
        reason: "too many neurons",
    })?;
    let mut calls = vec![
        SubnetHyperparameter::Tempo(config.tempo_blocks),
        SubnetHyperparameter::WeightsSetRateLimit(0),
        SubnetHyperparameter::CommitRevealWeightsEnabled(false),
        SubnetHyperparameter::MaxRegistrationsPerBlock(n.saturating_add(1)),
    ]
    .into_iter()
    .map(|param| Call::SudoSetHyperparameter { netuid, param })
    .collect::<Vec<_>>();
    calls.push(Call::StartCall { netuid });
    for hotkey in hotkeys {
        calls.push(Call::Transfer {
            dest: hotkey.account_id(),
            amount: Rao(config.hotkey_funding_rao),
        });
    }
    // One signer, consecutive nonces: the block takes them in order, so uids follow.
    for hotkey in hotkeys {
        calls.push(Call::BurnedRegister {
            netuid,
            hotkey: hotkey.account_id(),
        });
    }
    for (spec, hotkey) in simulation.validators.iter().zip(hotkeys) {
        calls.push(Call::AddStake {
            hotkey: hotkey.account_id(),
            netuid,
            amount: Rao(spec.stake_rao / config.stake_divisor),
        });
    }
    for call in calls {
        submitter
            .submit(client, &funder, call)
            .await
            .map_err(setup(step))?;
    }
    let settled = submitter.settle(stop).await.map_err(setup(step))?;
    let registered_at = settled.iter().map(|s| s.block).max().unwrap_or(0);

    let step = "checking uids and waiting for validator permits";
    let timeout = config.epoch_timeout.unwrap_or(config.tx_timeout);
    wait_until(client, stop, timeout, "validator permits", || async {
        let epoch = client
            .subnet(netuid)
            .await
            .map_err(rpc_error)?
            .map_or(0, |s| s.last_epoch_block);
        Ok((epoch > registered_at).then_some(()))
    })
    .await
    .map_err(setup(step))?;
    let metagraph = client
        .metagraph(netuid, MetagraphOptions::default())
        .await
        .map_err(|e| setup(step)(rpc_error(e)))?
        .ok_or_else(|| setup(step)(ChainError::NotRegistered { uid: 0 }))?;
    for ((uid, role), hotkey) in uid_roles.iter().zip(hotkeys) {
        let index = usize::from(*uid);
        if metagraph.hotkeys.get(index) != Some(&hotkey.account_id()) {
            return Err(setup(step)(ChainError::NotRegistered { uid: *uid }));
        }
        if role.is_validator() && metagraph.validator_permit.get(index) != Some(&true) {
            return Err(LiveError::Config {
                reason: "a validator holds no permit after the first epoch",
            });
        }
    }
    Ok(netuid)
}

/// The netuid of the `NetworkAdded` event of transaction `hash` in block `block`.
async fn network_added(
    client: &Client,
    block: u64,
    hash: hyphae_primitives::Hash,
) -> Result<NetUid, ChainError> {
    let view = client
        .block_by_number(block)
        .await
        .map_err(rpc_error)?
        .ok_or(ChainError::Rpc {
            reason: format!("block {block} not found"),
        })?;
    view.transactions
        .iter()
        .filter(|tx| tx.hash == hash)
        .flat_map(|tx| &tx.events)
        .find_map(|event| match event {
            Event::NetworkAdded { netuid, .. } => Some(*netuid),
            _ => None,
        })
        .ok_or(ChainError::Rpc {
            reason: "register_network emitted no NetworkAdded".to_owned(),
        })
}

/// Step 6: an axon per miner, served on chain; the validators' dendrite targets the axons
/// the chain lists.
async fn serve_miners(
    runtime: &LiveRuntime,
    client: &Client,
    config: &LiveConfig,
    netuid: NetUid,
    uid_roles: &[(u16, Role)],
    hotkeys: &[Keypair],
) -> Result<LiveUpdates, LiveError> {
    let step = "serving the miners' axons";
    let served = Arc::new(Mutex::new(ServedUpdates::new()));
    let mut submitter = Submitter::new(client, config.tx_timeout)
        .await
        .map_err(setup(step))?;
    let mut axons = Vec::new();
    for ((uid, role), hotkey) in uid_roles.iter().zip(hotkeys) {
        if !role.is_miner() {
            continue;
        }
        let handle = serve_updates(*uid, hotkey.clone(), config.axon_ip, Arc::clone(&served))
            .await
            .map_err(|source| LiveError::Bind { uid: *uid, source })?;
        let axon = AxonArgs {
            version: 1,
            ip: u128::from(u32::from(config.axon_ip)),
            port: handle.local_addr().port(),
            ip_type: 4,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        };
        axons.push(handle);
        submitter
            .submit(client, hotkey, Call::ServeAxon { netuid, axon })
            .await
            .map_err(setup(step))?;
    }
    submitter.settle(&config.stop).await.map_err(setup(step))?;
    let metagraph = client
        .metagraph(netuid, MetagraphOptions::default())
        .await
        .map_err(|e| setup(step)(rpc_error(e)))?
        .ok_or_else(|| setup(step)(ChainError::NotRegistered { uid: 0 }))?;
    let mut targets = BTreeMap::new();
    for (uid, role) in uid_roles {
        let index = usize::from(*uid);
        let (Some(Some(axon)), Some(hotkey)) =
            (metagraph.axons.get(index), metagraph.hotkeys.get(index))
        else {
            continue;
        };
        if role.is_miner() {
            targets.insert(
                *uid,
                AxonInfo {
                    ip: axon.ip.clone(),
                    port: axon.port,
                    hotkey: hotkey.to_ss58(),
                },
            );
        }
    }
    let validator = uid_roles
        .iter()
        .zip(hotkeys)
        .find(|((_, role), _)| *role == Role::Validator)
        .map(|(_, key)| key.clone())
        .ok_or(LiveError::Config {
            reason: "at least one evaluating validator is needed",
        })?;
    let dendrite = {
        let _context = runtime.enter();
        Dendrite::new(validator, DendriteConfig::default())?
    };
    Ok(LiveUpdates {
        runtime: Arc::clone(runtime),
        served,
        axons,
        targets,
        dendrite,
    })
}

/// Miners' axons and the validators' dendrite, with targets read from the chain.
struct LiveUpdates {
    runtime: LiveRuntime,
    served: Arc<Mutex<ServedUpdates>>,
    axons: Vec<AxonHandle>,
    targets: BTreeMap<u16, AxonInfo>,
    dendrite: Dendrite,
}

impl Drop for LiveUpdates {
    fn drop(&mut self) {
        let axons = std::mem::take(&mut self.axons);
        // Closing the listeners is best effort: the process may be ending anyway.
        let _ = self.runtime.block_on(async {
            for axon in axons {
                axon.shutdown().await?;
            }
            Ok::<(), std::io::Error>(())
        });
    }
}

impl UpdateSource for LiveUpdates {
    fn publish(&mut self, uid: u16, round: u64, bytes: &[u8]) {
        publish_update(&self.served, uid, round, bytes);
    }

    fn fetch(&mut self, uid: u16, round: u64) -> Option<Vec<u8>> {
        fetch_update(
            &self.runtime,
            &self.dendrite,
            self.targets.get(&uid)?,
            round,
        )
    }
}

/// The evaluating validators' last model commitments are on chain and equal the report's
/// final model hash.
fn verify_final_model(
    runtime: &LiveRuntime,
    config: &LiveConfig,
    netuid: NetUid,
    uid_roles: &[(u16, Role)],
    report: &Report,
) -> Result<(), LiveError> {
    let step = "checking the final model commitments";
    let Some(last) = report.epochs.last() else {
        return Ok(());
    };
    let round = u64::from(last.epoch);
    let expected: Vec<u16> = uid_roles
        .iter()
        .filter(|(_, role)| *role == Role::Validator)
        .map(|(uid, _)| *uid)
        .collect();
    runtime.block_on(async {
        let client = Client::connect(&config.rpc_url)
            .await
            .map_err(|e| setup(step)(rpc_error(e)))?;
        wait_until(
            &client,
            &config.stop,
            config.tx_timeout,
            "the final model commitments",
            || async {
                let listed = client
                    .commitments(netuid)
                    .await
                    .map_err(rpc_error)?
                    .unwrap_or_default();
                let committed: BTreeMap<u16, String> = listed
                    .iter()
                    .filter_map(|view| {
                        let (kind, r, hash) = parse_commitment(&view.bytes()?)?;
                        (kind == MODEL_KIND && r == round)
                            .then(|| (view.uid.0, ModelHash(hash).to_string()))
                    })
                    .collect();
                let all = expected
                    .iter()
                    .all(|uid| committed.get(uid) == Some(&last.model_hash));
                Ok(all.then_some(()))
            },
        )
        .await
        .map_err(setup(step))
    })
}
