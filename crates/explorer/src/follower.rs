//! The follower: one background task that watches the node's new and finalized heads, records
//! each finalized block and, when a block ran a subnet's epoch, that subnet's per-uid results;
//! then tells the open pages (the live channel) what changed.

use crate::{
    history::{BlockSummary, EpochPoint, SUBNETS_MAX},
    Shared,
};
use hyphae_primitives::NetUid;
use hyphae_rpc::{
    types::{HeaderView, MetagraphOptions},
    Client, ClientError,
};
use serde_json::json;
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

/// First wait before reconnecting to a node that went away; it doubles up to the max.
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Runs until `shutdown` flips (or its sender is dropped).
pub(crate) async fn follow(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut retry = RETRY_MIN;
    loop {
        let outcome = tokio::select! {
            _ = stopped(&mut shutdown) => return,
            outcome = follow_once(&shared) => outcome,
        };
        if let Err(error) = outcome {
            tracing::warn!(url = shared.link.url(), %error, "explorer lost the node; retrying");
        }
        tokio::select! {
            _ = stopped(&mut shutdown) => return,
            () = tokio::time::sleep(retry) => {}
        }
        retry = retry.saturating_mul(2).min(RETRY_MAX);
    }
}

/// Resolves once the explorer is stopping.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the handle (the sender) is gone: stop as well.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn follow_once(shared: &Shared) -> Result<(), ClientError> {
    let client = shared.link.client().await?;
    let result = follow_with(shared, &client).await;
    if let Err(error) = &result {
        shared.link.on_error(&client, error).await;
    }
    result
}

async fn follow_with(shared: &Shared, client: &Client) -> Result<(), ClientError> {
    let mut heads = client.subscribe_new_heads().await?;
    let mut finalized = client.subscribe_finalized_heads().await?;
    record_baseline(shared, client).await?;
    let head = client.head().await?;
    record_finalized(shared, client, &head.finalized).await?;
    loop {
        tokio::select! {
            header = heads.next() => {
                let header = header.ok_or(ClientError::SubscriptionClosed)??;
                shared.publish(&json!({ "type": "head", "best": header }));
            }
            header = finalized.next() => {
                let header = header.ok_or(ClientError::SubscriptionClosed)??;
                record_finalized(shared, client, &header).await?;
            }
        }
    }
}

/// Records every block up to `header` not recorded yet (at most the kept number of blocks: a
/// long gap is not worth fetching block by block), and the epochs they ran.
async fn record_finalized(
    shared: &Shared,
    client: &Client,
    header: &HeaderView,
) -> Result<(), ClientError> {
    let kept = u64::try_from(shared.limits.recent_blocks_max)
        .unwrap_or(u64::MAX)
        .saturating_sub(1);
    let oldest_kept = header.number.saturating_sub(kept);
    let next = shared
        .history()
        .last_block()
        .map_or(oldest_kept, |last| last.saturating_add(1));
    for number in next.max(oldest_kept)..=header.number {
        let Some(block) = client.block_by_number(number).await? else {
            continue;
        };
        let summary = BlockSummary::of(&block);
        shared.history().record_block(summary.clone());
        shared.publish(&json!({ "type": "block", "block": summary, "finalized": header }));
        for netuid in &summary.epochs {
            if let Some(point) = record_epoch(shared, client, *netuid).await? {
                shared.publish(&json!({
                    "type": "epoch",
                    "netuid": netuid,
                    "epoch_index": point.epoch_index,
                    "block": point.block,
                }));
            }
        }
    }
    Ok(())
}

/// Reads `netuid`'s results after an epoch and records them.
async fn record_epoch(
    shared: &Shared,
    client: &Client,
    netuid: NetUid,
) -> Result<Option<EpochPoint>, ClientError> {
    let Some(subnet) = client.subnet(netuid).await? else {
        return Ok(None);
    };
    let Some(graph) = client
        .metagraph(netuid, MetagraphOptions::default())
        .await?
    else {
        return Ok(None);
    };
    let point = EpochPoint::of(subnet.epoch_index, subnet.last_epoch_block, &graph);
    let recorded = shared.history().record_epoch(netuid, point.clone());
    Ok(recorded.then_some(point))
}

/// On (re)connecting: each subnet's latest epoch, so the charts start with a point.
async fn record_baseline(shared: &Shared, client: &Client) -> Result<(), ClientError> {
    let subnets = client.subnets().await?;
    for subnet in subnets.iter().take(SUBNETS_MAX) {
        let known = shared
            .history()
            .has_epoch(subnet.netuid, subnet.epoch_index);
        if subnet.epoch_index > 0 && !known {
            record_epoch(shared, client, subnet.netuid).await?;
        }
    }
    Ok(())
}
