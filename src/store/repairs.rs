//! Repairs of a source's selectors, the store's side (migration 7): what
//! `heal` proposed or applied, with the evidence. Part of the store layer;
//! its one job is to read and write `source_repairs`, and to say which
//! article URLs a source has already stored (the history a repair is
//! proven against).

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{SqliteStore, StoreError, ts};

/// One repair as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RepairRow {
    pub id: i64,
    pub source_id: String,
    pub created_at: String,
    /// `proposed`, `applied`, `failed` or `dismissed`.
    pub status: String,
    /// What broke: `list`, `article` or `list and article`.
    pub what: String,
    pub confidence: f64,
    /// The source's tables before and after, as TOML.
    pub old_toml: String,
    pub new_toml: String,
    /// The evidence, as JSON (`heal::Evidence`).
    pub evidence: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
}

/// A repair to record.
pub struct NewRepair<'a> {
    pub source_id: &'a str,
    pub status: &'a str,
    pub what: &'a str,
    pub confidence: f64,
    pub old_toml: &'a str,
    pub new_toml: &'a str,
    pub evidence: &'a str,
    /// Who applied it (`heal:auto`, `cli:$USER`), when it is applied now.
    pub decided_by: Option<&'a str>,
}

const COLUMNS: &str = "id, source_id, created_at, status, what, confidence, old_toml, new_toml, evidence, decided_at, decided_by";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RepairRow> {
    Ok(RepairRow {
        id: r.get(0)?,
        source_id: r.get(1)?,
        created_at: r.get(2)?,
        status: r.get(3)?,
        what: r.get(4)?,
        confidence: r.get(5)?,
        old_toml: r.get(6)?,
        new_toml: r.get(7)?,
        evidence: r.get(8)?,
        decided_at: r.get(9)?,
        decided_by: r.get(10)?,
    })
}

pub trait RepairStore {
    /// Records a repair. A new proposal replaces the source's older ones:
    /// only the latest evidence counts.
    fn record_repair(&mut self, r: &NewRepair<'_>) -> Result<i64, StoreError>;

    /// The source's latest repair of any status.
    fn latest_repair(&self, source_id: &str) -> Result<Option<RepairRow>, StoreError>;

    /// One repair by id.
    fn repair(&self, id: i64) -> Result<Option<RepairRow>, StoreError>;

    /// Repairs waiting for an editor, one per source, newest first.
    fn proposed_repairs(&self) -> Result<Vec<RepairRow>, StoreError>;

    /// Marks a repair applied or dismissed by `by`.
    fn decide_repair(&mut self, id: i64, status: &str, by: &str) -> Result<(), StoreError>;

    /// Canonical URLs of the articles this source has stored, newest first:
    /// what a repaired list must find again.
    fn source_urls(&self, source_id: &str, limit: usize) -> Result<Vec<String>, StoreError>;

    /// The stored text of the item at `url` (canonical), if any.
    fn text_at(&self, url: &str) -> Result<Option<String>, StoreError>;
}

impl RepairStore for SqliteStore {
    fn record_repair(&mut self, r: &NewRepair<'_>) -> Result<i64, StoreError> {
        let now = ts(Utc::now());
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "DELETE FROM source_repairs WHERE source_id = ?1 AND status = 'proposed'",
        )?
        .execute([r.source_id])?;
        tx.prepare_cached(
            "INSERT INTO source_repairs (source_id, created_at, status, what, confidence, old_toml, new_toml, evidence, decided_at, decided_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?9 IS NULL THEN NULL ELSE ?2 END, ?9)")?
            .execute(params![
                r.source_id,
                now,
                r.status,
                r.what,
                r.confidence,
                r.old_toml,
                r.new_toml,
                r.evidence,
                r.decided_by
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    fn latest_repair(&self, source_id: &str) -> Result<Option<RepairRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM source_repairs WHERE source_id = ?1 ORDER BY id DESC LIMIT 1"),
                [source_id],
                row,
            )
            .optional()?)
    }

    fn repair(&self, id: i64) -> Result<Option<RepairRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM source_repairs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?)
    }

    fn proposed_repairs(&self) -> Result<Vec<RepairRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM source_repairs WHERE status = 'proposed' ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn decide_repair(&mut self, id: i64, status: &str, by: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached(
            "UPDATE source_repairs SET status = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1")?
            .execute(params![id, status, ts(Utc::now()), by],
        )?;
        Ok(())
    }

    fn source_urls(&self, source_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT canonical_url FROM item_links WHERE source_id = ?1 ORDER BY rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![source_id, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn text_at(&self, url: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT i.content_text FROM items i WHERE i.canonical_url = ?1")?
            .query_row([url], |r| r.get(0))
            .optional()?)
    }
}
