//! The axon's HTTP/1.1 connection loop (instead of `axum::serve`, which sets no timer, so hyper's
//! header-read timeout never fires and idle sockets would hold their connection slots forever).
//!
//! * **Header-read / idle timeout**: a connection must deliver each request's headers within
//!   [`ServeConfig::header_read_timeout`]; hyper restarts that clock whenever the connection
//!   goes idle between requests, so it also bounds keep-alive idleness.
//! * **Bounded connections**: at most [`ServeConfig::connections_max`] are open. When a new one
//!   arrives at the cap, the connection idle the longest (no request in progress, no response
//!   being sent) is closed to make room; only when every connection is busy does the newcomer
//!   wait in the listen backlog.
//! * **Graceful shutdown**: stop accepting, let in-flight requests finish, close idle
//!   connections, and return once every connection task has ended.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, Notify, OwnedSemaphorePermit, Semaphore};

/// The peer address of a connection, as the axon's handlers see it (axum `ConnectInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerAddr(pub SocketAddr);

/// How long an evicted connection may take to flush what it was writing before it is dropped.
const EVICTION_GRACE: Duration = Duration::from_secs(1);

/// Back-off after a failed `accept` (out of file descriptors and the like), instead of spinning.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeConfig {
    /// Open connections at most.
    pub connections_max: usize,
    /// Time allowed for a request's headers, and for idleness between requests.
    pub header_read_timeout: Duration,
}

/// Open connections and whether each is doing anything, for eviction.
#[derive(Default)]
struct Registry {
    next_id: u64,
    connections: HashMap<u64, Entry>,
}

struct Entry {
    /// Requests in progress, counted until their response body has been sent.
    busy: usize,
    /// When `busy` last dropped to zero (or the connection opened).
    idle_since: Instant,
    /// Set once the connection has been asked to close.
    evicting: bool,
    evict: Arc<Notify>,
}

#[derive(Default)]
struct Connections {
    registry: Mutex<Registry>,
    /// Signalled when a connection goes idle, for a newcomer waiting at the cap.
    went_idle: Notify,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        match self.registry.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn open(self: &Arc<Self>) -> (Activity, Arc<Notify>) {
        let evict = Arc::new(Notify::new());
        let mut registry = self.lock();
        let id = registry.next_id;
        registry.next_id = registry.next_id.wrapping_add(1);
        registry.connections.insert(
            id,
            Entry {
                busy: 0,
                idle_since: Instant::now(),
                evicting: false,
                evict: Arc::clone(&evict),
            },
        );
        let activity = Activity {
            connections: Arc::clone(self),
            id,
        };
        (activity, evict)
    }

    /// Asks the connection idle the longest to close; false when every connection is busy.
    fn evict_oldest_idle(&self) -> bool {
        let mut registry = self.lock();
        let oldest = registry
            .connections
            .values_mut()
            .filter(|entry| entry.busy == 0 && !entry.evicting)
            .min_by_key(|entry| entry.idle_since);
        match oldest {
            Some(entry) => {
                entry.evicting = true;
                entry.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One connection's handle on the registry; removes it when dropped.
struct Activity {
    connections: Arc<Connections>,
    id: u64,
}

impl Activity {
    /// True while a request is in progress on this connection.
    fn is_busy(&self) -> bool {
        self.connections
            .lock()
            .connections
            .get(&self.id)
            .is_some_and(|entry| entry.busy > 0)
    }

    fn begin(self: &Arc<Self>) -> Busy {
        if let Some(entry) = self.connections.lock().connections.get_mut(&self.id) {
            entry.busy = entry.busy.saturating_add(1);
        }
        Busy(Arc::clone(self))
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.connections.lock().connections.remove(&self.id);
    }
}

/// A request in progress on a connection; the connection is idle again once every `Busy` drops.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        let connections = &activity.connections;
        let mut registry = connections.lock();
        if let Some(entry) = registry.connections.get_mut(&activity.id) {
            entry.busy = entry.busy.saturating_sub(1);
            if entry.busy == 0 {
                entry.idle_since = Instant::now();
                drop(registry);
                connections.went_idle.notify_waiters();
            }
        }
    }
}

/// A response body that keeps its connection marked busy until hyper has taken all of it.
struct TrackedBody {
    inner: Body,
    _busy: Busy,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

type Connection = hyper::server::conn::http1::Connection<TokioIo<TcpStream>, ConnectionService>;

/// The router for one connection: adds the peer address and tracks activity.
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let busy = self.activity.begin();
        let mut request = request.map(Body::new);
        request
            .extensions_mut()
            .insert(ConnectInfo(PeerAddr(self.peer)));
        let mut router = self.router.clone();
        Box::pin(async move {
            // `Router` is always ready; polling keeps to the tower contract anyway.
            std::future::poll_fn(|cx| {
                tower_service::Service::<Request<Body>>::poll_ready(&mut router, cx)
            })
            .await?;
            let response = tower_service::Service::call(&mut router, request).await?;
            Ok(response.map(|inner| TrackedBody { inner, _busy: busy }))
        })
    }
}

/// Serves `router` on `listener` until `shutdown` fires (or its sender drops), then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(config.connections_max.max(1)));
    let connections = Arc::new(Connections::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true);
    // Every connection task holds a receiver: `closed()` resolves once all have ended.
    let (draining_tx, draining_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = admit(&listener, &permits, &connections) => accepted,
        };
        let (stream, peer, permit) = accepted;
        let (activity, evict) = connections.open();
        let activity = Arc::new(activity);
        let service = ConnectionService {
            router: router.clone(),
            peer,
            activity: Arc::clone(&activity),
        };
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let draining = draining_rx.clone();
        tokio::spawn(async move {
            drive(connection, activity, draining, evict).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = draining_tx.send(true);
    drop(draining_rx);
    draining_tx.closed().await;
    Ok(())
}

/// Accepts the next connection and a permit for it, evicting an idle connection at the cap.
async fn admit(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
    connections: &Connections,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if let Ok(permit) = Arc::clone(permits).try_acquire_owned() {
            return (stream, peer, permit);
        }
        if let Some(permit) = make_room(permits, connections).await {
            return (stream, peer, permit);
        }
    }
}

/// At the cap: closes the longest-idle connection, if any, and waits for a permit; while every
/// connection is busy, closes the next one to go idle. `None` only if the semaphore closed
/// (it never is).
async fn make_room(
    permits: &Arc<Semaphore>,
    connections: &Connections,
) -> Option<OwnedSemaphorePermit> {
    loop {
        // Registered before looking, so a connection going idle in between is not missed.
        let went_idle = connections.went_idle.notified();
        let mut went_idle = pin!(went_idle);
        went_idle.as_mut().enable();
        connections.evict_oldest_idle();
        tokio::select! {
            permit = Arc::clone(permits).acquire_owned() => return permit.ok(),
            () = went_idle => {}
        }
    }
}

/// Runs one connection to its end: graceful on shutdown, bounded when evicted.
async fn drive(
    connection: Connection,
    activity: Arc<Activity>,
    mut draining: watch::Receiver<bool>,
    evict: Arc<Notify>,
) {
    let mut connection = pin!(connection);
    let mut shutting_down = false;
    let mut evicted = false;
    let result = loop {
        tokio::select! {
            result = connection.as_mut() => break result,
            _ = draining.wait_for(|draining| *draining), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
                continue;
            }
            () = evict.notified(), if !evicted => evicted = true,
        }
        // Evicted: an idle connection closes at once. One caught mid-headers (or flushing) gets
        // a short grace; a request that started meanwhile is left to finish.
        connection.as_mut().graceful_shutdown();
        match tokio::time::timeout(EVICTION_GRACE, connection.as_mut()).await {
            Ok(result) => break result,
            Err(_) if activity.is_busy() => {}
            Err(_) => {
                tracing::debug!("evicted connection dropped after its grace period");
                return;
            }
        }
    };
    if let Err(error) = result {
        tracing::trace!(%error, "connection ended");
    }
}
