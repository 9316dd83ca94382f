//! [`NodeLink`]: the explorer's one RPC connection to the node, re-made when it drops.

use hyphae_rpc::{Client, ClientError};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The shared connection. Handlers and the follower take a clone of the current client; the
/// first that sees the transport fail drops it, and the next caller connects again.
#[derive(Debug)]
pub struct NodeLink {
    url: String,
    client: Mutex<Option<Arc<Client>>>,
}

impl NodeLink {
    /// A link to `url`, connected with `client` when given.
    pub fn new(url: String, client: Option<Client>) -> Self {
        Self {
            url,
            client: Mutex::new(client.map(Arc::new)),
        }
    }

    /// The node's RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The current client, connecting first if there is none. The lock is held while
    /// connecting so that a burst of requests makes one connection, not many.
    pub async fn client(&self) -> Result<Arc<Client>, ClientError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(Client::connect(&self.url).await?);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    /// Forgets `failed` if it is still the current client and `error` says the connection is
    /// gone (an RPC error answer leaves a healthy connection in place).
    pub async fn on_error(&self, failed: &Arc<Client>, error: &ClientError) {
        let gone = matches!(
            error,
            ClientError::Transport(_) | ClientError::SubscriptionClosed
        );
        if !gone {
            return;
        }
        let mut slot = self.client.lock().await;
        if slot
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, failed))
        {
            *slot = None;
        }
    }
}
