//! The editors' desk on PostgreSQL: [`DeskStore`] for [`PgStore`]. Part of
//! the store layer; the same queue, filters, order, paging and corrections
//! as the SQLite store's `store::desk`, whose module doc says what the desk
//! is.
//!
//! Search: where SQLite matches a term of three or more characters in its
//! FTS5 trigram table, this backend matches `ILIKE '%term%'` over the three
//! columns the `pg_trgm` GIN indexes cover (`title`, `bulletin_title`,
//! `content_text`) — the same substring match, case-insensitive like the
//! trigram tokenizer. PostgreSQL keeps those indexes up to date itself, so
//! there is nothing to catch up ([`DeskStore::index_search_text`] does
//! nothing). The grouping of terms is SQLite's too: the long terms must
//! all occur in one copy of the story (one FTS5 MATCH), each short term in
//! any copy.

use chrono::{TimeDelta, Utc};
use postgres::GenericClient;
use postgres::types::ToSql;

use super::PgStore;
use super::shared::{lock_stories, open_story, refresh_primary};
use super::stories::story_outlets;
use crate::model::SanitizedHtml;
use crate::store::{
    DeskItem, DeskMember, DeskPage, DeskQuery, DeskStore, FIRST_PARAGRAPH_CHARS, Retitle,
    SectionFilter, Status, StoreError, parse_ts, ts,
};

/// Search terms shorter than this many characters are matched on their
/// own (SQLite: by `LIKE`, as its trigram index cannot hold them).
const TRIGRAM: usize = 3;

/// The group a row falls in: the section's place in bulletin order (from
/// 0), or the number of sections (last) for an unfiled item. `$1` is the
/// section ids.
const GROUP: &str =
    "COALESCE(array_position($1::text[], i.section)::BIGINT - 1, cardinality($1::text[])::BIGINT)";

const FROM: &str = "FROM stories st JOIN items i ON i.id = st.primary_item";

type Param = Box<dyn ToSql + Sync>;

/// SQL conditions and their parameters, numbered after the section list.
struct Filter {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    fn new(sections: &[String]) -> Filter {
        Filter {
            conditions: Vec::new(),
            params: vec![Box::new(sections.to_vec())],
        }
    }

    /// The placeholder for a new parameter.
    fn bind(&mut self, v: Param) -> String {
        self.params.push(v);
        format!("${}", self.params.len())
    }

    fn add(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            "TRUE".into()
        } else {
            self.conditions.join(" AND ")
        }
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p.as_ref()).collect()
    }

    fn build(q: &DeskQuery) -> Filter {
        let mut f = Filter::new(&q.sections);
        if let Some(status) = q.status {
            let p = f.bind(Box::new(status.as_str()));
            f.add(format!("i.status = {p}"));
        }
        match &q.section {
            Some(SectionFilter::Section(id)) => {
                let p = f.bind(Box::new(id.clone()));
                f.add(format!("i.section = {p}"));
            }
            Some(SectionFilter::Unfiled) => {
                f.add("(i.section IS NULL OR NOT (i.section = ANY($1::text[])))".into())
            }
            None => {}
        }
        if let Some(source) = &q.source {
            let p = f.bind(Box::new(source.clone()));
            f.add(format!(
                "EXISTS (SELECT 1 FROM items m JOIN item_links l ON l.item_id = m.id
                         WHERE m.story_id = st.id AND l.source_id = {p})"
            ));
        }
        // Stored times are RFC 3339 in Beijing time: the first ten
        // characters are the editor's calendar day.
        let day = "substr(COALESCE(i.published_at, i.first_seen_at), 1, 10)";
        if let Some(from) = &q.from {
            let p = f.bind(Box::new(from.clone()));
            f.add(format!("{day} >= {p}"));
        }
        if let Some(to) = &q.to {
            let p = f.bind(Box::new(to.clone()));
            f.add(format!("{day} <= {p}"));
        }
        if let Some(text) = &q.text {
            let mut long = Vec::new();
            for term in text.split_whitespace() {
                let p = f.bind(Box::new(format!("%{}%", escape_like(term))));
                let matches = format!(
                    "(m.title ILIKE {p} ESCAPE '\\' OR m.bulletin_title ILIKE {p} ESCAPE '\\'
                      OR m.content_text ILIKE {p} ESCAPE '\\')"
                );
                if term.chars().count() >= TRIGRAM {
                    long.push(matches);
                } else {
                    f.add(format!(
                        "EXISTS (SELECT 1 FROM items m WHERE m.story_id = st.id AND {matches})"
                    ));
                }
            }
            if !long.is_empty() {
                // Any copy of the story may hold the words (outlets retitle
                // and cut), but one copy all of them, as in one FTS5 MATCH.
                f.add(format!(
                    "st.id IN (SELECT m.story_id FROM items m WHERE {})",
                    long.join(" AND ")
                ));
            }
        }
        f
    }
}

/// `term` as a literal inside a `LIKE` pattern (escape character `\`).
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
/// stored `updated_at` (the served feeds notice changes by the latest one,
/// kept to the second; see the SQLite store's `bumped_now`).
fn bumped_now(tx: &mut impl GenericClient) -> Result<String, StoreError> {
    let latest: Option<String> = tx
        .query_one("SELECT MAX(updated_at) FROM items", &[])?
        .try_get(0)?;
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
fn primary_of(tx: &mut impl GenericClient, item_id: i64) -> Result<i64, StoreError> {
    match tx.query_opt(
        "SELECT st.primary_item FROM items i JOIN stories st ON st.id = i.story_id WHERE i.id = $1",
        &[&item_id],
    )? {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(StoreError::NoSuchItem(item_id)),
    }
}

/// The story as the desk shows it, under its primary item.
fn desk_story(db: &mut impl GenericClient, story: i64) -> Result<Option<DeskItem>, StoreError> {
    let row = db.query_opt(
        "SELECT i.id, i.title, i.bulletin_title, i.origin, i.url, i.section, i.published_at,
                i.first_seen_at, i.status, i.source_id, COALESCE(s.name, i.source_id),
                i.relevance, i.explanation, substr(i.content_text, 1, 400), i.content_html,
                (SELECT COUNT(*) FROM items m WHERE m.story_id = st.id),
                i.section_fixed, i.title_fixed
         FROM stories st JOIN items i ON i.id = st.primary_item
         LEFT JOIN sources s ON s.id = i.source_id WHERE st.id = $1",
        &[&story],
    )?;
    let Some(r) = row else {
        return Ok(None);
    };
    let mut item = DeskItem {
        id: r.try_get(0)?,
        story_id: story,
        title: r.try_get(1)?,
        bulletin_title: r.try_get(2)?,
        origin: r.try_get(3)?,
        url: r.try_get(4)?,
        section: r.try_get(5)?,
        published: r.try_get(6)?,
        first_seen: r.try_get(7)?,
        status: Status::parse(r.try_get::<_, &str>(8)?),
        source_id: r.try_get(9)?,
        source_name: r.try_get(10)?,
        relevance: r.try_get(11)?,
        // Written by the classifier; text that is not JSON is shown as
        // none rather than failing the page.
        explanation: r
            .try_get::<_, Option<&str>>(12)?
            .and_then(|e| serde_json::from_str(e).ok()),
        first_paragraph: first_paragraph(r.try_get::<_, &str>(13)?),
        content_html: SanitizedHtml::from_store(r.try_get(14)?),
        story_items: r.try_get(15)?,
        outlets: Vec::new(),
        members: Vec::new(),
        // Flags are 0/1 integers, as SQLite keeps them.
        section_fixed: r.try_get::<_, i64>(16)? != 0,
        title_fixed: r.try_get::<_, i64>(17)? != 0,
    };
    item.outlets = story_outlets(db, story, item.id)?;
    if item.story_items > 1 {
        let rows = db.query(
            "SELECT i.id, COALESCE(s.name, i.source_id), i.title, i.url FROM items i
             LEFT JOIN sources s ON s.id = i.source_id WHERE i.story_id = $1
             ORDER BY i.id <> $2, COALESCE(i.published_at, i.first_seen_at), i.id",
            &[&story, &item.id],
        )?;
        for m in rows {
            let id: i64 = m.try_get(0)?;
            item.members.push(DeskMember {
                id,
                source_name: m.try_get(1)?,
                title: m.try_get(2)?,
                url: m.try_get(3)?,
                primary: id == item.id,
            });
        }
    }
    Ok(Some(item))
}

impl DeskStore for PgStore {
    /// Nothing to do: the `pg_trgm` indexes follow every insert and
    /// update, so no item is ever waiting to be indexed.
    fn index_search_text(&mut self, _limit: Option<usize>) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> { Ok(0) })
    }

    fn desk_items(&mut self, q: &DeskQuery) -> Result<DeskPage, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<DeskPage, StoreError> {
            let f = Filter::build(q);
            let wh = f.sql();
            let mut db = self.db();
            // The counts and the page from one snapshot, as SQLite's reads
            // between two writers see one.
            let mut tx = db
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let mut groups = Vec::new();
            let mut total = 0;
            let rows = tx.query(
                &format!(
                    "SELECT grp, COUNT(*) FROM (SELECT {GROUP} AS grp {FROM} WHERE {wh}) AS g
                     GROUP BY grp ORDER BY grp"
                ),
                &f.refs(),
            )?;
            for r in rows {
                let grp: i64 = r.try_get(0)?;
                let n: i64 = r.try_get(1)?;
                total += n;
                let section = usize::try_from(grp)
                    .ok()
                    .and_then(|g| q.sections.get(g))
                    .cloned();
                groups.push((section, n));
            }
            // The page's ids first, then each row: sorting whole rows would
            // drag every matching body through the sorter.
            let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
            let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
            let mut params = f.refs();
            params.push(&limit);
            params.push(&offset);
            let n = params.len();
            let ids = tx.query(
                &format!(
                    "SELECT st.id {FROM} WHERE {wh}
                     ORDER BY {GROUP}, i.relevance IS NULL, i.relevance DESC,
                              COALESCE(i.published_at, i.first_seen_at) DESC, i.id DESC
                     LIMIT ${} OFFSET ${n}",
                    n - 1
                ),
                &params,
            )?;
            let mut items = Vec::with_capacity(ids.len());
            for r in ids {
                if let Some(item) = desk_story(&mut tx, r.try_get(0)?)? {
                    items.push(item);
                }
            }
            tx.commit()?;
            Ok(DeskPage {
                items,
                total,
                groups,
            })
        })
    }

    fn desk_item(&self, item_id: i64) -> Result<Option<DeskItem>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<DeskItem>, StoreError> {
            let mut db = self.db();
            let story = db.query_opt("SELECT story_id FROM items WHERE id = $1", &[&item_id])?;
            match story {
                Some(r) => desk_story(&mut *db, r.try_get(0)?),
                None => Ok(None),
            }
        })
    }

    fn set_section(
        &mut self,
        item_id: i64,
        section: Option<&str>,
        retitle: &Retitle,
    ) -> Result<Option<String>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<String>, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            // The story's primary must stay the primary until this commits.
            lock_stories(&mut tx)?;
            let primary = primary_of(&mut tx, item_id)?;
            let old: Option<String> = tx
                .query_one(
                    "SELECT section FROM items WHERE id = $1 FOR UPDATE",
                    &[&primary],
                )?
                .try_get(0)?;
            if old.as_deref() != section {
                let now = bumped_now(&mut tx)?;
                tx.execute(
                    "UPDATE items SET section = $2, section_fixed = 1, updated_at = $3 WHERE id = $1",
                    &[&primary, &section, &now],
                )?;
                let r = tx.query_one(
                    "SELECT title, region, title_fixed FROM items WHERE id = $1",
                    &[&primary],
                )?;
                let title: String = r.try_get(0)?;
                let region: Option<String> = r.try_get(1)?;
                let fixed = r.try_get::<_, i64>(2)? != 0;
                if !fixed {
                    let bulletin =
                        retitle(&title, section, region.as_deref()).filter(|b| *b != title);
                    tx.execute(
                        "UPDATE items SET bulletin_title = $2 WHERE id = $1",
                        &[&primary, &bulletin],
                    )?;
                }
            } else {
                tx.execute(
                    "UPDATE items SET section_fixed = 1 WHERE id = $1",
                    &[&primary],
                )?;
            }
            tx.commit()?;
            Ok(old)
        })
    }

    fn set_bulletin_title(
        &mut self,
        item_id: i64,
        title: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<String>, StoreError> {
            let title = title.map(str::trim).filter(|t| !t.is_empty());
            let mut db = self.db();
            let mut tx = db.transaction()?;
            lock_stories(&mut tx)?;
            let primary = primary_of(&mut tx, item_id)?;
            let old: Option<String> = tx
                .query_one(
                    "SELECT bulletin_title FROM items WHERE id = $1 FOR UPDATE",
                    &[&primary],
                )?
                .try_get(0)?;
            if old.as_deref() != title {
                let now = bumped_now(&mut tx)?;
                tx.execute(
                    "UPDATE items SET bulletin_title = $2, title_fixed = 1, updated_at = $3 WHERE id = $1",
                    &[&primary, &title, &now],
                )?;
            } else {
                tx.execute(
                    "UPDATE items SET title_fixed = 1 WHERE id = $1",
                    &[&primary],
                )?;
            }
            tx.commit()?;
            Ok(old)
        })
    }

    fn regroup_items(&mut self, items: &[i64], status: Status) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            let Some(&first) = items.first() else {
                return Err(StoreError::NoSuchItem(0));
            };
            let mut db = self.db();
            let mut tx = db.transaction()?;
            lock_stories(&mut tx)?;
            let uid: String = tx
                .query_opt("SELECT uid FROM items WHERE id = $1", &[&first])?
                .ok_or(StoreError::NoSuchItem(first))?
                .try_get(0)?;
            let now = bumped_now(&mut tx)?;
            let story = open_story(&mut tx, &uid, &now)?;
            let mut left = Vec::new();
            for &id in items {
                let from: i64 = tx
                    .query_opt("SELECT story_id FROM items WHERE id = $1", &[&id])?
                    .ok_or(StoreError::NoSuchItem(id))?
                    .try_get(0)?;
                tx.execute(
                    "UPDATE items SET story_id = $2, status = $3, updated_at = $4 WHERE id = $1",
                    &[&id, &story, &status.as_str(), &now],
                )?;
                if !left.contains(&from) {
                    left.push(from);
                }
            }
            refresh_primary(&mut tx, story, &now)?;
            for from in left {
                refresh_primary(&mut tx, from, &now)?;
                tx.execute(
                    "UPDATE stories SET updated_at = $2 WHERE id = $1",
                    &[&from, &now],
                )?;
            }
            tx.commit()?;
            Ok(story)
        })
    }

    fn story_item_ids(&self, story: i64) -> Result<Vec<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<i64>, StoreError> {
            Ok(self
                .db()
                .query(
                    "SELECT id FROM items WHERE story_id = $1 ORDER BY id",
                    &[&story],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("5%_a\\"), "5\\%\\_a\\\\");
    }

    #[test]
    fn first_paragraphs_are_cut_at_a_line_or_a_length() {
        assert_eq!(first_paragraph("\n  第一段。\n第二段。"), "第一段。");
        let long = "字".repeat(FIRST_PARAGRAPH_CHARS + 5);
        let cut = first_paragraph(&long);
        assert_eq!(cut.chars().count(), FIRST_PARAGRAPH_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
