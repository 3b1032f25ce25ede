//! Serve, layer 7 (web, its top): the HTTP side of what publish renders,
//! run by `kuaibao serve` in the same process as the polling scheduler
//! (fetch → extract → normalize → dedup → classify → store, then served
//! from here). It merges
//! the desk's routes ([`crate::desk::router`], handed a
//! [`crate::desk::DeskState`] built from [`ServeState`]); the desk never
//! imports it.
//!
//! The scheduler stores items and calls [`ServeState::notify_changed`];
//! [`run_refresher`] then re-renders the documents into the [`FeedCache`]
//! (and checks periodically for changes made by other processes, such as
//! `kuaibao review approve`). Requests are answered from the cache alone:
//!
//! | path | document |
//! |---|---|
//! | `/feeds/all.xml`, `/feeds/<section>.xml` | Atom, the bytes `kuaibao publish` writes plus `rel="prev-archive"` |
//! | `/feeds/all.json`, `/feeds/<section>.json` | JSON Feed 1.1 |
//! | `/feeds/archive/<feed>/YYYY-MM.xml` | RFC 5005 monthly archives |
//! | `/feeds.opml`, `/`, `/index.html` | OPML, index page |
//! | `/healthz`, `/metrics`, `/status`, `/status.json` | operations (not cached; all but `/healthz` need a desk login unless `server.status_public`) |
//! | `/desk/…` | the editors' desk ([`crate::desk`]; sessions, not cached) |
//!
//! [`serve_http`] accepts the connections and enforces the `[server]`
//! limits on them; [`router`] adds the body limit and the security headers
//! to every response. [`routes`] is the router with the 304s of cached
//! documents answered before it, by the connection layer.

mod cache;
mod daemon;
mod headers;
mod http;
mod issues;
mod server;
mod status;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;

pub use cache::{ARCHIVE_SETTLE, Document, FeedCache, Representation, Snapshot};
pub use daemon::{Role, SERVE_SHUTDOWN_GRACE, ServeControl, run, serve_directory};
pub use server::{HttpLimits, Routes, serve_http};

use crate::accounts::{HashBudget, LoginLimiter};
use crate::config::Config;
use crate::desk::DeskState;
use crate::fetch::{FetchError, Fetcher};
use crate::metrics::Metrics;
use crate::publish::PublishError;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// How long the refresher waits after a change notification for more to
/// arrive before it renders.
const REFRESH_COALESCE: Duration = Duration::from_millis(500);

/// What the routes share; cheap to clone: one reference count, however
/// many parts (axum clones it for every request, twice).
#[derive(Clone)]
pub struct ServeState {
    inner: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    config: Arc<RwLock<Arc<Config>>>,
    store: Arc<Mutex<Store>>,
    metrics: Arc<Metrics>,
    cache: Arc<FeedCache>,
    changed: Arc<tokio::sync::Notify>,
    /// Pings the WebSub hub; `None` when it could not be built (logged).
    hub_client: Arc<RwLock<Option<Arc<Fetcher>>>>,
    /// The desk's failed-login counts, shared by every request.
    login_limiter: Arc<LoginLimiter>,
    /// Password hashes per second, all users together.
    hash_budget: Arc<HashBudget>,
    /// The daemon's reload requests, for the desk's 来源 page (`None`: no
    /// daemon listens).
    reload: Option<tokio::sync::mpsc::Sender<()>>,
}

impl ServeState {
    /// Serves nothing but 503s until the first refresh ([`ServeState::refresh`]
    /// or [`run_refresher`], which starts with one).
    pub fn new(config: Arc<Config>, store: Arc<Mutex<Store>>, metrics: Arc<Metrics>) -> ServeState {
        let inner = Shared {
            hub_client: Arc::new(RwLock::new(hub_client(&config))),
            hash_budget: Arc::new(HashBudget::new(config.server.password_hashes_per_second)),
            config: Arc::new(RwLock::new(config)),
            store,
            cache: Arc::new(FeedCache::new(metrics.clone())),
            metrics,
            changed: Arc::new(tokio::sync::Notify::new()),
            login_limiter: Arc::new(LoginLimiter::default()),
            reload: None,
        };
        ServeState {
            inner: Arc::new(inner),
        }
    }

    /// The same state with a channel whose every value asks the daemon to
    /// reload the configuration: the desk's 来源 page sends on it after it
    /// changed the sources file.
    pub fn with_reload(mut self, reload: tokio::sync::mpsc::Sender<()>) -> ServeState {
        // A clone already made keeps its own (as when each was a field).
        Arc::make_mut(&mut self.inner).reload = Some(reload);
        self
    }

    /// The same state with another login limiter (tests: other limits, a
    /// clock of their own).
    pub fn with_login_limiter(mut self, limiter: LoginLimiter) -> ServeState {
        Arc::make_mut(&mut self.inner).login_limiter = Arc::new(limiter);
        self
    }

    pub fn login_limiter(&self) -> &Arc<LoginLimiter> {
        &self.inner.login_limiter
    }

    /// The cap on password hashes (`server.password_hashes_per_second`)
    /// that every desk handler which hashes a password takes from.
    pub fn hash_budget(&self) -> &Arc<HashBudget> {
        &self.inner.hash_budget
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swaps in a reloaded configuration; the documents follow at the next
    /// refresh, which this triggers.
    pub fn set_config(&self, config: Arc<Config>) {
        self.inner
            .hash_budget
            .set_rate(config.server.password_hashes_per_second);
        *self
            .inner
            .hub_client
            .write()
            .unwrap_or_else(|p| p.into_inner()) = hub_client(&config);
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        self.notify_changed();
    }

    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.inner.store
    }

    /// What the desk needs, sharing this state's configuration, store,
    /// limiter, budget, change notifications and reload requests.
    pub fn desk(&self) -> DeskState {
        DeskState::new(
            self.inner.config.clone(),
            self.inner.store.clone(),
            self.inner.login_limiter.clone(),
            self.inner.hash_budget.clone(),
            self.inner.changed.clone(),
        )
        .with_reload(self.inner.reload.clone())
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn cache(&self) -> &Arc<FeedCache> {
        &self.inner.cache
    }

    /// Tells the refresher the store changed (the scheduler calls it after
    /// a poll stored items). A notification sent while a refresh runs is
    /// kept, so that refresh is followed by another.
    pub fn notify_changed(&self) {
        self.inner.changed.notify_one();
    }

    /// Re-renders if the publishable set or the configuration changed, and
    /// pings the WebSub hub for every feed whose bytes changed; true when
    /// any document changed. Blocking (SQLite, compression): call it from a
    /// blocking thread in async code.
    pub fn refresh(&self) -> Result<bool, ServeError> {
        self.refresh_inner(false)
    }

    fn refresh_inner(&self, quick: bool) -> Result<bool, ServeError> {
        let _guard = self.inner.cache.refresh_guard();
        let config = self.config();
        let was_loaded = self.inner.cache.snapshot().is_loaded();
        let loaded = {
            let store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
            self.inner
                .metrics
                .set_items_by_status(&store.status_counts()?);
            self.inner.cache.load(&config, &store, quick)?
        };
        // Rendering and compressing happen without the store's lock, so
        // the scheduler never waits for them.
        let Some(loaded) = loaded else {
            return Ok(false);
        };
        let changed = self.inner.cache.install(&config, &loaded)?;
        // A restart is no news to the hub: it pings only for changes seen
        // while running.
        if was_loaded && let Some(hub) = &config.server.websub_hub {
            for path in changed.iter().filter(|p| is_current_feed(p)) {
                if let Ok(url) = config.base_url.join(path.trim_start_matches('/')) {
                    self.ping_hub(hub.clone(), url);
                }
            }
        }
        Ok(!changed.is_empty())
    }

    /// Brings the desk's search index up to date, a few hundred items per
    /// hold of the store so the scheduler is never kept waiting long.
    fn index_search_text(&self) {
        loop {
            let indexed = {
                let mut store = self.inner.store.lock().unwrap_or_else(|p| p.into_inner());
                store.index_search_text(Some(200))
            };
            match indexed {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot index items for search");
                    break;
                }
            }
        }
    }

    /// The archive document at `path`, rendered on first request.
    /// Blocking (SQLite, rendering): call it from a blocking thread.
    pub fn archive(&self, path: &str) -> Result<Option<Arc<cache::Document>>, ServeError> {
        self.inner
            .cache
            .archive(&self.config(), &self.inner.store, path)
    }

    /// Fire-and-forget WebSub publish notification, through the fetcher's
    /// address guard (a hub on a private address is refused unless
    /// `poll.allow_private`: the URL is configuration, but a configuration
    /// edited by someone who should not reach the internal network must
    /// not become a way to). No runtime (a plain thread calling `refresh`)
    /// or no client means no ping, logged.
    fn ping_hub(&self, hub: url::Url, feed: url::Url) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(%hub, %feed, "no async runtime: WebSub hub not pinged");
            return;
        };
        let client = self
            .inner
            .hub_client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(client) = client else {
            tracing::warn!(%hub, %feed, "no HTTP client: WebSub hub not pinged");
            self.inner.metrics.websub_ping("failed");
            return;
        };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", feed.as_str())
            .finish();
        let metrics = self.inner.metrics.clone();
        rt.spawn(async move {
            match client.post_form(&hub, body).await {
                Ok(status) if (200..300).contains(&status) => {
                    metrics.websub_ping("ok");
                    tracing::debug!(%hub, %feed, status, "WebSub hub pinged");
                }
                Ok(status) => {
                    metrics.websub_ping("rejected");
                    tracing::warn!(%hub, %feed, status, "WebSub hub refused the ping");
                }
                Err(
                    e @ (FetchError::PrivateAddress { .. } | FetchError::UnsupportedUrl { .. }),
                ) => {
                    metrics.websub_ping("refused");
                    tracing::warn!(%hub, %feed, error = %e, "WebSub hub not pinged");
                }
                Err(e) => {
                    metrics.websub_ping("failed");
                    tracing::warn!(%hub, %feed, error = %e, "WebSub hub unreachable");
                }
            }
        });
    }
}

/// The desk's extractors (a desk login on `/status`, say) under the
/// server's state.
impl FromRef<ServeState> for DeskState {
    fn from_ref(state: &ServeState) -> DeskState {
        state.desk()
    }
}

/// The client that pings the WebSub hub: the fetcher, with `[poll]`'s
/// timeout, user agent and address guard; none without a hub.
fn hub_client(config: &Config) -> Option<Arc<Fetcher>> {
    config.server.websub_hub.as_ref()?;
    match Fetcher::new(&config.poll) {
        Ok(f) => Some(Arc::new(f)),
        Err(e) => {
            tracing::error!(error = %e, "cannot set up the HTTP client: the WebSub hub will not be pinged");
            None
        }
    }
}

/// The documents a WebSub hub distributes: the current feeds, not the
/// archives (which nobody subscribes to) nor OPML and index.
fn is_current_feed(path: &str) -> bool {
    path.starts_with("/feeds/")
        && !path.starts_with("/feeds/archive/")
        && (path.ends_with(".xml") || path.ends_with(".json"))
}

/// Every route of `kuaibao serve`, each response with the security
/// headers it lacks, and no request body over `server.max_request_body`
/// (read when the router is built: a limit changes at restart).
pub fn router(state: ServeState) -> Router {
    let max_body = usize::try_from(state.config().server.max_request_body).unwrap_or(usize::MAX);
    Router::new()
        .route("/healthz", get(status::healthz))
        .route("/metrics", get(status::metrics))
        .route("/status", get(status::status_html))
        .route("/status.json", get(status::status_json))
        .route("/feeds/issues.xml", get(issues::feed))
        .route("/issues", get(issues::index))
        .route("/issues/", get(issues::index))
        .route("/issues/{file}", get(issues::issue))
        .merge(crate::desk::router(state.desk()))
        .fallback(http::document)
        .with_state(state)
        // Extractors (forms, JSON) stop at the limit…
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        // …and so does every body read some other way: a declared length
        // over it gets 413 before the handler runs.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .layer(axum::middleware::map_response(headers::security_headers))
}

/// [`router`], with the 304s of its cached documents answered before it
/// ([`Routes::answering_304s_from`]): what `kuaibao serve` serves.
pub fn routes(state: ServeState) -> Routes {
    let cache = state.inner.cache.clone();
    Routes::from(router(state)).answering_304s_from(cache)
}

/// A poller's routes (`serve --role poller`): its health and figures, for
/// a load balancer's checks and for Prometheus; no feed, issue or desk.
pub fn health_router(state: ServeState) -> Router {
    Router::new()
        .route("/healthz", get(status::healthz))
        .route("/metrics", get(status::metrics))
        .route("/status", get(status::status_html))
        .route("/status.json", get(status::status_json))
        .with_state(state)
        .layer(axum::middleware::map_response(headers::security_headers))
}

/// Refreshes the cache at once, then every `interval` and whenever
/// notified, until `shutdown` turns true (or its sender is dropped).
///
/// The periodic pass is the cheap one (the store's `data_version`): it catches
/// what other processes commit; this process's writes come with a
/// notification and get the full check.
pub async fn run_refresher(
    state: ServeState,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    // Documents rendered already (the daemon renders before it listens)
    // need only the cheap check; this process's own writes since come with
    // a notification, which waits for the loop below.
    let mut quick = state.inner.cache.snapshot().is_loaded();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.refresh_inner(quick)).await {
            Ok(Ok(true)) => tracing::info!("feeds re-rendered"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot refresh the feeds"),
            Err(e) => tracing::error!(error = %e, "feed refresh panicked"),
        }
        let s = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || s.index_search_text()).await {
            tracing::error!(error = %e, "search indexing panicked");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => quick = true,
            _ = state.inner.changed.notified() => {
                // A pass over many sources stores items every few
                // milliseconds: gather them into one render.
                tokio::time::sleep(REFRESH_COALESCE).await;
                quick = false;
            }
            r = shutdown.changed() => {
                if r.is_err() {
                    break;
                }
            }
        }
    }
}
