//! Publish: the last stage. Store → Atom feeds, OPML, index page.
//!
//! SKELETON — the publish helper replaces this file.

use std::path::Path;

use crate::config::Config;
use crate::model::FeedEntry;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Other(String),
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    pub files: Vec<std::path::PathBuf>,
}

/// Writes every document under `out` atomically; `entries` newest first.
pub fn write_all(
    _config: &Config,
    _entries: &[FeedEntry],
    _out: &Path,
) -> Result<PublishReport, PublishError> {
    todo!()
}
