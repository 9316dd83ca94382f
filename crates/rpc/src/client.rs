//! [`Client`]: one typed async method per RPC method, over one WebSocket connection.

use crate::{error_code, method, types::*};
use hyphae_ledger::{
    explain::{EmissionReceipt, EpochSelector},
    SwapQuote, SwapSide, Transaction,
};
use hyphae_primitives::{AccountId, Hash, NetUid, Rao, TxError, Uid};
use jsonrpsee_core::{
    client::{ClientT, Error as JsonRpcError, Subscription, SubscriptionClientT},
    params::ArrayParams,
};
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use parity_scale_codec::Encode;
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;

/// Largest response the client accepts (a 4096-uid metagraph with weights fits).
const RESPONSE_LEN_MAX: u32 = 64 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `http(s)://` or `ws(s)://`.
    #[error("RPC URL {url:?} must start with http://, https://, ws:// or wss://")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// No connection could be made.
    #[error("cannot reach the node at {url}: {source}")]
    Connect {
        /// The URL tried.
        url: String,
        /// Why.
        source: JsonRpcError,
    },
    /// The node rejected a transaction.
    #[error("transaction rejected: {message}")]
    Rejected {
        /// JSON-RPC error code ([`error_code`]).
        code: i32,
        /// The node's message.
        message: String,
        /// The ledger's error, when a ledger rule rejected it.
        tx_error: Option<TxError>,
    },
    /// The node answered with another JSON-RPC error.
    #[error("RPC error {code}: {message}")]
    Rpc {
        /// Code.
        code: i32,
        /// Message.
        message: String,
    },
    /// The connection failed mid-call, or a response did not decode.
    #[error("RPC transport: {0}")]
    Transport(JsonRpcError),
    /// A parameter did not serialize.
    #[error("RPC parameter: {0}")]
    Params(#[from] serde_json::Error),
    /// A subscription ended before the awaited event.
    #[error("the node closed the subscription")]
    SubscriptionClosed,
}

impl From<JsonRpcError> for ClientError {
    fn from(error: JsonRpcError) -> Self {
        match error {
            JsonRpcError::Call(object) => {
                let code = object.code();
                let message = object.message().to_owned();
                let is_rejection = matches!(
                    code,
                    error_code::TX_INVALID
                        | error_code::POOL_FULL
                        | error_code::POOL_REPLACEMENT_UNDERPRICED
                        | error_code::POOL_ALREADY_KNOWN
                );
                if is_rejection {
                    let tx_error = object
                        .data()
                        .and_then(|data| serde_json::from_str::<TxRejection>(data.get()).ok())
                        .and_then(|rejection| rejection.tx_error)
                        .and_then(TxError::from_code);
                    Self::Rejected {
                        code,
                        message,
                        tx_error,
                    }
                } else {
                    Self::Rpc { code, message }
                }
            }
            other => Self::Transport(other),
        }
    }
}

/// A typed client of one node.
#[derive(Debug)]
pub struct Client {
    inner: WsClient,
}

/// The WebSocket URL for an `http(s)://` or `ws(s)://` node URL.
pub fn websocket_url(url: &str) -> Result<String, ClientError> {
    if let Some(rest) = url.strip_prefix("http://") {
        Ok(format!("ws://{rest}"))
    } else if let Some(rest) = url.strip_prefix("https://") {
        Ok(format!("wss://{rest}"))
    } else if url.starts_with("ws://") || url.starts_with("wss://") {
        Ok(url.to_owned())
    } else {
        Err(ClientError::BadUrl {
            url: url.to_owned(),
        })
    }
}

fn params(values: &[&dyn ErasedParam]) -> Result<ArrayParams, ClientError> {
    let mut out = ArrayParams::new();
    for value in values {
        out.insert(value.to_json()?)?;
    }
    Ok(out)
}

/// A parameter turned into JSON (object-safe `Serialize`).
trait ErasedParam: Sync {
    fn to_json(&self) -> Result<serde_json::Value, serde_json::Error>;
}

impl<T: Serialize + Sync> ErasedParam for T {
    fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

impl Client {
    /// Connects to a node (`http://127.0.0.1:9944` or `ws://…`).
    pub async fn connect(url: &str) -> Result<Self, ClientError> {
        let ws = websocket_url(url)?;
        let inner = WsClientBuilder::default()
            .max_response_size(RESPONSE_LEN_MAX)
            .connection_timeout(Duration::from_secs(10))
            .request_timeout(Duration::from_secs(60))
            .build(&ws)
            .await
            .map_err(|source| ClientError::Connect {
                url: url.to_owned(),
                source,
            })?;
        Ok(Self { inner })
    }

    async fn call<R: DeserializeOwned>(
        &self,
        name: &str,
        values: &[&dyn ErasedParam],
    ) -> Result<R, ClientError> {
        Ok(self.inner.request(name, params(values)?).await?)
    }

    /// `system_info`.
    pub async fn info(&self) -> Result<SystemInfo, ClientError> {
        self.call(method::SYSTEM_INFO, &[]).await
    }

    /// `chain_getHead`.
    pub async fn head(&self) -> Result<ChainHead, ClientError> {
        self.call(method::CHAIN_GET_HEAD, &[]).await
    }

    /// `chain_getFinalizedHead`.
    pub async fn finalized_head(&self) -> Result<HeaderView, ClientError> {
        self.call(method::CHAIN_GET_FINALIZED_HEAD, &[]).await
    }

    /// `chain_getBlockByNumber`.
    pub async fn block_by_number(&self, number: u64) -> Result<Option<BlockView>, ClientError> {
        self.call(method::CHAIN_GET_BLOCK_BY_NUMBER, &[&number])
            .await
    }

    /// `chain_getBlockByHash`.
    pub async fn block_by_hash(&self, hash: Hash) -> Result<Option<BlockView>, ClientError> {
        self.call(method::CHAIN_GET_BLOCK_BY_HASH, &[&hash]).await
    }

    /// `tx_submit`: returns the transaction hash.
    pub async fn submit(&self, tx: &Transaction) -> Result<Hash, ClientError> {
        let bytes = format!("0x{}", hex::encode(tx.encode()));
        self.call(method::TX_SUBMIT, &[&bytes]).await
    }

    /// `tx_submitAndWatch`: follows the transaction.
    pub async fn submit_and_watch(&self, tx: &Transaction) -> Result<TxWatch, ClientError> {
        let bytes = format!("0x{}", hex::encode(tx.encode()));
        let subscription = self
            .inner
            .subscribe(
                method::TX_SUBMIT_AND_WATCH,
                params(&[&bytes])?,
                method::TX_UNWATCH,
            )
            .await?;
        Ok(TxWatch { subscription })
    }

    /// `account_get`.
    pub async fn account(&self, address: &AccountId) -> Result<AccountInfo, ClientError> {
        self.call(method::ACCOUNT_GET, &[address]).await
    }

    /// `account_stakes`.
    pub async fn stakes(&self, coldkey: &AccountId) -> Result<Vec<StakeEntry>, ClientError> {
        self.call(method::ACCOUNT_STAKES, &[coldkey]).await
    }

    /// `account_rootClaimable`.
    pub async fn root_claimable(
        &self,
        coldkey: &AccountId,
    ) -> Result<Vec<RootClaimableEntry>, ClientError> {
        self.call(method::ACCOUNT_ROOT_CLAIMABLE, &[coldkey]).await
    }

    /// `subnet_list`.
    pub async fn subnets(&self) -> Result<Vec<SubnetInfo>, ClientError> {
        self.call(method::SUBNET_LIST, &[]).await
    }

    /// `subnet_get`.
    pub async fn subnet(&self, netuid: NetUid) -> Result<Option<SubnetInfo>, ClientError> {
        self.call(method::SUBNET_GET, &[&netuid]).await
    }

    /// `subnet_metagraph`.
    pub async fn metagraph(
        &self,
        netuid: NetUid,
        options: MetagraphOptions,
    ) -> Result<Option<MetagraphView>, ClientError> {
        self.call(method::SUBNET_METAGRAPH, &[&netuid, &options])
            .await
    }

    /// `subnet_neuron`.
    pub async fn neuron(
        &self,
        netuid: NetUid,
        uid: Uid,
    ) -> Result<Option<NeuronInfo>, ClientError> {
        self.call(method::SUBNET_NEURON, &[&netuid, &uid]).await
    }

    /// `subnet_explain`.
    pub async fn explain(
        &self,
        netuid: NetUid,
        uid: Uid,
    ) -> Result<Option<EmissionReceipt>, ClientError> {
        self.call(method::SUBNET_EXPLAIN, &[&netuid, &uid]).await
    }

    /// `subnet_explain` for one of the subnet's kept epochs.
    pub async fn explain_at(
        &self,
        netuid: NetUid,
        uid: Uid,
        epoch: EpochSelector,
    ) -> Result<Option<EmissionReceipt>, ClientError> {
        self.call(method::SUBNET_EXPLAIN, &[&netuid, &uid, &epoch])
            .await
    }

    /// `subnet_quote`: `amount` TAO (stake) or alpha (unstake) rao priced against the pool.
    pub async fn quote(
        &self,
        netuid: NetUid,
        side: SwapSide,
        amount: Rao,
    ) -> Result<Option<SwapQuote>, ClientError> {
        self.call(method::SUBNET_QUOTE, &[&netuid, &side, &amount])
            .await
    }

    /// `subnet_commitments`: `None` when the subnet does not exist.
    pub async fn commitments(
        &self,
        netuid: NetUid,
    ) -> Result<Option<Vec<CommitmentView>>, ClientError> {
        self.call(method::SUBNET_COMMITMENTS, &[&netuid]).await
    }

    /// `subnet_epochTiming`.
    pub async fn epoch_timing(
        &self,
        netuid: NetUid,
        hotkey: Option<AccountId>,
    ) -> Result<Option<EpochTiming>, ClientError> {
        self.call(method::SUBNET_EPOCH_TIMING, &[&netuid, &hotkey])
            .await
    }

    /// `chain_subscribeNewHeads`.
    pub async fn subscribe_new_heads(&self) -> Result<Subscription<HeaderView>, ClientError> {
        let sub = self
            .inner
            .subscribe(
                method::CHAIN_SUBSCRIBE_NEW_HEADS,
                ArrayParams::new(),
                method::CHAIN_UNSUBSCRIBE_NEW_HEADS,
            )
            .await?;
        Ok(sub)
    }

    /// `chain_subscribeFinalizedHeads`.
    pub async fn subscribe_finalized_heads(&self) -> Result<Subscription<HeaderView>, ClientError> {
        let sub = self
            .inner
            .subscribe(
                method::CHAIN_SUBSCRIBE_FINALIZED_HEADS,
                ArrayParams::new(),
                method::CHAIN_UNSUBSCRIBE_FINALIZED_HEADS,
            )
            .await?;
        Ok(sub)
    }

    /// `chain_subscribeEvents`.
    pub async fn subscribe_events(&self) -> Result<Subscription<BlockEvents>, ClientError> {
        let sub = self
            .inner
            .subscribe(
                method::CHAIN_SUBSCRIBE_EVENTS,
                ArrayParams::new(),
                method::CHAIN_UNSUBSCRIBE_EVENTS,
            )
            .await?;
        Ok(sub)
    }
}

/// A transaction being followed (`tx_submitAndWatch`).
#[derive(Debug)]
pub struct TxWatch {
    subscription: Subscription<TxStatus>,
}

impl TxWatch {
    /// The next status, or `None` when the node ended the subscription.
    pub async fn next(&mut self) -> Option<Result<TxStatus, ClientError>> {
        self.subscription
            .next()
            .await
            .map(|item| item.map_err(ClientError::Params))
    }

    /// Waits until `done` accepts a status (or the transaction is dropped) and returns it.
    pub async fn wait_for(
        &mut self,
        done: impl Fn(&TxStatus) -> bool,
    ) -> Result<TxStatus, ClientError> {
        while let Some(status) = self.next().await {
            let status = status?;
            if done(&status) || matches!(status, TxStatus::Dropped { .. }) {
                return Ok(status);
            }
        }
        Err(ClientError::SubscriptionClosed)
    }
}
