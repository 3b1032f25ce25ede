//! Issues (期) of the bulletin on PostgreSQL (`IssueStore`, see
//! [`crate::store::issues`] for what an issue is and how its stories are
//! ordered). Part of the store layer (PostgreSQL backend); its one job is to
//! keep the same rows as the SQLite store, with the same answers.
//!
//! Concurrency. The SQLite store runs each edit in an IMMEDIATE
//! transaction, so edits of issues never interleave with each other or
//! with any other write. Here many processes share the database, and two
//! things need the same guarantee:
//!
//! - *a story is in one issue at most*: nothing in the schema enforces it
//!   (`issue_stories`' key is (issue, story)), so every transaction that
//!   changes issues first takes one transaction-scoped advisory lock,
//!   [`ISSUES_LOCK`]; two drafts created at once cannot both take the same
//!   free stories, and an edit's check-then-insert cannot race another's;
//! - *only approved stories go in, and out*: an editor may reject a story
//!   in another process while an issue is drafted or published. A
//!   transaction that reads approvals to decide (drafting, editing,
//!   publishing) also takes the stories' lock (`shared::lock_stories`),
//!   which every status change, split and merge holds, and every
//!   placement holds shared: those
//!   wait for the issue to commit, and one that committed first is what
//!   the check reads (READ COMMITTED reads afresh per statement). The
//!   issues' lock is always taken first, and no story writer takes it, so
//!   the two cannot deadlock. The rows the approval was read from (the
//!   story and its primary item) are locked `FOR SHARE` as well, for any
//!   writer that changes them without the stories' lock.

use chrono::{NaiveDate, Utc};
use postgres::{GenericClient, Row};

use super::shared::lock_stories;
use super::{PgError, PgStore};
use crate::store::issues::{
    IssueDetail, IssueEdits, IssueEntry, IssueInfo, IssueStatus, IssueStore, check_issue_number,
    section_rank,
};
use crate::store::{Status, StoreError, ts};

/// Key of the advisory lock that serialises the transactions changing
/// issues, across processes ("kbissue" in ASCII; the migration lock is
/// "kuaibao").
const ISSUES_LOCK: i64 = 0x006b_6269_7373_7565;

/// The issue date's stored form; only this backend and the SQLite one
/// write it.
const DATE_FORMAT: &str = "%Y-%m-%d";

/// The columns of [`IssueInfo`], as both `issue_row` and `issues` read
/// them: `number, issue_date, status, created_at, updated_at,
/// published_at, stories`.
const INFO_COLUMNS: &str = "number, issue_date, status, created_at, updated_at, published_at,
     (SELECT COUNT(*) FROM issue_stories x JOIN stories st ON st.id = x.story_id
      WHERE x.issue_id = issues.id)";

/// The columns of [`IssueEntry`], from `st` (story) joined to its primary
/// item `p` and that item's source `s`.
const ENTRY_COLUMNS: &str = "st.id, p.id, p.section, COALESCE(p.bulletin_title, p.title),
     CASE WHEN trim(p.origin) <> '' THEN p.origin ELSE COALESCE(s.name, p.source_id) END,
     p.url, p.published_at, p.status, p.updated_at";

/// Reads the [`INFO_COLUMNS`] starting at column `at`.
fn info_from_row(r: &Row, at: usize) -> Result<IssueInfo, StoreError> {
    let date: &str = r.try_get(at + 1)?;
    let number: String = r.try_get(at)?;
    // A row edited by hand into another date form is reported, not
    // guessed at (the SQLite store fails the read the same way).
    let date = NaiveDate::parse_from_str(date, DATE_FORMAT).map_err(|_| PgError::Unreadable {
        what: "issue date",
        value: date.to_string(),
    })?;
    Ok(IssueInfo {
        number,
        date,
        status: match r.try_get::<_, &str>(at + 2)? {
            "published" => IssueStatus::Published,
            _ => IssueStatus::Draft,
        },
        created_at: r.try_get(at + 3)?,
        updated_at: r.try_get(at + 4)?,
        published_at: r.try_get(at + 5)?,
        stories: r.try_get(at + 6)?,
    })
}

/// An [`IssueEntry`] from the [`ENTRY_COLUMNS`]; its position is set by
/// the caller.
fn entry_row(r: &Row) -> Result<IssueEntry, StoreError> {
    Ok(IssueEntry {
        position: 0,
        story_id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        section: r.try_get(2)?,
        title: r.try_get(3)?,
        origin: r.try_get(4)?,
        url: r.try_get(5)?,
        published: r.try_get(6)?,
        status: Status::parse(r.try_get(7)?),
        updated_at: r.try_get(8)?,
    })
}

/// The issue's row id and what `issue list` shows of it.
fn issue_row(db: &mut impl GenericClient, number: &str) -> Result<(i64, IssueInfo), StoreError> {
    let row = db.query_opt(
        &format!("SELECT id, {INFO_COLUMNS} FROM issues WHERE number = $1"),
        &[&number],
    )?;
    let row = row.ok_or_else(|| StoreError::NoSuchIssue(number.to_string()))?;
    Ok((row.try_get(0)?, info_from_row(&row, 1)?))
}

/// The issue's id, if it is a draft; editing a published issue is refused.
fn draft_id(db: &mut impl GenericClient, number: &str) -> Result<i64, StoreError> {
    let (id, info) = issue_row(db, number)?;
    if info.status == IssueStatus::Published {
        return Err(StoreError::IssuePublished(number.to_string()));
    }
    Ok(id)
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

/// The issue's stories in print order; rows whose story no longer exists
/// (merged into another) are skipped.
fn ordered_entries(
    db: &mut impl GenericClient,
    issue_id: i64,
    sections: &[String],
) -> Result<Vec<IssueEntry>, StoreError> {
    let rows = db.query(
        &format!(
            "SELECT {ENTRY_COLUMNS}
             FROM issue_stories x
             JOIN stories st ON st.id = x.story_id
             JOIN items p ON p.id = st.primary_item
             LEFT JOIN sources s ON s.id = p.source_id
             WHERE x.issue_id = $1
             ORDER BY x.position, x.story_id"
        ),
        &[&issue_id],
    )?;
    let entries = rows.iter().map(entry_row).collect::<Result<Vec<_>, _>>()?;
    Ok(in_print_order(entries, sections))
}

/// The approved stories that no issue holds, in the order a new draft
/// files them. `lock`: inside a transaction that will put them in an
/// issue, their story and primary item rows are locked until it ends (see
/// the module doc).
fn free_entries(
    db: &mut impl GenericClient,
    sections: &[String],
    lock: bool,
) -> Result<Vec<IssueEntry>, StoreError> {
    // Timestamps are RFC 3339 in Beijing time under COLLATE "C", so text
    // order is time order; the story id breaks ties the same way on every
    // run.
    let rows = db.query(
        &format!(
            "SELECT {ENTRY_COLUMNS}
             FROM stories st
             JOIN items p ON p.id = st.primary_item
             LEFT JOIN sources s ON s.id = p.source_id
             WHERE p.status = 'approved'
               AND NOT EXISTS (SELECT 1 FROM issue_stories x WHERE x.story_id = st.id)
             ORDER BY COALESCE(p.published_at, p.first_seen_at), st.id
             {}",
            if lock { "FOR SHARE OF st, p" } else { "" }
        ),
        &[],
    )?;
    let entries = rows.iter().map(entry_row).collect::<Result<Vec<_>, _>>()?;
    Ok(in_print_order(entries, sections))
}

/// Stores `entries`, grouped by section first, as the issue's positions
/// 1…n, and drops rows of stories that no longer exist; returns them as
/// stored.
fn write_order(
    db: &mut impl GenericClient,
    issue_id: i64,
    mut entries: Vec<IssueEntry>,
    sections: &[String],
) -> Result<Vec<IssueEntry>, StoreError> {
    entries.sort_by_key(|e| section_rank(sections, e.section.as_deref()));
    db.execute(
        "DELETE FROM issue_stories
         WHERE issue_id = $1
           AND NOT EXISTS (SELECT 1 FROM stories st WHERE st.id = issue_stories.story_id)",
        &[&issue_id],
    )?;
    let update =
        db.prepare("UPDATE issue_stories SET position = $3 WHERE issue_id = $1 AND story_id = $2")?;
    for (i, e) in entries.iter_mut().enumerate() {
        e.position = i + 1;
        db.execute(&update, &[&issue_id, &e.story_id, &position(e.position)])?;
    }
    Ok(entries)
}

/// A 1-based position as stored (an issue never holds 2⁶³ stories).
fn position(p: usize) -> i64 {
    i64::try_from(p).unwrap_or(i64::MAX)
}

/// Adds an approved story that no issue holds yet after the issue's last
/// story; grouping by section then moves it to the end of its section.
fn add_story(db: &mut impl GenericClient, issue_id: i64, story_id: i64) -> Result<(), StoreError> {
    // Locked so that the approval read here holds until the issue commits.
    let status: String = db
        .query_opt(
            "SELECT p.status FROM stories st JOIN items p ON p.id = st.primary_item
             WHERE st.id = $1 FOR SHARE OF st, p",
            &[&story_id],
        )?
        .ok_or(StoreError::NoSuchStory(story_id))?
        .try_get(0)?;
    if status != "approved" {
        return Err(StoreError::StoryNotApproved {
            story: story_id,
            status,
        });
    }
    let holder = db.query_opt(
        "SELECT i.number FROM issue_stories x JOIN issues i ON i.id = x.issue_id
         WHERE x.story_id = $1",
        &[&story_id],
    )?;
    if let Some(holder) = holder {
        return Err(StoreError::StoryInIssue {
            story: story_id,
            issue: holder.try_get(0)?,
        });
    }
    db.execute(
        "INSERT INTO issue_stories (issue_id, story_id, position)
         VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM issue_stories
                          WHERE issue_id = $1))",
        &[&issue_id, &story_id],
    )?;
    Ok(())
}

/// What a transaction that changes issues reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// Only the issue's own rows.
    Issue,
    /// Whether stories are approved, to decide on them.
    Approvals,
}

/// Begins a transaction that changes issues: holds [`ISSUES_LOCK`] to its
/// end, and the stories' lock too when it decides on approvals (see the
/// module doc for the order).
fn issue_transaction(
    client: &mut postgres::Client,
    reads: Reads,
) -> Result<postgres::Transaction<'_>, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ISSUES_LOCK])?;
    if reads == Reads::Approvals {
        lock_stories(&mut tx)?;
    }
    Ok(tx)
}

impl IssueStore for PgStore {
    fn create_issue(
        &mut self,
        number: &str,
        date: NaiveDate,
        sections: &[String],
    ) -> Result<IssueInfo, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<IssueInfo, StoreError> {
            check_issue_number(number)?;
            let mut db = self.db();
            let mut tx = issue_transaction(&mut db, Reads::Approvals)?;
            // Under the lock, nobody else creates this number between the
            // check and the insert (the UNIQUE constraint would only fail the
            // transaction, not say which error it is).
            if tx
                .query_opt("SELECT 1 FROM issues WHERE number = $1", &[&number])?
                .is_some()
            {
                return Err(StoreError::DuplicateIssue(number.to_string()));
            }
            let now = ts(Utc::now());
            let issue_id: i64 = tx
                .query_one(
                    "INSERT INTO issues (number, issue_date, status, created_at, updated_at)
                     VALUES ($1, $2, 'draft', $3, $3) RETURNING id",
                    &[&number, &date.format(DATE_FORMAT).to_string(), &now],
                )?
                .try_get(0)?;
            let picks = free_entries(&mut tx, sections, true)?;
            let insert = tx.prepare(
                "INSERT INTO issue_stories (issue_id, story_id, position) VALUES ($1, $2, $3)",
            )?;
            for e in &picks {
                tx.execute(&insert, &[&issue_id, &e.story_id, &position(e.position)])?;
            }
            let (_, info) = issue_row(&mut tx, number)?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn issue(&self, number: &str, sections: &[String]) -> Result<IssueDetail, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<IssueDetail, StoreError> {
            // One snapshot for the issue and its stories, as SQLite's single
            // connection reads them between writes.
            let mut db = self.db();
            let mut tx = db
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let (id, info) = issue_row(&mut tx, number)?;
            let entries = ordered_entries(&mut tx, id, sections)?;
            tx.commit()?;
            Ok(IssueDetail { info, entries })
        })
    }

    fn free_stories(&self, sections: &[String]) -> Result<Vec<IssueEntry>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<IssueEntry>, StoreError> {
            free_entries(&mut *self.db(), sections, false)
        })
    }

    fn issues(&self) -> Result<Vec<IssueInfo>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<IssueInfo>, StoreError> {
            let rows = self.db().query(
                &format!("SELECT {INFO_COLUMNS} FROM issues ORDER BY number DESC"),
                &[],
            )?;
            rows.iter().map(|r| info_from_row(r, 0)).collect()
        })
    }

    fn issue_add(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let edits = IssueEdits {
                add: vec![story_id],
                ..IssueEdits::default()
            };
            let detail = self.edit_issue(number, &edits, sections)?;
            Ok(position_in(&detail, story_id))
        })
    }

    fn issue_remove(
        &mut self,
        number: &str,
        story_id: i64,
        sections: &[String],
    ) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let edits = IssueEdits {
                remove: vec![story_id],
                ..IssueEdits::default()
            };
            self.edit_issue(number, &edits, sections).map(|_| ())
        })
    }

    fn issue_move(
        &mut self,
        number: &str,
        story_id: i64,
        new_position: usize,
        sections: &[String],
    ) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let edits = IssueEdits {
                moves: vec![(story_id, new_position)],
                ..IssueEdits::default()
            };
            let detail = self.edit_issue(number, &edits, sections)?;
            Ok(position_in(&detail, story_id))
        })
    }

    fn set_issue_date(&mut self, number: &str, date: NaiveDate) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let edits = IssueEdits {
                date: Some(date),
                ..IssueEdits::default()
            };
            // The date does not depend on section order.
            self.edit_issue(number, &edits, &[]).map(|_| ())
        })
    }

    fn edit_issue(
        &mut self,
        number: &str,
        edits: &IssueEdits,
        sections: &[String],
    ) -> Result<IssueDetail, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<IssueDetail, StoreError> {
            let mut db = self.db();
            // Any error returns before `commit`: the transaction rolls back
            // when dropped, and no edit is applied.
            let mut tx = issue_transaction(&mut db, Reads::Approvals)?;
            let issue_id = draft_id(&mut tx, number)?;
            if let Some(date) = edits.date {
                tx.execute(
                    "UPDATE issues SET issue_date = $2 WHERE id = $1",
                    &[&issue_id, &date.format(DATE_FORMAT).to_string()],
                )?;
            }
            for &story in &edits.remove {
                let removed = tx.execute(
                    "DELETE FROM issue_stories WHERE issue_id = $1 AND story_id = $2",
                    &[&issue_id, &story],
                )?;
                if removed == 0 {
                    return Err(StoreError::StoryNotInIssue {
                        story,
                        issue: number.to_string(),
                    });
                }
            }
            for &story in &edits.add {
                add_story(&mut tx, issue_id, story)?;
            }
            let mut entries = ordered_entries(&mut tx, issue_id, sections)?;
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
            let entries = write_order(&mut tx, issue_id, entries, sections)?;
            tx.execute(
                "UPDATE issues SET updated_at = $2 WHERE id = $1",
                &[&issue_id, &ts(Utc::now())],
            )?;
            let (_, info) = issue_row(&mut tx, number)?;
            tx.commit()?;
            Ok(IssueDetail { info, entries })
        })
    }

    fn publish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<IssueInfo, StoreError> {
            let mut db = self.db();
            let mut tx = issue_transaction(&mut db, Reads::Approvals)?;
            let (issue_id, info) = issue_row(&mut tx, number)?;
            if info.status == IssueStatus::Published {
                return Ok(info);
            }
            if info.stories == 0 {
                return Err(StoreError::EmptyIssue(number.to_string()));
            }
            // Every story's row and primary item locked, not only the first
            // unapproved one: none may be rejected while this commits (see the
            // module doc). Positions are distinct, so the first by position is
            // the one SQLite's `ORDER BY position LIMIT 1` names.
            let rows = tx.query(
                "SELECT x.story_id, p.status FROM issue_stories x
                 JOIN stories st ON st.id = x.story_id JOIN items p ON p.id = st.primary_item
                 WHERE x.issue_id = $1
                 ORDER BY x.position, x.story_id
                 FOR SHARE OF st, p",
                &[&issue_id],
            )?;
            for r in &rows {
                let status: String = r.try_get(1)?;
                if status != "approved" {
                    return Err(StoreError::StoryNotApproved {
                        story: r.try_get(0)?,
                        status,
                    });
                }
            }
            let now = ts(Utc::now());
            tx.execute(
                "UPDATE issues SET status = 'published', published_at = $2, updated_at = $2
                 WHERE id = $1",
                &[&issue_id, &now],
            )?;
            let (_, info) = issue_row(&mut tx, number)?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn unpublish_issue(&mut self, number: &str) -> Result<IssueInfo, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<IssueInfo, StoreError> {
            let mut db = self.db();
            let mut tx = issue_transaction(&mut db, Reads::Issue)?;
            let (issue_id, _) = issue_row(&mut tx, number)?;
            tx.execute(
                "UPDATE issues SET status = 'draft', published_at = NULL, updated_at = $2
                 WHERE id = $1 AND status = 'published'",
                &[&issue_id, &ts(Utc::now())],
            )?;
            let (_, info) = issue_row(&mut tx, number)?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn delete_issue(&mut self, number: &str) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let mut db = self.db();
            let mut tx = issue_transaction(&mut db, Reads::Issue)?;
            let issue_id = draft_id(&mut tx, number)?;
            // The foreign key cascades too; deleted explicitly as the SQLite
            // store does, so the two read alike.
            tx.execute(
                "DELETE FROM issue_stories WHERE issue_id = $1",
                &[&issue_id],
            )?;
            tx.execute("DELETE FROM issues WHERE id = $1", &[&issue_id])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn item_html(&self, item_id: i64) -> Result<String, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<String, StoreError> {
            let row = self
                .db()
                .query_opt("SELECT content_html FROM items WHERE id = $1", &[&item_id])?;
            // SQLite answers a missing item with its "no rows" error; the
            // variant says the same here without a driver to borrow it from.
            Ok(row.ok_or(StoreError::NoSuchItem(item_id))?.try_get(0)?)
        })
    }
}

/// Where `story_id` is in the issue as edited (0: not in it).
fn position_in(detail: &IssueDetail, story_id: i64) -> usize {
    detail
        .entries
        .iter()
        .find(|e| e.story_id == story_id)
        .map_or(0, |e| e.position)
}
