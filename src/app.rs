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
            AppError::Store(e) => !matches!(e, StoreError::NoSuchItem(_)),
            _ => false,
        }
    }
}

pub fn open_store(config: &Config) -> Result<Store, AppError> {
    Ok(Store::open(&config.storage.database)?)
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

/// Writes the feeds, OPML and index page from what the store holds.
pub fn publish(config: &Config, store: &Store, out: &Path) -> Result<PublishReport, AppError> {
    let include_candidates = config.review.mode == ReviewMode::Auto;
    // Section feeds each hold up to `entries`, so read enough for all.
    let limit = config.publish.entries * (config.sections.len() + 1);
    let entries = store.feed_entries(include_candidates, limit)?;
    Ok(publish::write_all(config, &entries, out)?)
}

/// Sets the review status of items; returns (id, previous status) pairs.
pub fn review(
    store: &mut Store,
    ids: &[i64],
    status: Status,
) -> Result<Vec<(i64, Status)>, AppError> {
    let mut changed = Vec::new();
    for &id in ids {
        changed.push((id, store.set_status(id, status)?));
    }
    Ok(changed)
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
    let publish = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        publish(&config, &store, out)?
    };
    Ok(DemoRun {
        reports,
        publish,
        base_url: config.base_url.clone(),
        outlets,
        workdir,
    })
}

/// Serves a published directory over HTTP until Ctrl-C.
pub async fn serve_directory(dir: &Path, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
