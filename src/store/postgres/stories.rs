//! Stories on PostgreSQL: [`StoryStore`] for [`PgStore`], and the two
//! steps every change of a story's membership ends with — opening a story
//! ([`open`]) and electing its primary item ([`refresh_primary`]) — for the
//! other PostgreSQL modules (items, the desk) to share. Part of the store
//! layer; the same rows, order and errors as the SQLite store's
//! `store::stories`, whose module doc says what a story is.
//!
//! Concurrency: the SQLite store serialises these writes with an
//! IMMEDIATE transaction (one writer per file). Here many processes share
//! the database, so every change of which items form which story takes
//! the transaction-scoped advisory lock [`STORY_LOCK`] first
//! ([`lock_stories`]): a split, a merge, a regrouping and the placement of
//! a new item cannot interleave, and a story cannot lose its last item to
//! one writer while another files a copy under it.

use chrono::Utc;
use postgres::GenericClient;

use super::PgStore;
use crate::model::Via;
use crate::store::{
    Status, StoreError, StoryDetail, StoryMember, StoryStore, StorySummary, parse_ts, same_outlet,
    ts,
};

/// Key of the advisory lock held, to the end of its transaction, by every
/// writer that changes which items a story holds ("kuaibst" in ASCII: the
/// items module's placement of a new item takes the same key).
pub(super) const STORY_LOCK: i64 = 0x006b_7561_6962_7374;

/// Waits for, then holds until `tx` ends, the lock of story membership.
pub(super) fn lock_stories(tx: &mut impl GenericClient) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STORY_LOCK])?;
    Ok(())
}

/// Opens a story for an item about to be inserted; its primary is set by
/// [`refresh_primary`] once the item exists. Call with [`STORY_LOCK`]
/// held: the uid is chosen by looking.
pub(super) fn open(tx: &mut impl GenericClient, uid: &str, now: &str) -> Result<i64, StoreError> {
    // A uid can be taken by a story an item was split from; the suffix
    // keeps ids unique and stable.
    let mut candidate = uid.to_string();
    let mut n = 1;
    while tx
        .query_opt("SELECT 1 FROM stories WHERE uid = $1", &[&candidate])?
        .is_some()
    {
        n += 1;
        candidate = format!("{uid}-{n}");
    }
    let row = tx.query_one(
        "INSERT INTO stories (uid, primary_item, created_at, updated_at) VALUES ($1, 0, $2, $2)
         RETURNING id",
        &[&candidate, &now],
    )?;
    Ok(row.try_get(0)?)
}

/// Recomputes the story's primary item; bumps the story's `updated_at`
/// when it changes (the feed entry's text changes with it). A story left
/// without items is deleted.
pub(super) fn refresh_primary(
    tx: &mut impl GenericClient,
    story_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    struct Member {
        id: i64,
        origin: String,
        outlet: String,
        date: String,
        first_seen: String,
    }
    let members: Vec<Member> = tx
        .query(
            "SELECT i.id, i.origin, COALESCE(s.name, i.source_id),
                    COALESCE(i.published_at, i.first_seen_at), i.first_seen_at
             FROM items i LEFT JOIN sources s ON s.id = i.source_id WHERE i.story_id = $1",
            &[&story_id],
        )?
        .iter()
        .map(|r| {
            Ok(Member {
                id: r.try_get(0)?,
                origin: r.try_get(1)?,
                outlet: r.try_get(2)?,
                date: r.try_get(3)?,
                first_seen: r.try_get(4)?,
            })
        })
        .collect::<Result<_, postgres::Error>>()?;
    // The SQLite store's ranking, to the letter (`store::stories`): named
    // as the origin by another copy beats naming itself, which beats being
    // first — a republisher's copy can be first seen (or dated) before the
    // original when kuaibao polls it first.
    let rank = |m: &Member| {
        let named_by_others = members
            .iter()
            .filter(|o| o.id != m.id && same_outlet(&o.origin, &m.outlet))
            .count();
        let own = same_outlet(&m.origin, &m.outlet);
        (
            named_by_others > 0,
            own,
            std::cmp::Reverse(parse_ts(&m.date)),
            std::cmp::Reverse(m.first_seen.clone()),
            std::cmp::Reverse(m.id),
        )
    };
    let Some(primary) = members.iter().max_by_key(|m| rank(m)) else {
        // Its last item left: the story is gone.
        tx.execute("DELETE FROM stories WHERE id = $1", &[&story_id])?;
        return Ok(());
    };
    tx.execute(
        "UPDATE stories SET primary_item = $2, updated_at = $3 WHERE id = $1 AND primary_item <> $2",
        &[&story_id, &primary.id, &now],
    )?;
    Ok(())
}

/// The story an item belongs to.
pub(super) fn story_of(db: &mut impl GenericClient, item_id: i64) -> Result<i64, StoreError> {
    match db.query_opt("SELECT story_id FROM items WHERE id = $1", &[&item_id])? {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(StoreError::NoSuchItem(item_id)),
    }
}

/// A story as `stories list` shows it, if it exists.
pub(super) fn story_summary(
    db: &mut impl GenericClient,
    id: i64,
) -> Result<Option<StorySummary>, StoreError> {
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

/// Every other outlet page that carried the story than the primary's own
/// page, once per outlet, in the order they were seen: a feed entry's
/// "via" (for the items module's feeds).
#[allow(dead_code)] // called by the feeds (ItemStore), ported separately
pub(super) fn story_via(
    db: &mut impl GenericClient,
    story_id: i64,
    primary_url: &str,
) -> Result<Vec<Via>, StoreError> {
    let rows = db.query(
        "SELECT COALESCE(s.name, l.source_id), l.url FROM items i
         JOIN item_links l ON l.item_id = i.id LEFT JOIN sources s ON s.id = l.source_id
         WHERE i.story_id = $1 AND l.url <> $2
         ORDER BY l.first_seen_at, l.source_id, l.url",
        &[&story_id, &primary_url],
    )?;
    let mut out: Vec<Via> = Vec::new();
    for r in rows {
        let outlet: String = r.try_get(0)?;
        let url: String = r.try_get(1)?;
        if !out.iter().any(|v| v.outlet == outlet) {
            out.push(Via { outlet, url });
        }
    }
    Ok(out)
}

impl StoryStore for PgStore {
    fn stories(&self, grouped: bool, limit: usize) -> Result<Vec<StorySummary>, StoreError> {
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
    }

    fn story(&self, id: i64) -> Result<StoryDetail, StoreError> {
        let mut db = self.db();
        let summary = story_summary(&mut *db, id)?.ok_or(StoreError::NoSuchStory(id))?;
        let rows = db.query(
            "SELECT i.id, i.title, i.source_id, COALESCE(s.name, i.source_id), i.origin, i.url,
                    i.published_at, i.first_seen_at
             FROM items i LEFT JOIN sources s ON s.id = i.source_id
             WHERE i.story_id = $1 ORDER BY i.id <> $2, COALESCE(i.published_at, i.first_seen_at), i.id",
            &[&id, &summary.primary_item],
        )?;
        let pages = db
            .prepare("SELECT url FROM item_links WHERE item_id = $1 ORDER BY first_seen_at, url")?;
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
    }

    fn story_of(&self, item_id: i64) -> Result<i64, StoreError> {
        story_of(&mut *self.db(), item_id)
    }

    fn split_item(&mut self, item_id: i64) -> Result<i64, StoreError> {
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
        let new_story = open(&mut tx, &uid, &now)?;
        tx.execute(
            "UPDATE items SET story_id = $2, updated_at = $3 WHERE id = $1",
            &[&item_id, &new_story, &now],
        )?;
        refresh_primary(&mut tx, new_story, &now)?;
        refresh_primary(&mut tx, story, &now)?;
        tx.commit()?;
        Ok(new_story)
    }

    fn merge_stories(&mut self, into: i64, from: i64) -> Result<(), StoreError> {
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
    }
}
