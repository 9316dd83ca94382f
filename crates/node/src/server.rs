//! The JSON-RPC 2.0 server: HTTP and WebSocket on one port (jsonrpsee), every method named in
//! [`hyphae_rpc::method`] and documented in `docs/rpc.md`.
//!
//! Reads answer from the published [`crate::chain::ChainView`] (an `Arc`, no lock held while
//! answering) or from a store snapshot. Handlers that may take CPU time run on blocking
//! threads. Every handler's latency lands in `hyphae_rpc_request_seconds`.

use crate::{
    chain::{BlockNotice, Shared},
    config::RpcLimits,
    mempool::{signature_valid, MempoolError},
    NodeError,
};
use hyphae_ledger::{
    explain::{explain_at, EpochSelector},
    Block, PoolView, Price, Receipts, State, SwapSide, Transaction,
};
use hyphae_primitives::{AccountId, BlockNumber, Hash, NetUid, Rao, TxError, Uid};
use hyphae_rpc::{error_code, method, types::*};
use jsonrpsee::{
    server::{PendingSubscriptionSink, Server, ServerConfig, ServerHandle, SubscriptionMessage},
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
use serde::Serialize;
use std::{net::SocketAddr, sync::Arc, time::Instant};
use tokio::sync::broadcast::{self, error::RecvError};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

fn internal(error: &NodeError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        jsonrpsee::types::error::INTERNAL_ERROR_CODE,
        error.to_string(),
        None::<()>,
    )
}

fn rejected(error: TxError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        error_code::TX_INVALID,
        error.to_string(),
        Some(TxRejection::from_tx_error(error)),
    )
}

fn mempool_error(error: &MempoolError) -> ErrorObjectOwned {
    let (code, tx_error) = match error {
        MempoolError::Invalid(tx_error) => return rejected(*tx_error),
        MempoolError::Full { .. }
        | MempoolError::AccountFull { .. }
        | MempoolError::ReplacementLimit { .. } => (error_code::POOL_FULL, None),
        MempoolError::ReplacementUnderpriced { .. } => {
            (error_code::POOL_REPLACEMENT_UNDERPRICED, None)
        }
        MempoolError::AlreadyKnown(_) => (error_code::POOL_ALREADY_KNOWN, None),
    };
    let data = TxRejection {
        tx_error,
        name: format!("{error:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned(),
    };
    ErrorObjectOwned::owned(code, error.to_string(), Some(data))
}

/// Decodes a `0x` hex SCALE transaction.
fn decode_tx(text: &str) -> Result<Transaction, ErrorObjectOwned> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|_| rejected(TxError::BadEncoding))?;
    Transaction::from_bytes(&bytes).map_err(rejected)
}

/// Checks and queues a transaction; returns its hash.
fn admit(shared: &Shared, text: &str) -> RpcResult<Hash> {
    let tx = decode_tx(text)?;
    let genesis = shared.view().state.head().genesis_hash;
    if !signature_valid(&tx, &genesis) {
        return Err(rejected(TxError::BadSignature));
    }
    let inserted = {
        let mut mempool = shared.mempool();
        let view = shared.view();
        let result = mempool.insert(tx, &view.state, false);
        shared.metrics.mempool(mempool.len());
        result
    };
    inserted
        .map(|inserted| inserted.hash)
        .map_err(|error| mempool_error(&error))
}

fn block_view(shared: &Shared, block: &Block, receipts: &Receipts) -> BlockView {
    let finalized = block.header.number <= shared.view().finalized.number;
    let transactions = block
        .transactions
        .iter()
        .zip(receipts.transactions.iter())
        .map(|(tx, receipt)| TxSummary {
            hash: Hash(receipt.tx_hash),
            signer: tx.signer,
            nonce: tx.nonce,
            tip_rao: tx.tip,
            call: tx.call.name().to_owned(),
            error: receipt.error,
            error_name: receipt.tx_error().map(|error| error.name().to_owned()),
            events: receipt.events.clone(),
        })
        .collect();
    BlockView {
        header: HeaderView::from(&block.header),
        finalized,
        hook_events: receipts.hook_events.clone(),
        transactions,
    }
}

/// A subnet's market as the RPC shows it; root (no pool) is TAO at 1:1 with no reserves.
fn market(state: &State, netuid: NetUid) -> PoolView {
    state.pool_view(netuid).unwrap_or(PoolView {
        netuid,
        price: Price::ONE,
        price_rao_per_alpha: Price::ONE.rao_per_alpha(),
        moving_price: Price::ONE,
        moving_price_rao_per_alpha: Price::ONE.rao_per_alpha(),
        tao_reserve: Rao::ZERO,
        alpha_reserve: Rao::ZERO,
        alpha_outstanding: Rao::ZERO,
        alpha_issuance: Rao::ZERO,
        emission_share_ppb: 0,
        tao_emission: Rao::ZERO,
        alpha_emission: Rao::ZERO,
        alpha_recycled: Rao::ZERO,
        pending_root_alpha: Rao::ZERO,
        root_proportion_ppb: 0,
    })
}

fn subnet_info(state: &State, netuid: NetUid) -> Option<SubnetInfo> {
    let subnet = state.subnet(netuid)?;
    let pool = market(state, netuid);
    Some(SubnetInfo {
        netuid,
        owner_coldkey: subnet.owner_coldkey,
        owner_hotkey: subnet.owner_hotkey,
        n: subnet.n,
        burn_rao: subnet.burn,
        locked_rao: subnet.locked,
        emitting: subnet.first_emission_block.is_some(),
        registered_at: subnet.registered_at.0,
        last_epoch_block: subnet.last_epoch_block.0,
        epoch_index: subnet.epoch_index,
        pending_emission_rao: subnet.pending_emission,
        name: subnet
            .identity
            .as_ref()
            .map(|identity| String::from_utf8_lossy(&identity.name).into_owned()),
        hyperparameters: subnet.params.clone(),
        price_rao_per_alpha: pool.price_rao_per_alpha,
        moving_price_rao_per_alpha: pool.moving_price_rao_per_alpha,
        tao_reserve_rao: pool.tao_reserve,
        alpha_reserve: pool.alpha_reserve,
        alpha_outstanding: pool.alpha_outstanding,
        emission_share_ppb: pool.emission_share_ppb,
        tao_emission_rao: pool.tao_emission,
        alpha_emission: pool.alpha_emission,
    })
}

/// The metagraph of `netuid` as uid-indexed arrays.
pub fn metagraph(
    state: &State,
    netuid: NetUid,
    options: MetagraphOptions,
) -> Option<MetagraphView> {
    let subnet = state.subnet(netuid)?;
    let neurons = state.metagraph(netuid);
    let len = neurons.len();
    let pool = market(state, netuid);
    let mut view = MetagraphView {
        netuid,
        block: state.head().number.0,
        n: subnet.n,
        uids: Vec::with_capacity(len),
        hotkeys: Vec::with_capacity(len),
        coldkeys: Vec::with_capacity(len),
        stake_rao: Vec::with_capacity(len),
        alpha_stake: Vec::with_capacity(len),
        tao_stake_rao: Vec::with_capacity(len),
        stake_tao_value_rao: Vec::with_capacity(len),
        price_rao_per_alpha: pool.price_rao_per_alpha,
        moving_price_rao_per_alpha: pool.moving_price_rao_per_alpha,
        tao_reserve_rao: pool.tao_reserve,
        alpha_reserve: pool.alpha_reserve,
        emission_share_ppb: pool.emission_share_ppb,
        incentive: Vec::with_capacity(len),
        consensus: Vec::with_capacity(len),
        dividends: Vec::with_capacity(len),
        validator_trust: Vec::with_capacity(len),
        emission_rao: Vec::with_capacity(len),
        last_update: Vec::with_capacity(len),
        validator_permit: Vec::with_capacity(len),
        active: Vec::with_capacity(len),
        block_at_registration: Vec::with_capacity(len),
        axons: Vec::with_capacity(len),
        weights: options.weights.then(|| Vec::with_capacity(len)),
        bonds: options.bonds.then(|| Vec::with_capacity(len)),
    };
    for entry in neurons {
        let neuron = entry.neuron;
        view.uids.push(entry.uid.0);
        view.hotkeys.push(neuron.hotkey);
        view.coldkeys.push(entry.coldkey);
        view.stake_rao.push(entry.stake);
        view.alpha_stake.push(entry.stake);
        view.tao_stake_rao.push(state.root_stake(&neuron.hotkey));
        view.stake_tao_value_rao.push(entry.stake_tao_value);
        view.incentive.push(neuron.incentive);
        view.consensus.push(neuron.consensus);
        view.dividends.push(neuron.dividends);
        view.validator_trust.push(neuron.validator_trust);
        view.emission_rao.push(neuron.emission);
        view.last_update.push(neuron.last_update.0);
        view.validator_permit.push(neuron.validator_permit);
        view.active.push(neuron.active);
        view.block_at_registration.push(neuron.registered_at.0);
        view.axons.push(neuron.axon.as_ref().map(AxonView::from));
        if let Some(weights) = view.weights.as_mut() {
            weights.push(neuron.weights);
        }
        if let Some(bonds) = view.bonds.as_mut() {
            bonds.push(neuron.bonds);
        }
    }
    Some(view)
}

fn neuron_info(state: &State, netuid: NetUid, uid: Uid) -> Option<NeuronInfo> {
    let neuron = state.neuron(netuid, uid)?;
    Some(NeuronInfo {
        netuid,
        uid,
        hotkey: neuron.hotkey,
        coldkey: state.hotkey_owner(&neuron.hotkey).unwrap_or_default(),
        stake_rao: state.total_hotkey_stake(netuid, &neuron.hotkey),
        stakers: state.stakers(netuid, &neuron.hotkey),
        registered_at: neuron.registered_at.0,
        last_update: neuron.last_update.0,
        active: neuron.active,
        validator_permit: neuron.validator_permit,
        stake_weight: neuron.stake_weight,
        consensus: neuron.consensus,
        incentive: neuron.incentive,
        dividends: neuron.dividends,
        validator_trust: neuron.validator_trust,
        emission_rao: neuron.emission,
        axon: neuron.axon.as_ref().map(AxonView::from),
        weights: neuron.weights.clone(),
        bonds: neuron.bonds.clone(),
    })
}

fn epoch_timing(state: &State, netuid: NetUid, hotkey: Option<AccountId>) -> Option<EpochTiming> {
    let subnet = state.subnet(netuid)?;
    let block = state.head().number.0;
    let tempo = subnet.params.tempo;
    let next_epoch_block =
        (tempo > 0).then(|| subnet.last_epoch_block.0.saturating_add(u64::from(tempo)));
    // Blocks run their epoch hook before their transactions, so an epoch "at" block b happens
    // when block b is built.
    let blocks_until_next_epoch = next_epoch_block.map(|next| next.saturating_sub(block).max(1));
    let limit = subnet.params.weights_set_rate_limit;
    let hotkey = hotkey.map(|hotkey| {
        let uid = state.uid_of(netuid, &hotkey);
        let last_update = uid
            .and_then(|uid| state.neuron(netuid, uid))
            .map(|neuron| neuron.last_update.0);
        let next_block = block.saturating_add(1);
        let next_weights_block = last_update.map(|last| {
            if last == 0 {
                next_block
            } else {
                last.saturating_add(limit).max(next_block)
            }
        });
        HotkeyTiming {
            hotkey,
            uid,
            last_update,
            next_weights_block,
        }
    });
    Some(EpochTiming {
        netuid,
        block,
        tempo,
        epoch_index: subnet.epoch_index,
        last_epoch_block: subnet.last_epoch_block.0,
        next_epoch_block,
        blocks_until_next_epoch,
        weights_set_rate_limit: limit,
        commit_reveal: subnet.params.commit_reveal,
        hotkey,
    })
}

/// Stake positions of `coldkey`, found through every registered and owner hotkey (the ledger
/// has no index by coldkey; stake on a hotkey that is neither is not listed).
fn stakes_of(state: &State, coldkey: &AccountId) -> Vec<StakeEntry> {
    let mut out = Vec::new();
    for netuid in state.netuids() {
        let mut hotkeys: Vec<AccountId> = state
            .neurons_of(netuid)
            .map(|(_, neuron)| neuron.hotkey)
            .collect();
        if let Some(subnet) = state.subnet(netuid) {
            hotkeys.push(subnet.owner_hotkey);
        }
        hotkeys.sort_unstable();
        hotkeys.dedup();
        for hotkey in hotkeys {
            let stake = state.stake(netuid, &hotkey, coldkey);
            if !stake.is_zero() {
                out.push(StakeEntry {
                    netuid,
                    hotkey,
                    stake_rao: stake,
                });
            }
        }
    }
    out
}

/// Claimable root dividends of `coldkey`, valued at each subnet's spot price.
fn root_claimable_of(state: &State, coldkey: &AccountId) -> Vec<RootClaimableEntry> {
    state
        .root_claimable(coldkey)
        .into_iter()
        .map(|claim| RootClaimableEntry {
            netuid: claim.netuid,
            hotkey: claim.hotkey,
            alpha: claim.alpha,
            tao_value_rao: state
                .subnet_price(claim.netuid)
                .map_or(Rao::ZERO, |price| price.tao_value(claim.alpha)),
        })
        .collect()
}

fn system_info(shared: &Shared) -> SystemInfo {
    let view = shared.view();
    let globals = view.state.globals();
    let next = view.best.number.checked_next().unwrap_or(view.best.number);
    SystemInfo {
        chain: shared.facts.name.clone(),
        genesis_hash: view.state.head().genesis_hash,
        dev: shared.facts.dev,
        block_time_ms: shared.facts.block_time_ms,
        best: view.best.number.0,
        finalized: view.finalized.number.0,
        base_fee_rao: globals.base_fee,
        byte_fee_rao: globals.byte_fee,
        network_lock_cost_rao: view.state.network_lock_cost(next),
        min_stake_rao: globals.min_stake,
        mempool_len: u64::try_from(shared.mempool().len()).unwrap_or(u64::MAX),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Registers a method that runs on a blocking thread and records its latency.
fn blocking<R>(
    module: &mut RpcModule<Arc<Shared>>,
    name: &'static str,
    handler: for<'a> fn(&Params<'a>, &Shared) -> RpcResult<R>,
) -> Result<(), NodeError>
where
    R: Serialize + Clone + Send + 'static,
{
    module.register_blocking_method(name, move |params, shared, _| {
        let started = Instant::now();
        let result = handler(&params, &shared);
        shared.metrics.rpc(name, started.elapsed());
        result
    })?;
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(params: &Params<'_>) -> RpcResult<T> {
    params.parse::<T>()
}

/// Builds the module with every method.
pub fn module(shared: Arc<Shared>) -> Result<RpcModule<Arc<Shared>>, NodeError> {
    let mut module = RpcModule::new(shared);
    blocking(&mut module, method::SYSTEM_INFO, |_, shared| {
        Ok(system_info(shared))
    })?;
    blocking(&mut module, method::CHAIN_GET_HEAD, |_, shared| {
        let view = shared.view();
        Ok(ChainHead {
            best: HeaderView::from(&view.best),
            finalized: HeaderView::from(&view.finalized),
        })
    })?;
    blocking(
        &mut module,
        method::CHAIN_GET_FINALIZED_HEAD,
        |_, shared| Ok(HeaderView::from(&shared.view().finalized)),
    )?;
    blocking(
        &mut module,
        method::CHAIN_GET_BLOCK_BY_NUMBER,
        |params, shared| {
            let (number,): (u64,) = parse(params)?;
            let found = shared
                .block(BlockNumber(number))
                .map_err(|error| internal(&error))?;
            Ok(found.map(|(block, receipts)| block_view(shared, &block, &receipts)))
        },
    )?;
    blocking(
        &mut module,
        method::CHAIN_GET_BLOCK_BY_HASH,
        |params, shared| {
            let (hash,): (Hash,) = parse(params)?;
            let found = shared
                .block_by_hash(&hash)
                .map_err(|error| internal(&error))?;
            Ok(found.map(|(block, receipts)| block_view(shared, &block, &receipts)))
        },
    )?;
    blocking(&mut module, method::TX_SUBMIT, |params, shared| {
        let (text,): (String,) = parse(params)?;
        admit(shared, &text)
    })?;
    blocking(&mut module, method::ACCOUNT_GET, |params, shared| {
        let (address,): (AccountId,) = parse(params)?;
        let mempool = shared.mempool();
        let view = shared.view();
        Ok(AccountInfo {
            address,
            free_rao: view.state.balance(&address),
            nonce: view.state.nonce(&address),
            next_nonce: mempool.next_nonce(&address, &view.state),
            block: view.best.number.0,
        })
    })?;
    blocking(&mut module, method::ACCOUNT_STAKES, |params, shared| {
        let (coldkey,): (AccountId,) = parse(params)?;
        Ok(stakes_of(&shared.view().state, &coldkey))
    })?;
    blocking(
        &mut module,
        method::ACCOUNT_ROOT_CLAIMABLE,
        |params, shared| {
            let (coldkey,): (AccountId,) = parse(params)?;
            Ok(root_claimable_of(&shared.view().state, &coldkey))
        },
    )?;
    blocking(&mut module, method::SUBNET_LIST, |_, shared| {
        let view = shared.view();
        Ok(view
            .state
            .netuids()
            .into_iter()
            .filter_map(|netuid| subnet_info(&view.state, netuid))
            .collect::<Vec<_>>())
    })?;
    blocking(&mut module, method::SUBNET_GET, |params, shared| {
        let (netuid,): (NetUid,) = parse(params)?;
        Ok(subnet_info(&shared.view().state, netuid))
    })?;
    blocking(&mut module, method::SUBNET_METAGRAPH, |params, shared| {
        let mut sequence = params.sequence();
        let netuid: NetUid = sequence.next()?;
        let options: Option<MetagraphOptions> = sequence.optional_next()?;
        let options = options.unwrap_or_default();
        let json = shared
            .metagraph_json(netuid, options, |state| metagraph(state, netuid, options))
            .map_err(|error| {
                ErrorObjectOwned::owned(
                    jsonrpsee::types::error::INTERNAL_ERROR_CODE,
                    error.to_string(),
                    None::<()>,
                )
            })?;
        Ok(json)
    })?;
    blocking(&mut module, method::SUBNET_NEURON, |params, shared| {
        let (netuid, uid): (NetUid, Uid) = parse(params)?;
        Ok(neuron_info(&shared.view().state, netuid, uid))
    })?;
    blocking(&mut module, method::SUBNET_EXPLAIN, |params, shared| {
        let mut sequence = params.sequence();
        let netuid: NetUid = sequence.next()?;
        let uid: Uid = sequence.next()?;
        let epoch: Option<EpochSelector> = sequence.optional_next()?;
        Ok(explain_at(
            &shared.view().state,
            netuid,
            uid,
            epoch.unwrap_or_default(),
        ))
    })?;
    blocking(
        &mut module,
        method::SUBNET_EPOCH_TIMING,
        |params, shared| {
            let mut sequence = params.sequence();
            let netuid: NetUid = sequence.next()?;
            let hotkey: Option<AccountId> = sequence.optional_next()?;
            Ok(epoch_timing(&shared.view().state, netuid, hotkey))
        },
    )?;
    blocking(&mut module, method::SUBNET_QUOTE, |params, shared| {
        let (netuid, side, amount): (NetUid, SwapSide, Rao) = parse(params)?;
        match shared.view().state.swap_quote(netuid, side, amount) {
            Ok(quote) => Ok(Some(quote)),
            Err(TxError::SubnetNotFound) => Ok(None),
            Err(error) => Err(ErrorObjectOwned::owned(
                jsonrpsee::types::error::INVALID_PARAMS_CODE,
                format!("cannot quote: {error}"),
                Some(TxRejection::from_tx_error(error)),
            )),
        }
    })?;
    blocking(&mut module, method::SUBNET_COMMITMENTS, |params, shared| {
        let (netuid,): (NetUid,) = parse(params)?;
        let view = shared.view();
        Ok(view.state.subnet(netuid).map(|_| {
            view.state
                .commitments(netuid)
                .into_iter()
                .map(|(uid, hotkey, commitment)| CommitmentView {
                    hotkey,
                    uid,
                    block: commitment.block.0,
                    data: format!("0x{}", hex::encode(&commitment.data)),
                })
                .collect::<Vec<_>>()
        }))
    })?;

    module.register_subscription(
        method::CHAIN_SUBSCRIBE_NEW_HEADS,
        "chain_newHead",
        method::CHAIN_UNSUBSCRIBE_NEW_HEADS,
        |_, pending, shared, _| async move {
            let receiver = shared.notices.subscribe();
            follow(pending, receiver, |notice| {
                Some(HeaderView::from(&notice.header))
            })
            .await;
        },
    )?;
    module.register_subscription(
        method::CHAIN_SUBSCRIBE_FINALIZED_HEADS,
        "chain_finalizedHead",
        method::CHAIN_UNSUBSCRIBE_FINALIZED_HEADS,
        |_, pending, shared, _| async move {
            let receiver = shared.notices.subscribe();
            follow(pending, receiver, |notice| {
                notice.finalized.then(|| HeaderView::from(&notice.header))
            })
            .await;
        },
    )?;
    module.register_subscription(
        method::CHAIN_SUBSCRIBE_EVENTS,
        "chain_events",
        method::CHAIN_UNSUBSCRIBE_EVENTS,
        |_, pending, shared, _| async move {
            let receiver = shared.notices.subscribe();
            follow(pending, receiver, |notice| Some(notice.events.clone())).await;
        },
    )?;
    module.register_subscription(
        method::TX_SUBMIT_AND_WATCH,
        "tx_status",
        method::TX_UNWATCH,
        |params, pending, shared, _| async move {
            watch(params, pending, Arc::clone(&*shared)).await;
        },
    )?;
    Ok(module)
}

fn message(value: &impl Serialize) -> Option<SubscriptionMessage> {
    serde_json::value::to_raw_value(value)
        .ok()
        .map(SubscriptionMessage::from)
}

/// Forwards every notice `pick` maps to a value, until the client leaves or the node stops.
async fn follow<T: Serialize>(
    pending: PendingSubscriptionSink,
    mut receiver: broadcast::Receiver<Arc<BlockNotice>>,
    pick: impl Fn(&BlockNotice) -> Option<T>,
) {
    let Ok(sink) = pending.accept().await else {
        return;
    };
    loop {
        let notice = tokio::select! {
            _ = sink.closed() => return,
            notice = receiver.recv() => notice,
        };
        match notice {
            Ok(notice) => {
                if let Some(message) = pick(&notice).as_ref().and_then(message) {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
            }
            // A slow subscriber skips the blocks it missed.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// `tx_submitAndWatch`: admit, then report ready → included → finalized (or dropped).
async fn watch(params: Params<'static>, pending: PendingSubscriptionSink, shared: Arc<Shared>) {
    let started = Instant::now();
    let text = match params.parse::<(String,)>() {
        Ok((text,)) => text,
        Err(error) => return pending.reject(error).await,
    };
    // Subscribe before admitting, so the block that includes it cannot be missed.
    let mut receiver = shared.notices.subscribe();
    let admit_shared = Arc::clone(&shared);
    let admitted = tokio::task::spawn_blocking(move || admit(&admit_shared, &text)).await;
    shared
        .metrics
        .rpc(method::TX_SUBMIT_AND_WATCH, started.elapsed());
    let hash = match admitted {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return pending.reject(error).await,
        Err(_) => return pending.reject(internal(&NodeError::Stopped)).await,
    };
    let Ok(sink) = pending.accept().await else {
        return;
    };
    let send = |status: TxStatus| {
        let sink = &sink;
        async move {
            match message(&status) {
                Some(message) => sink.send(message).await.is_ok(),
                None => false,
            }
        }
    };
    if !send(TxStatus::Ready { hash }).await {
        return;
    }
    let mut included = false;
    loop {
        let notice = tokio::select! {
            _ = sink.closed() => return,
            notice = receiver.recv() => notice,
        };
        let notice = match notice {
            Ok(notice) => notice,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let block = notice.header.number.0;
        let block_hash = notice.header.hash();
        if let Some((_, error)) = notice.transactions.iter().find(|(tx, _)| *tx == hash) {
            let error = *error;
            if !included
                && !send(TxStatus::Included {
                    hash,
                    block,
                    block_hash,
                    error,
                })
                .await
            {
                return;
            }
            included = true;
            if notice.finalized {
                let _ = send(TxStatus::Finalized {
                    hash,
                    block,
                    block_hash,
                    error,
                })
                .await;
                return;
            }
        } else if let Some((_, error)) = notice.dropped.iter().find(|(tx, _)| *tx == hash) {
            let _ = send(TxStatus::Dropped {
                hash,
                error: error.code(),
            })
            .await;
            return;
        }
    }
}

/// Binds the server and starts serving `module`.
pub async fn start(
    addr: SocketAddr,
    limits: RpcLimits,
    module: RpcModule<Arc<Shared>>,
) -> Result<(SocketAddr, ServerHandle), NodeError> {
    let config = ServerConfig::builder()
        .max_request_body_size(limits.request_body_len_max)
        .max_response_body_size(limits.response_body_len_max)
        .max_connections(limits.connections_max)
        .max_subscriptions_per_connection(limits.subscriptions_per_connection_max)
        .build();
    let server = Server::builder()
        .set_config(config)
        .build(addr)
        .await
        .map_err(|source| NodeError::Bind { addr, source })?;
    let local = server
        .local_addr()
        .map_err(|source| NodeError::Bind { addr, source })?;
    Ok((local, server.start(module)))
}
