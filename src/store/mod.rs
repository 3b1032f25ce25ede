//! Store, layer 4 (store): persistence, above the pipeline stages and below
//! the orchestration (poll), the renderers, the commands and the web. Its one
//! job is to keep what the pipeline and the editors produce and give it
//! back as typed rows; it decides nothing (which story an item joins is
//! [`crate::dedup`]'s, the editors' model is [`crate::classify`]'s, titles
//! are composed by classify and assemble).
//!
//! Every SQL statement of kuaibao is under `src/store`, every migration in
//! `store::schema`. No connection is handed out and no signature names a
//! driver's type: the API is a set of traits, one per concern, that a
//! backend implements, and [`Store`] holds one backend behind them
//! ([`Backend`]). [`SqliteStore`] is the embedded backend, here. By concern:
//!
//! - **items and sources** ([`ItemStore`], this file): `save_item`,
//!   `find_known`, review (`review_items`, `set_status`), feeds
//!   (`feed_entries`, `feed_version`), sources' fetch state
//!   (`sync_sources`, `record_fetch`, `source_states`), HTTP validators,
//!   health (`ping`, `counts`, `integrity_check`);
//! - **stories** ([`StoryStore`], `store::stories`): grouping, splitting,
//!   merging;
//! - **the desk** ([`DeskStore`], `store::desk`): the queue, search, an
//!   editor's corrections;
//! - **decisions and the model** ([`DecisionStore`] and
//!   [`crate::classify::DecisionLog`], `store::learning`);
//! - **issues** ([`IssueStore`], `store::issues`);
//! - **accounts** ([`AccountStore`], `store::accounts`): users, sessions,
//!   the audit log;
//! - **the dedup index** ([`IndexStore`], `store::dedup`): fingerprints and
//!   band keys;
//! - **repairs** ([`RepairStore`], `store::repairs`): outlets' healed
//!   selectors.
//!
//! WAL mode, one transaction per item (a poll killed half way loses nothing
//! it committed), schema migrations keyed by `PRAGMA user_version`. An item
//! is stored once: the same guid from the same source, the same canonical
//! URL, or the same normalized body from the same source is one item, and
//! every outlet page it was seen on is kept in `item_links`. Items that are
//! one story from several outlets are grouped in `stories`; feeds and
//! review show one entry per story.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::classify::DecisionLog;
use crate::config::Source;
use crate::dedup::{ItemId, PreparedStory, StoredStories};
use crate::model::{FeedEntry, NewItem, Published, Validators};

mod accounts;
mod dedup;
mod issues;
mod learning;
mod leases;
pub mod migrate;
pub mod postgres;
mod repairs;
mod save;
mod schema;
mod stories;
pub use accounts::AccountStore;
pub use accounts::{
    AuditEntry, AuditQuery, AuditRecord, NewSessionRow, Role, StoredSession, UserCredentials,
    UserInfo,
};
pub use dedup::IndexStore;
pub use dedup::UnindexedItem;
pub use desk::DeskStore;
pub use issues::IssueStore;
pub use issues::{
    IssueDetail, IssueEdits, IssueEntry, IssueInfo, IssueStatus, UNSECTIONED_ID, UNSECTIONED_NAME,
    check_issue_number, section_rank,
};
pub use learning::Decision;
pub use learning::DecisionStore;
pub use leases::{LeaseCounts, LeaseStore, Leases};
pub use repairs::RepairStore;
pub use repairs::{NewRepair, RepairRow};
use schema::MIGRATIONS;
pub use stories::StoryStore;
pub use stories::{StoryDetail, StoryMember, StorySummary, same_outlet};
mod desk;
pub use desk::{DeskItem, DeskMember, DeskPage, DeskQuery, FIRST_PARAGRAPH_CHARS, SectionFilter};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The PostgreSQL backend's errors, with the server's own words.
    #[error(transparent)]
    Postgres(#[from] postgres::PgError),
    /// `kuaibao migrate` refused, or found a value it cannot copy.
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
    #[error(
        "database {path} has schema version {found}, newer than this kuaibao ({supported}); upgrade kuaibao"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    /// An item of a batch whose transaction failed: nothing of it was kept.
    #[error("storing the batch: {0}")]
    Batch(String),
    #[error("no item with id {0}")]
    NoSuchItem(i64),
    #[error("no story with id {0}")]
    NoSuchStory(i64),
    #[error("item {item} is the only item of story {story}: there is nothing to split it from")]
    AloneInStory { item: i64, story: i64 },
    #[error("cannot merge story {0} with itself")]
    SameStory(i64),
    #[error("\"{0}\" is not an issue number: expected six digits such as 202509")]
    InvalidIssueNumber(String),
    #[error("issue {0} already exists")]
    DuplicateIssue(String),
    #[error("no issue numbered {0}")]
    NoSuchIssue(String),
    #[error("issue {0} is published and cannot be edited (`kuaibao issue unpublish {0}` first)")]
    IssuePublished(String),
    #[error("story {story} is {status}, not approved: approve it before it goes into an issue")]
    StoryNotApproved { story: i64, status: String },
    #[error("story {story} is already in issue {issue}")]
    StoryInIssue { story: i64, issue: String },
    #[error("story {story} is not in issue {issue}")]
    StoryNotInIssue { story: i64, issue: String },
    #[error("position {position} is outside issue {issue}, which holds {len} stories")]
    BadPosition {
        position: usize,
        issue: String,
        len: usize,
    },
    #[error("issue {0} holds no stories: there is nothing to publish")]
    EmptyIssue(String),
}

/// A PostgreSQL statement's error, as `?` meets it in that backend.
impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> StoreError {
        StoreError::Postgres(postgres::PgError::Sql(e))
    }
}

pub use crate::model::Status;

/// An item's body is stored as the sanitizer made it…
impl rusqlite::ToSql for crate::model::SanitizedHtml {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

/// …and read back as such: the store's `content_html` only ever receives a
/// [`crate::model::SanitizedHtml`].
impl rusqlite::types::FromSql for crate::model::SanitizedHtml {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        String::column_result(value).map(crate::model::SanitizedHtml::from_store)
    }
}

/// What storing one item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new item.
    New(i64),
    /// Already known under this URL or guid; nothing changed.
    Unchanged(i64),
    /// Known, and its text or title changed at the source.
    Updated(i64),
    /// The same text was already stored from another page: this page was
    /// recorded as one more place the item appears.
    Merged(i64),
}

impl Stored {
    pub fn id(self) -> i64 {
        match self {
            Stored::New(id) | Stored::Unchanged(id) | Stored::Updated(id) | Stored::Merged(id) => {
                id
            }
        }
    }
}

/// The outcome of one fetch, for the log and the source's health.
#[derive(Debug, Clone)]
pub struct FetchRecord<'a> {
    pub source_id: &'a str,
    pub url: &'a str,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub outcome: FetchOutcomeKind,
    pub items_found: Option<usize>,
    pub items_new: Option<usize>,
    pub error: Option<String>,
    /// The `[poll]` budgets that bit, one line (None: none did).
    pub limits: Option<String>,
    /// When the source is next due.
    pub next_due_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOutcomeKind {
    Ok,
    NotModified,
    Failed,
}

impl FetchOutcomeKind {
    fn as_str(self) -> &'static str {
        match self {
            FetchOutcomeKind::Ok => "ok",
            FetchOutcomeKind::NotModified => "not-modified",
            FetchOutcomeKind::Failed => "failed",
        }
    }
}

/// What the classify stage found for a stored item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification {
    /// Within the bulletin's scope, 0–1.
    pub relevance: Option<f64>,
    /// Why (JSON: rules that fired, model scores).
    pub explanation: Option<String>,
    /// None keeps the stored section (and region).
    pub section: Option<String>,
    pub region: Option<String>,
    /// None: the outlet's title.
    pub bulletin_title: Option<String>,
}

/// What [`Store::counts`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StoreCounts {
    pub items: i64,
    /// Outlet pages items were seen on.
    pub pages: i64,
    pub stories: i64,
    /// Items in the dedup index.
    pub fingerprints: i64,
}

/// What [`Store::feed_version`] reads: equal versions, equal feeds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedVersion {
    /// Publishable items.
    pub count: i64,
    /// The latest `updated_at` among them.
    pub max_updated: String,
    /// The sum of their ids (an item swapped for another changes it).
    pub id_sum: i64,
    /// Every source's id, name and URL.
    pub sources: String,
}

/// A source's health as the store knows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SourceState {
    pub id: String,
    pub name: String,
    pub url: String,
    pub kind: String,
    pub last_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub last_item_count: Option<i64>,
    pub next_due_at: Option<String>,
    pub items: i64,
    /// The `[poll]` budgets that bit in the last pass.
    pub last_limits: Option<String>,
    /// Passes in a row in which a budget bit.
    pub limited_passes: i64,
}

/// An item as the review commands show it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub id: i64,
    pub title: String,
    pub origin: String,
    pub url: String,
    pub section: Option<String>,
    pub published: Option<String>,
    pub status: Status,
    pub source_id: String,
    /// The story the item is the primary of.
    pub story_id: i64,
    /// Items grouped in the story.
    pub story_items: i64,
    /// Every outlet page the story was seen on.
    pub seen_on: Vec<String>,
    /// The bulletin's title (`地区：…`) when it differs from `title`.
    pub bulletin_title: Option<String>,
    /// Within the bulletin's scope, 0–1 (None: not classified).
    pub relevance: Option<f64>,
    /// Why it was classified so: the classifier's reasons and scores.
    pub explanation: Option<serde_json::Value>,
}

/// How often the write-ahead log is copied into the database while a
/// process keeps writing; closing the connection does the rest.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(15);

/// …or when the write-ahead log has grown past this.
pub const CHECKPOINT_WAL_BYTES: u64 = 32 << 20;

/// Picks the story a new item joins, inside the transaction that stores it:
/// handed the stored items, it answers the item whose story the new one
/// joins, or `None` for a story of its own ([`crate::dedup::place`]).
pub type PlaceStory<'a> = dyn FnMut(&mut dyn StoredStories<Error = StoreError>) -> Result<Option<ItemId>, StoreError>
    + 'a;

/// [`PlaceStory`] for a batch: also told which item of the batch it places.
pub type PlaceInBatch<'a> = dyn FnMut(usize, &mut dyn StoredStories<Error = StoreError>) -> Result<Option<ItemId>, StoreError>
    + 'a;

/// One item of [`ItemStore::save_items`]: what [`ItemStore::save_item`]
/// takes, less the placing.
pub struct ToSave<'a> {
    pub item: &'a NewItem,
    pub status: Status,
    pub story: &'a PreparedStory,
}

/// A section's bulletin title: `retitle(title, section, region)` (None: the
/// outlet's title), as [`crate::classify::filed_title`] gives it.
pub type Retitle = dyn Fn(&str, Option<&str>, Option<&str>) -> Option<String>;

/// The store, on whichever backend the configuration names. Every method
/// of the backend traits ([`ItemStore`], [`StoryStore`], [`DeskStore`],
/// [`DecisionStore`], [`IssueStore`], [`AccountStore`], [`IndexStore`],
/// [`RepairStore`]) is called on it directly: it dereferences to the
/// backend.
pub struct Store {
    backend: Box<dyn Backend>,
}

/// Everything a backend keeps: one implementation per database. A method
/// added to one of the traits is added to every backend, and the store's
/// test suite runs against each.
pub trait Backend:
    ItemStore
    + StoryStore
    + DeskStore
    + DecisionStore
    + IssueStore
    + AccountStore
    + IndexStore
    + RepairStore
    + LeaseStore
    + DecisionLog<Error = StoreError>
    + Send
{
}

impl<T> Backend for T where
    T: ItemStore
        + StoryStore
        + DeskStore
        + DecisionStore
        + IssueStore
        + AccountStore
        + IndexStore
        + RepairStore
        + LeaseStore
        + DecisionLog<Error = StoreError>
        + Send
{
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;
    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.backend
    }
}

impl std::ops::DerefMut for Store {
    fn deref_mut(&mut self) -> &mut (dyn Backend + 'static) {
        &mut *self.backend
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and brings
    /// its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        SqliteStore::open(path).map(Store::new)
    }

    /// The store the configuration names: PostgreSQL for `[storage] url`,
    /// else the SQLite file `[storage] database`.
    pub fn open_configured(storage: &crate::config::Storage) -> Result<Store, StoreError> {
        match &storage.url {
            Some(url) => Ok(Store::new(postgres::PgStore::connect(url.expose())?)),
            None => Store::open(&storage.database),
        }
    }

    /// Another handle on the configured database for work that must not
    /// wait on the main handle (the desk's password check): a new
    /// connection to PostgreSQL, or [`Store::open_handle`] on the SQLite
    /// file.
    pub fn open_another(
        storage: &crate::config::Storage,
        busy: Duration,
    ) -> Result<Store, StoreError> {
        match &storage.url {
            Some(url) => Ok(Store::new(postgres::PgStore::connect(url.expose())?)),
            None => Store::open_handle(&storage.database, busy),
        }
    }

    /// A private in-memory SQLite database, for tests and `sources test`.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        SqliteStore::open_in_memory().map(Store::new)
    }

    /// Another handle on the SQLite database at `path`, already set up by
    /// [`Store::open`] (no migrations run): for work that must not hold
    /// the main handle's lock for its duration, such as the desk's
    /// password check. Waits up to `busy` for another writer.
    pub fn open_handle(path: &Path, busy: Duration) -> Result<Store, StoreError> {
        SqliteStore::open_handle(path, busy).map(Store::new)
    }

    fn new(backend: impl Backend + 'static) -> Store {
        Store {
            backend: Box::new(backend),
        }
    }

    #[cfg(test)]
    fn setup(conn: Connection, path: &str) -> Result<Store, StoreError> {
        SqliteStore::setup(conn, path).map(Store::new)
    }
}

/// Held while a job (`poll`, `publish`) runs against the configured
/// database; released on drop or when the process exits.
#[derive(Debug)]
pub enum JobLock {
    /// A lock file beside the SQLite database.
    File(crate::lock::RunLock),
    /// An advisory lock in the shared PostgreSQL database.
    Postgres(Box<postgres::PgJobLock>),
}

/// Takes `job`'s run lock for the configured database, waiting up to
/// `wait` for another holder: so two crons, or cron and a daemon, never do
/// one job at once, on one machine or on many.
pub fn lock_job(
    storage: &crate::config::Storage,
    job: crate::lock::Job,
    wait: Duration,
) -> Result<JobLock, crate::lock::LockError> {
    match &storage.url {
        Some(url) => postgres::acquire_job_lock(url.expose(), job, wait, false)
            .map(|l| JobLock::Postgres(Box::new(l))),
        None => crate::lock::acquire(&storage.database, job, wait).map(JobLock::File),
    }
}

/// Takes `job`'s run lock the way a daemon polling with others does: on a
/// shared PostgreSQL database held together with the other daemons (the
/// leases keep them apart) and apart from any cron `poll`; on SQLite, where
/// one process polls, the same lock file as [`lock_job`].
pub fn lock_job_shared(
    storage: &crate::config::Storage,
    job: crate::lock::Job,
    wait: Duration,
) -> Result<JobLock, crate::lock::LockError> {
    match &storage.url {
        Some(url) => postgres::acquire_job_lock(url.expose(), job, wait, true)
            .map(|l| JobLock::Postgres(Box::new(l))),
        None => crate::lock::acquire(&storage.database, job, wait).map(JobLock::File),
    }
}

/// The editors' decisions and model, for [`crate::classify::current_model`].
impl DecisionLog for Store {
    type Error = StoreError;

    fn latest_decision(&mut self) -> Result<i64, StoreError> {
        self.backend.latest_decision()
    }

    fn saved_model(
        &mut self,
        latest: i64,
    ) -> Result<Option<std::sync::Arc<crate::classify::Model>>, StoreError> {
        self.backend.saved_model(latest)
    }

    fn decided_items(&mut self) -> Result<Vec<crate::classify::DecidedItem>, StoreError> {
        self.backend.decided_items()
    }

    fn save_model(
        &mut self,
        latest: i64,
        model: std::sync::Arc<crate::classify::Model>,
    ) -> Result<(), StoreError> {
        self.backend.save_model(latest, model)
    }
}

/// The embedded backend: one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    /// The `-wal` file, whose size decides a checkpoint (None in memory).
    wal_path: Option<std::path::PathBuf>,
    last_checkpoint: std::time::Instant,
    /// Items whose dedup band keys wait in `item_bands_recent` (counted at
    /// open, then by this connection's saves).
    recent_band_items: usize,
    /// The schema version the database had when it was opened.
    opened_version: i64,
    model_cache: learning::ModelCache,
}

/// Timestamps are stored as RFC 3339 in Beijing time, so that text order is
/// time order and what an editor reads matches the outlets' own dates.
use crate::time::beijing;

fn ts(t: DateTime<impl chrono::TimeZone>) -> String {
    t.with_timezone(&beijing())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn parse_ts(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

pub trait ItemStore {
    /// The schema version this database is at.
    fn schema_version(&self) -> Result<i64, StoreError>;

    /// Records the configured sources (name, URL, kind may have changed).
    fn sync_sources(&mut self, sources: &[Source]) -> Result<(), StoreError>;

    fn validators(&self, url: &str) -> Result<Validators, StoreError>;

    fn set_validators(&mut self, url: &str, v: &Validators) -> Result<(), StoreError>;

    /// The item a listed entry already is, if any: the same guid from this
    /// source, or the same canonical URL from anywhere.
    fn find_known(
        &self,
        source_id: &str,
        guid: Option<&str>,
        canonical_url: &str,
    ) -> Result<Option<i64>, StoreError>;

    /// Stores one item in its own transaction; `story` is its prepared
    /// story text (fingerprint and day, see [`crate::dedup::prepare_story`]).
    ///
    /// An item already stored (the same guid from the source, the same
    /// canonical URL) is updated if its text changed, and stays in its
    /// story; the same text stored from the same source is one more page of
    /// that item; the same text from another outlet joins that copy's
    /// story. Otherwise `place` decides the story, inside the transaction
    /// (so two writers cannot both open one): it is handed the stored items
    /// and answers the item whose story the new one joins, or `None` for a
    /// story of its own ([`crate::dedup::place`]).
    fn save_item(
        &mut self,
        item: &NewItem,
        status: Status,
        story: &PreparedStory,
        place: &mut PlaceStory<'_>,
    ) -> Result<Stored, StoreError>;

    /// Stores several items as [`ItemStore::save_item`] stores each, in
    /// order, each item's outcome its own. A backend that commits them
    /// together (SQLite) keeps one item's failure that item's alone: the
    /// batch is stored again one item per transaction; a failed commit
    /// fails them all. `place(i, …)` places `batch[i]`. An item is kept as
    /// soon as its batch commits.
    fn save_items(
        &mut self,
        batch: &[ToSave<'_>],
        place: &mut PlaceInBatch<'_>,
    ) -> Vec<Result<Stored, StoreError>> {
        batch
            .iter()
            .enumerate()
            .map(|(i, s)| self.save_item(s.item, s.status, s.story, &mut |st| place(i, st)))
            .collect()
    }

    /// Records a fetch in the log and updates the source's health.
    fn record_fetch(&mut self, r: &FetchRecord<'_>) -> Result<(), StoreError>;

    /// Every configured source's health, in `ids` order.
    fn source_states(&self, ids: &[&str]) -> Result<Vec<SourceState>, StoreError>;

    /// When the source is next due, if it was ever polled.
    fn next_due(&self, source_id: &str) -> Result<Option<DateTime<FixedOffset>>, StoreError>;

    /// Failures in a row recorded for the source (0 when unknown).
    fn consecutive_failures(&self, source_id: &str) -> Result<i64, StoreError>;

    /// How many items were first seen on the source at or after `since`:
    /// its recent publishing rate, for the adaptive schedule.
    /// How many of a source's items were published since `since`, by their
    /// own date (when it is known) rather than when kuaibao first saw them:
    /// the first poll of a list finds weeks of items at once, which says
    /// nothing about how often the outlet publishes.
    fn items_published_since(
        &self,
        source_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    fn last_item_count(&self, source_id: &str) -> Result<Option<i64>, StoreError>;

    /// Items for review, newest first; `status` None = every status.
    fn review_items(
        &self,
        status: Option<Status>,
        limit: usize,
    ) -> Result<Vec<ReviewItem>, StoreError>;

    /// One item (any item, not only a story's primary) as review shows it.
    fn review_item(&self, id: i64) -> Result<ReviewItem, StoreError>;

    /// An item's plain text, for `review show`.
    fn item_text(&self, id: i64) -> Result<String, StoreError>;

    /// Sets the review status of an item's story (every item of it: a
    /// story is reviewed once, whichever outlet's copy is named); returns
    /// the status the item had.
    /// No editor's name: from the pipeline or a test.
    fn set_status(&mut self, id: i64, status: Status) -> Result<Status, StoreError> {
        self.set_status_by(id, status, None)
    }

    /// [`Store::set_status`], naming the editor; an approval or rejection
    /// is recorded as a decision the classifier learns from.
    fn set_status_by(
        &mut self,
        id: i64,
        status: Status,
        editor: Option<&str>,
    ) -> Result<Status, StoreError>;

    /// Puts a story's status back as it was (an undo): no decision is
    /// recorded, the undone one is forgotten by the caller.
    fn restore_status(&mut self, id: i64, status: Status) -> Result<Status, StoreError>;

    /// The items to publish, newest first: approved ones, and in auto mode
    /// candidates sure enough (`relevance.publish`); never a 待定 (maybe),
    /// rejected or irrelevant one, whatever the mode, until an editor
    /// approves it.
    fn feed_entries(
        &self,
        publishing: Published,
        limit: Option<usize>,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    /// The items to publish that are filed under `month` (`YYYY-MM`, by
    /// their own date in Beijing time, else when they last changed), newest
    /// first: one monthly archive.
    fn feed_entries_in_month(
        &self,
        publishing: Published,
        month: &str,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    /// Every (section, month) that has items to publish: which monthly
    /// archives exist, without reading any item.
    fn publishable_months(
        &self,
        publishing: Published,
    ) -> Result<Vec<(Option<String>, String)>, StoreError>;

    /// Counts of items per status.
    fn status_counts(&self) -> Result<Vec<(Status, i64)>, StoreError>;

    /// Copies the write-ahead log into the database as far as readers
    /// allow (`PRAGMA wal_checkpoint(PASSIVE)`: never waits for them), if
    /// the last checkpoint is [`CHECKPOINT_EVERY`] old or the log has grown
    /// past [`CHECKPOINT_WAL_BYTES`]. A checkpoint fsyncs, which on slow
    /// disks costs tens of milliseconds: once per item would double an
    /// insert's time; never during a big first poll would grow the log by
    /// hundreds of megabytes instead of reusing it.
    fn checkpoint(&mut self) -> Result<(), StoreError>;

    /// Keeps a small page cache, for a process that only polls (a cron
    /// `poll`): 4 MiB instead of the 32 MiB the desk's pages need. A first
    /// poll of 20,000 items then peaks under 100 MiB, taking about a tenth
    /// longer than with 8 MiB (benches/pipeline.rs).
    /// PostgreSQL's cache is the server's: nothing to do.
    fn poll_only(&mut self) -> Result<(), StoreError>;

    /// `PRAGMA integrity_check`: "ok" on a sound database.
    fn integrity_check(&self) -> Result<String, StoreError>;

    /// Records a fresh classification of a stored item (the classifier run
    /// again over it): its relevance and explanation, and its section,
    /// region and bulletin title unless an editor set them. Its status and
    /// story stay.
    fn set_classification(&mut self, item_id: i64, c: &Classification) -> Result<(), StoreError>;

    /// The item stored from, or also seen at, the page `url`.
    fn item_at(&self, url: &str) -> Result<Option<i64>, StoreError>;

    /// How much the database holds.
    fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// Whether the database answers (the server's health check).
    fn ping(&self) -> Result<(), StoreError>;

    /// A number that changes whenever another connection commits a change
    /// to the database (`PRAGMA data_version`); this connection's own
    /// writes do not change it.
    fn data_version(&self) -> Result<i64, StoreError>;

    /// What changes whenever an item enters or leaves the publishable set
    /// (`publishing`: approved, and in auto mode sure candidates) or one of
    /// them changes (every such write bumps `updated_at`), or a source is
    /// renamed (entries name their source): whether the served documents
    /// must be rendered again.
    fn feed_version(&self, publishing: Published) -> Result<FeedVersion, StoreError>;

    /// The database file (None in memory).
    fn path(&self) -> Option<std::path::PathBuf>;
}

impl SqliteStore {
    /// [`ItemStore::save_items`]: the batch in one transaction; when an
    /// item fails, the batch is rolled back and stored again one item per
    /// transaction, so that the failure costs that item alone. (Items fail
    /// rarely; a savepoint per item would cost every item its pages
    /// copied to a sub-journal.)
    fn save_batch(
        &mut self,
        batch: &[ToSave<'_>],
        place: &mut PlaceInBatch<'_>,
    ) -> Result<Vec<Result<Stored, StoreError>>, StoreError> {
        let now = Utc::now();
        let mut store_one = |conn: &Connection, i: usize| {
            let s: &ToSave<'_> = &batch[i];
            save::store_item(&mut Steps(conn), s.item, s.status, now, s.story, |st| {
                placed_story(st.0, |stored| place(i, stored))
            })
        };
        let mut together = None;
        if batch.len() > 1 {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stored: Result<Vec<_>, _> = (0..batch.len()).map(|i| store_one(&tx, i)).collect();
            // On an item's failure the transaction is dropped, rolling back.
            if let Ok(stored) = stored {
                tx.commit()?;
                together = Some(stored.into_iter().map(Ok).collect());
            }
        }
        let stored = match together {
            Some(stored) => stored,
            None => {
                let mut one_by_one = Vec::with_capacity(batch.len());
                for i in 0..batch.len() {
                    let tx = self
                        .conn
                        .transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let stored = store_one(&tx, i);
                    if stored.is_ok() {
                        tx.commit()?;
                    }
                    one_by_one.push(stored);
                }
                one_by_one
            }
        };
        self.merge_bands_if_due(batch.len())?;
        // Time-gated: most batches skip it (see `Store::checkpoint`).
        self.checkpoint()?;
        Ok(stored)
    }
}

/// The steps of [`save::store_item`] on a SQLite connection inside a
/// transaction.
struct Steps<'c>(&'c Connection);

impl std::ops::Deref for Steps<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

impl ItemStore for SqliteStore {
    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn sync_sources(&mut self, sources: &[Source]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for s in sources {
            tx.prepare_cached(
                "INSERT INTO sources (id, name, url, kind) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, url = excluded.url, kind = excluded.kind")?
                .execute(params![s.id, s.name, s.url.as_str(), s.kind.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn validators(&self, url: &str) -> Result<Validators, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT etag, last_modified FROM http_cache WHERE url = ?1")?
            .query_row([url], |r| {
                Ok(Validators {
                    etag: r.get(0)?,
                    last_modified: r.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    fn set_validators(&mut self, url: &str, v: &Validators) -> Result<(), StoreError> {
        if v.is_empty() {
            self.conn
                .prepare_cached("DELETE FROM http_cache WHERE url = ?1")?
                .execute([url])?;
        } else {
            self.conn.prepare_cached(
                "INSERT INTO http_cache (url, etag, last_modified, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                 updated_at = excluded.updated_at")?
                .execute(params![url, v.etag, v.last_modified, ts(Utc::now())],
            )?;
        }
        Ok(())
    }

    fn find_known(
        &self,
        source_id: &str,
        guid: Option<&str>,
        canonical_url: &str,
    ) -> Result<Option<i64>, StoreError> {
        find_known(&self.conn, source_id, guid, canonical_url)
    }

    fn save_item(
        &mut self,
        item: &NewItem,
        status: Status,
        story: &PreparedStory,
        place: &mut PlaceStory<'_>,
    ) -> Result<Stored, StoreError> {
        let mut stored = self.save_batch(
            &[ToSave {
                item,
                status,
                story,
            }],
            &mut |_, st| place(st),
        )?;
        stored
            .pop()
            .unwrap_or(Err(StoreError::Batch("nothing stored".into())))
    }

    /// One transaction for the batch: a commit writes the pages the items
    /// share (indexes, the story tables) once, not once per item.
    fn save_items(
        &mut self,
        batch: &[ToSave<'_>],
        place: &mut PlaceInBatch<'_>,
    ) -> Vec<Result<Stored, StoreError>> {
        self.save_batch(batch, place).unwrap_or_else(|e| {
            let e = e.to_string();
            batch
                .iter()
                .map(|_| Err(StoreError::Batch(e.clone())))
                .collect()
        })
    }

    fn record_fetch(&mut self, r: &FetchRecord<'_>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let started = ts(r.started_at);
        tx.prepare_cached(
            "INSERT INTO fetch_log (source_id, url, started_at, duration_ms, outcome, items_found, items_new, error, limits)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?
            .execute(params![
                r.source_id,
                r.url,
                started,
                r.duration.as_millis() as i64,
                r.outcome.as_str(),
                r.items_found.map(|n| n as i64),
                r.items_new.map(|n| n as i64),
                r.error,
                r.limits
            ],
        )?;
        tx.prepare_cached(
            "UPDATE sources SET last_limits = ?2,
             limited_passes = CASE WHEN ?2 IS NULL THEN 0 ELSE limited_passes + 1 END
             WHERE id = ?1",
        )?
        .execute(params![r.source_id, r.limits])?;
        let next_due = ts(r.next_due_at);
        match r.outcome {
            FetchOutcomeKind::Failed => tx.prepare_cached(
                "UPDATE sources SET last_attempt_at = ?2, last_error = ?3,
                 consecutive_failures = consecutive_failures + 1, next_due_at = ?4 WHERE id = ?1")?
                .execute(params![r.source_id, started, r.error, next_due],
            )?,
            FetchOutcomeKind::Ok | FetchOutcomeKind::NotModified => tx.prepare_cached(
                "UPDATE sources SET last_attempt_at = ?2, last_success_at = ?2, last_error = NULL,
                 consecutive_failures = 0, next_due_at = ?3,
                 last_item_count = COALESCE(?4, last_item_count) WHERE id = ?1")?
                .execute(params![
                    r.source_id,
                    started,
                    next_due,
                    r.items_found.map(|n| n as i64)
                ],
            )?,
        };
        tx.commit()?;
        Ok(())
    }

    fn source_states(&self, ids: &[&str]) -> Result<Vec<SourceState>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, url, kind, last_attempt_at, last_success_at, last_error,
                    consecutive_failures, last_item_count, next_due_at,
                    (SELECT COUNT(DISTINCT item_id) FROM item_links l WHERE l.source_id = s.id),
                    last_limits, limited_passes
             FROM sources s WHERE id = ?1",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let state = stmt
                .query_row([id], |r| {
                    Ok(SourceState {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        url: r.get(2)?,
                        kind: r.get(3)?,
                        last_attempt_at: r.get(4)?,
                        last_success_at: r.get(5)?,
                        last_error: r.get(6)?,
                        consecutive_failures: r.get(7)?,
                        last_item_count: r.get(8)?,
                        next_due_at: r.get(9)?,
                        items: r.get(10)?,
                        last_limits: r.get(11)?,
                        limited_passes: r.get(12)?,
                    })
                })
                .optional()?;
            out.push(state.unwrap_or_else(|| SourceState {
                id: id.to_string(),
                ..SourceState::default()
            }));
        }
        Ok(out)
    }

    fn next_due(&self, source_id: &str) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let due: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT next_due_at FROM sources WHERE id = ?1")?
            .query_row([source_id], |r| r.get(0))
            .optional()?;
        Ok(due.flatten().as_deref().and_then(parse_ts))
    }

    fn consecutive_failures(&self, source_id: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT consecutive_failures FROM sources WHERE id = ?1")?
            .query_row([source_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    fn items_published_since(
        &self,
        source_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id
             WHERE l.source_id = ?1 AND COALESCE(i.published_at, l.first_seen_at) >= ?2",
            )?
            .query_row(params![source_id, ts(since)], |r| r.get(0))?)
    }

    fn last_item_count(&self, source_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_item_count FROM sources WHERE id = ?1")?
            .query_row([source_id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    fn review_items(
        &self,
        status: Option<Status>,
        limit: usize,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        self.query_review(
            "JOIN items i ON i.id = st.primary_item WHERE (?1 IS NULL OR i.status = ?1)
             ORDER BY COALESCE(i.published_at, i.first_seen_at) DESC, i.id DESC LIMIT ?2",
            params![status.map(Status::as_str), limit as i64],
        )
    }

    fn review_item(&self, id: i64) -> Result<ReviewItem, StoreError> {
        self.query_review(
            "JOIN items i ON i.story_id = st.id WHERE i.id = ?1",
            params![id],
        )?
        .pop()
        .ok_or(StoreError::NoSuchItem(id))
    }

    fn item_text(&self, id: i64) -> Result<String, StoreError> {
        self.conn
            .prepare_cached("SELECT content_text FROM items WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoSuchItem(id))
    }

    fn set_status_by(
        &mut self,
        id: i64,
        status: Status,
        editor: Option<&str>,
    ) -> Result<Status, StoreError> {
        let old = self.write_status(id, status)?;
        if old != status
            && let Some(decision) = Decision::of_status(status)
        {
            self.record_decision(id, decision, editor)?;
        }
        Ok(old)
    }

    fn restore_status(&mut self, id: i64, status: Status) -> Result<Status, StoreError> {
        self.write_status(id, status)
    }

    fn feed_entries(
        &self,
        publishing: Published,
        limit: Option<usize>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        self.publishable(publishing, None, limit)
    }

    fn feed_entries_in_month(
        &self,
        publishing: Published,
        month: &str,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        self.publishable(publishing, Some(month), None)
    }

    fn publishable_months(
        &self,
        publishing: Published,
    ) -> Result<Vec<(Option<String>, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT p.section, substr(COALESCE(p.published_at, p.updated_at), 1, 7) AS month
             FROM stories st JOIN items p ON p.id = st.primary_item
             WHERE p.status = 'approved'
                OR (p.status = 'candidate' AND COALESCE(p.relevance, 1) >= ?1)
             ORDER BY month",
        )?;
        let rows = stmt.query_map([publishing.candidates_from()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn status_counts(&self) -> Result<Vec<(Status, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, COUNT(*) FROM items GROUP BY status ORDER BY status")?;
        let rows = stmt.query_map([], |r| {
            Ok((Status::parse(&r.get::<_, String>(0)?), r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn poll_only(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.pragma_update(None, "cache_size", -4_096)?)
    }

    fn checkpoint(&mut self) -> Result<(), StoreError> {
        let wal_big = self
            .wal_path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.len() > CHECKPOINT_WAL_BYTES);
        if !wal_big && self.last_checkpoint.elapsed() < CHECKPOINT_EVERY {
            return Ok(());
        }
        // On this connection, holding the writer. Tried on a thread and
        // connection of its own, so that the writer need not wait for the
        // fsync: a first poll of 20,000 items took as long, with a third
        // more CPU and 60 MiB more memory (benches/pipeline.rs).
        self.conn
            .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")?
            .query_row([], |_| Ok(()))?;
        self.last_checkpoint = std::time::Instant::now();
        Ok(())
    }

    fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA integrity_check")?
            .query_row([], |r| r.get(0))?)
    }

    fn set_classification(&mut self, item_id: i64, c: &Classification) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        if write_classification(&tx, item_id, c)? == 0 {
            return Err(StoreError::NoSuchItem(item_id));
        }
        tx.prepare_cached("UPDATE items SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![item_id, ts(Utc::now())])?;
        tx.commit()?;
        Ok(())
    }

    fn item_at(&self, url: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM items WHERE url = ?1
                 UNION ALL SELECT item_id FROM item_links WHERE url = ?1 LIMIT 1",
            )?
            .query_row([url], |r| r.get(0))
            .optional()?)
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM item_links),
                    (SELECT COUNT(*) FROM stories), (SELECT COUNT(*) FROM item_fingerprints)",
            )?
            .query_row([], |r| {
                Ok(StoreCounts {
                    items: r.get(0)?,
                    pages: r.get(1)?,
                    stories: r.get(2)?,
                    fingerprints: r.get(3)?,
                })
            })?)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("SELECT 1")?
            .query_row([], |_| Ok(()))?;
        Ok(())
    }

    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    fn feed_version(&self, publishing: Published) -> Result<FeedVersion, StoreError> {
        let (count, max_updated, id_sum) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(MAX(updated_at), ''), COALESCE(SUM(id), 0) FROM items
             WHERE status = 'approved'
                OR (status = 'candidate' AND COALESCE(relevance, 1) >= ?1)",
            )?
            .query_row([publishing.candidates_from()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let sources = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(group_concat(id || ' ' || name || ' ' || url, char(10)), '')
             FROM (SELECT id, name, url FROM sources ORDER BY id)",
            )?
            .query_row([], |r| r.get(0))?;
        Ok(FeedVersion {
            count,
            max_updated,
            id_sum,
            sources,
        })
    }

    fn path(&self) -> Option<std::path::PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database and brings its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        SqliteStore::setup(conn, &path.display().to_string())
    }

    /// A private in-memory database, for tests and `sources test`.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::setup(Connection::open_in_memory()?, ":memory:")
    }

    fn setup(mut conn: Connection, path: &str) -> Result<SqliteStore, StoreError> {
        // A cron run may overlap a daemon: wait for the other writer rather
        // than fail at once.
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // No checkpoint inside an item's commit (each one fsyncs and would
        // dominate that insert's time): the poller checkpoints between
        // sources, and closing the connection checkpoints what is left.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // After a checkpoint the log is cut back to this (it is reused from
        // the start rather than grown).
        conn.pragma_update(None, "journal_size_limit", CHECKPOINT_WAL_BYTES as i64)?;
        // 32 MiB of page cache (the default is 2 MiB): the desk's queue
        // reads thousands of rows per page, and with 8 MiB its first page
        // takes three times as long (benches/desk.rs). A process that only
        // polls keeps less (`poll_only`).
        conn.pragma_update(None, "cache_size", -32_768)?;
        // Every fixed statement is prepared once and kept: parsing and
        // planning SQL was the biggest single cost of re-reading an
        // unchanged list. Room for all of them (about 120).
        conn.set_prepared_statement_cache_capacity(160);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                path: path.to_string(),
                found: version,
                supported,
            });
        }
        if (version as usize) < MIGRATIONS.len() {
            // Table rebuilds (DROP of a referenced table) must not cascade;
            // the pragma is a no-op inside a transaction, so it is set here.
            conn.pragma_update(None, "foreign_keys", "OFF")?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
                tx.commit()?;
            }
            conn.pragma_update(None, "foreign_keys", "ON")?;
        }
        let wal_path =
            (path != ":memory:").then(|| std::path::PathBuf::from(format!("{path}-wal")));
        let recent_band_items = dedup::recent_band_items(&conn)?;
        let store = SqliteStore {
            conn,
            wal_path,
            last_checkpoint: std::time::Instant::now(),
            recent_band_items,
            opened_version: version,
            model_cache: learning::ModelCache::default(),
        };
        Ok(store)
    }

    /// Moves the dedup index's newest band keys into the large index once
    /// enough items' keys wait (see `dedup::MERGE_RECENT_BANDS_EVERY`);
    /// `added`: items just saved.
    fn merge_bands_if_due(&mut self, added: usize) -> Result<(), StoreError> {
        self.recent_band_items += added;
        if self.recent_band_items < dedup::MERGE_RECENT_BANDS_EVERY {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        dedup::merge_recent_bands(&tx)?;
        tx.commit()?;
        self.recent_band_items = 0;
        Ok(())
    }

    /// Review rows: `tail` joins `items i` to `stories st` and filters.
    fn query_review(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT i.id, i.title, i.origin, i.url, i.section, i.published_at, i.status, i.source_id,
                    st.id, (SELECT COUNT(*) FROM items m WHERE m.story_id = st.id),
                    i.bulletin_title, i.relevance, i.explanation
             FROM stories st {tail}"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(ReviewItem {
                id: r.get(0)?,
                title: r.get(1)?,
                origin: r.get(2)?,
                url: r.get(3)?,
                section: r.get(4)?,
                published: r.get(5)?,
                status: Status::parse(&r.get::<_, String>(6)?),
                source_id: r.get(7)?,
                story_id: r.get(8)?,
                story_items: r.get(9)?,
                seen_on: Vec::new(),
                bulletin_title: r
                    .get::<_, Option<String>>(10)?
                    .filter(|t| t != &r.get::<_, String>(1).unwrap_or_default()),
                relevance: r.get(11)?,
                explanation: r
                    .get::<_, Option<String>>(12)?
                    .and_then(|e| serde_json::from_str(&e).ok()),
            })
        })?;
        let mut items = rows.collect::<Result<Vec<_>, _>>()?;
        let mut links = self.conn.prepare_cached(
            "SELECT l.url FROM items i JOIN item_links l ON l.item_id = i.id WHERE i.story_id = ?1
             ORDER BY i.id <> ?2, l.first_seen_at, l.url",
        )?;
        for item in &mut items {
            item.seen_on = links
                .query_map([item.story_id, item.id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
        }
        Ok(items)
    }

    fn write_status(&mut self, id: i64, status: Status) -> Result<Status, StoreError> {
        let tx = self.conn.transaction()?;
        let old: Option<String> = tx
            .prepare_cached("SELECT status FROM items WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(old) = old else {
            return Err(StoreError::NoSuchItem(id));
        };
        let old = Status::parse(&old);
        if old != status {
            let now = ts(Utc::now());
            tx.prepare_cached(
                "UPDATE items SET status = ?2, reviewed_at = ?3, updated_at = ?3
                 WHERE story_id = (SELECT story_id FROM items WHERE id = ?1)",
            )?
            .execute(params![id, status.as_str(), now])?;
        }
        tx.commit()?;
        Ok(old)
    }

    fn publishable(
        &self,
        publishing: Published,
        month: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        // Timestamps are stored in Beijing time, so their first seven
        // characters are the month an editor would file them under. One
        // entry per story: its primary item, under the story's identity.
        let mut stmt = self.conn.prepare_cached(
            "SELECT st.uid, COALESCE(i.bulletin_title, i.title), i.url, i.content_html, i.origin,
                    COALESCE(s.name, i.source_id), COALESCE(s.url, ''), i.section, i.published_at,
                    MAX(i.updated_at, st.updated_at), st.id,
                    CASE WHEN i.bulletin_title IS NOT NULL AND i.bulletin_title <> i.title THEN i.title END,
                    MAX((SELECT MAX(COALESCE(m.published_at, m.first_seen_at))
                           FROM items m WHERE m.story_id = st.id),
                        CASE WHEN st.updated_at > st.created_at THEN st.updated_at ELSE '' END)
             FROM stories st JOIN items i ON i.id = st.primary_item
             LEFT JOIN sources s ON s.id = i.source_id
             WHERE (i.status = 'approved'
                    OR (i.status = 'candidate' AND COALESCE(i.relevance, 1) >= ?1))
               AND (?2 IS NULL OR substr(COALESCE(i.published_at, i.updated_at), 1, 7) = ?2)
             ORDER BY COALESCE(i.published_at, i.first_seen_at) DESC, st.uid
             LIMIT ?3",
        )?;
        // LIMIT -1 is SQLite's "no limit".
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let rows = stmt.query_map(params![publishing.candidates_from(), month, limit], |r| {
            let published: Option<String> = r.get(8)?;
            let changed: String = r.get(9)?;
            let story: i64 = r.get(10)?;
            // The entry's date: the newest article of its story (a copy
            // joining it is a change), or the story's last change when
            // later; a story's `updated_at` moves past its `created_at` only
            // on a change readers see (new text, regrouping), never on a
            // decision.
            let updated: String = r.get(12)?;
            let changed =
                parse_ts(&changed).unwrap_or_else(|| Utc::now().with_timezone(&beijing()));
            Ok((
                story,
                FeedEntry {
                    uid: r.get(0)?,
                    title: r.get(1)?,
                    url: r.get(2)?,
                    content_html: r.get(3)?,
                    origin: r.get(4)?,
                    source_name: r.get(5)?,
                    source_url: r.get(6)?,
                    section: r.get(7)?,
                    published: published.as_deref().and_then(parse_ts),
                    updated: parse_ts(&updated).unwrap_or(changed),
                    changed,
                    original_title: r.get(11)?,
                    via: Vec::new(),
                },
            ))
        })?;
        let entries: Vec<(i64, FeedEntry)> = rows.collect::<Result<_, _>>()?;
        entries
            .into_iter()
            .map(|(story, mut entry)| {
                entry.via = self.story_via(story, &entry.url)?;
                Ok(entry)
            })
            .collect()
    }

    /// Another handle on the database file at `path`, already set up by
    /// [`Store::open`] (no migrations run): for work that must not hold
    /// the main handle's lock for its duration, such as the desk's
    /// password check. Waits up to `busy` for another writer.
    pub fn open_handle(path: &Path, busy: Duration) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.busy_timeout(busy)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let opened_version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(SqliteStore {
            conn,
            wal_path: None,
            last_checkpoint: std::time::Instant::now(),
            // Not counted: such a handle stores no items, and the main
            // handle merges what waits.
            recent_band_items: 0,
            opened_version,
            model_cache: learning::ModelCache::default(),
        })
    }
}

fn find_known(
    conn: &Connection,
    source_id: &str,
    guid: Option<&str>,
    canonical_url: &str,
) -> Result<Option<i64>, StoreError> {
    if let Some(guid) = guid {
        let by_guid = conn
            .prepare_cached("SELECT item_id FROM item_links WHERE source_id = ?1 AND guid = ?2")?
            .query_row(params![source_id, guid], |r| r.get(0))
            .optional()?;
        if by_guid.is_some() {
            return Ok(by_guid);
        }
    }
    let by_url = conn
        .prepare_cached(
            "SELECT id FROM items WHERE canonical_url = ?1
             UNION ALL SELECT item_id FROM item_links WHERE canonical_url = ?1 LIMIT 1",
        )?
        .query_row([canonical_url], |r| r.get(0))
        .optional()?;
    Ok(by_url)
}

/// The steps of [`save::store_item`] in SQLite.
impl save::SaveSteps for Steps<'_> {
    fn find_known(
        &mut self,
        source_id: &str,
        guid: Option<&str>,
        canonical_url: &str,
    ) -> Result<Option<i64>, StoreError> {
        find_known(self, source_id, guid, canonical_url)
    }

    /// An item seen before, again: a new link, and new text and classification
    /// if its own page changed.
    fn update_known(
        &mut self,
        id: i64,
        item: &NewItem,
        status: Status,
        now: &str,
        story: &PreparedStory,
    ) -> Result<Stored, StoreError> {
        let tx = &*self;
        let published = item.published.map(ts);
        add_link(tx, id, item, now)?;
        // Only the page the item was first stored from may change its text:
        // another outlet's copy must not overwrite the original.
        let changed = tx
            .prepare_cached(
                "UPDATE items SET title = ?2, content_html = ?3, content_text = ?4, content_hash = ?5,
                    origin = ?6, published_at = COALESCE(?7, published_at), updated_at = ?8
             WHERE id = ?1 AND canonical_url = ?9 AND source_id = ?10
               AND (title <> ?2 OR content_hash <> ?5)",
            )?
            .execute(params![
                id,
                item.title,
                item.content_html,
                item.content_text,
                item.content_hash,
                item.origin,
                published,
                now,
                item.canonical_url,
                item.source_id
            ])?;
        if changed == 0 {
            return Ok(Stored::Unchanged(id));
        }
        reclassify(tx, id, item, status)?;
        // The story stays as it is (an editor may have corrected it); the
        // fingerprint follows the new text for copies still to come.
        dedup::save(tx, id, story.day, &story.fingerprint)?;
        let story: i64 = tx
            .prepare_cached("SELECT story_id FROM items WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        stories::refresh_primary(tx, story, now)?;
        tx.prepare_cached("UPDATE stories SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![story, now])?;
        Ok(Stored::Updated(id))
    }

    /// An item with the same text (id, source, story, status), this outlet's
    /// first.
    fn same_text(
        &mut self,
        item: &NewItem,
    ) -> Result<Option<(i64, String, i64, String)>, StoreError> {
        Ok(self
            .prepare_cached(
                // The repeated `<> ''` lets SQLite use the partial index.
                "SELECT id, source_id, story_id, status FROM items
                 WHERE content_hash = ?1 AND content_hash <> ''
                 ORDER BY source_id <> ?2, id LIMIT 1",
            )?
            .query_row(params![item.content_hash, item.source_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?)
    }

    fn add_link(&mut self, item_id: i64, item: &NewItem, now: &str) -> Result<(), StoreError> {
        add_link(self, item_id, item, now)
    }

    /// The story a new item goes in and the status it gets: a copy joins its
    /// story, anything else opens one.
    fn join_or_open(
        &mut self,
        joins: Option<(i64, Status)>,
        own_status: Status,
        uid: &str,
        now: &str,
    ) -> Result<(i64, Status), StoreError> {
        let tx = &*self;
        // A copy takes on its story's review state: an approved story stays
        // approved (and published once), a rejected one stays out. A copy the
        // classifier rates higher lifts a story no editor decided: a relevant
        // copy (a 人社厅 carrying what a general outlet had) makes a 待定 or
        // irrelevant story a candidate, a 待定 copy makes an irrelevant story
        // 待定.
        Ok(match joins {
            Some((story, story_status)) => {
                let status = lifted(story_status, own_status);
                if status != story_status {
                    tx.prepare_cached(
                        "UPDATE items SET status = ?2 WHERE story_id = ?1 AND status = ?3",
                    )?
                    .execute(params![
                        story,
                        status.as_str(),
                        story_status.as_str()
                    ])?;
                }
                (story, status)
            }
            None => (stories::open(tx, uid, now)?, own_status),
        })
    }

    /// Inserts the new item row; returns its id.
    fn insert_item(
        &mut self,
        uid: &str,
        item: &NewItem,
        status: Status,
        story_id: i64,
        now: &str,
    ) -> Result<i64, StoreError> {
        let tx = &*self;
        let published = item.published.map(ts);
        tx.prepare_cached(
            "INSERT INTO items (uid, canonical_url, url, source_id, title, content_html, content_text,
                                content_hash, origin, section, region, published_at, first_seen_at,
                                updated_at, status, story_id, bulletin_title, relevance, explanation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15, ?16, ?17, ?18)")?
            .execute(params![
                uid,
                item.canonical_url,
                item.url,
                item.source_id,
                item.title,
                item.content_html,
                item.content_text,
                item.content_hash,
                item.origin,
                item.section,
                item.region,
                published,
                now,
                status.as_str(),
                story_id,
                item.bulletin_title,
                item.relevance,
                item.explanation
            ],
        )?;
        Ok(tx.last_insert_rowid())
    }

    fn save_fingerprint(
        &mut self,
        id: i64,
        day: i64,
        fp: &crate::dedup::Fingerprint,
    ) -> Result<(), StoreError> {
        Ok(dedup::save(self, id, day, fp)?)
    }

    fn refresh_primary(&mut self, story_id: i64, now: &str) -> Result<(), StoreError> {
        stories::refresh_primary(self, story_id, now)
    }
}

/// New text, new classification — except what an editor set, and the
/// status of a story an editor already decided.
fn reclassify(tx: &Connection, id: i64, item: &NewItem, status: Status) -> Result<(), StoreError> {
    write_classification(
        tx,
        id,
        &Classification {
            relevance: item.relevance,
            explanation: item.explanation.clone(),
            section: item.section.clone(),
            region: item.region.clone(),
            bulletin_title: item.bulletin_title.clone(),
        },
    )?;
    if item.relevance.is_some() {
        tx.prepare_cached(
            "UPDATE items SET status = ?2 WHERE id = ?1 AND reviewed_at IS NULL
               AND status IN ('candidate', 'maybe', 'irrelevant')
               AND id = (SELECT primary_item FROM stories WHERE id = items.story_id)
               AND (SELECT COUNT(*) FROM items m WHERE m.story_id = items.story_id) = 1",
        )?
        .execute(params![id, status.as_str()])?;
    }
    Ok(())
}

/// The story (and its status) of the item dedup's placement finds this one
/// a copy of, if any.
fn placed_story(
    tx: &Connection,
    place: impl FnOnce(&mut dyn StoredStories<Error = StoreError>) -> Result<Option<ItemId>, StoreError>,
) -> Result<Option<(i64, Status)>, StoreError> {
    match place(&mut dedup::Lookup { conn: tx })? {
        Some(like) => Ok(tx
            .prepare_cached("SELECT story_id, status FROM items WHERE id = ?1")?
            .query_row([like], |r| {
                Ok((r.get::<_, i64>(0)?, Status::parse(&r.get::<_, String>(1)?)))
            })
            .optional()?),
        None => Ok(None),
    }
}

/// The status of a story no editor decided (`story`: candidate, 待定 or
/// irrelevant) once a copy the classifier gave `copy` joins it: the
/// higher of the two. An editor's decision (approved, rejected) stays.
fn lifted(story: Status, copy: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Irrelevant => Some(0),
        Status::Maybe => Some(1),
        Status::Candidate => Some(2),
        Status::Approved | Status::Rejected => None,
    };
    match (rank(story), rank(copy)) {
        (Some(a), Some(b)) if b > a => copy,
        _ => story,
    }
}

/// Writes a classification, leaving what an editor set alone.
fn write_classification(
    conn: &Connection,
    id: i64,
    c: &Classification,
) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE items SET relevance = ?2, explanation = ?3,
                section = CASE WHEN section_fixed THEN section ELSE COALESCE(?4, section) END,
                region = CASE WHEN section_fixed THEN region ELSE COALESCE(?5, region) END,
                bulletin_title = CASE WHEN title_fixed THEN bulletin_title ELSE ?6 END
         WHERE id = ?1",
        )?
        .execute(params![
            id,
            c.relevance,
            c.explanation,
            c.section,
            c.region,
            c.bulletin_title
        ])?)
}

fn add_link(tx: &Connection, item_id: i64, item: &NewItem, now: &str) -> Result<(), StoreError> {
    // A guid already claimed by another link of this source keeps its first
    // page; the new page is still recorded, without the guid.
    let guid_taken = match &item.guid {
        Some(g) => tx
            .prepare_cached(
                "SELECT 1 FROM item_links WHERE source_id = ?1 AND guid = ?2 AND canonical_url <> ?3")?
                .query_row(params![item.source_id, g, item.canonical_url],
                |_| Ok(()),
            )
            .optional()?
            .is_some(),
        None => false,
    };
    let guid = if guid_taken {
        None
    } else {
        item.guid.as_deref()
    };
    tx.prepare_cached(
        "INSERT INTO item_links (item_id, source_id, guid, url, canonical_url, first_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(source_id, canonical_url) DO NOTHING",
    )?
    .execute(params![
        item_id,
        item.source_id,
        guid,
        item.url,
        item.canonical_url,
        now
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_only_polls_keeps_a_quarter_of_the_page_cache() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let cache = |s: &SqliteStore| -> i64 {
            s.conn
                .pragma_query_value(None, "cache_size", |r| r.get(0))
                .unwrap()
        };
        assert_eq!(cache(&store), -32_768);
        store.poll_only().unwrap();
        assert_eq!(cache(&store), -4_096);
    }

    #[test]
    fn a_copy_lifts_an_undecided_story_to_its_own_status_and_never_touches_a_decided_one() {
        use Status::*;
        for (story, copy, after) in [
            (Irrelevant, Candidate, Candidate),
            (Irrelevant, Maybe, Maybe),
            (Irrelevant, Irrelevant, Irrelevant),
            (Maybe, Candidate, Candidate),
            (Maybe, Maybe, Maybe),
            (Maybe, Irrelevant, Maybe),
            (Candidate, Maybe, Candidate),
            (Candidate, Irrelevant, Candidate),
            (Approved, Irrelevant, Approved),
            (Approved, Maybe, Approved),
            (Rejected, Candidate, Rejected),
            (Rejected, Maybe, Rejected),
        ] {
            assert_eq!(lifted(story, copy), after, "{story:?} story, {copy:?} copy");
        }
    }

    #[test]
    fn a_version_1_database_is_migrated_with_each_item_a_story_of_its_own_awaiting_fingerprints() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
        "INSERT INTO items (uid, canonical_url, url, source_id, title, content_html, content_text,
                                content_hash, origin, first_seen_at, updated_at, status)
             VALUES ('u1', 'x/1', 'https://x/1', 's', '标题', '<p>正文</p>', ?1, 'h', '新华社',
                     '2025-06-01T08:00:00+08:00', '2025-06-01T08:00:00+08:00', 'approved')", ["人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作，利用两年时间推进六个方面改革。"],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO item_links (item_id, source_id, url, canonical_url, first_seen_at)
             VALUES (1, 's', 'https://x/1', 'x/1', '2025-06-01T08:00:00+08:00')",
            [],
        )
        .unwrap();
        let store = Store::setup(conn, ":memory:").unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let entries = store.feed_entries(Published::Approved, None).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].uid, "u1", "the story keeps the item's entry id");
        let counts = store.counts().unwrap();
        assert_eq!(counts.pages, 1, "links survive the table rebuild");
        assert!(store.needs_fingerprints());
        let unindexed = store.unindexed_items().unwrap();
        assert_eq!(
            unindexed.len(),
            1,
            "the item is fingerprinted by the caller"
        );
        assert_eq!(unindexed[0].id, 1);
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }
}
