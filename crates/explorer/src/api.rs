//! The JSON API the page reads (`/api/…`). Each answer is built from RPC calls to the node plus
//! what the explorer recorded itself (recent blocks, epoch history, the training feed).

use crate::{
    feed::TrainingSnapshot,
    history::{BlockSummary, EpochPoint},
    Shared,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use hyphae_ledger::explain::EmissionReceipt;
use hyphae_primitives::{AccountId, Hash, NetUid, Uid};
use hyphae_rpc::{
    types::{EpochTiming, HeaderView, MetagraphOptions, MetagraphView, NeuronInfo, SubnetInfo},
    Client, ClientError,
};
use serde::Serialize;
use std::{future::Future, sync::Arc};
use tokio::sync::OwnedSemaphorePermit;

/// Why an API call failed; the page shows the message.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The node did not answer, or answered with an error.
    #[error("the node at {url} failed: {source}")]
    Node {
        /// The node's URL.
        url: String,
        /// Why.
        source: ClientError,
    },
    /// No such subnet or neuron.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// Too many API calls at once.
    #[error("the explorer is busy; try again")]
    Busy,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Node { .. } => StatusCode::BAD_GATEWAY,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = serde_json::json!({ "error": self.to_string() });
        (status, Json(body)).into_response()
    }
}

impl Shared {
    /// Takes an API slot (the number of calls in flight is bounded) and runs `call` with the
    /// node's client; a broken connection is dropped so the next call reconnects.
    async fn with_client<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let _permit: OwnedSemaphorePermit = Arc::clone(&self.api_slots)
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)?;
        let client = self
            .link
            .client()
            .await
            .map_err(|source| self.node_error(source))?;
        match call(Arc::clone(&client)).await {
            Ok(value) => Ok(value),
            Err(source) => {
                self.link.on_error(&client, &source).await;
                Err(self.node_error(source))
            }
        }
    }

    fn node_error(&self, source: ClientError) -> ApiError {
        ApiError::Node {
            url: self.link.url().to_owned(),
            source,
        }
    }
}

/// `/api/chain`: the node, its heads and the recent blocks.
#[derive(Debug, Serialize)]
pub(crate) struct ChainOverview {
    chain: String,
    version: String,
    genesis_hash: Hash,
    block_time_ms: u64,
    mempool_len: u64,
    best: HeaderView,
    finalized: HeaderView,
    recent_blocks: Vec<BlockSummary>,
}

pub(crate) async fn chain(
    State(shared): State<Arc<Shared>>,
) -> Result<Json<ChainOverview>, ApiError> {
    let (info, head) = shared
        .with_client(|client| async move {
            let info = client.info().await?;
            let head = client.head().await?;
            Ok((info, head))
        })
        .await?;
    let recent_blocks = shared.history().recent_blocks();
    Ok(Json(ChainOverview {
        chain: info.chain,
        version: info.version,
        genesis_hash: info.genesis_hash,
        block_time_ms: info.block_time_ms,
        mempool_len: info.mempool_len,
        best: head.best,
        finalized: head.finalized,
        recent_blocks,
    }))
}

/// A subnet as the subnets table shows it.
#[derive(Debug, Serialize)]
pub(crate) struct SubnetRow {
    netuid: NetUid,
    name: Option<String>,
    n: u16,
    tempo: u16,
    emitting: bool,
    epoch_index: u64,
    last_epoch_block: u64,
    price_rao_per_alpha: u64,
    moving_price_rao_per_alpha: u64,
    emission_share_ppb: u64,
    tao_reserve_rao: u64,
    alpha_reserve: u64,
    burn_rao: u64,
    /// Whether the training feed reports on this subnet.
    training: bool,
}

impl SubnetRow {
    fn of(subnet: &SubnetInfo, training: Option<NetUid>) -> Self {
        Self {
            netuid: subnet.netuid,
            name: subnet.name.clone(),
            n: subnet.n,
            tempo: subnet.hyperparameters.tempo,
            emitting: subnet.emitting,
            epoch_index: subnet.epoch_index,
            last_epoch_block: subnet.last_epoch_block,
            price_rao_per_alpha: subnet.price_rao_per_alpha,
            moving_price_rao_per_alpha: subnet.moving_price_rao_per_alpha,
            emission_share_ppb: subnet.emission_share_ppb,
            tao_reserve_rao: subnet.tao_reserve_rao.0,
            alpha_reserve: subnet.alpha_reserve.0,
            burn_rao: subnet.burn_rao.0,
            training: training == Some(subnet.netuid),
        }
    }
}

pub(crate) async fn subnets(
    State(shared): State<Arc<Shared>>,
) -> Result<Json<Vec<SubnetRow>>, ApiError> {
    let subnets = shared
        .with_client(|client| async move { client.subnets().await })
        .await?;
    let training = shared.feed.snapshot().netuid;
    Ok(Json(
        subnets
            .iter()
            .map(|subnet| SubnetRow::of(subnet, training))
            .collect(),
    ))
}

/// One row of the metagraph table.
#[derive(Debug, Serialize)]
pub(crate) struct NeuronRow {
    uid: u16,
    role: String,
    hotkey: AccountId,
    coldkey: AccountId,
    stake_rao: u64,
    incentive: u16,
    dividends: u16,
    consensus: u16,
    emission_rao: u64,
    validator_trust: u16,
    last_update: u64,
    active: bool,
    validator_permit: bool,
    /// `ip:port`, when an axon is served.
    axon: Option<String>,
}

/// The role a uid plays: the training feed's label when it has one, else what the chain shows
/// (a uid that sets weights or earns dividends validates; the rest mine).
fn role_of(
    shared: &Shared,
    netuid: NetUid,
    uid: u16,
    sets_weights: bool,
    dividends: u16,
) -> String {
    shared.feed.role(netuid, Uid(uid)).unwrap_or_else(|| {
        if sets_weights || dividends > 0 {
            "validator".to_owned()
        } else {
            "miner".to_owned()
        }
    })
}

fn rows(shared: &Shared, graph: &MetagraphView) -> Vec<NeuronRow> {
    let weights = graph.weights.as_deref().unwrap_or_default();
    graph
        .uids
        .iter()
        .enumerate()
        .filter_map(|(index, uid)| {
            let sets_weights = weights.get(index).is_some_and(|row| !row.is_empty());
            let dividends = *graph.dividends.get(index)?;
            Some(NeuronRow {
                uid: *uid,
                role: role_of(shared, graph.netuid, *uid, sets_weights, dividends),
                hotkey: *graph.hotkeys.get(index)?,
                coldkey: *graph.coldkeys.get(index)?,
                stake_rao: graph.stake_rao.get(index)?.0,
                incentive: *graph.incentive.get(index)?,
                dividends,
                consensus: *graph.consensus.get(index)?,
                emission_rao: graph.emission_rao.get(index)?.0,
                validator_trust: *graph.validator_trust.get(index)?,
                last_update: *graph.last_update.get(index)?,
                active: *graph.active.get(index)?,
                validator_permit: *graph.validator_permit.get(index)?,
                axon: graph
                    .axons
                    .get(index)?
                    .as_ref()
                    .filter(|axon| axon.port != 0)
                    .map(|axon| format!("{}:{}", axon.ip, axon.port)),
            })
        })
        .collect()
}

/// `/api/subnets/{netuid}`: the subnet, its timing, metagraph rows and epoch history.
#[derive(Debug, Serialize)]
pub(crate) struct SubnetPage {
    subnet: SubnetRow,
    timing: Option<EpochTiming>,
    block: u64,
    rows: Vec<NeuronRow>,
    history: Vec<EpochPoint>,
}

pub(crate) async fn subnet(
    State(shared): State<Arc<Shared>>,
    Path(netuid): Path<u16>,
) -> Result<Json<SubnetPage>, ApiError> {
    let netuid = NetUid(netuid);
    let (subnet, timing, graph) = shared
        .with_client(|client| async move {
            let subnet = client.subnet(netuid).await?;
            let timing = client.epoch_timing(netuid, None).await?;
            let options = MetagraphOptions {
                weights: true,
                bonds: false,
            };
            let graph = client.metagraph(netuid, options).await?;
            Ok((subnet, timing, graph))
        })
        .await?;
    let (Some(subnet), Some(graph)) = (subnet, graph) else {
        return Err(ApiError::NotFound {
            what: format!("subnet {netuid}"),
        });
    };
    let training = shared.feed.snapshot().netuid;
    Ok(Json(SubnetPage {
        subnet: SubnetRow::of(&subnet, training),
        timing,
        block: graph.block,
        rows: rows(&shared, &graph),
        history: shared.history().epochs(netuid),
    }))
}

/// `/api/subnets/{netuid}/neurons/{uid}`: one neuron, its role and its `explain` receipt.
#[derive(Debug, Serialize)]
pub(crate) struct NeuronPage {
    netuid: NetUid,
    uid: Uid,
    role: String,
    neuron: NeuronInfo,
    explain: Option<EmissionReceipt>,
    /// The uid's emission and incentive in each recorded epoch.
    history: Vec<UidEpoch>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UidEpoch {
    epoch_index: u64,
    block: u64,
    emission_rao: u64,
    incentive: u16,
    dividends: u16,
}

pub(crate) async fn neuron(
    State(shared): State<Arc<Shared>>,
    Path((netuid, uid)): Path<(u16, u16)>,
) -> Result<Json<NeuronPage>, ApiError> {
    let (netuid, uid) = (NetUid(netuid), Uid(uid));
    let (neuron, explain) = shared
        .with_client(|client| async move {
            let neuron = client.neuron(netuid, uid).await?;
            let explain = client.explain(netuid, uid).await?;
            Ok((neuron, explain))
        })
        .await?;
    let Some(neuron) = neuron else {
        return Err(ApiError::NotFound {
            what: format!("uid {uid} of subnet {netuid}"),
        });
    };
    let history = shared
        .history()
        .epochs(netuid)
        .iter()
        .filter_map(|point| {
            let index = point.uids.iter().position(|u| *u == uid.0)?;
            Some(UidEpoch {
                epoch_index: point.epoch_index,
                block: point.block,
                emission_rao: *point.emission_rao.get(index)?,
                incentive: *point.incentive.get(index)?,
                dividends: *point.dividends.get(index)?,
            })
        })
        .collect();
    let role = role_of(
        &shared,
        netuid,
        uid.0,
        !neuron.weights.is_empty(),
        neuron.dividends,
    );
    Ok(Json(NeuronPage {
        netuid,
        uid,
        role,
        neuron,
        explain,
        history,
    }))
}

/// `/api/training`: what the training feed holds.
pub(crate) async fn training(State(shared): State<Arc<Shared>>) -> Json<TrainingSnapshot> {
    Json(shared.feed.snapshot())
}
