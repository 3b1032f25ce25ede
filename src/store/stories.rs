//! Stories: one story carried by several outlets. Part of the store stage.
//!
//! Part of the store layer. A new item either joins the story of a stored
//! item it republishes (or is republished by), as the dedup stage decides
//! ([`crate::dedup::place`], asked by [`Store::save_item`]), or opens a
//! story of its own. The story's *primary* item — the
//! one published feeds show — is the original where it can be told: the
//! item other copies name as their `来源`, else one whose `来源` is its own
//! outlet, else the earliest. The story keeps the identity (`uid`) of the
//! item that opened it, so its feed entry id does not change as copies
//! arrive or the primary changes.
//!
//! Editors correct groupings with [`Store::split_item`] and
//! [`Store::merge_stories`]. Nothing regroups an item once stored (a
//! re-poll, an update of its text), so a correction stays.

use chrono::Utc;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::{SqliteStore, Status, StoreError, parse_ts, ts};
use crate::model::Via;

/// A story as `stories list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StorySummary {
    pub id: i64,
    /// Feed entry identity.
    pub uid: String,
    /// The primary item's title.
    pub title: String,
    pub primary_item: i64,
    pub status: Status,
    pub section: Option<String>,
    pub published: Option<String>,
    /// Items grouped in the story.
    pub items: i64,
    /// Every outlet that carried it (source names), primary's first.
    pub outlets: Vec<String>,
}

/// One item of a story, for `stories show`.
#[derive(Debug, Clone, Serialize)]
pub struct StoryMember {
    pub id: i64,
    pub title: String,
    pub source_id: String,
    pub source_name: String,
    pub origin: String,
    pub url: String,
    pub published: Option<String>,
    pub first_seen: String,
    pub primary: bool,
    /// Every page this item (the same text) was seen on.
    pub pages: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoryDetail {
    #[serde(flatten)]
    pub summary: StorySummary,
    pub members: Vec<StoryMember>,
}

/// Opens a story for an item about to be inserted; its primary is set by
/// [`refresh_primary`] once the item exists.
pub(super) fn open(tx: &rusqlite::Connection, uid: &str, now: &str) -> Result<i64, StoreError> {
    // A uid can be taken by a story an item was split from; the suffix
    // keeps ids unique and stable.
    let mut candidate = uid.to_string();
    let mut n = 1;
    while tx
        .prepare_cached("SELECT 1 FROM stories WHERE uid = ?1")?
        .query_row([&candidate], |_| Ok(()))
        .optional()?
        .is_some()
    {
        n += 1;
        candidate = format!("{uid}-{n}");
    }
    tx.prepare_cached(
        "INSERT INTO stories (uid, primary_item, created_at, updated_at) VALUES (?1, 0, ?2, ?2)",
    )?
    .execute(params![candidate, now])?;
    Ok(tx.last_insert_rowid())
}

/// A comparable form of an outlet's name: `江苏省人力资源和社会保障厅` and
/// `江苏省人社厅` are one outlet, as are `人社部` and `人力资源社会保障部`.
fn outlet_key(name: &str) -> String {
    let compact: String = name
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation() && !"（）()·《》".contains(*c))
        .collect();
    let compact = compact
        .replace("中华人民共和国", "")
        .replace("人力资源和社会保障", "人社")
        .replace("人力资源社会保障", "人社");
    match compact.as_str() {
        "新华网" | "新华社" | "新华通讯社" => "新华社".to_string(),
        "中国政府网" | "中央政府门户网站" | "中央人民政府" | "中央人民政府门户网站" | "国务院" => {
            "中国政府网".to_string()
        }
        "中国新闻网" | "中新网" | "中新社" | "中国新闻社" => {
            "中国新闻网".to_string()
        }
        "光明网" | "光明日报" => "光明网".to_string(),
        _ => compact,
    }
}

/// Whether two outlet names (a source's name, a `来源`) are one outlet.
pub fn same_outlet(a: &str, b: &str) -> bool {
    let (a, b) = (outlet_key(a), outlet_key(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b
        || (a.chars().count() >= 3 && b.contains(&a))
        || (b.chars().count() >= 3 && a.contains(&b))
}

/// Recomputes the story's primary item; bumps the story's `updated_at`
/// when it changes (the feed entry's text changes with it).
/// An item of a story, as the choice of its primary sees it.
pub(super) struct PrimaryCandidate {
    pub id: i64,
    /// The page's own 来源.
    pub origin: String,
    /// The outlet it was polled from.
    pub outlet: String,
    /// Published, else first seen.
    pub date: String,
    pub first_seen: String,
}

/// Which item a story shows: named as the origin by another copy beats
/// naming itself, which beats being first — a republisher's copy can be
/// first seen (or dated) before the original when kuaibao polls it first.
/// `None` for a story with no items left.
pub(super) fn choose_primary(members: &[PrimaryCandidate]) -> Option<i64> {
    let rank = |m: &PrimaryCandidate| {
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
    members.iter().max_by_key(|m| rank(m)).map(|m| m.id)
}

pub(super) fn refresh_primary(
    tx: &rusqlite::Connection,
    story_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    let members: Vec<PrimaryCandidate> = tx
        .prepare_cached(
            "SELECT i.id, i.origin, COALESCE(s.name, i.source_id),
                    COALESCE(i.published_at, i.first_seen_at), i.first_seen_at
             FROM items i LEFT JOIN sources s ON s.id = i.source_id WHERE i.story_id = ?1",
        )?
        .query_map([story_id], |r| {
            Ok(PrimaryCandidate {
                id: r.get(0)?,
                origin: r.get(1)?,
                outlet: r.get(2)?,
                date: r.get(3)?,
                first_seen: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let Some(primary) = choose_primary(&members) else {
        // Its last item left: the story is gone.
        tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?
            .execute([story_id])?;
        return Ok(());
    };
    tx.prepare_cached(
        "UPDATE stories SET primary_item = ?2, updated_at = ?3 WHERE id = ?1 AND primary_item <> ?2")?
        .execute(params![story_id, primary, now],
    )?;
    Ok(())
}

pub trait StoryStore {
    /// Stories, newest first; `grouped` = only those carried by more than
    /// one item.
    fn stories(&self, grouped: bool, limit: usize) -> Result<Vec<StorySummary>, StoreError>;

    /// A story with every item in it.
    fn story(&self, id: i64) -> Result<StoryDetail, StoreError>;

    /// The story an item belongs to.
    fn story_of(&self, item_id: i64) -> Result<i64, StoreError>;

    /// Takes an item out of its story into a story of its own; returns the
    /// new story's id. The story it left keeps its id and feed entry.
    fn split_item(&mut self, item_id: i64) -> Result<i64, StoreError>;

    /// Moves every item of story `from` into story `into`, which keeps its
    /// id, feed entry and review status (the moved items take it on).
    fn merge_stories(&mut self, into: i64, from: i64) -> Result<(), StoreError>;
}

impl StoryStore for SqliteStore {
    fn stories(&self, grouped: bool, limit: usize) -> Result<Vec<StorySummary>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT st.id FROM stories st JOIN items p ON p.id = st.primary_item
                 WHERE NOT ?1 OR (SELECT COUNT(*) FROM items i WHERE i.story_id = st.id) > 1
                 ORDER BY COALESCE(p.published_at, p.first_seen_at) DESC, st.id DESC LIMIT ?2",
            )?
            .query_map(params![grouped, limit as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|id| self.story_summary(id))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.into_iter().flatten().collect())
    }

    fn story(&self, id: i64) -> Result<StoryDetail, StoreError> {
        let summary = self.story_summary(id)?.ok_or(StoreError::NoSuchStory(id))?;
        let mut members: Vec<StoryMember> = self
            .conn
            .prepare_cached(
                "SELECT i.id, i.title, i.source_id, COALESCE(s.name, i.source_id), i.origin, i.url,
                        i.published_at, i.first_seen_at
                 FROM items i LEFT JOIN sources s ON s.id = i.source_id
                 WHERE i.story_id = ?1 ORDER BY i.id <> ?2, COALESCE(i.published_at, i.first_seen_at), i.id",
            )?
            .query_map(params![id, summary.primary_item], |r| {
                Ok(StoryMember {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    source_id: r.get(2)?,
                    source_name: r.get(3)?,
                    origin: r.get(4)?,
                    url: r.get(5)?,
                    published: r.get(6)?,
                    first_seen: r.get(7)?,
                    primary: false,
                    pages: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut pages = self.conn.prepare_cached(
            "SELECT url FROM item_links WHERE item_id = ?1 ORDER BY first_seen_at, url",
        )?;
        for m in &mut members {
            m.primary = m.id == summary.primary_item;
            m.pages = pages
                .query_map([m.id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
        }
        Ok(StoryDetail { summary, members })
    }

    fn story_of(&self, item_id: i64) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached("SELECT story_id FROM items WHERE id = ?1")?
            .query_row([item_id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoSuchItem(item_id))
    }

    fn split_item(&mut self, item_id: i64) -> Result<i64, StoreError> {
        let story = self.story_of(item_id)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let members: i64 = tx
            .prepare_cached("SELECT COUNT(*) FROM items WHERE story_id = ?1")?
            .query_row([story], |r| r.get(0))?;
        if members < 2 {
            return Err(StoreError::AloneInStory {
                item: item_id,
                story,
            });
        }
        let uid: String = tx
            .prepare_cached("SELECT uid FROM items WHERE id = ?1")?
            .query_row([item_id], |r| r.get(0))?;
        let now = ts(Utc::now());
        let new_story = open(&tx, &uid, &now)?;
        tx.prepare_cached("UPDATE items SET story_id = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![item_id, new_story, now])?;
        refresh_primary(&tx, new_story, &now)?;
        refresh_primary(&tx, story, &now)?;
        tx.commit()?;
        Ok(new_story)
    }

    fn merge_stories(&mut self, into: i64, from: i64) -> Result<(), StoreError> {
        if into == from {
            return Err(StoreError::SameStory(into));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status_of = |id: i64| -> Result<String, StoreError> {
            tx.prepare_cached(
                "SELECT p.status FROM stories st JOIN items p ON p.id = st.primary_item WHERE st.id = ?1")?
                .query_row([id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NoSuchStory(id))
        };
        let status = status_of(into)?;
        status_of(from)?;
        let now = ts(Utc::now());
        tx.prepare_cached(
            "UPDATE items SET story_id = ?1, status = ?3, updated_at = ?4 WHERE story_id = ?2",
        )?
        .execute(params![into, from, status, now])?;
        tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?
            .execute([from])?;
        refresh_primary(&tx, into, &now)?;
        tx.prepare_cached("UPDATE stories SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![into, now])?;
        tx.commit()?;
        Ok(())
    }
}

impl SqliteStore {
    fn story_summary(&self, id: i64) -> Result<Option<StorySummary>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT st.uid, COALESCE(p.bulletin_title, p.title), st.primary_item, p.status, p.section,
                        p.published_at, (SELECT COUNT(*) FROM items i WHERE i.story_id = st.id)
                 FROM stories st JOIN items p ON p.id = st.primary_item WHERE st.id = ?1",
            )?
            .query_row([id], |r| {
                Ok(StorySummary {
                    id,
                    uid: r.get(0)?,
                    title: r.get(1)?,
                    primary_item: r.get(2)?,
                    status: Status::parse(&r.get::<_, String>(3)?),
                    section: r.get(4)?,
                    published: r.get(5)?,
                    items: r.get(6)?,
                    outlets: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut summary) = row else {
            return Ok(None);
        };
        summary.outlets = self.story_outlets(id, summary.primary_item)?;
        Ok(Some(summary))
    }

    /// Outlets (source names) that carried the story, the primary's first.
    pub(crate) fn story_outlets(
        &self,
        story_id: i64,
        primary: i64,
    ) -> Result<Vec<String>, StoreError> {
        let names: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(s.name, l.source_id) FROM items i
                 JOIN item_links l ON l.item_id = i.id LEFT JOIN sources s ON s.id = l.source_id
                 WHERE i.story_id = ?1
                 ORDER BY i.id <> ?2, l.first_seen_at, l.source_id",
            )?
            .query_map(params![story_id, primary], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Every other outlet page that carried the story than the primary's
    /// own page, once per outlet, in the order they were seen.
    pub(crate) fn story_via(
        &self,
        story_id: i64,
        primary_url: &str,
    ) -> Result<Vec<Via>, StoreError> {
        let rows: Vec<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(s.name, l.source_id), l.url FROM items i
                 JOIN item_links l ON l.item_id = i.id LEFT JOIN sources s ON s.id = l.source_id
                 WHERE i.story_id = ?1 AND l.url <> ?2
                 ORDER BY l.first_seen_at, l.source_id, l.url",
            )?
            .query_map(params![story_id, primary_url], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut out: Vec<Via> = Vec::new();
        for (outlet, url) in rows {
            if !out.iter().any(|v| v.outlet == outlet) {
                out.push(Via { outlet, url });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlet_names_match_across_full_and_short_forms() {
        assert!(same_outlet("人社部", "人力资源社会保障部"));
        assert!(same_outlet("中华人民共和国人力资源和社会保障部", "人社部"));
        assert!(same_outlet("江苏省人力资源和社会保障厅", "江苏省人社厅"));
        assert!(same_outlet("新华网", "新华社"));
        assert!(!same_outlet("新华社", "人力资源社会保障部"));
        assert!(!same_outlet("", "新华社"));
    }
}
