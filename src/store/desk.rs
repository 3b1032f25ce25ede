//! The editors' desk's view of the store (store layer): what `kuaibao serve`'s `/desk/`
//! pages list and the corrections they write. This is the review step
//! between store and publish: candidates are filtered, searched and paged
//! here, and an editor's section and title fixes land on the story's
//! primary item, the one the feeds show.
//!
//! Search uses `items_fts` (FTS5, trigram tokenizer), which matches any
//! substring of three or more characters — what Chinese text needs, as it
//! has no spaces between words. Shorter terms fall back to `LIKE`. New
//! items join the index in batches ([`Store::index_search_text`]), not as
//! they are stored.

use chrono::{TimeDelta, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};
use serde::Serialize;

use super::stories::{open, refresh_primary};
use super::{SqliteStore, Status, StoreError, parse_ts, ts};

/// Which part of the queue to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionFilter {
    /// Filed under this section.
    Section(String),
    /// Filed under no configured section.
    Unfiled,
}

/// The desk's filters; an empty query lists every story.
#[derive(Debug, Clone, Default)]
pub struct DeskQuery {
    /// None: every status.
    pub status: Option<Status>,
    pub section: Option<SectionFilter>,
    /// Stories carried by this source (any of their copies).
    pub source: Option<String>,
    /// `YYYY-MM-DD`, inclusive, on the publication date (Beijing time) or,
    /// without one, the day kuaibao first saw the item.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Words that must all occur in a copy's title, bulletin title or text.
    pub text: Option<String>,
    /// The configured section ids in bulletin order: the order of the
    /// groups, and what counts as filed.
    pub sections: Vec<String>,
    pub limit: usize,
    pub offset: usize,
}

/// One story as the desk shows it, under its primary item.
#[derive(Debug, Clone, Serialize)]
pub struct DeskItem {
    pub id: i64,
    pub story_id: i64,
    /// The outlet's title.
    pub title: String,
    /// The bulletin's title, when one is set.
    pub bulletin_title: Option<String>,
    pub origin: String,
    pub url: String,
    pub section: Option<String>,
    pub published: Option<String>,
    pub first_seen: String,
    pub status: Status,
    pub source_id: String,
    pub source_name: String,
    pub relevance: Option<f64>,
    pub explanation: Option<serde_json::Value>,
    /// The body's first paragraph, at most [`FIRST_PARAGRAPH_CHARS`].
    pub first_paragraph: String,
    /// Sanitized when stored; too big for the JSON answers.
    #[serde(skip)]
    pub content_html: crate::model::SanitizedHtml,
    /// Items grouped in the story.
    pub story_items: i64,
    /// Outlets that carried the story, the primary's first.
    pub outlets: Vec<String>,
    /// Every item of the story when it has more than one (for splitting).
    pub members: Vec<DeskMember>,
    pub section_fixed: bool,
    pub title_fixed: bool,
}

/// One copy of a story with several.
#[derive(Debug, Clone, Serialize)]
pub struct DeskMember {
    pub id: i64,
    pub source_name: String,
    pub title: String,
    pub url: String,
    pub primary: bool,
}

/// One page of the queue.
#[derive(Debug, Clone, Default)]
pub struct DeskPage {
    pub items: Vec<DeskItem>,
    /// Stories matching the filters, on every page.
    pub total: i64,
    /// Matching stories per group, in group order: a configured section id,
    /// or None for the unfiled.
    pub groups: Vec<(Option<String>, i64)>,
}

/// A first paragraph longer than this is cut (with `…`).
pub const FIRST_PARAGRAPH_CHARS: usize = 160;

/// Search terms shorter than this many characters cannot use the trigram
/// index.
const TRIGRAM: usize = 3;

/// The group a row falls in: the section's place in bulletin order, or the
/// number of sections (last) for an unfiled item. `?1` is the section ids
/// as a JSON array.
const GROUP: &str = "COALESCE((SELECT CAST(j.key AS INTEGER) FROM json_each(?1) j WHERE j.value = i.section), json_array_length(?1))";

const FROM: &str = "FROM stories st JOIN items i ON i.id = st.primary_item";

/// SQL conditions and their parameters, numbered after the section list.
struct Filter {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl Filter {
    fn new(sections: &[String]) -> Filter {
        let json = serde_json::to_string(sections).unwrap_or_else(|_| "[]".into());
        Filter {
            conditions: Vec::new(),
            params: vec![Value::Text(json)],
        }
    }

    /// The placeholder for a new parameter.
    fn bind(&mut self, v: Value) -> String {
        self.params.push(v);
        format!("?{}", self.params.len())
    }

    fn add(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            "1".into()
        } else {
            self.conditions.join(" AND ")
        }
    }

    fn build(q: &DeskQuery) -> Filter {
        let mut f = Filter::new(&q.sections);
        if let Some(status) = q.status {
            let p = f.bind(Value::Text(status.as_str().into()));
            f.add(format!("i.status = {p}"));
        }
        match &q.section {
            Some(SectionFilter::Section(id)) => {
                let p = f.bind(Value::Text(id.clone()));
                f.add(format!("i.section = {p}"));
            }
            Some(SectionFilter::Unfiled) => f.add(
                "(i.section IS NULL OR i.section NOT IN (SELECT value FROM json_each(?1)))".into(),
            ),
            None => {}
        }
        if let Some(source) = &q.source {
            let p = f.bind(Value::Text(source.clone()));
            f.add(format!(
                "EXISTS (SELECT 1 FROM items m JOIN item_links l ON l.item_id = m.id
                         WHERE m.story_id = st.id AND l.source_id = {p})"
            ));
        }
        // Stored times are RFC 3339 in Beijing time: the first ten
        // characters are the editor's calendar day.
        let day = "substr(COALESCE(i.published_at, i.first_seen_at), 1, 10)";
        if let Some(from) = &q.from {
            let p = f.bind(Value::Text(from.clone()));
            f.add(format!("{day} >= {p}"));
        }
        if let Some(to) = &q.to {
            let p = f.bind(Value::Text(to.clone()));
            f.add(format!("{day} <= {p}"));
        }
        if let Some(text) = &q.text {
            let mut phrases = Vec::new();
            for term in text.split_whitespace() {
                if term.chars().count() >= TRIGRAM {
                    // An FTS5 string: only `"` needs escaping (doubled).
                    phrases.push(format!("\"{}\"", term.replace('"', "\"\"")));
                } else {
                    let like = format!("%{}%", escape_like(term));
                    let p = f.bind(Value::Text(like));
                    f.add(format!(
                        "EXISTS (SELECT 1 FROM items m WHERE m.story_id = st.id AND
                             (m.title LIKE {p} ESCAPE '\\' OR COALESCE(m.bulletin_title, '') LIKE {p} ESCAPE '\\'
                              OR m.content_text LIKE {p} ESCAPE '\\'))"
                    ));
                }
            }
            if !phrases.is_empty() {
                let p = f.bind(Value::Text(phrases.join(" AND ")));
                // Any copy of the story may hold the words: outlets retitle
                // and cut.
                f.add(format!(
                    "st.id IN (SELECT m.story_id FROM items_fts JOIN items m ON m.id = items_fts.rowid
                               WHERE items_fts MATCH {p})"
                ));
            }
        }
        f
    }
}

fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first non-empty line of a body's text (paragraphs are lines),
/// cut to [`FIRST_PARAGRAPH_CHARS`].
fn first_paragraph(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    let line = line.unwrap_or_default();
    if line.chars().count() > FIRST_PARAGRAPH_CHARS {
        let mut cut: String = line.chars().take(FIRST_PARAGRAPH_CHARS).collect();
        cut.push('…');
        cut
    } else {
        line.to_string()
    }
}

/// `updated_at` for an editor's change: now, but always later than every
/// stored `updated_at`. The served feeds notice changes by the latest
/// `updated_at` (see `serve::cache`), which is kept to the second: a move
/// in the same second as the approval before it would otherwise go unseen.
fn bumped_now(tx: &Transaction<'_>) -> Result<String, StoreError> {
    let latest: Option<String> = tx
        .prepare_cached("SELECT MAX(updated_at) FROM items")?
        .query_row([], |r| r.get(0))?;
    let now = Utc::now();
    let after_latest = latest
        .as_deref()
        .and_then(parse_ts)
        .map(|t| t.with_timezone(&Utc) + TimeDelta::seconds(1));
    Ok(ts(match after_latest {
        Some(t) if t > now => t,
        _ => now,
    }))
}

/// The primary item of the story `item_id` belongs to.
fn primary_of(tx: &Transaction<'_>, item_id: i64) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "SELECT st.primary_item FROM items i JOIN stories st ON st.id = i.story_id WHERE i.id = ?1",
    )?
    .query_row([item_id], |r| r.get(0))
    .optional()?
    .ok_or(StoreError::NoSuchItem(item_id))
}

pub trait DeskStore {
    /// Adds items stored since the last call to the search index, at most
    /// `limit` of them (all when `None`), in one transaction; returns how
    /// many.
    fn index_search_text(&mut self, limit: Option<usize>) -> Result<usize, StoreError>;

    /// One page of the desk's queue: stories grouped by their section in
    /// bulletin order (unfiled last), most relevant first within a group,
    /// then newest.
    fn desk_items(&mut self, q: &DeskQuery) -> Result<DeskPage, StoreError>;

    /// The story `item_id` belongs to, as the desk shows it (under its
    /// primary item, whichever copy `item_id` is).
    fn desk_item(&self, item_id: i64) -> Result<Option<DeskItem>, StoreError>;

    /// Files the story of `item_id` under `section` (None: no section) and
    /// keeps the classifier from re-filing it; returns the section it had.
    /// Applies to the story's primary item, which the feeds file. A
    /// bulletin title no editor set follows the move: `retitle(title,
    /// section, region)` gives the new one (None: the outlet's title), as
    /// [`crate::classify::filed_title`] does.
    fn set_section(
        &mut self,
        item_id: i64,
        section: Option<&str>,
        retitle: &super::Retitle,
    ) -> Result<Option<String>, StoreError>;

    /// Sets the bulletin's title of the story of `item_id` (None or blank:
    /// the outlet's own title again) and keeps the classifier from
    /// rewriting it; returns the bulletin title it had.
    fn set_bulletin_title(
        &mut self,
        item_id: i64,
        title: Option<&str>,
    ) -> Result<Option<String>, StoreError>;

    /// Puts `items` (ids of one or more stories) together into a new story
    /// of their own with `status`: what undoing a merge needs. The story
    /// takes the identity of the first item, so a merge undone soon gets
    /// its old feed entry id back. Returns the new story's id.
    fn regroup_items(&mut self, items: &[i64], status: Status) -> Result<i64, StoreError>;

    /// The ids of a story's items.
    fn story_item_ids(&self, story: i64) -> Result<Vec<i64>, StoreError>;
}

impl DeskStore for SqliteStore {
    fn index_search_text(&mut self, limit: Option<usize>) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let upto: i64 = tx
            .prepare_cached("SELECT indexed_upto FROM search_index_state WHERE id = 1")?
            .query_row([], |r| r.get(0))?;
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let (count, last): (i64, Option<i64>) = tx.prepare_cached(
            "SELECT COUNT(*), MAX(id) FROM (SELECT id FROM items WHERE id > ?1 ORDER BY id LIMIT ?2)")?
            .query_row(params![upto, limit],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some(last) = last else {
            return Ok(0);
        };
        tx.prepare_cached(
            "INSERT INTO items_fts (rowid, title, bulletin_title, content_text)
             SELECT id, title, bulletin_title, content_text FROM items WHERE id > ?1 AND id <= ?2",
        )?
        .execute(params![upto, last])?;
        tx.prepare_cached("UPDATE search_index_state SET indexed_upto = ?1 WHERE id = 1")?
            .execute([last])?;
        tx.commit()?;
        Ok(count as usize)
    }

    fn desk_items(&mut self, q: &DeskQuery) -> Result<DeskPage, StoreError> {
        if q.text.as_deref().is_some_and(|t| !t.trim().is_empty()) {
            // A search sees every stored item, also those not yet indexed.
            self.index_search_text(None)?;
        }
        let f = Filter::build(q);
        let wh = f.sql();
        let mut groups = Vec::new();
        let mut total = 0;
        {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT grp, COUNT(*) FROM (SELECT {GROUP} AS grp {FROM} WHERE {wh})
                 GROUP BY grp ORDER BY grp"
            ))?;
            let rows = stmt.query_map(params_from_iter(f.params.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (grp, n) = row?;
                total += n;
                let section = usize::try_from(grp)
                    .ok()
                    .and_then(|g| q.sections.get(g))
                    .cloned();
                groups.push((section, n));
            }
        }
        // The page's ids first, then each row: sorting whole rows would
        // drag every matching body through the sorter.
        let mut params = f.params.clone();
        params.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        params.push(Value::Integer(i64::try_from(q.offset).unwrap_or(i64::MAX)));
        let n = params.len();
        let ids: Vec<i64> = self
            .conn
            .prepare(&format!(
                "SELECT st.id {FROM} WHERE {wh}
                 ORDER BY {GROUP}, i.relevance IS NULL, i.relevance DESC,
                          COALESCE(i.published_at, i.first_seen_at) DESC, i.id DESC
                 LIMIT ?{} OFFSET ?{n}",
                n - 1
            ))?
            .query_map(params_from_iter(params.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut items = Vec::with_capacity(ids.len());
        for story in ids {
            if let Some(item) = self.desk_story(story)? {
                items.push(item);
            }
        }
        Ok(DeskPage {
            items,
            total,
            groups,
        })
    }

    fn desk_item(&self, item_id: i64) -> Result<Option<DeskItem>, StoreError> {
        let story: Option<i64> = self
            .conn
            .prepare_cached("SELECT story_id FROM items WHERE id = ?1")?
            .query_row([item_id], |r| r.get(0))
            .optional()?;
        match story {
            Some(story) => self.desk_story(story),
            None => Ok(None),
        }
    }

    fn set_section(
        &mut self,
        item_id: i64,
        section: Option<&str>,
        retitle: &super::Retitle,
    ) -> Result<Option<String>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let primary = primary_of(&tx, item_id)?;
        let old: Option<String> = tx
            .prepare_cached("SELECT section FROM items WHERE id = ?1")?
            .query_row([primary], |r| r.get(0))?;
        if old.as_deref() != section {
            let now = bumped_now(&tx)?;
            tx.prepare_cached(
                "UPDATE items SET section = ?2, section_fixed = 1, updated_at = ?3 WHERE id = ?1",
            )?
            .execute(params![primary, section, now])?;
            let (title, region, fixed): (String, Option<String>, bool) = tx
                .prepare_cached("SELECT title, region, title_fixed FROM items WHERE id = ?1")?
                .query_row([primary], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            if !fixed {
                let bulletin = retitle(&title, section, region.as_deref()).filter(|b| *b != title);
                tx.prepare_cached("UPDATE items SET bulletin_title = ?2 WHERE id = ?1")?
                    .execute(params![primary, bulletin])?;
            }
        } else {
            tx.prepare_cached("UPDATE items SET section_fixed = 1 WHERE id = ?1")?
                .execute([primary])?;
        }
        tx.commit()?;
        Ok(old)
    }

    fn set_bulletin_title(
        &mut self,
        item_id: i64,
        title: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let title = title.map(str::trim).filter(|t| !t.is_empty());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let primary = primary_of(&tx, item_id)?;
        let old: Option<String> = tx
            .prepare_cached("SELECT bulletin_title FROM items WHERE id = ?1")?
            .query_row([primary], |r| r.get(0))?;
        if old.as_deref() != title {
            let now = bumped_now(&tx)?;
            tx.prepare_cached(
                "UPDATE items SET bulletin_title = ?2, title_fixed = 1, updated_at = ?3 WHERE id = ?1")?
                .execute(params![primary, title, now],
            )?;
        } else {
            tx.prepare_cached("UPDATE items SET title_fixed = 1 WHERE id = ?1")?
                .execute([primary])?;
        }
        tx.commit()?;
        Ok(old)
    }

    fn regroup_items(&mut self, items: &[i64], status: Status) -> Result<i64, StoreError> {
        let Some(&first) = items.first() else {
            return Err(StoreError::NoSuchItem(0));
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let uid: String = tx
            .prepare_cached("SELECT uid FROM items WHERE id = ?1")?
            .query_row([first], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoSuchItem(first))?;
        let now = bumped_now(&tx)?;
        let story = open(&tx, &uid, &now)?;
        let mut left = Vec::new();
        for &id in items {
            let from: i64 = tx
                .prepare_cached("SELECT story_id FROM items WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?
                .ok_or(StoreError::NoSuchItem(id))?;
            tx.prepare_cached(
                "UPDATE items SET story_id = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
            )?
            .execute(params![id, story, status.as_str(), now])?;
            if !left.contains(&from) {
                left.push(from);
            }
        }
        refresh_primary(&tx, story, &now)?;
        for from in left {
            refresh_primary(&tx, from, &now)?;
            tx.prepare_cached("UPDATE stories SET updated_at = ?2 WHERE id = ?1")?
                .execute(params![from, now])?;
        }
        tx.commit()?;
        Ok(story)
    }

    fn story_item_ids(&self, story: i64) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM items WHERE story_id = ?1 ORDER BY id")?
            .query_map([story], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }
}

impl SqliteStore {
    fn desk_story(&self, story: i64) -> Result<Option<DeskItem>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT i.id, i.title, i.bulletin_title, i.origin, i.url, i.section, i.published_at,
                        i.first_seen_at, i.status, i.source_id, COALESCE(s.name, i.source_id),
                        i.relevance, i.explanation, substr(i.content_text, 1, 400), i.content_html,
                        (SELECT COUNT(*) FROM items m WHERE m.story_id = st.id),
                        i.section_fixed, i.title_fixed
                 FROM stories st JOIN items i ON i.id = st.primary_item
                 LEFT JOIN sources s ON s.id = i.source_id WHERE st.id = ?1",
            )?
            .query_row([story], |r| {
                Ok(DeskItem {
                    id: r.get(0)?,
                    story_id: story,
                    title: r.get(1)?,
                    bulletin_title: r.get(2)?,
                    origin: r.get(3)?,
                    url: r.get(4)?,
                    section: r.get(5)?,
                    published: r.get(6)?,
                    first_seen: r.get(7)?,
                    status: Status::parse(&r.get::<_, String>(8)?),
                    source_id: r.get(9)?,
                    source_name: r.get(10)?,
                    relevance: r.get(11)?,
                    // Written by the classifier; text that is not JSON is
                    // shown as none rather than failing the page.
                    explanation: r
                        .get::<_, Option<String>>(12)?
                        .and_then(|e| serde_json::from_str(&e).ok()),
                    first_paragraph: first_paragraph(&r.get::<_, String>(13)?),
                    content_html: r.get(14)?,
                    story_items: r.get(15)?,
                    outlets: Vec::new(),
                    members: Vec::new(),
                    section_fixed: r.get(16)?,
                    title_fixed: r.get(17)?,
                })
            })
            .optional()?;
        let Some(mut item) = row else {
            return Ok(None);
        };
        item.outlets = self.story_outlets(story, item.id)?;
        if item.story_items > 1 {
            item.members = self
                .conn
                .prepare_cached(
                    "SELECT i.id, COALESCE(s.name, i.source_id), i.title, i.url FROM items i
                     LEFT JOIN sources s ON s.id = i.source_id WHERE i.story_id = ?1
                     ORDER BY i.id <> ?2, COALESCE(i.published_at, i.first_seen_at), i.id",
                )?
                .query_map(params![story, item.id], |r| {
                    Ok(DeskMember {
                        id: r.get(0)?,
                        source_name: r.get(1)?,
                        title: r.get(2)?,
                        url: r.get(3)?,
                        primary: false,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for m in &mut item.members {
                m.primary = m.id == item.id;
            }
        }
        Ok(Some(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_paragraphs_are_cut_at_a_line_or_a_length() {
        assert_eq!(first_paragraph("\n  第一段。\n第二段。"), "第一段。");
        let long = "字".repeat(FIRST_PARAGRAPH_CHARS + 5);
        let cut = first_paragraph(&long);
        assert_eq!(cut.chars().count(), FIRST_PARAGRAPH_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn items_stored_before_the_search_index_existed_are_found() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        for sql in &super::super::MIGRATIONS[..3] {
            conn.execute_batch(sql).expect("migration");
        }
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO stories (id, uid, primary_item, created_at, updated_at)
                 VALUES (1, 'u1', 1, '2025-06-01T08:00:00+08:00', '2025-06-01T08:00:00+08:00');
             INSERT INTO items (id, uid, canonical_url, url, source_id, title, content_html,
                                content_text, content_hash, origin, first_seen_at, updated_at, story_id)
                 VALUES (1, 'u1', 'x/1', 'https://x/1', 's', '标题', '<p>正文</p>',
                         '德国最低工资上调至每小时十二点八二欧元', 'h', '新华社',
                         '2025-06-01T08:00:00+08:00', '2025-06-01T08:00:00+08:00', 1);",
        )
        .expect("a version 3 item");
        let mut store = SqliteStore::setup(conn, ":memory:").expect("migrated");
        let find = |store: &mut SqliteStore, text: &str| {
            store
                .desk_items(&DeskQuery {
                    text: Some(text.into()),
                    limit: 10,
                    ..DeskQuery::default()
                })
                .expect("query")
                .total
        };
        assert_eq!(find(&mut store, "十二点八"), 1, "backfilled");
        assert_eq!(find(&mut store, "十三点"), 0);
        store
            .set_bulletin_title(1, Some("德国：最低工资再上调"))
            .expect("title");
        assert_eq!(find(&mut store, "再上调"), 1, "the index follows updates");
        assert_eq!(
            find(&mut store, "最低工资 欧元"),
            1,
            "every word must occur"
        );
        assert_eq!(find(&mut store, "最低工资 日元"), 0);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("5%_a\\"), "5\\%\\_a\\\\");
    }
}
