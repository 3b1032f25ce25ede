//! Stories on PostgreSQL: [`StoryStore`] for [`PgStore`], and the outlets
//! of a story, which the desk shows too ([`story_outlets`]). Part
//! of the store layer; the same rows, order and errors as the SQLite
//! store's `store::stories`, whose module doc says what a story is.
//!
//! Concurrency: the SQLite store serialises a split or a merge with an
//! IMMEDIATE transaction (one writer per file). Here many processes share
//! the database, so both take the story lock first, exclusively
//! (`shared::lock_stories`; saving an item takes it shared): a split, a
//! merge, a regrouping, a status change and the placement of a new item
//! cannot interleave, and a story cannot lose its last item to one writer
//! while another files a copy under it.

use chrono::Utc;
use postgres::GenericClient;

use super::PgStore;
use super::shared::{lock_stories, open_story, refresh_primary};
use crate::store::{Status, StoreError, StoryDetail, StoryMember, StoryStore, StorySummary, ts};

/// The story an item belongs to.
fn story_of(db: &mut impl GenericClient, item_id: i64) -> Result<i64, StoreError> {
    match db.query_opt("SELECT story_id FROM items WHERE id = $1", &[&item_id])? {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(StoreError::NoSuchItem(item_id)),
    }
}

/// A story as `stories list` shows it, if it exists.
fn story_summary(db: &mut impl GenericClient, id: i64) -> Result<Option<StorySummary>, StoreError> {
    let row = db.query_opt(
        "SELECT st.uid, COALESCE(p.bulletin_title, p.title), st.primary_item, p.status, p.section,
                p.published_at, (SELECT COUNT(*) FROM items i WHERE i.story_id = st.id)
         FROM stories st JOIN items p ON p.id = st.primary_item WHERE st.id = $1",
        &[&id],
    )?;
    let Some(r) = row else {
        return Ok(None);
    };
    let primary_item: i64 = r.try_get(2)?;
    Ok(Some(StorySummary {
        id,
        uid: r.try_get(0)?,
        title: r.try_get(1)?,
        primary_item,
        status: Status::parse(r.try_get::<_, &str>(3)?),
        section: r.try_get(4)?,
        published: r.try_get(5)?,
        items: r.try_get(6)?,
        outlets: story_outlets(db, id, primary_item)?,
    }))
}

/// Outlets (source names) that carried the story, the primary's first.
pub(super) fn story_outlets(
    db: &mut impl GenericClient,
    story_id: i64,
    primary: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = db.query(
        "SELECT COALESCE(s.name, l.source_id) FROM items i
         JOIN item_links l ON l.item_id = i.id LEFT JOIN sources s ON s.id = l.source_id
         WHERE i.story_id = $1
         ORDER BY i.id <> $2, l.first_seen_at, l.source_id",
        &[&story_id, &primary],
    )?;
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        let name: String = r.try_get(0)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

impl StoryStore for PgStore {
    fn stories(&self, grouped: bool, limit: usize) -> Result<Vec<StorySummary>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<StorySummary>, StoreError> {
            let mut db = self.db();
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let ids = db.query(
                "SELECT st.id FROM stories st JOIN items p ON p.id = st.primary_item
                 WHERE NOT $1 OR (SELECT COUNT(*) FROM items i WHERE i.story_id = st.id) > 1
                 ORDER BY COALESCE(p.published_at, p.first_seen_at) DESC, st.id DESC LIMIT $2",
                &[&grouped, &limit],
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for r in ids {
                // Read without a transaction, as on SQLite: a story removed
                // since the list was read is left out.
                if let Some(summary) = story_summary(&mut *db, r.try_get(0)?)? {
                    out.push(summary);
                }
            }
            Ok(out)
        })
    }

    fn story(&self, id: i64) -> Result<StoryDetail, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<StoryDetail, StoreError> {
            let mut db = self.db();
            let summary = story_summary(&mut *db, id)?.ok_or(StoreError::NoSuchStory(id))?;
            let rows = db.query(
                "SELECT i.id, i.title, i.source_id, COALESCE(s.name, i.source_id), i.origin, i.url,
                        i.published_at, i.first_seen_at
                 FROM items i LEFT JOIN sources s ON s.id = i.source_id
                 WHERE i.story_id = $1 ORDER BY i.id <> $2, COALESCE(i.published_at, i.first_seen_at), i.id",
                &[&id, &summary.primary_item],
            )?;
            let pages = db.prepare(
                "SELECT url FROM item_links WHERE item_id = $1 ORDER BY first_seen_at, url",
            )?;
            let mut members = Vec::with_capacity(rows.len());
            for r in rows {
                let member_id: i64 = r.try_get(0)?;
                let pages = db
                    .query(&pages, &[&member_id])?
                    .iter()
                    .map(|p| p.try_get(0))
                    .collect::<Result<_, _>>()?;
                members.push(StoryMember {
                    id: member_id,
                    title: r.try_get(1)?,
                    source_id: r.try_get(2)?,
                    source_name: r.try_get(3)?,
                    origin: r.try_get(4)?,
                    url: r.try_get(5)?,
                    published: r.try_get(6)?,
                    first_seen: r.try_get(7)?,
                    primary: member_id == summary.primary_item,
                    pages,
                });
            }
            Ok(StoryDetail { summary, members })
        })
    }

    fn story_of(&self, item_id: i64) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            story_of(&mut *self.db(), item_id)
        })
    }

    fn split_item(&mut self, item_id: i64) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            lock_stories(&mut tx)?;
            let story = story_of(&mut tx, item_id)?;
            let members: i64 = tx
                .query_one("SELECT COUNT(*) FROM items WHERE story_id = $1", &[&story])?
                .try_get(0)?;
            if members < 2 {
                return Err(StoreError::AloneInStory {
                    item: item_id,
                    story,
                });
            }
            let uid: String = tx
                .query_one("SELECT uid FROM items WHERE id = $1", &[&item_id])?
                .try_get(0)?;
            let now = ts(Utc::now());
            let new_story = open_story(&mut tx, &uid, &now)?;
            tx.execute(
                "UPDATE items SET story_id = $2, updated_at = $3 WHERE id = $1",
                &[&item_id, &new_story, &now],
            )?;
            refresh_primary(&mut tx, new_story, &now)?;
            refresh_primary(&mut tx, story, &now)?;
            tx.commit()?;
            Ok(new_story)
        })
    }

    fn merge_stories(&mut self, into: i64, from: i64) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            if into == from {
                return Err(StoreError::SameStory(into));
            }
            let mut db = self.db();
            let mut tx = db.transaction()?;
            lock_stories(&mut tx)?;
            let status_of = |tx: &mut postgres::Transaction<'_>, id: i64| match tx.query_opt(
                "SELECT p.status FROM stories st JOIN items p ON p.id = st.primary_item
                     WHERE st.id = $1",
                &[&id],
            )? {
                Some(r) => Ok(r.try_get::<_, String>(0)?),
                None => Err(StoreError::NoSuchStory(id)),
            };
            let status = status_of(&mut tx, into)?;
            status_of(&mut tx, from)?;
            let now = ts(Utc::now());
            tx.execute(
                "UPDATE items SET story_id = $1, status = $3, updated_at = $4 WHERE story_id = $2",
                &[&into, &from, &status, &now],
            )?;
            tx.execute("DELETE FROM stories WHERE id = $1", &[&from])?;
            refresh_primary(&mut tx, into, &now)?;
            tx.execute(
                "UPDATE stories SET updated_at = $2 WHERE id = $1",
                &[&into, &now],
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}
