//! App, layer 6 (commands): the commands' work, above the pipeline stages
//! and below the CLI.
//!
//! `main.rs` parses arguments and prints; everything a command does with
//! the config, the store, the fetcher and the publisher is here, so the
//! daemon and the tests call exactly what the CLI calls.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::config::{Config, ConfigError};
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
    let mut store = Store::open_configured(&config.storage)?;
    crate::poll::index_unindexed(&mut store, &config.dedup)?;
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
    let publishing = config.published();
    // Section feeds each hold up to `entries`, so read enough for all.
    let limit = config.publish.entries * (config.sections.len() + 1);
    let entries = store.feed_entries(publishing, Some(limit))?;
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
        Status::Candidate | Status::Maybe => "reopen",
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
    let before = store.set_section(id, Some(section), &crate::classify::filed_title)?;
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
        store,
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
    /// The demo's configuration file, in `workdir`.
    pub config_path: std::path::PathBuf,
    /// The demo's configuration, as loaded from `config_path`.
    pub config: Arc<Config>,
    /// Stories the sample outlets carried more than once.
    pub grouped: Vec<crate::store::StorySummary>,
    /// Items 待定 (maybe): waiting for an editor, not published even in
    /// the demo's auto mode.
    pub maybe: Vec<crate::store::ReviewItem>,
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
    let (publish, grouped, maybe, irrelevant) = {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        (
            publish(&config, &store, out)?,
            store.stories(true, 100).map_err(AppError::from)?,
            store
                .review_items(Some(Status::Maybe), 100)
                .map_err(AppError::from)?,
            store
                .review_items(Some(Status::Irrelevant), 100)
                .map_err(AppError::from)?,
        )
    };
    Ok(DemoRun {
        reports,
        publish,
        grouped,
        maybe,
        irrelevant,
        base_url: config.base_url.clone(),
        outlets,
        config_path: workdir.path().join("kuaibao.toml"),
        config,
        workdir,
    })
}

/// The demo's desk account: name and a fresh random password.
pub struct DemoEditor {
    pub name: String,
    pub password: String,
}

/// Creates the demo's admin account with a random password, so that a
/// newcomer can open the desk the daemon serves; the password is shown once
/// and dies with the demo's temporary database.
pub fn demo_editor(config: &Config) -> Result<DemoEditor, AppError> {
    use rand::RngExt;
    // The thread's CSPRNG (seeded by the OS), 16 letters and digits.
    let password: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    let store = open_store(config)?;
    let name = "demo".to_string();
    crate::accounts::add_user(&store, &name, crate::accounts::Role::Admin, &password)?;
    Ok(DemoEditor { name, password })
}
