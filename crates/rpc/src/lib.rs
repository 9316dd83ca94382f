//! The hyphae JSON-RPC contract: method names ([`method`]), error codes ([`error_code`]), the
//! request and response types ([`types`]), and [`Client`], a typed async client over
//! WebSocket.
//!
//! **Is:** what the CLI, the neuron SDK and the explorer share with the node. **Is not:** the
//! server (that lives in `hyphae-node`), and it holds no state.
//!
//! The node serves HTTP and WebSocket on one port, so an `http://` URL works for both: the
//! client turns `http://host:port` into `ws://host:port`. Every method is documented in
//! `docs/rpc.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hyphae_rpc::ClientError> {
//! let client = hyphae_rpc::Client::connect("http://127.0.0.1:9944").await?;
//! let head = client.head().await?;
//! println!("best block {}", head.best.number);
//! # Ok(()) }
//! ```

mod client;
pub mod types;

pub use client::{Client, ClientError, TxWatch};

/// Every method name the node registers, one constant each.
pub mod method {
    /// Chain name, genesis hash, fee parameters, heights.
    pub const SYSTEM_INFO: &str = "system_info";
    /// Best and finalized headers.
    pub const CHAIN_GET_HEAD: &str = "chain_getHead";
    /// The finalized header.
    pub const CHAIN_GET_FINALIZED_HEAD: &str = "chain_getFinalizedHead";
    /// A block by height.
    pub const CHAIN_GET_BLOCK_BY_NUMBER: &str = "chain_getBlockByNumber";
    /// A block by hash.
    pub const CHAIN_GET_BLOCK_BY_HASH: &str = "chain_getBlockByHash";
    /// Subscribe to new best headers.
    pub const CHAIN_SUBSCRIBE_NEW_HEADS: &str = "chain_subscribeNewHeads";
    /// Cancel a new-heads subscription.
    pub const CHAIN_UNSUBSCRIBE_NEW_HEADS: &str = "chain_unsubscribeNewHeads";
    /// Subscribe to finalized headers.
    pub const CHAIN_SUBSCRIBE_FINALIZED_HEADS: &str = "chain_subscribeFinalizedHeads";
    /// Cancel a finalized-heads subscription.
    pub const CHAIN_UNSUBSCRIBE_FINALIZED_HEADS: &str = "chain_unsubscribeFinalizedHeads";
    /// Subscribe to every block's events.
    pub const CHAIN_SUBSCRIBE_EVENTS: &str = "chain_subscribeEvents";
    /// Cancel an events subscription.
    pub const CHAIN_UNSUBSCRIBE_EVENTS: &str = "chain_unsubscribeEvents";
    /// Submit a hex SCALE transaction; returns its hash.
    pub const TX_SUBMIT: &str = "tx_submit";
    /// Submit and follow a transaction until it is final.
    pub const TX_SUBMIT_AND_WATCH: &str = "tx_submitAndWatch";
    /// Stop following a transaction.
    pub const TX_UNWATCH: &str = "tx_unwatch";
    /// Balance and nonces of an account.
    pub const ACCOUNT_GET: &str = "account_get";
    /// Stake positions of a coldkey.
    pub const ACCOUNT_STAKES: &str = "account_stakes";
    /// Claimable root dividends of a coldkey.
    pub const ACCOUNT_ROOT_CLAIMABLE: &str = "account_rootClaimable";
    /// Every subnet with its hyperparameters.
    pub const SUBNET_LIST: &str = "subnet_list";
    /// One subnet with its hyperparameters.
    pub const SUBNET_GET: &str = "subnet_get";
    /// A metagraph snapshot.
    pub const SUBNET_METAGRAPH: &str = "subnet_metagraph";
    /// One neuron.
    pub const SUBNET_NEURON: &str = "subnet_neuron";
    /// The emission receipt of a uid in one of its subnet's last 8 epochs.
    pub const SUBNET_EXPLAIN: &str = "subnet_explain";
    /// Epoch and weight-setting timing.
    pub const SUBNET_EPOCH_TIMING: &str = "subnet_epochTiming";
    /// Prices a stake or unstake against a subnet's pool now.
    pub const SUBNET_QUOTE: &str = "subnet_quote";
    /// Every registered hotkey's commitment on a subnet (`commit`).
    pub const SUBNET_COMMITMENTS: &str = "subnet_commitments";

    /// Every method, subscriptions and their unsubscribe methods included.
    pub const ALL: &[&str] = &[
        SYSTEM_INFO,
        CHAIN_GET_HEAD,
        CHAIN_GET_FINALIZED_HEAD,
        CHAIN_GET_BLOCK_BY_NUMBER,
        CHAIN_GET_BLOCK_BY_HASH,
        CHAIN_SUBSCRIBE_NEW_HEADS,
        CHAIN_UNSUBSCRIBE_NEW_HEADS,
        CHAIN_SUBSCRIBE_FINALIZED_HEADS,
        CHAIN_UNSUBSCRIBE_FINALIZED_HEADS,
        CHAIN_SUBSCRIBE_EVENTS,
        CHAIN_UNSUBSCRIBE_EVENTS,
        TX_SUBMIT,
        TX_SUBMIT_AND_WATCH,
        TX_UNWATCH,
        ACCOUNT_GET,
        ACCOUNT_STAKES,
        ACCOUNT_ROOT_CLAIMABLE,
        SUBNET_LIST,
        SUBNET_GET,
        SUBNET_METAGRAPH,
        SUBNET_NEURON,
        SUBNET_EXPLAIN,
        SUBNET_EPOCH_TIMING,
        SUBNET_QUOTE,
        SUBNET_COMMITMENTS,
    ];
}

/// JSON-RPC error codes of the node, beyond the standard -32700..-32600 ones.
pub mod error_code {
    /// The transaction broke a ledger rule at the door (signature, nonce, fee, encoding).
    /// `data` is a [`crate::types::TxRejection`] carrying the `TxError` code.
    pub const TX_INVALID: i32 = 1010;
    /// The mempool (or this account's share of it) is full.
    pub const POOL_FULL: i32 = 1011;
    /// A transaction with this signer and nonce is pending and the new one does not tip more.
    pub const POOL_REPLACEMENT_UNDERPRICED: i32 = 1012;
    /// This exact transaction is already pending.
    pub const POOL_ALREADY_KNOWN: i32 = 1013;
    /// The node is shutting down or its block producer stopped.
    pub const NODE_UNAVAILABLE: i32 = 1020;
    /// Too many subscriptions of this kind are open.
    pub const TOO_MANY_SUBSCRIPTIONS: i32 = 1021;
}
