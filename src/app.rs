//! App: the commands' work, above the pipeline stages and below the CLI.
//!
//! `main.rs` parses arguments and prints; everything a command does with
//! the config, the store, the fetcher and the publisher is here, so the
//! daemon and the tests call exactly what the CLI calls.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::config::{Config, ConfigError, ReviewMode};
use crate::fetch::{FetchError, Fetcher};
use crate::poll::{PollError, PollOptions, Poller, SourceReport};
use crate::publish::{self, PublishError, PublishReport};
use crate::store::{Status, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the HTTP client: {0}")]
    Fetcher(#[from] FetchError),
    #[error(transparent)]
    Poll(PollError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Bulletin(#[from] crate::bulletin::BulletinError),
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
}

impl From<crate::assemble::AssembleError> for AppError {
    fn from(e: crate::assemble::AssembleError) -> AppError {
        match e {
            crate::assemble::AssembleError::Store(s) => AppError::Store(s),
            crate::assemble::AssembleError::Bulletin(b) => AppError::Bulletin(b),
        }
    }
}

impl From<PollError> for AppError {
    fn from(e: PollError) -> AppError {
        match e {
            PollError::Store(s) => AppError::Store(s),
            other => AppError::Poll(other),
        }
    }
}

impl AppError {
    /// Configuration and database errors: nothing can run until a person
    /// fixes them (exit code 2).
    pub fn is_setup_error(&self) -> bool {
        match self {
            AppError::Config(_) => true,
            AppError::Store(e) => !matches!(
                e,
                StoreError::NoSuchItem(_)
                    | StoreError::NoSuchStory(_)
                    | StoreError::AloneInStory { .. }
                    | StoreError::SameStory(_)
                    | StoreError::InvalidIssueNumber(_)
                    | StoreError::DuplicateIssue(_)
                    | StoreError::NoSuchIssue(_)
                    | StoreError::IssuePublished(_)
                    | StoreError::StoryNotApproved { .. }
                    | StoreError::StoryInIssue { .. }
                    | StoreError::StoryNotInIssue { .. }
                    | StoreError::BadPosition { .. }
                    | StoreError::EmptyIssue(_)
            ),
            _ => false,
        }
    }
}

pub fn open_store(config: &Config) -> Result<Store, AppError> {
    let mut store = Store::open(&config.storage.database)?;
    store.set_dedup(config.dedup.clone());
    Ok(store)
}

/// One poll pass over the due (or forced, or chosen) sources.
pub async fn poll(
    config: Arc<Config>,
    store: Arc<Mutex<Store>>,
    opts: &PollOptions,
    done: impl Fn(&SourceReport) + Sync,
) -> Result<Vec<SourceReport>, AppError> {
    let fetcher = Arc::new(Fetcher::new(&config.poll)?);
    let poller = Poller::new(config, fetcher, store);
    Ok(poller.poll(opts, done).await?)
}

/// Writes the feeds, OPML and index page from what the store holds, and
/// the feed of published issues.
pub fn publish(config: &Config, store: &Store, out: &Path) -> Result<PublishReport, AppError> {
    let include_candidates = config.review.mode == ReviewMode::Auto;
    // Section feeds each hold up to `entries`, so read enough for all.
    let limit = config.publish.entries * (config.sections.len() + 1);
    let entries = store.feed_entries(include_candidates, Some(limit))?;
    let mut report = publish::write_all(config, &entries, out)?;
    let issues = crate::assemble::published_issues(config, store)?;
    publish::write_issues_feed(config, &issues, out, &mut report)?;
    Ok(report)
}

/// Who made a decision from the command line, for the audit log and the
/// classifier's training data: `cli:$USER`.
pub fn cli_editor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Sets the review status of items' stories, as `editor`, each change
/// recorded as a decision and in the audit log; returns (id, previous
/// status) pairs.
pub fn review(
    store: &mut Store,
    ids: &[i64],
    status: Status,
    editor: &str,
) -> Result<Vec<(i64, Status)>, AppError> {
    let mut changed = Vec::new();
    for &id in ids {
        let before = store.set_status_by(id, status, Some(editor))?;
        if before != status {
            audit(
                store,
                editor,
                status_action(status),
                id,
                Some(before.as_str()),
                Some(status.as_str()),
            )?;
        }
        changed.push((id, before));
    }
    Ok(changed)
}

fn status_action(status: Status) -> &'static str {
    match status {
        Status::Approved => "approve",
        Status::Rejected | Status::Irrelevant => "reject",
        Status::Candidate => "reopen",
    }
}

/// Files an item's story under `section` (an editor's move, which the
/// classifier learns from); returns the section it was in.
pub fn move_to_section(
    store: &mut Store,
    id: i64,
    section: &str,
    editor: &str,
) -> Result<Option<String>, AppError> {
    let before = store.set_section(id, Some(section))?;
    if before.as_deref() != Some(section) {
        store.record_decision(id, crate::store::Decision::Move, Some(editor))?;
        audit(store, editor, "move", id, before.as_deref(), Some(section))?;
    }
    Ok(before)
}

/// Sets (or with `None` clears) the bulletin title of an item's story;
/// returns the title it had.
pub fn set_title(
    store: &mut Store,
    id: i64,
    title: Option<&str>,
    editor: &str,
) -> Result<Option<String>, AppError> {
    let before = store.set_bulletin_title(id, title)?;
    if before.as_deref() != title {
        audit(store, editor, "title", id, before.as_deref(), title)?;
    }
    Ok(before)
}

fn audit(
    store: &Store,
    editor: &str,
    action: &str,
    id: i64,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), AppError> {
    let story = store.story_of(id)?;
    crate::accounts::record(
        store.connection(),
        &crate::accounts::AuditEntry {
            user_name: editor,
            action,
            item_id: Some(id),
            story_id: Some(story),
            before,
            after,
            detail: Some("command line"),
        },
    )?;
    Ok(())
}

/// What `kuaibao demo` did.
pub struct DemoRun {
    pub reports: Vec<SourceReport>,
    pub publish: PublishReport,
    /// The URL the output is (or would be) served under.
    pub base_url: url::Url,
    /// Keeps the sample outlets serving while the caller needs them.
    pub outlets: crate::demo::Outlets,
    /// The demo's configuration and database.
    pub workdir: tempfile::TempDir,
    /// Stories the sample outlets carried more than once.
    pub grouped: Vec<crate::store::StorySummary>,
    /// Items filed as outside the bulletin's scope.
    pub irrelevant: Vec<crate::store::ReviewItem>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the sample outlets: {0}")]
    Outlets(std::io::Error),
    #[error("cannot prepare the demo's working directory: {0}")]
    Workdir(std::io::Error),
    #[error(transparent)]
    App(#[from] AppError),
}

/// The embedded default: starts the bundled sample outlets on 127.0.0.1,
/// polls them with `review.mode = "auto"` and publishes to `out`, with feed
/// URLs under `http://{listen}/`.
pub async fn demo(out: &Path, listen: std::net::SocketAddr) -> Result<DemoRun, DemoError> {
    let outlets = crate::demo::start_outlets(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(DemoError::Outlets)?;
    let workdir = tempfile::Builder::new()
        .prefix("kuaibao-demo-")
        .tempdir()
        .map_err(DemoError::Workdir)?;
    let main = format!(
        "title = \"南京人力资源和社会保障学会信息快报\"\nbase_url = \"http://{listen}/\"\nsources = \"sources.toml\"\n\n\
         [storage]\ndatabase = \"kuaibao.db\"\n\n[poll]\nallow_private = true\ntimeout = \"10s\"\nper_host = 4\n\n\
         [review]\nmode = \"auto\"\n"
    );
    std::fs::write(workdir.path().join("kuaibao.toml"), main).map_err(DemoError::Workdir)?;
    std::fs::write(workdir.path().join("sources.toml"), outlets.sources_toml())
        .map_err(DemoError::Workdir)?;
    let config =
        Arc::new(Config::load(&workdir.path().join("kuaibao.toml")).map_err(AppError::from)?);
    let store = Arc::new(Mutex::new(open_store(&config)?));
    let opts = PollOptions {
        only: Vec::new(),
        force: true,
    };
    let reports = poll(config.clone(), store.clone(), &opts, |_| {}).await?;
    let (publish, grouped, irrelevant) = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        (
            publish(&config, &store, out)?,
            store.stories(true, 100).map_err(AppError::from)?,
            store
                .review_items(Some(Status::Irrelevant), 100)
                .map_err(AppError::from)?,
        )
    };
    Ok(DemoRun {
        reports,
        publish,
        grouped,
        irrelevant,
        base_url: config.base_url.clone(),
        outlets,
        workdir,
    })
}

/// Serves a published directory over HTTP until Ctrl-C, with the default
/// `[server]` limits.
pub async fn serve_directory(dir: &Path, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
    });
    crate::serve::serve_http(
        listener,
        app,
        crate::serve::HttpLimits::default(),
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

/// What tells the daemon to stop or to re-read its configuration.
pub struct ServeControl {
    /// `true` stops the daemon.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Each value is a request to reload the configuration from disk.
    pub reload: tokio::sync::mpsc::Receiver<()>,
}

/// `kuaibao serve`: the polling scheduler and the feeds over HTTP, in one
/// process, until `control.shutdown` turns true.
pub async fn serve(
    config_path: &Path,
    config: Config,
    listener: tokio::net::TcpListener,
    mut control: ServeControl,
) -> Result<(), AppError> {
    use crate::metrics::Metrics;
    use crate::schedule::Scheduler;
    use crate::serve::{ServeState, router, run_refresher};
    use tokio::sync::watch;

    let config = Arc::new(config);
    let store = Arc::new(Mutex::new(open_store(&config)?));
    store
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .sync_sources(&config.sources)?;
    let metrics = Arc::new(Metrics::new());
    let state = ServeState::new(config.clone(), store.clone(), metrics.clone());
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
            if r.new + r.updated > 0 {
                hook_state.notify_changed();
            }
        });
    let queue = scheduler.queue();
    let scheduler = tokio::spawn(scheduler.run(control.shutdown.clone()));
    let refresher = tokio::spawn(run_refresher(
        state.clone(),
        SERVE_REFRESH_INTERVAL,
        control.shutdown.clone(),
    ));

    let gauge_metrics = metrics.clone();
    let mut gauge_stop = control.shutdown.clone();
    let gauges = tokio::spawn(async move {
        loop {
            let q = queue.get();
            gauge_metrics.set_scheduler_queue(q.due as i64, q.waiting as i64);
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
        while control.reload.recv().await.is_some() {
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

    let limits = crate::serve::HttpLimits::from_config(&config.server, SERVE_SHUTDOWN_GRACE);
    crate::serve::serve_http(
        listener,
        router(state),
        limits,
        metrics,
        control.shutdown.clone(),
    )
    .await;

    // The HTTP side has stopped; the scheduler stops on the same signal and
    // returns within its grace period.
    let scheduled = scheduler.await;
    reloads.abort();
    let _ = refresher.await;
    let _ = gauges.await;
    match scheduled {
        Ok(Err(crate::schedule::ScheduleError::Store(e))) => Err(AppError::Store(e)),
        Ok(Err(crate::schedule::ScheduleError::Fetcher(e))) => Err(AppError::Fetcher(e)),
        _ => Ok(()),
    }
}
