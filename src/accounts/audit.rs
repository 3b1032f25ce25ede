//! The desk's audit log: who did what to which item or story, with the
//! value before and after, so that an editor's decision can be traced and
//! undone by hand. The desk writes it; `kuaibao audit` reads it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{AccountError, ts};

/// One action to record. `before` and `after` are whatever text describes
/// the changed value (a status, a title, a JSON object); the log does not
/// interpret them.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditEntry<'a> {
    pub user_name: &'a str,
    pub action: &'a str,
    pub item_id: Option<i64>,
    pub story_id: Option<i64>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Which entries to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: usize,
    /// Only this user's actions.
    pub user: Option<String>,
    /// Only actions on this item.
    pub item_id: Option<i64>,
}

impl Default for AuditQuery {
    fn default() -> AuditQuery {
        AuditQuery {
            limit: 100,
            user: None,
            item_id: None,
        }
    }
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub user_name: String,
    pub action: String,
    pub item_id: Option<i64>,
    pub story_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub detail: Option<String>,
}

/// Records an action now; its id.
pub fn record(conn: &Connection, entry: &AuditEntry<'_>) -> Result<i64, AccountError> {
    record_at(conn, entry, Utc::now())
}

/// Records an action at a given time (the limiter's clock, tests).
pub fn record_at(
    conn: &Connection,
    entry: &AuditEntry<'_>,
    at: DateTime<Utc>,
) -> Result<i64, AccountError> {
    conn.execute(
        "INSERT INTO audit_log (at, user_name, action, item_id, story_id, before, after, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            ts(at),
            entry.user_name,
            entry.action,
            entry.item_id,
            entry.story_id,
            entry.before,
            entry.after,
            entry.detail,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Recorded actions, newest first; within one second, in the order they
/// were recorded (newest first too).
pub fn audit_entries(
    conn: &Connection,
    query: &AuditQuery,
) -> Result<Vec<AuditRecord>, AccountError> {
    let mut stmt = conn.prepare(
        "SELECT id, at, user_name, action, item_id, story_id, before, after, detail
         FROM audit_log
         WHERE (?1 IS NULL OR user_name = ?1) AND (?2 IS NULL OR item_id = ?2)
         ORDER BY at DESC, id DESC LIMIT ?3",
    )?;
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![query.user, query.item_id, limit], |r| {
        Ok(AuditRecord {
            id: r.get(0)?,
            at: r.get(1)?,
            user_name: r.get(2)?,
            action: r.get(3)?,
            item_id: r.get(4)?,
            story_id: r.get(5)?,
            before: r.get(6)?,
            after: r.get(7)?,
            detail: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
