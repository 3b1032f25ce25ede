//! Items and sources on PostgreSQL: [`ItemStore`] for [`PgStore`], the same
//! behaviour as SQLite's (`store/mod.rs`) statement for statement. Part of
//! the store layer: storing an item and placing it in a story, review,
//! feeds, sources' fetch state, HTTP validators, health.
//!
//! Where the backends differ it is because the database does:
//!
//! - writers: SQLite has one writer per file (`BEGIN IMMEDIATE`); here
//!   changing a story's status holds the stories' advisory lock across
//!   processes (`shared::lock_stories`), and saving an item holds it
//!   shared with locks on what the item could collide on
//!   (`shared::lock_for_saving`), so placement reads what a save that
//!   could have placed a near-duplicate committed, and unrelated saves run
//!   side by side;
//! - `data_version`: PostgreSQL has no `PRAGMA data_version`; a counter
//!   row, bumped once by every transaction that writes the data tables
//!   (deferred triggers, migration 3), stands in for it;
//! - `checkpoint` is the server's business, `path` is none, and
//!   `integrity_check` checks the stories' invariants rather than pages.

use ::postgres::{GenericClient, Transaction};
use chrono::{DateTime, FixedOffset, Utc};

use super::PgStore;
use super::dedup::{Lookup, save as save_fingerprint};
use super::shared::{
    lock_for_saving, lock_stories, lock_story, open_story, refresh_primary, story_via,
};
use crate::config::Source;
use crate::dedup::{ItemId, PreparedStory, StoredStories};
use crate::model::{FeedEntry, NewItem, Published, Validators};
use crate::store::save::{SaveSteps, store_item};
use crate::store::{
    Classification, Decision, FeedVersion, FetchOutcomeKind, FetchRecord, ItemStore, PlaceStory,
    ReviewItem, SourceState, Status, StoreCounts, StoreError, Stored, lifted, parse_ts, ts,
};
use crate::time::beijing;

impl ItemStore for PgStore {
    fn schema_version(&self) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(PgStore::schema_version(self)?)
        })
    }

    fn sync_sources(&mut self, sources: &[Source]) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            Ok(PgStore::sync_sources(self, sources)?)
        })
    }

    fn validators(&self, url: &str) -> Result<Validators, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Validators, StoreError> {
            let row = self.db().query_opt(
                "SELECT etag, last_modified FROM http_cache WHERE url = $1",
                &[&url],
            )?;
            Ok(match row {
                Some(r) => Validators {
                    etag: r.try_get(0)?,
                    last_modified: r.try_get(1)?,
                },
                None => Validators::default(),
            })
        })
    }

    fn set_validators(&mut self, url: &str, v: &Validators) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let mut db = self.db();
            if v.is_empty() {
                db.execute("DELETE FROM http_cache WHERE url = $1", &[&url])?;
            } else {
                db.execute(
                    "INSERT INTO http_cache (url, etag, last_modified, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
                     last_modified = excluded.last_modified, updated_at = excluded.updated_at",
                    &[&url, &v.etag, &v.last_modified, &ts(Utc::now())],
                )?;
            }
            Ok(())
        })
    }

    fn find_known(
        &self,
        source_id: &str,
        guid: Option<&str>,
        canonical_url: &str,
    ) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            find_known(&mut *self.db(), source_id, guid, canonical_url)
        })
    }

    fn save_item(
        &mut self,
        item: &NewItem,
        status: Status,
        story: &PreparedStory,
        place: &mut PlaceStory<'_>,
    ) -> Result<Stored, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Stored, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            // Before the first read: whether the item is known, and which story
            // it joins, must not change under us until the commit.
            lock_for_saving(&mut tx, item, story)?;
            let stored = store_item(&mut tx, item, status, Utc::now(), story, |tx| {
                placed_story(tx, place)
            })?;
            tx.commit()?;
            Ok(stored)
        })
    }

    fn record_fetch(&mut self, r: &FetchRecord<'_>) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            let started = ts(r.started_at);
            let duration_ms = i64::try_from(r.duration.as_millis()).unwrap_or(i64::MAX);
            let items_found = r.items_found.map(count);
            let items_new = r.items_new.map(count);
            tx.execute(
                "INSERT INTO fetch_log (source_id, url, started_at, duration_ms, outcome, items_found,
                                        items_new, error, limits)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &r.source_id,
                    &r.url,
                    &started,
                    &duration_ms,
                    &r.outcome.as_str(),
                    &items_found,
                    &items_new,
                    &r.error,
                    &r.limits,
                ],
            )?;
            tx.execute(
                "UPDATE sources SET last_limits = $2,
                 limited_passes = CASE WHEN $2::text IS NULL THEN 0 ELSE limited_passes + 1 END
                 WHERE id = $1",
                &[&r.source_id, &r.limits],
            )?;
            let next_due = ts(r.next_due_at);
            match r.outcome {
                FetchOutcomeKind::Failed => tx.execute(
                    "UPDATE sources SET last_attempt_at = $2, last_error = $3,
                     consecutive_failures = consecutive_failures + 1, next_due_at = $4 WHERE id = $1",
                    &[&r.source_id, &started, &r.error, &next_due],
                )?,
                FetchOutcomeKind::Ok | FetchOutcomeKind::NotModified => tx.execute(
                    "UPDATE sources SET last_attempt_at = $2, last_success_at = $2, last_error = NULL,
                     consecutive_failures = 0, next_due_at = $3,
                     last_item_count = COALESCE($4, last_item_count) WHERE id = $1",
                    &[&r.source_id, &started, &next_due, &items_found],
                )?,
            };
            tx.commit()?;
            Ok(())
        })
    }

    fn source_states(&self, ids: &[&str]) -> Result<Vec<SourceState>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<SourceState>, StoreError> {
            Ok(PgStore::source_states(self, ids)?)
        })
    }

    fn next_due(&self, source_id: &str) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        crate::store::postgres::outside_runtime(
            || -> Result<Option<DateTime<FixedOffset>>, StoreError> {
                Ok(PgStore::next_due(self, source_id)?)
            },
        )
    }

    fn consecutive_failures(&self, source_id: &str) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            let row = self.db().query_opt(
                "SELECT consecutive_failures FROM sources WHERE id = $1",
                &[&source_id],
            )?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => 0,
            })
        })
    }

    fn items_published_since(
        &self,
        source_id: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(self
                .db()
                .query_one(
                    "SELECT COUNT(*) FROM item_links l JOIN items i ON i.id = l.item_id
                     WHERE l.source_id = $1 AND COALESCE(i.published_at, l.first_seen_at) >= $2",
                    &[&source_id, &ts(since)],
                )?
                .try_get(0)?)
        })
    }

    fn last_item_count(&self, source_id: &str) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            let row = self.db().query_opt(
                "SELECT last_item_count FROM sources WHERE id = $1",
                &[&source_id],
            )?;
            Ok(match row {
                Some(r) => r.try_get(0)?,
                None => None,
            })
        })
    }

    fn review_items(
        &self,
        status: Option<Status>,
        limit: usize,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<ReviewItem>, StoreError> {
            query_review(
                &mut *self.db(),
                "JOIN items i ON i.id = st.primary_item WHERE ($1::text IS NULL OR i.status = $1)
                 ORDER BY COALESCE(i.published_at, i.first_seen_at) DESC, i.id DESC LIMIT $2",
                &[&status.map(Status::as_str), &count(limit)],
            )
        })
    }

    fn review_item(&self, id: i64) -> Result<ReviewItem, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<ReviewItem, StoreError> {
            query_review(
                &mut *self.db(),
                "JOIN items i ON i.story_id = st.id WHERE i.id = $1",
                &[&id],
            )?
            .pop()
            .ok_or(StoreError::NoSuchItem(id))
        })
    }

    fn item_text(&self, id: i64) -> Result<String, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<String, StoreError> {
            self.db()
                .query_opt("SELECT content_text FROM items WHERE id = $1", &[&id])?
                .map(|r| r.try_get(0))
                .transpose()?
                .ok_or(StoreError::NoSuchItem(id))
        })
    }

    fn set_status_by(
        &mut self,
        id: i64,
        status: Status,
        editor: Option<&str>,
    ) -> Result<Status, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Status, StoreError> {
            // The status and the decision it is are one transaction here (two
            // on SQLite): a decision is never recorded for a status that did
            // not commit, nor lost for one that did.
            let mut db = self.db();
            let mut tx = db.transaction()?;
            let old = write_status(&mut tx, id, status)?;
            if old != status
                && let Some(decision) = Decision::of_status(status)
            {
                record_decision(&mut tx, id, decision, editor)?;
            }
            tx.commit()?;
            Ok(old)
        })
    }

    fn restore_status(&mut self, id: i64, status: Status) -> Result<Status, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Status, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            let old = write_status(&mut tx, id, status)?;
            tx.commit()?;
            Ok(old)
        })
    }

    fn feed_entries(
        &self,
        publishing: Published,
        limit: Option<usize>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<FeedEntry>, StoreError> {
            publishable(&mut *self.db(), publishing, None, limit)
        })
    }

    fn feed_entries_in_month(
        &self,
        publishing: Published,
        month: &str,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<FeedEntry>, StoreError> {
            publishable(&mut *self.db(), publishing, Some(month), None)
        })
    }

    fn publishable_months(
        &self,
        publishing: Published,
    ) -> Result<Vec<(Option<String>, String)>, StoreError> {
        crate::store::postgres::outside_runtime(
            || -> Result<Vec<(Option<String>, String)>, StoreError> {
                // Sorted by section within a month too (SQLite leaves ties in the
                // order its DISTINCT found them: by section, NULL first).
                let rows = self.db().query(
                "SELECT DISTINCT p.section, substr(COALESCE(p.published_at, p.updated_at), 1, 7) AS month
                 FROM stories st JOIN items p ON p.id = st.primary_item
                 WHERE p.status = 'approved'
                    OR (p.status = 'candidate' AND COALESCE(p.relevance, 1) >= $1::float8)
                 ORDER BY month, p.section NULLS FIRST",
                &[&publishing.candidates_from()],
            )?;
                Ok(rows
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect::<Result<_, ::postgres::Error>>()?)
            },
        )
    }

    fn status_counts(&self) -> Result<Vec<(Status, i64)>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<(Status, i64)>, StoreError> {
            let rows = self.db().query(
                "SELECT status, COUNT(*) FROM items GROUP BY status ORDER BY status",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| Ok((Status::parse(r.try_get(0)?), r.try_get(1)?)))
                .collect::<Result<_, ::postgres::Error>>()?)
        })
    }

    /// Nothing to do: the write-ahead log is the server's, and its
    /// checkpointer copies it into the tables on its own schedule
    /// (`checkpoint_timeout`, `max_wal_size`). A client could only force
    /// one with `CHECKPOINT`, which needs a privileged role and would make
    /// every process sharing the server pay for the I/O.
    fn poll_only(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn checkpoint(&mut self) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> { Ok(()) })
    }

    /// PostgreSQL checks its own pages (checksums, WAL replay) and has no
    /// cheap whole-database check like `PRAGMA integrity_check`. This
    /// checks what kuaibao itself relies on, in one query over indexed
    /// columns: every item is in an existing story, every story's primary
    /// item is one of its own items, and every page link points at an
    /// item. "ok" as SQLite says it, else what is wrong.
    fn integrity_check(&self) -> Result<String, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<String, StoreError> {
            let r = self.db().query_one(
                "SELECT
                   (SELECT COUNT(*) FROM items i
                     WHERE NOT EXISTS (SELECT 1 FROM stories st WHERE st.id = i.story_id)),
                   (SELECT COUNT(*) FROM stories st
                     WHERE NOT EXISTS (SELECT 1 FROM items p
                                       WHERE p.id = st.primary_item AND p.story_id = st.id)),
                   (SELECT COUNT(*) FROM item_links l
                     WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = l.item_id))",
                &[],
            )?;
            let (no_story, bad_primary, dangling): (i64, i64, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let mut problems = Vec::new();
            if no_story > 0 {
                problems.push(format!("{no_story} items in no story"));
            }
            if bad_primary > 0 {
                problems.push(format!(
                    "{bad_primary} stories whose primary item is not theirs"
                ));
            }
            if dangling > 0 {
                problems.push(format!("{dangling} page links to no item"));
            }
            Ok(if problems.is_empty() {
                "ok".to_string()
            } else {
                problems.join("; ")
            })
        })
    }

    fn set_classification(&mut self, item_id: i64, c: &Classification) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            if write_classification(&mut tx, item_id, c)? == 0 {
                return Err(StoreError::NoSuchItem(item_id));
            }
            tx.execute(
                "UPDATE items SET updated_at = $2 WHERE id = $1",
                &[&item_id, &ts(Utc::now())],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn item_at(&self, url: &str) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            self.db()
                .query_opt(
                    "SELECT id FROM items WHERE url = $1
                     UNION ALL SELECT item_id FROM item_links WHERE url = $1 LIMIT 1",
                    &[&url],
                )?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(StoreError::from)
        })
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<StoreCounts, StoreError> {
            Ok(PgStore::counts(self)?)
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            Ok(PgStore::ping(self)?)
        })
    }

    /// The counter row of migration 3, bumped at the commit of every
    /// transaction that wrote a data table, from any connection. Unlike
    /// SQLite's `PRAGMA data_version` it also moves on this connection's
    /// own writes: a caller comparing it (the served documents' cheap
    /// check) then does the full check once more than it had to, never
    /// less.
    fn data_version(&self) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(self
                .db()
                .query_one("SELECT version FROM data_version WHERE id = 1", &[])?
                .try_get(0)?)
        })
    }

    fn feed_version(&self, publishing: Published) -> Result<FeedVersion, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<FeedVersion, StoreError> {
            let mut db = self.db();
            // SUM of BIGINT is NUMERIC in PostgreSQL; ids are far from
            // overflowing i64, as SQLite's integer sum assumes too.
            let r = db.query_one(
                "SELECT COUNT(*), COALESCE(MAX(updated_at), ''), COALESCE(SUM(id), 0)::bigint FROM items
                 WHERE status = 'approved'
                    OR (status = 'candidate' AND COALESCE(relevance, 1) >= $1::float8)",
                &[&publishing.candidates_from()],
            )?;
            let sources: String = db
                .query_one(
                    "SELECT COALESCE(string_agg(id || ' ' || name || ' ' || url, E'\\n' ORDER BY id), '')
                     FROM sources",
                    &[],
                )?
                .try_get(0)?;
            Ok(FeedVersion {
                count: r.try_get(0)?,
                max_updated: r.try_get(1)?,
                id_sum: r.try_get(2)?,
                sources,
            })
        })
    }

    fn path(&self) -> Option<std::path::PathBuf> {
        crate::store::postgres::outside_runtime(|| -> Option<std::path::PathBuf> { None })
    }
}

/// A count as the tables keep it.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn find_known(
    db: &mut impl GenericClient,
    source_id: &str,
    guid: Option<&str>,
    canonical_url: &str,
) -> Result<Option<i64>, StoreError> {
    if let Some(guid) = guid
        && let Some(r) = db.query_opt(
            "SELECT item_id FROM item_links WHERE source_id = $1 AND guid = $2",
            &[&source_id, &guid],
        )?
    {
        return Ok(Some(r.try_get(0)?));
    }
    let by_url = db.query_opt(
        "SELECT id FROM items WHERE canonical_url = $1
         UNION ALL SELECT item_id FROM item_links WHERE canonical_url = $1 LIMIT 1",
        &[&canonical_url],
    )?;
    Ok(by_url.map(|r| r.try_get(0)).transpose()?)
}

/// The steps of [`crate::store::save::store_item`] in PostgreSQL.
impl SaveSteps for Transaction<'_> {
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
        let tx = self;
        let published = item.published.map(ts);
        add_link(tx, id, item, now)?;
        // Only the page the item was first stored from may change its text:
        // another outlet's copy must not overwrite the original.
        let changed = tx.execute(
            "UPDATE items SET title = $2, content_html = $3, content_text = $4, content_hash = $5,
                    origin = $6, published_at = COALESCE($7, published_at), updated_at = $8
             WHERE id = $1 AND canonical_url = $9 AND source_id = $10
               AND (title <> $2 OR content_hash <> $5)",
            &[
                &id,
                &item.title,
                &item.content_html.as_str(),
                &item.content_text,
                &item.content_hash,
                &item.origin,
                &published,
                &now,
                &item.canonical_url,
                &item.source_id,
            ],
        )?;
        if changed == 0 {
            return Ok(Stored::Unchanged(id));
        }
        let story_id: i64 = tx
            .query_one("SELECT story_id FROM items WHERE id = $1", &[&id])?
            .try_get(0)?;
        // A copy being saved may be joining the story: take turns with it.
        lock_story(tx, story_id)?;
        reclassify(tx, id, item, status)?;
        // The story stays as it is (an editor may have corrected it); the
        // fingerprint follows the new text for copies still to come.
        save_fingerprint(tx, id, story.day, &story.fingerprint)?;
        refresh_primary(tx, story_id, now)?;
        tx.execute(
            "UPDATE stories SET updated_at = $2 WHERE id = $1",
            &[&story_id, &now],
        )?;
        Ok(Stored::Updated(id))
    }

    /// An item with the same text (id, source, story, status), this outlet's
    /// first.
    fn same_text(
        &mut self,
        item: &NewItem,
    ) -> Result<Option<(i64, String, i64, String)>, StoreError> {
        let tx = self;
        let row = tx.query_opt(
            // The repeated `<> ''` lets the planner use the partial index.
            "SELECT id, source_id, story_id, status FROM items
             WHERE content_hash = $1 AND content_hash <> ''
             ORDER BY source_id <> $2, id LIMIT 1",
            &[&item.content_hash, &item.source_id],
        )?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)),
            None => None,
        })
    }

    fn add_link(&mut self, item_id: i64, item: &NewItem, now: &str) -> Result<(), StoreError> {
        add_link(self, item_id, item, now)
    }

    /// The story a new item goes in and the status it gets: a copy joins its
    /// story (taking on its review state, lifted by [`lifted`] when no editor
    /// decided it), anything else opens one.
    fn join_or_open(
        &mut self,
        joins: Option<(i64, Status)>,
        own_status: Status,
        uid: &str,
        now: &str,
    ) -> Result<(i64, Status), StoreError> {
        let tx = self;
        Ok(match joins {
            Some((story, placed_status)) => {
                // Another save may have joined the story, and lifted its
                // status, since it was placed: read it again under its lock.
                let story_status = match lock_story(tx, story)? {
                    Some(s) => Status::parse(&s),
                    None => placed_status,
                };
                let status = lifted(story_status, own_status);
                if status != story_status {
                    tx.execute(
                        "UPDATE items SET status = $2 WHERE story_id = $1 AND status = $3",
                        &[&story, &status.as_str(), &story_status.as_str()],
                    )?;
                }
                (story, status)
            }
            None => (open_story(tx, uid, now)?, own_status),
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
        let tx = self;
        let published = item.published.map(ts);
        Ok(tx
            .query_one(
                "INSERT INTO items (uid, canonical_url, url, source_id, title, content_html,
                                    content_text, content_hash, origin, section, region, published_at,
                                    first_seen_at, updated_at, status, story_id, bulletin_title,
                                    relevance, explanation)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16,
                         $17, $18)
                 RETURNING id",
                &[
                    &uid,
                    &item.canonical_url,
                    &item.url,
                    &item.source_id,
                    &item.title,
                    &item.content_html.as_str(),
                    &item.content_text,
                    &item.content_hash,
                    &item.origin,
                    &item.section,
                    &item.region,
                    &published,
                    &now,
                    &status.as_str(),
                    &story_id,
                    &item.bulletin_title,
                    &item.relevance,
                    &item.explanation,
                ],
            )?
            .try_get(0)?)
    }

    fn save_fingerprint(
        &mut self,
        id: i64,
        day: i64,
        fp: &crate::dedup::Fingerprint,
    ) -> Result<(), StoreError> {
        save_fingerprint(self, id, day, fp)
    }

    fn refresh_primary(&mut self, story_id: i64, now: &str) -> Result<(), StoreError> {
        refresh_primary(self, story_id, now)
    }
}

/// New text, new classification — except what an editor set, and the
/// status of a story an editor already decided.
fn reclassify(
    tx: &mut Transaction<'_>,
    id: i64,
    item: &NewItem,
    status: Status,
) -> Result<(), StoreError> {
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
        tx.execute(
            "UPDATE items SET status = $2 WHERE id = $1 AND reviewed_at IS NULL
               AND status IN ('candidate', 'maybe', 'irrelevant')
               AND id = (SELECT primary_item FROM stories WHERE id = items.story_id)
               AND (SELECT COUNT(*) FROM items m WHERE m.story_id = items.story_id) = 1",
            &[&id, &status.as_str()],
        )?;
    }
    Ok(())
}

/// The story (and its status) of the item dedup's placement finds this one
/// a copy of, if any.
fn placed_story(
    tx: &mut Transaction<'_>,
    place: &mut PlaceStory<'_>,
) -> Result<Option<(i64, Status)>, StoreError> {
    let like: Option<ItemId> = {
        let mut lookup = Lookup { tx: &mut *tx };
        place(&mut lookup as &mut dyn StoredStories<Error = StoreError>)?
    };
    let Some(like) = like else {
        return Ok(None);
    };
    let row = tx.query_opt("SELECT story_id, status FROM items WHERE id = $1", &[&like])?;
    Ok(match row {
        Some(r) => Some((r.try_get(0)?, Status::parse(r.try_get(1)?))),
        None => None,
    })
}

/// Writes a classification, leaving what an editor set alone; how many
/// items it wrote (0: no such item).
fn write_classification(
    db: &mut impl GenericClient,
    id: i64,
    c: &Classification,
) -> Result<u64, StoreError> {
    Ok(db.execute(
        "UPDATE items SET relevance = $2, explanation = $3,
                section = CASE WHEN section_fixed <> 0 THEN section ELSE COALESCE($4, section) END,
                region = CASE WHEN section_fixed <> 0 THEN region ELSE COALESCE($5, region) END,
                bulletin_title = CASE WHEN title_fixed <> 0 THEN bulletin_title ELSE $6 END
         WHERE id = $1",
        &[
            &id,
            &c.relevance,
            &c.explanation,
            &c.section,
            &c.region,
            &c.bulletin_title,
        ],
    )?)
}

fn add_link(
    tx: &mut Transaction<'_>,
    item_id: i64,
    item: &NewItem,
    now: &str,
) -> Result<(), StoreError> {
    // A guid already claimed by another link of this source keeps its first
    // page; the new page is still recorded, without the guid.
    let guid_taken = match &item.guid {
        Some(g) => tx
            .query_opt(
                "SELECT 1 FROM item_links WHERE source_id = $1 AND guid = $2 AND canonical_url <> $3",
                &[&item.source_id, g, &item.canonical_url],
            )?
            .is_some(),
        None => false,
    };
    let guid = if guid_taken {
        None
    } else {
        item.guid.as_deref()
    };
    tx.execute(
        "INSERT INTO item_links (item_id, source_id, guid, url, canonical_url, first_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (source_id, canonical_url) DO NOTHING",
        &[
            &item_id,
            &item.source_id,
            &guid,
            &item.url,
            &item.canonical_url,
            &now,
        ],
    )?;
    Ok(())
}

/// Sets the status of the item's story (every item of it); returns the
/// status the item had. Under `lock_stories`, so that a copy being saved
/// at the same moment joins the story with the status before or after
/// this change, never a mix.
fn write_status(tx: &mut Transaction<'_>, id: i64, status: Status) -> Result<Status, StoreError> {
    lock_stories(tx)?;
    let old: String = tx
        .query_opt("SELECT status FROM items WHERE id = $1", &[&id])?
        .ok_or(StoreError::NoSuchItem(id))?
        .try_get(0)?;
    let old = Status::parse(&old);
    if old != status {
        let now = ts(Utc::now());
        tx.execute(
            "UPDATE items SET status = $2, reviewed_at = $3, updated_at = $3
             WHERE story_id = (SELECT story_id FROM items WHERE id = $1)",
            &[&id, &status.as_str(), &now],
        )?;
    }
    Ok(old)
}

/// Records an editor's decision on the item's story, on its primary item
/// (the text the editor read), as `DecisionStore::record_decision` does.
fn record_decision(
    tx: &mut Transaction<'_>,
    item_id: i64,
    decision: Decision,
    editor: Option<&str>,
) -> Result<(), StoreError> {
    let primary: i64 = tx
        .query_opt(
            "SELECT st.primary_item FROM items i JOIN stories st ON st.id = i.story_id
             WHERE i.id = $1",
            &[&item_id],
        )?
        .ok_or(StoreError::NoSuchItem(item_id))?
        .try_get(0)?;
    tx.execute(
        "INSERT INTO decisions (item_id, at, action, section, editor)
         VALUES ($1, $2, $3, (SELECT section FROM items WHERE id = $1), $4)",
        &[&primary, &ts(Utc::now()), &decision.as_str(), &editor],
    )?;
    Ok(())
}

/// Review rows: `tail` joins `items i` to `stories st` and filters.
fn query_review(
    db: &mut impl GenericClient,
    tail: &str,
    params: &[&(dyn ::postgres::types::ToSql + Sync)],
) -> Result<Vec<ReviewItem>, StoreError> {
    let rows = db.query(
        &format!(
            "SELECT i.id, i.title, i.origin, i.url, i.section, i.published_at, i.status, i.source_id,
                    st.id, (SELECT COUNT(*) FROM items m WHERE m.story_id = st.id),
                    i.bulletin_title, i.relevance, i.explanation
             FROM stories st {tail}"
        ),
        params,
    )?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let title: String = r.try_get(1)?;
        let bulletin_title: Option<String> = r.try_get(10)?;
        let explanation: Option<String> = r.try_get(12)?;
        items.push(ReviewItem {
            id: r.try_get(0)?,
            origin: r.try_get(2)?,
            url: r.try_get(3)?,
            section: r.try_get(4)?,
            published: r.try_get(5)?,
            status: Status::parse(r.try_get(6)?),
            source_id: r.try_get(7)?,
            story_id: r.try_get(8)?,
            story_items: r.try_get(9)?,
            seen_on: Vec::new(),
            bulletin_title: bulletin_title.filter(|t| t != &title),
            relevance: r.try_get(11)?,
            explanation: explanation.and_then(|e| serde_json::from_str(&e).ok()),
            title,
        });
    }
    let links = db.prepare(
        "SELECT l.url FROM items i JOIN item_links l ON l.item_id = i.id WHERE i.story_id = $1
         ORDER BY i.id <> $2, l.first_seen_at, l.url",
    )?;
    for item in &mut items {
        item.seen_on = db
            .query(&links, &[&item.story_id, &item.id])?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    }
    Ok(items)
}

/// The entries to publish, one per story (its primary item, under the
/// story's identity), newest first; `month` (`YYYY-MM`) keeps one month.
fn publishable(
    db: &mut impl GenericClient,
    publishing: Published,
    month: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<FeedEntry>, StoreError> {
    // Timestamps are stored in Beijing time, so their first seven
    // characters are the month an editor would file them under. GREATEST is
    // SQLite's two-argument MAX (no argument here is ever NULL).
    let rows = db.query(
        "SELECT st.uid, COALESCE(i.bulletin_title, i.title), i.url, i.content_html, i.origin,
                COALESCE(s.name, i.source_id), COALESCE(s.url, ''), i.section, i.published_at,
                GREATEST(i.updated_at, st.updated_at), st.id,
                CASE WHEN i.bulletin_title IS NOT NULL AND i.bulletin_title <> i.title THEN i.title END,
                GREATEST((SELECT MAX(COALESCE(m.published_at, m.first_seen_at))
                            FROM items m WHERE m.story_id = st.id),
                         CASE WHEN st.updated_at > st.created_at THEN st.updated_at ELSE '' END)
         FROM stories st JOIN items i ON i.id = st.primary_item
         LEFT JOIN sources s ON s.id = i.source_id
         WHERE (i.status = 'approved'
                OR (i.status = 'candidate' AND COALESCE(i.relevance, 1) >= $1::float8))
           AND ($2::text IS NULL OR substr(COALESCE(i.published_at, i.updated_at), 1, 7) = $2)
         ORDER BY COALESCE(i.published_at, i.first_seen_at) DESC, st.uid
         LIMIT $3",
        // LIMIT NULL is PostgreSQL's "no limit".
        &[&publishing.candidates_from(), &month, &limit.map(count)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let published: Option<String> = r.try_get(8)?;
        let changed: String = r.try_get(9)?;
        let story: i64 = r.try_get(10)?;
        // The entry's date: the newest article of its story (a copy
        // joining it is a change), or the story's last change when later;
        // a story's `updated_at` moves past its `created_at` only on a
        // change readers see (new text, regrouping), never on a decision.
        let updated: String = r.try_get(12)?;
        let changed = parse_ts(&changed).unwrap_or_else(|| Utc::now().with_timezone(&beijing()));
        let url: String = r.try_get(2)?;
        let via = story_via(db, story, &url)?;
        out.push(FeedEntry {
            uid: r.try_get(0)?,
            title: r.try_get(1)?,
            url,
            content_html: r.try_get(3)?,
            origin: r.try_get(4)?,
            source_name: r.try_get(5)?,
            source_url: r.try_get(6)?,
            section: r.try_get(7)?,
            published: published.as_deref().and_then(parse_ts),
            updated: parse_ts(&updated).unwrap_or(changed),
            changed,
            original_title: r.try_get(11)?,
            via,
        });
    }
    Ok(out)
}
