//! Poll, layer 5 (orchestration): runs fetch → extract → normalize → dedup →
//! classify → store for every due source — the one place that runs the
//! stages for an item ([`store_item`] is its last step) — and records when
//! each source is due next ([`policy`]).
//!
//! One pass over the sources (what `kuaibao poll` and cron run). Sources are
//! polled concurrently; the fetcher enforces the overall and per-host limits.
//! A list page's validators are remembered only once every new item on it is
//! stored, so an article that failed to load is retried on the next pass
//! instead of hiding behind a 304.

mod group_commit;
pub mod policy;
mod workers;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use url::{Host, Url};

use crate::classify;
use crate::config::{Config, HealMode, Source, SourceKind};
use crate::dedup::{self, DedupConfig};
use crate::extract::{self, ExtractError};
use crate::fetch::{FetchError, FetchOutcome, Fetcher};
use crate::heal;
use crate::model::{ListedItem, Page, Validators};
use crate::normalize::{self, canonical_url};
use crate::store::{
    AuditEntry, FetchOutcomeKind, FetchRecord, NewRepair, Status, Store, StoreError, Stored,
};

/// Stores one normalized, classified item: prepares its story text, lets
/// dedup place it among the stored stories, and stores it — what a poll
/// does with each item, for callers that have one item in hand (tests,
/// benchmarks, tools).
pub fn store_item(
    store: &mut Store,
    item: &crate::model::NewItem,
    status: Status,
    cfg: &DedupConfig,
) -> Result<Stored, StoreError> {
    let story = dedup::prepare_story(item, Utc::now(), cfg);
    store.save_item(item, status, &story, &mut |stored| {
        dedup::place(stored, &story, cfg)
    })
}

/// Fingerprints the items of a database from before stories (schema
/// version 1), so that new copies of them are recognized; nothing for any
/// other database.
pub fn index_unindexed(store: &mut Store, cfg: &DedupConfig) -> Result<(), StoreError> {
    if !store.needs_fingerprints() {
        return Ok(());
    }
    let now = Utc::now().fixed_offset();
    let rows: Vec<_> = store
        .unindexed_items()?
        .into_iter()
        .map(|item| {
            let fp = dedup::Prepared::new(&item.text, cfg).fingerprint();
            (item.id, dedup::day_of(item.date.unwrap_or(now)), fp)
        })
        .collect();
    store.save_fingerprints(&rows)
}

/// Which sources a pass polls.
#[derive(Debug, Clone, Default)]
pub struct PollOptions {
    /// Only these source ids (all when empty).
    pub only: Vec<String>,
    /// Poll whether due or not (still with conditional GET).
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollStatus {
    /// Fetched and every item stored.
    Ok,
    /// The server said nothing changed (304).
    NotModified,
    /// The list was read but some items could not be (see `failed`).
    Partial,
    /// The source could not be read at all.
    Failed,
    /// Not due yet; not fetched.
    NotDue,
}

impl PollStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PollStatus::Ok => "ok",
            PollStatus::NotModified => "not-modified",
            PollStatus::Partial => "partial",
            PollStatus::Failed => "failed",
            PollStatus::NotDue => "not-due",
        }
    }
}

/// What one pass did with one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub id: String,
    pub name: String,
    pub status: PollStatus,
    /// Items the list yielded.
    pub found: usize,
    /// Items stored for the first time.
    pub new: usize,
    /// Of the new items, those 待定 (stored as maybe: relevance between
    /// `relevance.maybe` and the threshold, for an editor to decide).
    pub maybe: usize,
    /// Of the new items, those outside the bulletin's scope (stored as
    /// irrelevant).
    pub off_topic: usize,
    /// Items already known (including copies merged into a known item).
    pub unchanged: usize,
    /// Items that changed at the source and were updated.
    pub updated: usize,
    /// Items that could not be read or stored.
    pub failed: usize,
    /// Why the source or some items failed.
    pub error: Option<String>,
    /// The `[poll]` budgets that bit, each naming its setting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<String>,
    /// How long the outlet asked us to wait (Retry-After on a 429/503).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// The selectors broke and what was done about it (`[poll] heal`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<String>,
    /// The repair's outcome, for metrics: `applied`, `proposed`, `failed`
    /// (needs a person) or `not-a-list`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_outcome: Option<&'static str>,
    pub duration_ms: u64,
}

impl SourceReport {
    /// This report, failed for `error`.
    fn failed_with(mut self, error: String) -> SourceReport {
        self.status = PollStatus::Failed;
        self.error = Some(error);
        self
    }

    /// A report of `status` with nothing counted yet.
    pub fn new(source: &Source, status: PollStatus) -> SourceReport {
        SourceReport {
            id: source.id.clone(),
            name: source.name.clone(),
            status,
            found: 0,
            new: 0,
            maybe: 0,
            off_topic: 0,
            unchanged: 0,
            updated: 0,
            failed: 0,
            error: None,
            limits: Vec::new(),
            retry_after_secs: None,
            repair: None,
            repair_outcome: None,
            duration_ms: 0,
        }
    }
}

/// When a source is polled next, as the scheduling policy decided after a
/// poll; `at` is what the store records as `next_due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextPoll {
    /// From the start of the poll.
    pub delay: Duration,
    /// The start of the poll plus `delay`.
    pub at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("unknown source id \"{0}\" (see `kuaibao status` for the configured ones)")]
    UnknownSource(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sources repaired in "auto" mode, by id: their tables before, and the
/// source with the new ones.
type Healed = HashMap<String, (String, Arc<Source>)>;

/// A task that ends when its handle is dropped: a pass abandoned (the
/// poll cancelled, the daemon stopping) does not run on unobserved.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// Everything a pass needs, shareable across tasks. Cloning shares
/// everything: the store, the fetcher, the parsing slots, the repaired
/// sources and the seen lists.
#[derive(Clone)]
pub struct Poller {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    store: Arc<Mutex<Store>>,
    /// Slots for parsing (see [`Poller::off_runtime`]).
    parsing: Arc<tokio::sync::Semaphore>,
    /// The threads that parse.
    workers: Arc<workers::Workers>,
    /// Sources repaired in "auto" mode since the configuration was read:
    /// (their tables before, the source with the new ones). Used until a
    /// reload reads the repaired file.
    healed: Arc<Mutex<Healed>>,
    /// Each source's last list page, as a digest of what its extraction
    /// depends on, and (from its second sighting) what was extracted: a
    /// running poller re-reads mostly unchanged lists, and parsing one
    /// again would give the same items back at many times the cost.
    lists: Arc<Mutex<SeenLists>>,
    /// Items ready to be stored (see [`group_commit`]).
    writes: Arc<group_commit::WriteQueue>,
}

/// The listings a poller keeps, within a memory budget: a feed carrying
/// full text can hold megabytes, and ten thousand sources must not hold
/// them all. A listing over budget keeps only its digest (and is parsed
/// again each time, as without the cache).
#[derive(Default)]
struct SeenLists {
    by_source: HashMap<String, SeenList>,
    /// Text bytes of the listings kept.
    bytes: usize,
}

/// One kept listing's text at most, and all of them together.
const KEPT_LISTING_BYTES: usize = 256 * 1024;
const KEPT_LISTINGS_BYTES: usize = 64 * 1024 * 1024;

/// A source's read items are stored this many at a time (see
/// [`group_commit`]): enough that a commit's pages are shared by many
/// items, few enough that a long list shows its first items soon and an
/// interrupted pass loses little reading.
const STORE_BATCH: usize = 20;

/// A source's last list page: the digest of the page and the selectors
/// read with ([`list_digest`]), and the listing once the same page was
/// seen twice (a one-off `kuaibao poll` keeps only digests).
struct SeenList {
    digest: [u8; 32],
    listing: Option<Arc<extract::Listing>>,
    /// Text bytes of `listing`.
    bytes: usize,
}

/// The text a listing holds, roughly what keeping it costs.
fn listing_bytes(listing: &extract::Listing) -> usize {
    listing
        .items
        .iter()
        .map(|i| {
            let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
            i.url.as_str().len()
                + i.title.len()
                + opt(&i.guid)
                + opt(&i.summary)
                + opt(&i.content)
                + opt(&i.author)
                + 64
        })
        .sum()
}

/// What extracting a list depends on: the source's kind and selectors, the
/// page's final URL (relative links), its encoding and its bytes.
fn list_digest(source: &Source, page: &Page) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        // Length-prefixed, so that no two different inputs run together.
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(source.kind.as_str().as_bytes());
    if let Some(l) = &source.list {
        for f in [
            Some(&l.item),
            Some(&l.link),
            Some(&l.title),
            l.date.as_ref(),
            l.summary.as_ref(),
        ] {
            field(f.map_or(b"-", |f| f.text.as_bytes()));
        }
    }
    if let Some(j) = &source.json {
        field(format!("{j:?}").as_bytes());
    }
    field(page.url.as_str().as_bytes());
    field(page.encoding.as_bytes());
    field(&page.bytes);
    h.finalize().into()
}

impl Poller {
    pub fn new(config: Arc<Config>, fetcher: Arc<Fetcher>, store: Arc<Mutex<Store>>) -> Poller {
        // Two pages parsed at once per core: a slot is held from the hop
        // to a blocking thread to the hop back, and with one per core the
        // cores sat a third idle. Side by side on a first poll of 20,000
        // items (benches/pipeline.rs, with the vectorized MinHash): one
        // per core 13.1–13.2 s, two 12.1 s, four 11.9–12.2 s but up to
        // 99 MiB; each parsed page holds its tree in memory.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Poller {
            config,
            fetcher,
            store,
            parsing: Arc::new(tokio::sync::Semaphore::new(cores * 2)),
            workers: Arc::new(workers::Workers::start(cores * 2)),
            healed: Arc::default(),
            lists: Arc::default(),
            writes: Arc::default(),
        }
    }

    /// Runs parsing work on a parsing thread, at most two per core at a
    /// time: a heavy page must not stall the runtime's fetches and serving,
    /// nor many heavy pages fill the memory. A panic there (a bug, ours or a
    /// library's, on some outlet's markup) becomes this item's error, not
    /// the daemon's end.
    async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let _slot = self
            .parsing
            .acquire()
            .await
            .map_err(|_| "the parser pool is closed".to_string())?;
        self.workers.run(work).await
    }

    /// Runs `work` on the store: here when its lock is free, else from a
    /// blocking thread. The lock may be held by a batch of items being
    /// stored (see [`group_commit`]); waiting for it on one of the
    /// runtime's threads (as many as cores) would stall every fetch
    /// meanwhile. Uncontended, as for a running poller re-reading unchanged
    /// lists, the hop to another thread would cost more than the look-up.
    async fn in_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, String> {
        match self.store.try_lock() {
            Ok(mut store) => return Ok(work(&mut store)),
            Err(std::sync::TryLockError::Poisoned(p)) => return Ok(work(&mut p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            work(&mut store.lock().unwrap_or_else(|p| p.into_inner()))
        })
        .await
        .map_err(|e| format!("the store failed: {e}"))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves SQLite consistent (every
        // write is a transaction), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sources this pass will consider, in config order.
    pub fn selected(&self, opts: &PollOptions) -> Result<Vec<Source>, PollError> {
        for id in &opts.only {
            if self.config.source(id).is_none() {
                return Err(PollError::UnknownSource(id.clone()));
            }
        }
        Ok(self
            .config
            .sources
            .iter()
            .filter(|s| {
                if opts.only.is_empty() {
                    s.enabled
                } else {
                    opts.only.contains(&s.id)
                }
            })
            .cloned()
            .collect())
    }

    /// One pass: polls every selected source that is due, calling `done`
    /// as each finishes. Reports come back in config order.
    pub async fn poll(
        &self,
        opts: &PollOptions,
        done: impl Fn(&SourceReport) + Sync,
    ) -> Result<Vec<SourceReport>, PollError> {
        let sources = self.selected(opts)?;
        self.store().sync_sources(&self.config.sources)?;
        let now = Utc::now();
        let mut reports: Vec<Option<SourceReport>> = vec![None; sources.len()];
        let mut due = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let next = self.store().next_due(&s.id)?;
            if opts.force || next.is_none_or(|t| t <= now) {
                due.push((i, s));
            } else {
                let r = SourceReport::new(s, PollStatus::NotDue);
                done(&r);
                reports[i] = Some(r);
            }
        }
        // Each source's pass is a task of its own, as in the daemon: polled
        // inline, every pass ran on this one future's thread and the cores
        // sat a quarter idle. Side by side on a first poll of 20,000 items
        // (benches/pipeline.rs): inline with twice `concurrency` passes in
        // flight 11.95–12.35 s at 96.8 MiB; as tasks, twice 11.06–11.07 s
        // but 101–103 MiB (more pages wait for the store at once), one and a
        // half times 11.28–11.36 s at 95.8–96.9 MiB.
        let parallel = (self.config.poll.concurrency.max(1) * 3).div_ceil(2);
        let mut stream = futures_util::stream::iter(due)
            .map(|(i, s)| {
                let (poller, source) = (self.clone(), s.clone());
                let pass = AbortOnDrop(tokio::spawn(
                    async move { poller.poll_source(&source).await },
                ));
                async move {
                    let report = pass.await.unwrap_or_else(|e| {
                        SourceReport::new(s, PollStatus::Failed)
                            .failed_with(format!("the pass ended abnormally: {e}"))
                    });
                    (i, report)
                }
            })
            .buffer_unordered(parallel);
        while let Some((i, r)) = stream.next().await {
            done(&r);
            reports[i] = Some(r);
        }
        Ok(reports.into_iter().flatten().collect())
    }

    /// Polls one source, records the outcome, never fails: a failure is in
    /// the report.
    pub async fn poll_source(&self, source: &Source) -> SourceReport {
        self.poll_source_with(source, rand::random::<f64>()).await.0
    }

    /// [`Poller::poll_source`], also saying when the source is due next
    /// (the scheduling policy's decision, also recorded in the store).
    /// `jitter_unit` is a uniform draw from `[0, 1]` that places the delay
    /// within the jitter band.
    pub async fn poll_source_with(
        &self,
        source: &Source,
        jitter_unit: f64,
    ) -> (SourceReport, NextPoll) {
        let started_at = Utc::now();
        let clock = Instant::now();
        let mut report = self.read_source(source).await;
        report.duration_ms = clock.elapsed().as_millis() as u64;
        let outcome = match report.status {
            PollStatus::Ok | PollStatus::Partial => FetchOutcomeKind::Ok,
            PollStatus::NotModified => FetchOutcomeKind::NotModified,
            PollStatus::Failed | PollStatus::NotDue => FetchOutcomeKind::Failed,
        };
        let next = self
            .next_poll(source, &report, started_at, jitter_unit)
            .await;
        let (source_id, url) = (source.id.clone(), source.url.to_string());
        let (duration, next_due_at) = (clock.elapsed(), next.at);
        let items_found = (report.status != PollStatus::Failed
            && report.status != PollStatus::NotModified)
            .then_some(report.found);
        let (items_new, error) = (Some(report.new), report.error.clone());
        let limits = (!report.limits.is_empty()).then(|| report.limits.join("; "));
        let recorded = self
            .in_store(move |store| {
                let record = FetchRecord {
                    source_id: &source_id,
                    url: &url,
                    started_at,
                    duration,
                    outcome,
                    items_found,
                    items_new,
                    error,
                    limits,
                    next_due_at,
                };
                let recorded = store.record_fetch(&record).map_err(|e| e.to_string());
                // The store checkpoints here, between sources, not inside an
                // item's commit (see `Store::checkpoint`).
                if let Err(e) = store.checkpoint() {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                }
                recorded
            })
            .await
            .and_then(|recorded| recorded);
        if let Err(e) = recorded {
            report.status = PollStatus::Failed;
            report.error = Some(format!("recording the fetch: {e}"));
        }
        (report, next)
    }

    /// The policy's decision after `report`: failures in a row (this one
    /// included) and the items first seen in the last week come from the
    /// store, before this poll is recorded.
    async fn next_poll(
        &self,
        source: &Source,
        report: &SourceReport,
        started_at: DateTime<Utc>,
        jitter_unit: f64,
    ) -> NextPoll {
        let week_ago = started_at
            - chrono::Duration::from_std(policy::WEEK).unwrap_or(chrono::Duration::days(7));
        let id = source.id.clone();
        // A store that cannot answer counts as a healthy, quiet source;
        // recording the fetch will then fail and say why.
        let (failures_before, new_last_week) = self
            .in_store(move |store| {
                (
                    store.consecutive_failures(&id).unwrap_or(0),
                    store.items_published_since(&id, week_ago).unwrap_or(0),
                )
            })
            .await
            .unwrap_or((0, 0));
        let outcome = policy::Outcome::of(
            report,
            u32::try_from(failures_before).unwrap_or(u32::MAX),
            u64::try_from(new_last_week).unwrap_or(0),
        );
        let delay = policy::next_delay(source, &self.config.schedule, &outcome, jitter_unit);
        let at =
            started_at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(7));
        NextPoll { delay, at }
    }

    async fn read_source(&self, source: &Source) -> SourceReport {
        let poll = &self.config.poll;
        let deadline = tokio::time::Instant::now() + poll.source_deadline;
        let limits = extract::Limits::of(poll);
        let mut source = self.healed_version(source);
        let mut report = SourceReport::new(&source, PollStatus::Ok);
        let (listed, page_validators) = match self
            .read_list(&mut source, &limits, deadline, &mut report)
            .await
        {
            Ok(Some(list)) => list,
            Ok(None) => return report,
            Err(error) => return report.failed_with(error),
        };
        let (planned, waiting) = match self.plan(&source, listed).await {
            Ok(plan) => plan,
            Err(e) => return report.failed_with(e),
        };
        if waiting > 0 {
            report.limits.push(format!(
                "{waiting} new items wait for the next pass (poll.max_new_items = {})",
                poll.max_new_items
            ));
        }
        let all_listed: Vec<ListedItem> = planned.iter().map(|(l, _)| l.clone()).collect();
        let mut pass = self
            .read_items(&source, planned, &limits, deadline, &mut report)
            .await;
        if let Some(repaired) = self
            .heal_articles(&source, &all_listed, &pass, &mut report)
            .await
        {
            // The same pass goes on with the new selectors: the articles
            // read with the old ones are read again (and updated).
            let again: Vec<(ListedItem, bool)> = all_listed
                .into_iter()
                .filter(|l| pass.selector_missed.contains(&l.url.to_string()))
                .map(|l| (l, false))
                .collect();
            let mut second = SourceReport::new(&repaired, PollStatus::Ok);
            let redo = self
                .read_items(&repaired, again, &limits, deadline, &mut second)
                .await;
            report.updated += second.updated;
            pass.errors.extend(redo.errors);
            pass.selector_missed.clear();
        }
        self.settle(&source, report, pass, waiting, &page_validators)
            .await
    }

    /// Fetches the source's list and extracts its items, newest first.
    /// `Ok(None)`: the list has not changed since the last pass (a 304).
    async fn read_list(
        &self,
        source: &mut Arc<Source>,
        limits: &extract::Limits,
        deadline: tokio::time::Instant,
        report: &mut SourceReport,
    ) -> Result<Option<(Vec<ListedItem>, Validators)>, String> {
        let poll = &self.config.poll;
        let url = source.url.to_string();
        let validators = self
            .in_store(move |store| store.validators(&url).map_err(|e| e.to_string()))
            .await??;
        let fetched = tokio::time::timeout_at(
            deadline,
            self.fetcher
                .fetch(&source.url, source.encoding, Some(&validators)),
        )
        .await;
        let page = match fetched {
            Err(_) => return Err(deadline_note(poll.source_deadline)),
            Ok(Ok(FetchOutcome::NotModified)) => {
                report.status = PollStatus::NotModified;
                return Ok(None);
            }
            Ok(Ok(FetchOutcome::Page(page))) => page,
            Ok(Err(e)) => {
                report.retry_after_secs = e.retry_after().map(|d| d.as_secs());
                return Err(e.to_string());
            }
        };
        let page_validators = page.validators.clone();
        let (page, listing) = self.list_of(source, page, limits).await?;
        let listing = match self
            .heal_list(source, &page, &listing, limits, report)
            .await
        {
            Some(repaired) => {
                *source = repaired;
                extract::extract_list(source, &page, limits)
            }
            None => listing,
        }
        .map_err(|e| e.to_string())?;
        if listing.entries_cut {
            report.limits.push(format!(
                "only the first {} entries of the list were read (poll.max_list_entries)",
                poll.max_list_entries
            ));
        }
        let mut listed = listing.items;
        report.found = listed.len();
        if listed.is_empty() {
            // An HTML or JSON list with nothing in it is almost always a page
            // whose layout changed under our selectors, not a quiet outlet;
            // an empty feed is one only if it had items before. (Asked for
            // feeds only: `heal_list` already read the count for HTML.)
            let redesigned = source.kind != SourceKind::Feed || {
                let id = source.id.clone();
                matches!(
                    self.in_store(move |s| s.last_item_count(&id)).await,
                    Ok(Ok(Some(n))) if n > 0
                )
            };
            if redesigned {
                return Err("the list yielded no items: the page may have been redesigned (check the selectors with `kuaibao sources test`)".into());
            }
        }
        // Newest first, so that what a budget leaves for the next pass is
        // the oldest. Lists without a date on every item keep their order,
        // which outlets make newest first.
        if listed.iter().all(|i| i.published.is_some()) {
            listed.sort_by_key(|i| std::cmp::Reverse(i.published));
        }
        Ok(Some((listed, page_validators)))
    }

    /// The items of a fetched list page: extracted on a parsing thread, or,
    /// when the page is byte for byte the one last read with the same
    /// selectors, what was extracted then (extraction depends on nothing
    /// else; see [`list_digest`]).
    async fn list_of(
        &self,
        source: &Arc<Source>,
        page: Page,
        limits: &extract::Limits,
    ) -> Result<(Page, Result<extract::Listing, ExtractError>), String> {
        let digest = list_digest(source, &page);
        let (known, seen_before) = {
            let lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
            match lists.by_source.get(&source.id) {
                Some(seen) if seen.digest == digest => (seen.listing.clone(), true),
                _ => (None, false),
            }
        };
        if let Some(listing) = known {
            return Ok((page, Ok((*listing).clone())));
        }
        let (page, listing) = {
            let (source, limits) = (source.clone(), *limits);
            self.off_runtime(move || {
                let listing = extract::extract_list(&source, &page, &limits);
                (page, listing)
            })
            .await?
        };
        // Kept from the second sighting on: a page seen once may never be
        // seen again (a one-off poll), and its items would be dead weight.
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        let lists = &mut *lists;
        let before = lists.by_source.get(&source.id).map_or(0, |seen| seen.bytes);
        lists.bytes -= before;
        let mut seen = SeenList {
            digest,
            listing: None,
            bytes: 0,
        };
        if let Ok(l) = &listing {
            let bytes = listing_bytes(l);
            if seen_before
                && bytes <= KEPT_LISTING_BYTES
                && lists.bytes + bytes <= KEPT_LISTINGS_BYTES
            {
                seen.listing = Some(Arc::new(l.clone()));
                seen.bytes = bytes;
                lists.bytes += bytes;
            }
        }
        lists.by_source.insert(source.id.clone(), seen);
        Ok((page, listing))
    }

    /// The source as repaired in this process, while the configuration
    /// still holds the tables the repair replaced.
    fn healed_version(&self, source: &Source) -> Arc<Source> {
        let healed = self.healed.lock().unwrap_or_else(|p| p.into_inner());
        if healed.is_empty() {
            return Arc::new(source.clone());
        }
        match healed.get(&source.id) {
            Some((before, repaired)) if *before == heal::tables_toml(source) => repaired.clone(),
            _ => Arc::new(source.clone()),
        }
    }

    /// Checks the list the selectors read against the source's history; on
    /// a break, works out new selectors and proves them, then applies them
    /// ("auto") or keeps them for an editor ("propose"). Returns the
    /// repaired source when it was applied.
    async fn heal_list(
        &self,
        source: &Arc<Source>,
        page: &Page,
        listing: &Result<extract::Listing, extract::ExtractError>,
        limits: &extract::Limits,
        report: &mut SourceReport,
    ) -> Option<Arc<Source>> {
        let mode = self.config.poll.heal;
        if mode == HealMode::Off || source.kind != SourceKind::Html {
            return None;
        }
        if heal::dates_broke(source, listing)
            && let Ok(read) = listing
        {
            tracing::warn!(source = %source.id, "list dates stopped parsing; working out a new date selector");
            let repair = heal::repair_dates(source, page, read, limits);
            return self.settle_repair(source, repair, mode, report);
        }
        // Only a list that failed or shrank is looked at closer: a healthy
        // list costs one query here, not a second parse. Every list passes
        // here, so it goes through `in_store` like the poller's other store
        // calls on its async path.
        let id = source.id.clone();
        let last = self
            .in_store(move |s| s.last_item_count(&id))
            .await
            .ok()
            .and_then(|count| count.ok())
            .flatten();
        let items = listing.as_ref().map_or(0, |l| l.items.len());
        let suspicious = match last {
            Some(n) if n > 0 => (items as i64) * 2 < n,
            _ => items == 0,
        };
        if !suspicious {
            return None;
        }
        let urls = self.store().source_urls(&source.id, 1_000).ok()?;
        let history = heal::History {
            urls: urls.into_iter().collect(),
        };
        let health = heal::check_list(source, page, listing, &history, limits);
        // The listing goes back to the caller untouched when nothing broke.
        let heal::ListHealth::Broken {
            found,
            known_on_page,
        } = health
        else {
            if let heal::ListHealth::NoList { reason } = health {
                report.repair = Some(format!("not repaired: {reason}"));
                report.repair_outcome = Some("not-a-list");
            }
            return None;
        };
        tracing::warn!(source = %source.id, found, known_on_page, "list selectors broke; working out new ones");
        let stored = |url: &str| self.store().text_at(url).ok().flatten();
        let repair = heal::repair_list(
            &self.fetcher,
            &self.config.poll,
            source,
            page,
            &history,
            &stored,
        )
        .await;
        self.settle_repair(source, repair, mode, report)
    }

    /// After a pass where the article selector found no body on most pages
    /// read, works out new article selectors and proves them on stored
    /// articles; applies them in "auto" mode and returns the source then.
    async fn heal_articles(
        &self,
        source: &Arc<Source>,
        listed: &[ListedItem],
        pass: &ItemsPass,
        report: &mut SourceReport,
    ) -> Option<Arc<Source>> {
        let mode = self.config.poll.heal;
        let read = pass.read;
        if mode == HealMode::Off
            || source.article.is_none()
            || pass.selector_missed.is_empty()
            || pass.selector_missed.len() * 2 < read
        {
            return None;
        }
        // A repair that failed or was turned down today is not tried again
        // at every pass (each try reads a few article pages).
        if let Ok(Some(last)) = self.store().latest_repair(&source.id)
            && matches!(last.status.as_str(), "failed" | "dismissed")
            && chrono::DateTime::parse_from_rfc3339(&last.created_at)
                .is_ok_and(|t| Utc::now().signed_duration_since(t) < chrono::Duration::days(1))
        {
            return None;
        }
        let urls = self.store().source_urls(&source.id, 1_000).ok()?;
        let history = heal::History {
            urls: urls.into_iter().collect(),
        };
        tracing::warn!(source = %source.id, missed = pass.selector_missed.len(), "article selectors broke; working out new ones");
        let stored = |url: &str| self.store().text_at(url).ok().flatten();
        let repair = heal::repair_article(
            &self.fetcher,
            &self.config.poll,
            source,
            listed,
            &history,
            &stored,
        )
        .await;
        self.settle_repair(source, repair, mode, report)
    }

    /// Records a repair and, in "auto" mode when it passed, writes it to
    /// `sources.toml`; returns the repaired source then.
    fn settle_repair(
        &self,
        source: &Arc<Source>,
        repair: Result<heal::Repair, String>,
        mode: HealMode,
        report: &mut SourceReport,
    ) -> Option<Arc<Source>> {
        let repair = match repair {
            Ok(r) => r,
            Err(e) => {
                report.repair = Some(format!("selectors broke; no repair found: {e}"));
                report.repair_outcome = Some("failed");
                return None;
            }
        };
        let evidence = serde_json::to_string(&repair.evidence).unwrap_or_default();
        let apply = mode == HealMode::Auto && repair.passed;
        let mut applied = None;
        if apply {
            match crate::config::edit::replace_tables(
                &self.config.sources_path,
                &source.id,
                &repair.new_toml,
                &format!("repaired by kuaibao after a redesign ({})", repair.what),
                source.interval,
                &self.config.sections,
            ) {
                Ok(_) => {
                    match heal::with_tables(source, repair.list.as_ref(), repair.article.as_ref()) {
                        Ok(new) => applied = Some(Arc::new(new)),
                        Err(e) => report.repair = Some(format!("repair not applied: {e}")),
                    }
                }
                Err(e) => report.repair = Some(format!("repair not written: {e}")),
            }
        }
        let status = match (&applied, repair.passed) {
            (Some(_), _) => "applied",
            (None, true) => "proposed",
            (None, false) => "failed",
        };
        report.repair_outcome = Some(status);
        let recorded = store_repair(&mut self.store(), source, &repair, status, &evidence);
        if let Err(e) = recorded {
            tracing::warn!(source = %source.id, error = %e, "cannot record the repair");
        }
        let e = &repair.evidence;
        let list_proof = format!(
            "{} of {} stored articles found again",
            e.found_again, e.known_on_page
        );
        let article_proof = format!(
            "{} of {} re-read articles gave their stored text back",
            e.articles_matching, e.articles_checked
        );
        let proof = match (repair.list.is_some(), e.articles_checked > 0) {
            (true, true) => format!("{list_proof}, {article_proof}"),
            (true, false) => list_proof,
            (false, _) => article_proof,
        };
        report.repair.get_or_insert_with(|| match status {
            "applied" => format!("{} selectors repaired and written to sources.toml ({proof})", repair.what),
            "proposed" => format!(
                "{} selectors broke; a repair is proposed ({proof}): `kuaibao sources heal {} --apply`",
                repair.what, source.id
            ),
            _ => format!(
                "{} selectors broke; needs a person: {}",
                repair.what,
                repair.reason.as_deref().unwrap_or("the evidence is too weak")
            ),
        });
        if let Some(new) = &applied {
            tracing::warn!(source = %source.id, what = %repair.what, "selectors repaired ({proof})");
            self.healed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(source.id.clone(), (heal::tables_toml(source), new.clone()));
        }
        applied
    }

    /// Reads, classifies and stores the planned items, several at a time,
    /// until they are done or the source's deadline passes; counts what
    /// happened to each in `report`.
    async fn read_items(
        &self,
        source: &Arc<Source>,
        planned: Vec<(ListedItem, bool)>,
        limits: &extract::Limits,
        deadline: tokio::time::Instant,
        report: &mut SourceReport,
    ) -> ItemsPass {
        // The editors' model, retrained here when they decided something
        // since the last pass; without it the rules decide alone.
        // Not looked up when every item is known and has nothing to
        // re-read (an unchanged list): nothing will be classified.
        let classifies = planned
            .iter()
            .any(|(item, known)| !known || !needs_page(source, item));
        let model = if !classifies {
            None
        } else {
            let config = self.config.clone();
            let model = self.in_store(move |store| {
                let hint = |id: &str| config.source(id).map(classify::SourceHint::of);
                classify::current_model(store, &config.rules, &hint).map_err(|e| e.to_string())
            });
            match model.await.and_then(|m| m) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "classifier model unavailable; classifying by rules alone");
                    None
                }
            }
        };
        let foreign = AtomicUsize::new(0);
        let mut pass = ItemsPass {
            planned: planned.len(),
            ..ItemsPass::default()
        };
        // Items are read (the next fetched while one is parsed and
        // classified) and stored a batch at a time, together with what other
        // sources have ready (see `group_commit`): one commit per item was
        // most of a first poll's time in the store. A pass killed half way
        // keeps every batch it stored; the rest is read again next time.
        let mut reads = futures_util::stream::iter(planned)
            .map(|(item, known)| {
                let model = model.clone();
                let foreign = &foreign;
                async move {
                    self.read_item(source, item, known, limits, foreign, model)
                        .await
                }
            })
            .buffered(self.config.poll.per_host.max(1) * 2);
        let mut batch = Vec::new();
        loop {
            let result = match tokio::time::timeout_at(deadline, reads.next()).await {
                Err(_) => {
                    pass.out_of_time = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(result)) => result,
            };
            pass.settled += 1;
            match result {
                Ok(ItemDone::Known) => report.unchanged += 1,
                Ok(ItemDone::Foreign) => pass.deferred_foreign += 1,
                Ok(ItemDone::Ready(ready, missed)) => {
                    pass.read += 1;
                    if let Some(url) = missed {
                        pass.selector_missed.push(url);
                    }
                    batch.push(*ready);
                    if batch.len() >= STORE_BATCH {
                        self.store_batch(std::mem::take(&mut batch), report, &mut pass)
                            .await;
                    }
                }
                Err(e) => {
                    report.failed += 1;
                    pass.errors.push(e);
                }
            }
        }
        self.store_batch(batch, report, &mut pass).await;
        // Dropping the stream (on return) cancels the fetches in flight.
        pass
    }

    /// The source's outcome from what the pass did: the budgets it hit, its
    /// status and first error; the list's validators are kept only when
    /// nothing of the list is left for the next pass.
    async fn settle(
        &self,
        source: &Source,
        mut report: SourceReport,
        pass: ItemsPass,
        waiting: usize,
        page_validators: &Validators,
    ) -> SourceReport {
        let poll = &self.config.poll;
        let mut errors = pass.errors;
        if pass.deferred_foreign > 0 {
            report.limits.push(format!(
                "{} articles on other hosts wait for the next pass (poll.max_foreign_requests = {})",
                pass.deferred_foreign, poll.max_foreign_requests
            ));
        }
        if pass.out_of_time {
            let note = format!(
                "{}; {} of {} items wait for the next pass",
                deadline_note(poll.source_deadline),
                pass.planned - pass.settled,
                pass.planned
            );
            report.limits.push(note.clone());
            errors.insert(0, note);
        }
        if !errors.is_empty() {
            report.status = PollStatus::Partial;
            let more = if errors.len() > 1 {
                format!(" (and {} more)", errors.len() - 1)
            } else {
                String::new()
            };
            report.error = Some(format!("{}{more}", errors[0]));
        } else if waiting > 0 || pass.deferred_foreign > 0 {
            // The list must be read again next pass, not answered by a 304.
        } else {
            let (url, validators) = (source.url.to_string(), page_validators.clone());
            let kept = self
                .in_store(move |store| {
                    store
                        .set_validators(&url, &validators)
                        .map_err(|e| e.to_string())
                })
                .await
                .and_then(|kept| kept);
            if let Err(e) = kept {
                report.status = PollStatus::Partial;
                report.error = Some(e);
            }
        }
        report
    }

    /// Which listed items this pass reads: every known one (cheap: a
    /// look-up, or a compare when the list carries the text) and at most
    /// `poll.max_new_items` new ones, in list order. Also says how many new
    /// items wait for the next pass.
    #[allow(clippy::type_complexity)]
    async fn plan(
        &self,
        source: &Source,
        listed: Vec<ListedItem>,
    ) -> Result<(Vec<(ListedItem, bool)>, usize), String> {
        let max_new = self.config.poll.max_new_items;
        let id = source.id.clone();
        self.in_store(move |store| {
            let mut planned = Vec::with_capacity(listed.len());
            let (mut new, mut waiting) = (0, 0);
            for item in listed {
                let canonical = canonical_url(&item.url);
                let known = store
                    .find_known(&id, item.guid.as_deref(), &canonical)
                    .map_err(|e| e.to_string())?
                    .is_some();
                if !known {
                    if new >= max_new {
                        waiting += 1;
                        continue;
                    }
                    new += 1;
                }
                planned.push((item, known));
            }
            Ok((planned, waiting))
        })
        .await?
    }

    /// Stores a pass's classified items (see [`group_commit`]) and counts
    /// what became of each in `report`.
    async fn store_batch(
        &self,
        batch: Vec<group_commit::Ready>,
        report: &mut SourceReport,
        pass: &mut ItemsPass,
    ) {
        if batch.is_empty() {
            return;
        }
        let statuses: Vec<Status> = batch.iter().map(|r| r.status).collect();
        let stored = self.writes.store(&self.store, batch, &self.config).await;
        for (status, stored) in statuses.into_iter().zip(stored) {
            match stored {
                Ok(Stored::New(_)) => {
                    report.new += 1;
                    match status {
                        Status::Maybe => report.maybe += 1,
                        Status::Irrelevant => report.off_topic += 1,
                        _ => {}
                    }
                }
                Ok(Stored::Updated(_)) => report.updated += 1,
                Ok(Stored::Unchanged(_) | Stored::Merged(_)) => report.unchanged += 1,
                Err(e) => {
                    report.failed += 1;
                    pass.errors.push(e);
                }
            }
        }
    }

    /// Reads one listed item: nothing to do when it is known, otherwise its
    /// page when the list does not carry the full text. Parsing,
    /// normalizing, classifying and preparing its story text run in one hop
    /// to a blocking thread, off the runtime that fetches: they are the
    /// CPU-heavy part of a poll, and each hop costs two context switches.
    async fn read_item(
        &self,
        source: &Arc<Source>,
        listed: ListedItem,
        known: bool,
        limits: &extract::Limits,
        foreign: &AtomicUsize,
        model: Option<Arc<classify::Model>>,
    ) -> Result<ItemDone, String> {
        let needs_page = needs_page(source, &listed);
        if known && needs_page {
            // Pages of known items are not fetched again: outlets rarely
            // edit them and every request costs the outlet's patience.
            return Ok(ItemDone::Known);
        }
        let page = if needs_page {
            if !same_site(&source.url, &listed.url)
                && foreign.fetch_add(1, Ordering::Relaxed) >= self.config.poll.max_foreign_requests
            {
                return Ok(ItemDone::Foreign);
            }
            Some(fetch_page(&self.fetcher, source, &listed, self.config.poll.max_article).await?)
        } else {
            None
        };
        let (source, limits, config) = (source.clone(), *limits, self.config.clone());
        self.off_runtime(move || {
            let article = match page {
                Some(page) => Some(
                    extract::extract_article(&source, &page, &limits)
                        .map_err(|e| describe_article_error(&listed, &e))?,
                ),
                None => None,
            };
            let missed = article.as_ref().is_some_and(|a| a.content_selector_missed);
            let item = normalize::normalize(&source, &listed, article.as_ref())
                .map_err(|e| e.to_string())?;
            let missed = missed.then(|| item.url.clone());
            let ready = classify_and_prepare(item, &source, model.as_deref(), &config);
            Ok(ItemDone::Ready(Box::new(ready), missed))
        })
        .await?
    }
}

/// Classifies a normalized item and prepares its story text (fingerprint
/// and entities), before the store is locked: other sources' items store
/// meanwhile.
fn classify_and_prepare(
    mut item: crate::model::NewItem,
    source: &Source,
    model: Option<&classify::Model>,
    config: &Config,
) -> group_commit::Ready {
    // In auto mode candidates are published as they are; an editor can
    // still reject them later. 待定 items wait for an editor in their own
    // group; off-topic items are kept, as irrelevant, for editors to look
    // through.
    let verdict =
        classify::classify_item(&mut item, source, &config.rules, model, &config.sections);
    let status = match verdict {
        classify::Verdict::Relevant => Status::Candidate,
        classify::Verdict::Maybe => Status::Maybe,
        classify::Verdict::Irrelevant => Status::Irrelevant,
    };
    let story = dedup::prepare_story(&item, Utc::now(), &config.dedup);
    group_commit::Ready {
        item,
        status,
        story,
    }
}

/// Whether reading `listed` means fetching its own page: the source reads
/// articles from their pages, or the list does not carry the text.
fn needs_page(source: &Source, listed: &ListedItem) -> bool {
    let carries_body = listed
        .content
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    source.article.is_some() || !carries_body
}

fn deadline_note(deadline: Duration) -> String {
    format!(
        "took longer than {} (poll.source_deadline)",
        humantime::format_duration(deadline)
    )
}

/// Whether `link` is on the same site as the source's own address: the
/// same registrable domain (`rst.jiangsu.gov.cn` and `www.jiangsu.gov.cn`
/// are one site; `www.mohrss.gov.cn` and `www.gov.cn` are not), or the same
/// IP address. Ports do not matter (http and https of one site).
fn same_site(source: &Url, link: &Url) -> bool {
    match (source.host(), link.host()) {
        (Some(Host::Domain(a)), Some(Host::Domain(b))) => {
            registrable(&a.to_ascii_lowercase()) == registrable(&b.to_ascii_lowercase())
        }
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The part of a host name a registrant controls: the last two labels, or
/// three under a country's second-level domains (`gov.cn`, `com.cn`).
fn registrable(host: &str) -> &str {
    let host = host.trim_end_matches('.');
    let labels: Vec<&str> = host.rsplitn(4, '.').collect();
    let keep = match labels.as_slice() {
        [tld, second, ..]
            if tld.len() == 2
                && matches!(
                    *second,
                    "gov" | "com" | "net" | "org" | "edu" | "ac" | "co" | "mil"
                ) =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return host;
    }
    let cut: usize = labels[..keep].iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    &host[host.len() - cut..]
}

/// What reading a source's planned items came to, for [`Poller::settle`].
#[derive(Default)]
struct ItemsPass {
    planned: usize,
    /// Items read to the end (stored, known, deferred or failed).
    settled: usize,
    deferred_foreign: usize,
    out_of_time: bool,
    errors: Vec<String>,
    /// Articles read from their pages (or entries).
    read: usize,
    /// Articles whose `content` selector found no body.
    selector_missed: Vec<String>,
}

/// What became of a listed item.
enum ItemDone {
    Known,
    /// An article on another host, over `poll.max_foreign_requests`.
    Foreign,
    /// Read and classified, to be stored; with its address when the
    /// article selector found no body on its page.
    Ready(Box<group_commit::Ready>, Option<String>),
}

async fn fetch_page(
    fetcher: &Fetcher,
    source: &Source,
    listed: &ListedItem,
    max_article: u64,
) -> Result<Page, String> {
    match fetcher
        .fetch_article(&listed.url, source.encoding, max_article)
        .await
    {
        Ok(FetchOutcome::Page(page)) => Ok(page),
        Ok(FetchOutcome::NotModified) => {
            Err(format!("{}: unexpected 304 Not Modified", listed.url))
        }
        Err(e) => Err(describe_fetch_error(listed, &e)),
    }
}

fn describe_fetch_error(listed: &ListedItem, e: &FetchError) -> String {
    format!("article {}: {e}", listed.url)
}

fn describe_article_error(listed: &ListedItem, e: &ExtractError) -> String {
    format!("article {}: {e}", listed.url)
}

/// Records a repair, and audits it as `heal:auto` when it was applied.
pub fn store_repair(
    store: &mut Store,
    source: &Source,
    repair: &heal::Repair,
    status: &str,
    evidence: &str,
) -> Result<(), String> {
    let by = (status == "applied").then_some("heal:auto");
    store
        .record_repair(&NewRepair {
            source_id: &source.id,
            status,
            what: &repair.what,
            confidence: f64::from(repair.confidence),
            old_toml: &repair.old_toml,
            new_toml: &repair.new_toml,
            evidence,
            decided_by: by,
        })
        .map_err(|e| e.to_string())?;
    if let Some(by) = by {
        crate::accounts::record(
            store,
            &AuditEntry {
                user_name: by,
                action: "source.repair",
                item_id: None,
                story_id: None,
                before: Some(&repair.old_toml),
                after: Some(&repair.new_toml),
                detail: Some(&source.id),
            },
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What `kuaibao sources test` shows: the list as extracted and the first
/// articles as they would be stored.
#[derive(Debug, Clone, Serialize)]
pub struct SourceTest {
    pub source_id: String,
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub encoding: String,
    pub bytes: usize,
    pub items: Vec<TestedItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestedItem {
    pub title: String,
    pub url: String,
    pub guid: Option<String>,
    pub published: Option<String>,
    /// Filled for the first few items: what normalize made of the page.
    pub article: Option<TestedArticle>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestedArticle {
    pub title: String,
    pub origin: String,
    pub published: Option<String>,
    pub text_chars: usize,
    pub text_start: String,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceTestError {
    #[error("fetching {url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error("{url} answered 304 Not Modified to an unconditional request")]
    NotModified { url: String },
    #[error("extracting {url}: {error}")]
    Extract { url: String, error: ExtractError },
}

/// Fetches one source and extracts its list and its first `articles` items,
/// storing nothing.
pub async fn test_source(
    fetcher: &Fetcher,
    poll: &crate::config::Poll,
    source: &Source,
    articles: usize,
) -> Result<SourceTest, SourceTestError> {
    let url = source.url.to_string();
    let page = match fetcher.fetch(&source.url, source.encoding, None).await {
        Ok(FetchOutcome::Page(p)) => p,
        Ok(FetchOutcome::NotModified) => return Err(SourceTestError::NotModified { url }),
        Err(error) => return Err(SourceTestError::Fetch { url, error }),
    };
    let limits = extract::Limits::of(poll);
    let listed = extract::extract_list(source, &page, &limits)
        .map_err(|error| SourceTestError::Extract {
            url: url.clone(),
            error,
        })?
        .items;
    let mut items = Vec::new();
    for (i, l) in listed.iter().enumerate() {
        let article = if i < articles {
            Some(test_article(fetcher, poll, source, l).await)
        } else {
            None
        };
        items.push(TestedItem {
            title: l.title.clone(),
            url: l.url.to_string(),
            guid: l.guid.clone(),
            published: l.published.map(|d| d.to_rfc3339()),
            article,
        });
    }
    Ok(SourceTest {
        source_id: source.id.clone(),
        url,
        final_url: page.url.to_string(),
        status: page.status,
        encoding: page.encoding.to_string(),
        bytes: page.bytes.len(),
        items,
    })
}

async fn test_article(
    fetcher: &Fetcher,
    poll: &crate::config::Poll,
    source: &Source,
    listed: &ListedItem,
) -> TestedArticle {
    let limits = extract::Limits::of(poll);
    let carries_body = listed
        .content
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty());
    let article = if source.article.is_some() || !carries_body {
        match fetch_page(fetcher, source, listed, poll.max_article).await {
            Ok(page) => extract::extract_article(source, &page, &limits)
                .map(Some)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        }
    } else {
        Ok(None)
    };
    let normalized = article
        .and_then(|a| normalize::normalize(source, listed, a.as_ref()).map_err(|e| e.to_string()));
    match normalized {
        Ok(item) => TestedArticle {
            title: item.title,
            origin: item.origin,
            published: item.published.map(|d| d.to_rfc3339()),
            text_chars: item.content_text.chars().count(),
            text_start: item.content_text.chars().take(120).collect(),
            error: None,
        },
        Err(e) => TestedArticle {
            title: listed.title.clone(),
            origin: String::new(),
            published: None,
            text_chars: 0,
            text_start: String::new(),
            error: Some(e),
        },
    }
}
