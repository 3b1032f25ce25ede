//! The daemon: web layer. `kuaibao serve` as one process (the polling
//! scheduler, the feeds, the desk, reloads and a clean stop), and the plain
//! directory server `kuaibao demo` uses.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::app::{AppError, open_store};
use crate::config::Config;
use crate::poll::SourceReport;

/// Serves a published directory over HTTP until Ctrl-C, with the default
/// `[server]` limits.
pub async fn serve_directory(dir: &Path, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
    });
    super::serve_http(
        listener,
        app,
        super::HttpLimits::default(),
        Arc::new(crate::metrics::Metrics::new()),
        stop_rx,
    )
    .await;
    Ok(())
}

/// How long in-flight polls may run on after SIGTERM before they are
/// abandoned (each stored item is already committed). Short, so that
/// systemd's stop timeout and supervisors are never reached.
pub const SERVE_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// How often the daemon looks for changes made by other processes (an
/// editor's `kuaibao review approve`, a cron `publish`): a cheap check.
const SERVE_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// With PostgreSQL's notifications, the periodic check only catches a
/// change the listener missed while reconnecting, and the day's rollover.
const SERVE_REFRESH_BACKSTOP: std::time::Duration = std::time::Duration::from_secs(60);

/// How often `/metrics`' lease gauges are read from a shared database.
const LEASE_GAUGE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What one `kuaibao serve` process does (`--role`): on a database many
/// machines share, pollers and web nodes are scaled apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Polls and serves everything: one machine.
    #[default]
    All,
    /// Polls; over HTTP only `/healthz`, `/metrics` and `/status`.
    Poller,
    /// Serves feeds, archives, issues and the desk; never polls.
    Web,
}

impl Role {
    pub fn polls(self) -> bool {
        self != Role::Web
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Poller => "poller",
            Role::Web => "web",
        }
    }
}

/// What tells the daemon to stop or to re-read its configuration.
pub struct ServeControl {
    /// `true` stops the daemon.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Each value is a request to reload the configuration from disk.
    pub reload: tokio::sync::mpsc::Receiver<()>,
    /// What this process does.
    pub role: Role,
}

/// `kuaibao serve`: the polling scheduler and the feeds over HTTP, in one
/// process, until `control.shutdown` turns true. The configuration is
/// reloaded on every `control.reload` value (SIGHUP) and on every request
/// of the desk's 来源 page after it changed the sources file, in one loop.
pub async fn run(
    config_path: &Path,
    config: Config,
    listener: tokio::net::TcpListener,
    mut control: ServeControl,
) -> Result<(), AppError> {
    use super::{ServeState, run_refresher};
    use crate::metrics::Metrics;
    use crate::schedule::Scheduler;
    use tokio::sync::watch;

    let config = Arc::new(config);
    let store = Arc::new(Mutex::new(open_store(&config)?));
    store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .sync_sources(&config.sources)?;
    let metrics = Arc::new(Metrics::new());
    // The desk's 来源 page asks for reloads on a channel of its own; the
    // reload loop below serves it and `control.reload` (SIGHUP) alike.
    let (desk_reload_tx, mut desk_reload) = tokio::sync::mpsc::channel::<()>(4);
    let state =
        ServeState::new(config.clone(), store.clone(), metrics.clone()).with_reload(desk_reload_tx);
    // Render what the database already holds before the first connection
    // is accepted: a feed reader polling during a restart must get the
    // feeds, not a 503. Connections made meanwhile wait in the backlog.
    // A failure here is logged and retried by the refresher, as later ones.
    // On a database other processes write too (PostgreSQL), they say
    // when they commit: LISTEN, before the first render, so nothing
    // committed meanwhile goes unnoticed. Then the periodic check is only
    // a backstop.
    let stop_listening = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listening = match &config.storage.url {
        Some(url) => {
            let notified = state.clone();
            let stop = stop_listening.clone();
            Some(
                crate::store::postgres::listen_for_changes(
                    url.expose(),
                    move || notified.notify_changed(),
                    move || stop.load(std::sync::atomic::Ordering::Relaxed),
                )
                .map_err(crate::store::StoreError::from)?,
            )
        }
        None => None,
    };
    let refresh_every = if listening.is_some() {
        SERVE_REFRESH_BACKSTOP
    } else {
        SERVE_REFRESH_INTERVAL
    };
    let first = state.clone();
    match tokio::task::spawn_blocking(move || first.refresh()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot render the feeds at start"),
        Err(e) => tracing::error!(error = %e, "rendering the feeds at start panicked"),
    }
    let (config_tx, config_rx) = watch::channel(config.clone());

    let hook_state = state.clone();
    let scheduler = Scheduler::new(config_rx, store.clone())
        .shutdown_grace(SERVE_SHUTDOWN_GRACE)
        .on_polled(move |r: &SourceReport| {
            let metrics = hook_state.metrics();
            metrics.fetch(
                &r.id,
                r.status.as_str(),
                std::time::Duration::from_millis(r.duration_ms),
            );
            metrics.items_ingested(&r.id, r.new as u64);
            if !r.limits.is_empty() {
                metrics.poll_limited(&r.id);
            }
            if let Some(outcome) = r.repair_outcome {
                metrics.source_repair(&r.id, outcome);
            }
            if r.new + r.updated > 0 {
                hook_state.notify_changed();
            }
        });
    let queue = scheduler.queue();
    let scheduler = control
        .role
        .polls()
        .then(|| tokio::spawn(scheduler.run(control.shutdown.clone())));
    let refresher = tokio::spawn(run_refresher(
        state.clone(),
        refresh_every,
        control.shutdown.clone(),
    ));

    let gauge_metrics = metrics.clone();
    let gauge_store = store.clone();
    let mut gauge_stop = control.shutdown.clone();
    let gauges = tokio::spawn(async move {
        let mut leases_checked: Option<std::time::Instant> = None;
        loop {
            let q = queue.get();
            gauge_metrics.set_scheduler_queue(q.due as i64, q.waiting as i64);
            gauge_metrics.set_in_flight(q.in_flight as i64);
            // The shared queue is one query for the whole database: every
            // few seconds is enough.
            if leases_checked.is_none_or(|t| t.elapsed() >= LEASE_GAUGE_EVERY) {
                leases_checked = Some(std::time::Instant::now());
                let store = gauge_store.clone();
                let counts = tokio::task::spawn_blocking(move || {
                    let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
                    store
                        .leases()
                        .map(|l| l.lease_counts(chrono::Utc::now()))
                        .transpose()
                })
                .await;
                match counts {
                    Ok(Ok(Some(c))) => gauge_metrics.set_leases(
                        i64::try_from(c.held).unwrap_or(i64::MAX),
                        i64::try_from(c.expired).unwrap_or(i64::MAX),
                        i64::try_from(c.due).unwrap_or(i64::MAX),
                    ),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "counting the leases"),
                    Err(e) => tracing::warn!(error = %e, "counting the leases panicked"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = gauge_stop.changed() => break,
            }
        }
    });

    let reload_state = state.clone();
    let reload_path = config_path.to_path_buf();
    let reload_store = store.clone();
    let reloads = tokio::spawn(async move {
        // A closed signal channel leaves the desk's requests; the desk's
        // never closes while the server runs (its state holds the sender).
        let mut signals_open = true;
        loop {
            tokio::select! {
                r = control.reload.recv(), if signals_open => {
                    if r.is_none() {
                        signals_open = false;
                        continue;
                    }
                }
                r = desk_reload.recv() => {
                    if r.is_none() {
                        break;
                    }
                }
            }
            match Config::load(&reload_path) {
                Ok(new) => {
                    let new = Arc::new(new);
                    if let Err(e) = reload_store
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .sync_sources(&new.sources)
                    {
                        tracing::error!(error = %e, "reload: cannot record the sources");
                    }
                    reload_state.set_config(new.clone());
                    let _ = config_tx.send(new.clone());
                    tracing::warn!(
                        sources = new.sources.len(),
                        "configuration reloaded from {}",
                        reload_path.display()
                    );
                }
                // A broken edit must not take the daemon down: it keeps
                // running on the configuration it has.
                Err(e) => tracing::error!("reload refused, keeping the running configuration: {e}"),
            }
        }
    });

    let limits = super::HttpLimits::from_config(&config.server, SERVE_SHUTDOWN_GRACE);
    let routes = match control.role {
        Role::Poller => super::health_router(state).into(),
        Role::All | Role::Web => super::routes(state),
    };
    super::serve_http(listener, routes, limits, metrics, control.shutdown.clone()).await;

    // The HTTP side has stopped; the scheduler stops on the same signal and
    // returns within its grace period.
    let scheduled = match scheduler {
        Some(task) => task.await,
        None => Ok(Ok(())),
    };
    reloads.abort();
    let _ = refresher.await;
    stop_listening.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(listener) = listening {
        // It notices within a second; never hold the exit up on it.
        let _ = tokio::task::spawn_blocking(move || listener.join()).await;
    }
    let _ = gauges.await;
    match scheduled {
        Ok(Err(crate::schedule::ScheduleError::Store(e))) => Err(AppError::Store(e)),
        Ok(Err(crate::schedule::ScheduleError::Fetcher(e))) => Err(AppError::Fetcher(e)),
        _ => Ok(()),
    }
}
