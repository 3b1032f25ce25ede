//! Serve: the connection layer under the router of `kuaibao serve`. Its one
//! job is to accept TCP connections and hand their requests to the router
//! without letting any client hold the daemon: at most `max_connections`
//! served at once, a request's head read within `header_timeout`, a
//! kept-alive connection closed after `idle_timeout` without a request.
//!
//! Beyond `max_connections`, new connections are not accepted: they wait
//! in the kernel's listen queue until a served one closes (beyond that
//! queue the kernel leaves their handshakes unanswered, and clients retry).
//! Accepting and closing them at once would answer nothing either, and
//! would cost a descriptor and a handshake per attempt of a client that is
//! flooding.
//!
//! The two timeouts are one timer. hyper's `header_read_timeout` starts
//! whenever a connection waits for a request head, and that includes the
//! wait between two requests on a kept-alive connection: on its own it
//! would close every idle connection after `header_timeout`. So hyper's
//! timer ([`HeadTimer`]) only marks when a wait for a head starts and
//! ends, the connection's IO marks when the first byte of the awaited head
//! arrives, and one timer per connection closes it when the wait runs
//! out: a new connection has `header_timeout` from its accept, a
//! kept-alive one `idle_timeout` from its last response until a byte
//! comes, and from that first byte every head has `header_timeout`,
//! however slowly it trickles. Nothing is registered with the runtime's
//! timers per request.
//! A response of which the client reads nothing for `idle_timeout` ends
//! its connection too.
//!
//! One kind of request does not reach the router: a conditional GET (or
//! HEAD) of a cached document whose validators match. Feed readers poll
//! with them all day, and the 304 needs nothing but the cache, so
//! [`Routes::answering_304s_from`] answers it here, with the very headers
//! the router's 304 carries ([`super::http::fast_not_modified`]), counted
//! the same way, and spares it the router's per-request machinery.
//!
//! HTTP/1 only: that is what reverse proxies and feed readers speak
//! without TLS, and the one protocol these timeouts are written for.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use futures_util::future::Either;
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use super::FeedCache;
use crate::metrics::Metrics;

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From a connection's accept, or from the first byte of a request,
    /// until the end of its head.
    pub header_timeout: Duration,
    /// From the end of a response until the first byte of the next request.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long open connections may finish their requests after shutdown
    /// before they are dropped.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

impl HttpLimits {
    /// The `[server]` limits, with `shutdown_grace`. Timeouts are capped at
    /// a day, so that adding one to a clock reading cannot overflow.
    pub fn from_config(server: &crate::config::Server, shutdown_grace: Duration) -> HttpLimits {
        const DAY: Duration = Duration::from_secs(86_400);
        HttpLimits {
            header_timeout: server.header_timeout.min(DAY),
            idle_timeout: server.idle_timeout.min(DAY),
            max_connections: server.max_connections,
            shutdown_grace,
        }
    }
}

/// What [`serve_http`] hands requests to: a router, and possibly the feed
/// cache whose 304s are answered before it.
#[derive(Clone)]
pub struct Routes {
    router: Router,
    documents: Option<Arc<FeedCache>>,
}

impl From<Router> for Routes {
    fn from(router: Router) -> Routes {
        Routes {
            router,
            documents: None,
        }
    }
}

impl Routes {
    /// The same routes, but a GET or HEAD (without a body) of a document
    /// in `cache` whose `If-None-Match` or `If-Modified-Since` matches is
    /// answered 304 at once, as the router's fallback
    /// ([`super::router`]) would answer it; every other request still
    /// goes to the router. Only for a router whose fallback serves that
    /// cache and which has no route of its own at a cached path.
    pub fn answering_304s_from(mut self, cache: Arc<FeedCache>) -> Routes {
        self.documents = Some(cache);
        self
    }
}

/// Serves `app` on `listener` until `shutdown` turns true (or its sender is
/// dropped); then stops accepting, lets open connections finish their
/// requests for up to `limits.shutdown_grace`, and drops the rest. Every
/// request carries the peer's [`ConnectInfo<SocketAddr>`].
pub async fn serve_http(
    listener: TcpListener,
    app: impl Into<Routes>,
    limits: HttpLimits,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) {
    let app = app.into();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    let mut stop = shutdown.clone();
    loop {
        // The slot comes first: while none is free the listener is not
        // read, so further connections queue in the kernel.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stopped(&mut stop) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            limits,
            slot,
            metrics.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    let finished = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            open = connections.len(),
            "HTTP connections still open after the shutdown grace period: dropped"
        );
        connections.abort_all();
    }
}

/// True once `shutdown` is true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// A failed accept. Most are one client's connection dying in the queue;
/// running out of descriptors is not, and retrying at once would spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept HTTP connections; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Routes,
    limits: HttpLimits,
    _slot: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _open = metrics.http_connection();
    // Responses are written whole; Nagle would only delay their last packet.
    let _ = stream.set_nodelay(true);
    let head = Arc::new(HeadWait::default());
    let io = TokioIo::new(Watched {
        inner: stream,
        head: head.clone(),
        stall: limits.idle_timeout,
        stalled_since: None,
    });
    let Routes { router, documents } = app;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        if let Some(cache) = &documents
            // A body is for the router's limits to judge.
            && req.body().is_end_stream()
            && let Some(resp) =
                super::http::fast_not_modified(cache, req.method(), req.uri().path(), req.headers())
        {
            return Either::Left(std::future::ready(Ok(resp)));
        }
        // The desk's login limiter counts failures per peer address.
        req.extensions_mut().insert(ConnectInfo(peer));
        Either::Right(router.clone().oneshot(req))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(HeadTimer { head: head.clone() })
        .header_read_timeout(limits.header_timeout);
    let mut conn = std::pin::pin!(builder.serve_connection(io, service));
    // The one timer of the connection's head waits (see [`HeadTimer`]).
    // It never fires after a wait's deadline: every deadline lies at least
    // `step` after both the start of its wait and its first byte, so a
    // wait that starts, or gets its first byte, after a check is caught
    // by the next one, `step` later, at the latest.
    let step = limits
        .header_timeout
        .min(limits.idle_timeout)
        // A zero timeout (only a caller's own limits; the configuration
        // refuses it) must not make the check spin.
        .max(Duration::from_millis(1));
    let mut check = std::pin::pin!(tokio::time::sleep(step));
    let mut draining = false;
    let result = loop {
        tokio::select! {
            biased;
            result = conn.as_mut() => break result,
            () = check.as_mut() => {
                let now = Instant::now();
                match head.deadline(limits.header_timeout, limits.idle_timeout) {
                    Some(deadline) if deadline <= now => {
                        // As hyper's own header timeout: closed unanswered.
                        tracing::debug!(%peer, "no request head in time: closed");
                        return;
                    }
                    Some(deadline) => check.as_mut().reset(deadline.min(now + step)),
                    None => check.as_mut().reset(now + step),
                }
            }
            _ = stopped(&mut shutdown), if !draining => {
                // Finishes the request in flight, if any, then closes.
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP connection closed");
    }
}

/// Where a connection is in waiting for a request head, shared by its IO
/// (which reports bytes), hyper's timer (which starts and ends waits) and
/// the connection's check (which reads the deadline).
#[derive(Default)]
struct HeadWait {
    state: Mutex<WaitState>,
}

#[derive(Default)]
struct WaitState {
    /// How many heads this connection has waited for; the current wait's
    /// number while `armed`.
    wait: u64,
    armed: bool,
    /// When the current wait started.
    armed_at: Option<Instant>,
    /// When the first byte arrived during the current wait.
    first_byte: Option<Instant>,
}

impl HeadWait {
    fn lock(&self) -> std::sync::MutexGuard<'_, WaitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new wait for a head; its number.
    fn arm(&self) -> u64 {
        let now = Instant::now();
        let mut s = self.lock();
        s.wait += 1;
        s.armed = true;
        s.armed_at = Some(now);
        s.first_byte = None;
        s.wait
    }

    fn disarm(&self, wait: u64) {
        let mut s = self.lock();
        if s.wait == wait {
            s.armed = false;
        }
    }

    fn saw_bytes(&self) {
        let mut s = self.lock();
        if s.armed && s.first_byte.is_none() {
            s.first_byte = Some(Instant::now());
        }
    }

    /// When the current wait, if any, runs out: `header` after its first
    /// byte, or, before any byte, `header` after a new connection's accept
    /// or `idle` after a kept-alive connection's last response.
    fn deadline(&self, header: Duration, idle: Duration) -> Option<Instant> {
        let s = self.lock();
        if !s.armed {
            return None;
        }
        let armed_at = s.armed_at?;
        Some(match s.first_byte {
            Some(first) => first + header,
            None if s.wait > 1 => armed_at + idle,
            None => armed_at + header,
        })
    }
}

/// The connection's socket, reporting to [`HeadWait`] when bytes arrive,
/// and failing a write that makes no progress for `stall` (a client that
/// reads nothing of its response would otherwise hold its slot forever).
struct Watched {
    inner: TcpStream,
    head: Arc<HeadWait>,
    stall: Duration,
    stalled_since: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Watched {
    /// `Pending` from a write: starts or checks the stall timer.
    fn write_pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let stall = self.stall;
        let timer = self
            .stalled_since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client read nothing of its response for server.idle_timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn write_done<T>(
        &mut self,
        done: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match done {
            Poll::Pending => self.write_pending(cx),
            ready => {
                self.stalled_since = None;
                ready
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.head.saw_bytes();
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.write_done(done, cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let done = Pin::new(&mut self.inner).poll_flush(cx);
        self.write_done(done, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.write_done(done, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The timer of one connection. hyper's HTTP/1 server asks a timer for
/// nothing but its head-read deadline (`sleep_until` when it starts waiting
/// for a head, dropped once the head is read), so every such sleep is a
/// head wait. The deadline hyper asks for is not ours: the connection's
/// check ([`serve_connection`]) ends a wait at [`HeadWait::deadline`], and
/// the sleep itself only marks the wait. That spares each request a timer
/// registered and removed again, and a kept-alive connection's check wakes
/// once per `min(header_timeout, idle_timeout)`, not once per request.
struct HeadTimer {
    head: Arc<HeadWait>,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(PlainSleep(Box::pin(tokio::time::sleep(duration))))
    }

    fn sleep_until(&self, _deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            head: self.head.clone(),
            wait: self.head.arm(),
        })
    }
}

/// One wait for a head, from hyper's `sleep_until` until hyper drops it.
struct HeadSleep {
    head: Arc<HeadWait>,
    wait: u64,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        // Never ends by itself: the connection's check closes a connection
        // whose wait ran out. hyper polls this only while it also waits
        // for the socket, so no wake-up is lost.
        Poll::Pending
    }
}

impl hyper::rt::Sleep for HeadSleep {}

impl Drop for HeadSleep {
    fn drop(&mut self) {
        // hyper drops the sleep once the head is read: bytes from then on
        // are the body's, or the next request's after the next arm.
        self.head.disarm(self.wait);
    }
}

struct PlainSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for PlainSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for PlainSleep {}
