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
