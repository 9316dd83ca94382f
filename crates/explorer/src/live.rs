//! `/ws`: live updates for open pages. The server pushes small JSON messages (`head`, `block`,
//! `epoch`, `training`, `resync`) and ignores what the page sends.
//!
//! Memory stays bounded whatever the browser does: every socket reads the same bounded broadcast
//! ring; a socket that falls behind skips ahead and is told to `resync` (reload everything) rather
//! than queueing; a send that stalls closes the socket; and the number of sockets is capped.

use crate::{follower::stopped, Shared};
use axum::{
    extract::{
        ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
        State,
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::{sync::Arc, time::Duration};
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit};

/// Largest message accepted from a page (pages send nothing that matters).
const INBOUND_LEN_MAX: usize = 4 * 1024;
/// A page that does not take a message within this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let Ok(permit) = Arc::clone(&shared.live_slots).try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many live connections").into_response();
    };
    let live = shared.live.subscribe();
    let training = shared.feed.subscribe();
    let shutdown = shared.shutdown.clone();
    ws.max_message_size(INBOUND_LEN_MAX)
        .max_frame_size(INBOUND_LEN_MAX)
        .on_upgrade(move |socket| serve(socket, live, training, shutdown, permit))
}

async fn serve(
    mut socket: WebSocket,
    mut live: broadcast::Receiver<Utf8Bytes>,
    mut training: watch::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let hello = Utf8Bytes::from_static(r#"{"type":"hello"}"#);
    if !send(&mut socket, hello).await {
        return;
    }
    loop {
        let message = tokio::select! {
            () = stopped(&mut shutdown) => break,
            received = live.recv() => match received {
                Ok(text) => text,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Utf8Bytes::from_static(r#"{"type":"resync"}"#)
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            changed = training.changed() => match changed {
                Ok(()) => {
                    let version = *training.borrow_and_update();
                    Utf8Bytes::from(format!(r#"{{"type":"training","version":{version}}}"#))
                }
                Err(_) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
        };
        if !send(&mut socket, message).await {
            return;
        }
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(None))).await;
}

/// Sends one text message; false when the page is gone or too slow.
async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text))).await,
        Ok(Ok(()))
    )
}
