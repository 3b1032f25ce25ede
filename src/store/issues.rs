//! Issues (期) of the bulletin, the store's side (store layer): its one job
//! is to keep which approved stories each numbered issue of 信息快报 holds,
//! in print order; `assemble` lays an issue out.
//!
//! An issue is a draft until an editor publishes it. A new draft takes every
//! approved story that no other issue holds, filed by section in bulletin
//! order and, within a section, by date; the editor then adds, removes and
//! reorders stories, and publishes. A published issue is frozen: editing it
//! is refused (unpublish it first), because it is what was circulated.
//!
//! An issue holds *stories*, not items: what it prints of each is the
//! story's primary item as it is now (title, text, 来源), so a corrected
//! bulletin title or a better primary found later shows in the next export.
//!
//! Order: every story keeps a whole-issue position, but the printed issue
//! groups stories by section, so the stored order is always kept grouped by
//! section (in the order the caller passes, the configured bulletin order).
//! A story moved past the ends of its section lands at that end.

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::{SqliteStore, StoreError, ts};

/// Id and name of the section that collects the stories whose section is
/// unset or no longer configured: they still print, last, rather than
/// silently dropping out of an issue.
pub const UNSECTIONED_ID: &str = "other";
pub const UNSECTIONED_NAME: &str = "其他";

/// Whether an issue has gone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    /// Being assembled; editable.
    Draft,
    /// Circulated and served; frozen.
    Published,
}

impl IssueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Draft => "draft",
            IssueStatus::Published => "published",
        }
    }

    fn parse(s: &str) -> IssueStatus {
        match s {
            "published" => IssueStatus::Published,
            _ => IssueStatus::Draft,
        }
    }
}

/// An issue as `issue list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct IssueInfo {
    /// As printed: `202509`.
    pub number: String,
    /// The date printed under the masthead.
    pub date: NaiveDate,
    pub status: IssueStatus,
    /// Stories the issue holds.
    pub stories: i64,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
}

/// One story of an issue, as `issue show` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct IssueEntry {
    /// 1-based, in the whole issue (print order).
    pub position: usize,
    pub story_id: i64,
    /// The story's primary item: what the issue prints.
    pub item_id: i64,
    /// The primary item's section id.
    pub section: Option<String>,
    /// The bulletin title (`地区：…`), else the outlet's title.
    pub title: String,
    /// The 来源; the source's name when the article named none.
    pub origin: String,
    pub url: String,
    pub published: Option<String>,
    /// The story's review status now (approved unless it was changed
    /// after the story was put in the issue).
    pub status: super::Status,
    /// When the primary item last changed: a published issue's feed entry
    /// is as new as its newest article.
    pub updated_at: String,
}

/// An issue with its stories in print order.
#[derive(Debug, Clone, Serialize)]
pub struct IssueDetail {
    #[serde(flatten)]
    pub info: IssueInfo,
    pub entries: Vec<IssueEntry>,
}

/// Checks an issue number: exactly six ASCII digits, as the society numbers
/// its issues (`202509`: the year, then the issue of that year).
///
/// Strict on purpose. The number is the issue's identity in URLs
/// (`/issues/202509`), file names and feed ids, so it must be URL-safe; and
/// a free-form number would let a typo (`20259`, `2025-09`) start a second
/// numbering that sorts wrongly among the others, where six digits sort by
/// number in publication order.
pub fn check_issue_number(number: &str) -> Result<(), StoreError> {
    if number.len() == 6 && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::InvalidIssueNumber(number.to_string()))
    }
}

/// Where a section id ranks in bulletin order; unknown and missing
/// sections rank last.
/// Where a story of `section` prints among `sections`: its index, or after
/// them all when it is none of them.
pub fn section_rank(sections: &[String], section: Option<&str>) -> usize {
    section
        .and_then(|s| sections.iter().position(|id| id == s))
        .unwrap_or(sections.len())
}

/// The issue's row id and what `issue list` shows of it.
fn issue_row(conn: &Connection, number: &str) -> Result<(i64, IssueInfo), StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT id, number, issue_date, status, created_at, updated_at, published_at,
                    (SELECT COUNT(*) FROM issue_stories x JOIN stories st ON st.id = x.story_id
                     WHERE x.issue_id = issues.id)
             FROM issues WHERE number = ?1",
        )?
        .query_row([number], |r| {
            Ok((r.get::<_, i64>(0)?, info_from_row(r, 1)?))
        })
        .optional()?;
    row.ok_or_else(|| StoreError::NoSuchIssue(number.to_string()))
}

/// Reads `number, issue_date, status, created_at, updated_at,
/// published_at, stories` starting at column `at`.
fn info_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<IssueInfo> {
    let date: String = r.get(at + 1)?;
    Ok(IssueInfo {
        number: r.get(at)?,
        // Only this module writes the column, always as YYYY-MM-DD; a row
        // edited by hand into something else is reported, not guessed at.
        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 1,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })?,
        status: IssueStatus::parse(&r.get::<_, String>(at + 2)?),
        created_at: r.get(at + 3)?,
        updated_at: r.get(at + 4)?,
        published_at: r.get(at + 5)?,
        stories: r.get(at + 6)?,
    })
}

/// The issue's id, if it is a draft; editing a published issue is refused.
fn draft_id(conn: &Connection, number: &str) -> Result<i64, StoreError> {
    let (id, info) = issue_row(conn, number)?;
    if info.status == IssueStatus::Published {
        return Err(StoreError::IssuePublished(number.to_string()));
    }
    Ok(id)
}

/// The issue's stories in print order: grouped by section in `sections`
/// order, by stored position within a section; positions numbered 1…n.
/// Rows whose story no longer exists (merged into another) are skipped.
fn ordered_entries(
    conn: &Connection,
    issue_id: i64,
    sections: &[String],
) -> Result<Vec<IssueEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT x.story_id, p.id, p.section, COALESCE(p.bulletin_title, p.title),
                CASE WHEN trim(p.origin) <> '' THEN p.origin ELSE COALESCE(s.name, p.source_id) END,
                p.url, p.published_at, p.status, p.updated_at
         FROM issue_stories x
         JOIN stories st ON st.id = x.story_id
         JOIN items p ON p.id = st.primary_item
         LEFT JOIN sources s ON s.id = p.source_id
         WHERE x.issue_id = ?1
         ORDER BY x.position, x.story_id",
    )?;
    let entries = stmt
        .query_map([issue_id], entry_row)?
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: within a section the stored order stays.
    Ok(in_print_order(entries, sections))
}

/// An [`IssueEntry`] from the columns both entry queries select:
/// story id, primary item id, section, title, 来源, url, published,
/// status, updated.
fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IssueEntry> {
    Ok(IssueEntry {
        position: 0,
        story_id: r.get(0)?,
        item_id: r.get(1)?,
        section: r.get(2)?,
        title: r.get(3)?,
        origin: r.get(4)?,
        url: r.get(5)?,
        published: r.get(6)?,
        status: super::Status::parse(&r.get::<_, String>(7)?),
        updated_at: r.get(8)?,
    })
}

/// Groups entries by section in `sections` order (a stable sort: the
/// order within a section stays) and numbers them 1…n.
fn in_print_order(mut entries: Vec<IssueEntry>, sections: &[String]) -> Vec<IssueEntry> {
    entries.sort_by_key(|e| section_rank(sections, e.section.as_deref()));
    for (i, e) in entries.iter_mut().enumerate() {
        e.position = i + 1;
    }
    entries
}

/// Stores `entries`, grouped by section first, as the issue's positions
/// 1…n, and drops rows of stories that no longer exist; returns them as
/// stored.
fn write_order(
    conn: &Connection,
    issue_id: i64,
    mut entries: Vec<IssueEntry>,
    sections: &[String],
) -> Result<Vec<IssueEntry>, StoreError> {
    entries.sort_by_key(|e| section_rank(sections, e.section.as_deref()));
    conn.prepare_cached(
        "DELETE FROM issue_stories
         WHERE issue_id = ?1 AND story_id NOT IN (SELECT id FROM stories)",
    )?
    .execute([issue_id])?;
    let mut update = conn.prepare_cached(
        "UPDATE issue_stories SET position = ?3 WHERE issue_id = ?1 AND story_id = ?2",
    )?;
    for (i, e) in entries.iter_mut().enumerate() {
        e.position = i + 1;
        update.execute(params![issue_id, e.story_id, e.position as i64])?;
    }
    Ok(entries)
}

/// Adds an approved story that no issue holds yet after the issue's last
/// story; grouping by section then moves it to the end of its section.
fn add_story(conn: &Connection, issue_id: i64, story_id: i64) -> Result<(), StoreError> {
    let status: String = conn
        .prepare_cached(
            "SELECT p.status FROM stories st JOIN items p ON p.id = st.primary_item
             WHERE st.id = ?1",
        )?
        .query_row([story_id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NoSuchStory(story_id))?;
    if status != "approved" {
        return Err(StoreError::StoryNotApproved {
            story: story_id,
            status,
        });
    }
    let holder: Option<String> = conn
        .prepare_cached(
            "SELECT i.number FROM issue_stories x JOIN issues i ON i.id = x.issue_id
             WHERE x.story_id = ?1",
        )?
        .query_row([story_id], |r| r.get(0))
        .optional()?;
    if let Some(issue) = holder {
        return Err(StoreError::StoryInIssue {
            story: story_id,
            issue,
        });
    }
    conn.prepare_cached(
        "INSERT INTO issue_stories (issue_id, story_id, position)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM issue_stories
                          WHERE issue_id = ?1))",
    )?
    .execute(params![issue_id, story_id])?;
    Ok(())
}

/// The approved stories that no issue (draft or published) holds, in the
/// order a new draft files them: by section in `sections` order (others
/// last), by date within a section, positions numbered 1…n. What
/// [`Store::create_issue`] takes in and what an editor may still add to a
/// draft.
fn free_entries(conn: &Connection, sections: &[String]) -> Result<Vec<IssueEntry>, StoreError> {
    // Timestamps are RFC 3339 in Beijing time, so text order is time
    // order; the story id breaks ties the same way on every run.
    let mut stmt = conn.prepare_cached(
        "SELECT st.id, p.id, p.section, COALESCE(p.bulletin_title, p.title),
                CASE WHEN trim(p.origin) <> '' THEN p.origin ELSE COALESCE(s.name, p.source_id) END,
                p.url, p.published_at, p.status, p.updated_at
         FROM stories st
         JOIN items p ON p.id = st.primary_item
         LEFT JOIN sources s ON s.id = p.source_id
         WHERE p.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM issue_stories x WHERE x.story_id = st.id)
         ORDER BY COALESCE(p.published_at, p.first_seen_at), st.id",
    )?;
    let entries = stmt
        .query_map([], entry_row)?
        .collect::<Result<Vec<_>, _>>()?;
    // Within a section the date order stays.
    Ok(in_print_order(entries, sections))
}

/// Edits of a draft, applied together by [`Store::edit_issue`].
#[derive(Debug, Clone, Default)]
pub struct IssueEdits {
    /// Stories to add, each at the end of its section.
    pub add: Vec<i64>,
    /// Stories to take out.
    pub remove: Vec<i64>,
    /// `(story, position)`: 1-based positions in the whole issue.
    pub moves: Vec<(i64, usize)>,
    /// A new issue date.
    pub date: Option<NaiveDate>,
}

impl IssueEdits {
    fn add(story: i64) -> IssueEdits {
        IssueEdits {
            add: vec![story],
            ..IssueEdits::default()
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty()
            && self.remove.is_empty()
            && self.moves.is_empty()
            && self.date.is_none()
    }
}

pub trait IssueStore {
    /// Drafts issue `number` dated `date` with every approved story that no
    /// other issue (draft or published) holds, grouped by section in
    /// `sections` order (stories without a configured section last), by
    /// date within a section.
    fn create_issue(
        &mut self,
        number: &str,
        date: NaiveDate,
        sections: &[String],
    ) -> Result<IssueInfo, StoreError>;

    /// One issue with its stories in print order (`sections`: section ids
    /// in bulletin order).
    fn issue(&self, number: &str, sections: &[String]) -> Result<IssueDetail, StoreError>;

    /// The approved stories that no issue holds yet, in the order a new
    /// draft would file them (`sections`: section ids in bulletin order):
    /// what the next `issue new` takes, and what may be added to a draft.
    fn free_stories(&self, sections: &[String]) -> Result<Vec<IssueEntry>, StoreError>;

    /// Every issue, newest number first, with how many stories each holds.
    fn issues(&self) -> Result<Vec<IssueInfo>, StoreError>;

    /// Adds an approved story to a draft, at the end of its section;
    /// returns its position. A story is in one issue at most: one that is
    /// in another issue must be removed there first.
    fn issue_add(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<usize, StoreError>;

    /// Takes a story out of a draft; the stories after it move up.
    fn issue_remove(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<(), StoreError>;

    /// Moves a story of a draft to `new_position` (1-based, in the whole
    /// issue as `issue show` numbers it). A story stays in its section: a
    /// position before its section's first or after its last puts it
    /// first or last there. Returns the position it ends up at.
    fn issue_move(
        &mut self,
        number: &str,
        story_id: i64,
        new_position: usize,
        sections: &[String],
    ) -> Result<usize, StoreError>;

    /// Sets the date printed under a draft's masthead.
    fn set_issue_date(&mut self, number: &str, date: NaiveDate) -> Result<(), StoreError>;

    /// Applies several edits to a draft at once, all or none: the date,
    /// then the removals, then the additions, then the moves (so a move's
    /// position counts in the issue as the removals and additions left
    /// it). Returns the issue as edited.
    fn edit_issue(
        &mut self,
        number: &str,
        edits: &IssueEdits,
        sections: &[String],
    ) -> Result<IssueDetail, StoreError>;

    /// Publishes a draft: it is served and in `feeds/issues.xml` from now
    /// on, and frozen. Refused while it is empty or holds a story that is
    /// no longer approved (an editor rejected it after it was drafted):
    /// nothing unapproved goes out. Publishing a published issue changes
    /// nothing.
    fn publish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError>;

    /// Turns a published issue back into a draft (to correct it); it leaves
    /// the served issues and the feed until published again. A draft stays
    /// as it is.
    fn unpublish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError>;

    /// Deletes a draft; its stories are free for another issue.
    fn delete_issue(&mut self, number: &str) -> Result<(), StoreError>;

    /// The stored (sanitized) HTML of an item, for laying it out.
    fn item_html(&self, item_id: i64) -> Result<String, StoreError>;
}

impl IssueStore for SqliteStore {
    fn create_issue(
        &mut self,
        number: &str,
        date: NaiveDate,
        sections: &[String],
    ) -> Result<IssueInfo, StoreError> {
        check_issue_number(number)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken = tx
            .prepare_cached("SELECT 1 FROM issues WHERE number = ?1")?
            .query_row([number], |_| Ok(()))
            .optional()?
            .is_some();
        if taken {
            return Err(StoreError::DuplicateIssue(number.to_string()));
        }
        let now = ts(Utc::now());
        tx.prepare_cached(
            "INSERT INTO issues (number, issue_date, status, created_at, updated_at)
             VALUES (?1, ?2, 'draft', ?3, ?3)",
        )?
        .execute(params![number, date.format("%Y-%m-%d").to_string(), now])?;
        let issue_id = tx.last_insert_rowid();
        let picks = free_entries(&tx, sections)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO issue_stories (issue_id, story_id, position) VALUES (?1, ?2, ?3)",
            )?;
            for e in &picks {
                insert.execute(params![issue_id, e.story_id, e.position as i64])?;
            }
        }
        let (_, info) = issue_row(&tx, number)?;
        tx.commit()?;
        Ok(info)
    }

    fn issue(&self, number: &str, sections: &[String]) -> Result<IssueDetail, StoreError> {
        let (id, info) = issue_row(&self.conn, number)?;
        let entries = ordered_entries(&self.conn, id, sections)?;
        Ok(IssueDetail { info, entries })
    }

    fn free_stories(&self, sections: &[String]) -> Result<Vec<IssueEntry>, StoreError> {
        free_entries(&self.conn, sections)
    }

    fn issues(&self) -> Result<Vec<IssueInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT number, issue_date, status, created_at, updated_at, published_at,
                    (SELECT COUNT(*) FROM issue_stories x JOIN stories st ON st.id = x.story_id
                     WHERE x.issue_id = issues.id)
             FROM issues ORDER BY number DESC",
        )?;
        let rows = stmt.query_map([], |r| info_from_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn issue_add(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<usize, StoreError> {
        self.edit_issue(number, &IssueEdits::add(story_id), sections)?;
        self.position_of(number, story_id, sections)
    }

    fn issue_remove(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<(), StoreError> {
        let edits = IssueEdits {
            remove: vec![story_id],
            ..IssueEdits::default()
        };
        self.edit_issue(number, &edits, sections).map(|_| ())
    }

    fn issue_move(
        &mut self,
        number: &str,
        story_id: i64,
        new_position: usize,
        sections: &[String],
    ) -> Result<usize, StoreError> {
        let edits = IssueEdits {
            moves: vec![(story_id, new_position)],
            ..IssueEdits::default()
        };
        self.edit_issue(number, &edits, sections)?;
        self.position_of(number, story_id, sections)
    }

    fn set_issue_date(&mut self, number: &str, date: NaiveDate) -> Result<(), StoreError> {
        let edits = IssueEdits {
            date: Some(date),
            ..IssueEdits::default()
        };
        // The date does not depend on section order.
        self.edit_issue(number, &edits, &[]).map(|_| ())
    }

    fn edit_issue(
        &mut self,
        number: &str,
        edits: &IssueEdits,
        sections: &[String],
    ) -> Result<IssueDetail, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let issue_id = draft_id(&tx, number)?;
        if let Some(date) = edits.date {
            tx.prepare_cached("UPDATE issues SET issue_date = ?2 WHERE id = ?1")?
                .execute(params![issue_id, date.format("%Y-%m-%d").to_string()])?;
        }
        for &story in &edits.remove {
            let removed = tx
                .prepare_cached("DELETE FROM issue_stories WHERE issue_id = ?1 AND story_id = ?2")?
                .execute(params![issue_id, story])?;
            if removed == 0 {
                return Err(StoreError::StoryNotInIssue {
                    story,
                    issue: number.to_string(),
                });
            }
        }
        for &story in &edits.add {
            add_story(&tx, issue_id, story)?;
        }
        let mut entries = ordered_entries(&tx, issue_id, sections)?;
        for &(story, position) in &edits.moves {
            let Some(from) = entries.iter().position(|e| e.story_id == story) else {
                return Err(StoreError::StoryNotInIssue {
                    story,
                    issue: number.to_string(),
                });
            };
            if position == 0 || position > entries.len() {
                return Err(StoreError::BadPosition {
                    position,
                    issue: number.to_string(),
                    len: entries.len(),
                });
            }
            let entry = entries.remove(from);
            entries.insert(position - 1, entry);
            // Grouped after each move, so the next one counts positions
            // as `issue show` would show them by then.
            entries.sort_by_key(|e| section_rank(sections, e.section.as_deref()));
        }
        let entries = write_order(&tx, issue_id, entries, sections)?;
        tx.prepare_cached("UPDATE issues SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![issue_id, ts(Utc::now())])?;
        let (_, info) = issue_row(&tx, number)?;
        tx.commit()?;
        Ok(IssueDetail { info, entries })
    }

    fn publish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (issue_id, info) = issue_row(&tx, number)?;
        if info.status == IssueStatus::Published {
            return Ok(info);
        }
        if info.stories == 0 {
            return Err(StoreError::EmptyIssue(number.to_string()));
        }
        let unapproved: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT x.story_id, p.status FROM issue_stories x
                 JOIN stories st ON st.id = x.story_id JOIN items p ON p.id = st.primary_item
                 WHERE x.issue_id = ?1 AND p.status <> 'approved'
                 ORDER BY x.position LIMIT 1",
            )?
            .query_row([issue_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((story, status)) = unapproved {
            return Err(StoreError::StoryNotApproved { story, status });
        }
        let now = ts(Utc::now());
        tx.prepare_cached(
            "UPDATE issues SET status = 'published', published_at = ?2, updated_at = ?2
             WHERE id = ?1",
        )?
        .execute(params![issue_id, now])?;
        let (_, info) = issue_row(&tx, number)?;
        tx.commit()?;
        Ok(info)
    }

    fn unpublish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (issue_id, _) = issue_row(&tx, number)?;
        tx.prepare_cached(
            "UPDATE issues SET status = 'draft', published_at = NULL, updated_at = ?2
             WHERE id = ?1 AND status = 'published'",
        )?
        .execute(params![issue_id, ts(Utc::now())])?;
        let (_, info) = issue_row(&tx, number)?;
        tx.commit()?;
        Ok(info)
    }

    fn delete_issue(&mut self, number: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let issue_id = draft_id(&tx, number)?;
        // Explicitly, rather than through ON DELETE CASCADE: that needs
        // `foreign_keys`, which a connection opened by another tool may not
        // have on.
        tx.prepare_cached("DELETE FROM issue_stories WHERE issue_id = ?1")?
            .execute([issue_id])?;
        tx.prepare_cached("DELETE FROM issues WHERE id = ?1")?
            .execute([issue_id])?;
        tx.commit()?;
        Ok(())
    }

    fn item_html(&self, item_id: i64) -> Result<String, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT content_html FROM items WHERE id = ?1")?
            .query_row([item_id], |r| r.get(0))?)
    }
}

impl SqliteStore {
    fn position_of(
        &self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<usize, StoreError> {
        Ok(self
            .issue(number, sections)?
            .entries
            .iter()
            .find(|e| e.story_id == story_id)
            .map_or(0, |e| e.position))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_numbers_are_six_digits() {
        assert!(check_issue_number("202509").is_ok());
        for bad in [
            "20259",
            "2025-09",
            "2025090",
            "",
            "２０２５０９",
            "20250a",
            "../x",
        ] {
            assert!(check_issue_number(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_and_missing_sections_rank_last() {
        let s = vec!["focus".to_string(), "regional".to_string()];
        assert_eq!(section_rank(&s, Some("focus")), 0);
        assert_eq!(section_rank(&s, Some("regional")), 1);
        assert_eq!(section_rank(&s, Some("gone")), 2);
        assert_eq!(section_rank(&s, None), 2);
    }
}
