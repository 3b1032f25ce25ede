//! Repairs of a source's selectors on PostgreSQL: [`RepairStore`] for
//! [`PgStore`]. Part of the store layer; the same rows as the SQLite
//! store's `store::repairs` (`source_repairs`), and the article URLs a
//! source has stored, which a repair is proven against.

use chrono::Utc;
use postgres::Row;

use super::PgStore;
use crate::store::{NewRepair, RepairRow, RepairStore, StoreError, ts};

const COLUMNS: &str = "id, source_id, created_at, status, what, confidence, old_toml, new_toml, evidence, decided_at, decided_by";

/// First key of the advisory locks that serialise the repairs of one
/// source (the second is the source id's hash): "repr" in ASCII.
const REPAIR_LOCK: i32 = 0x7265_7072;

fn row(r: &Row) -> Result<RepairRow, postgres::Error> {
    Ok(RepairRow {
        id: r.try_get(0)?,
        source_id: r.try_get(1)?,
        created_at: r.try_get(2)?,
        status: r.try_get(3)?,
        what: r.try_get(4)?,
        confidence: r.try_get(5)?,
        old_toml: r.try_get(6)?,
        new_toml: r.try_get(7)?,
        evidence: r.try_get(8)?,
        decided_at: r.try_get(9)?,
        decided_by: r.try_get(10)?,
    })
}

impl RepairStore for PgStore {
    fn record_repair(&mut self, r: &NewRepair<'_>) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            let now = ts(Utc::now());
            let mut db = self.db();
            let mut tx = db.transaction()?;
            // Two processes proposing for one source at once must leave one
            // proposal, as SQLite's single writer does: the second waits here,
            // then deletes the first's.
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&REPAIR_LOCK, &r.source_id],
            )?;
            tx.execute(
                "DELETE FROM source_repairs WHERE source_id = $1 AND status = 'proposed'",
                &[&r.source_id],
            )?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO source_repairs (source_id, created_at, status, what, confidence, old_toml,
                                                 new_toml, evidence, decided_at, decided_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                             CASE WHEN $9::text IS NULL THEN NULL ELSE $2 END, $9)
                     RETURNING id",
                    &[
                        &r.source_id,
                        &now,
                        &r.status,
                        &r.what,
                        &r.confidence,
                        &r.old_toml,
                        &r.new_toml,
                        &r.evidence,
                        &r.decided_by,
                    ],
                )?
                .try_get(0)?;
            tx.commit()?;
            Ok(id)
        })
    }

    fn latest_repair(&self, source_id: &str) -> Result<Option<RepairRow>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<RepairRow>, StoreError> {
            let found = self.db().query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM source_repairs WHERE source_id = $1 ORDER BY id DESC LIMIT 1"
                ),
                &[&source_id],
            )?;
            Ok(found.as_ref().map(row).transpose()?)
        })
    }

    fn repair(&self, id: i64) -> Result<Option<RepairRow>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<RepairRow>, StoreError> {
            let found = self.db().query_opt(
                &format!("SELECT {COLUMNS} FROM source_repairs WHERE id = $1"),
                &[&id],
            )?;
            Ok(found.as_ref().map(row).transpose()?)
        })
    }

    fn proposed_repairs(&self) -> Result<Vec<RepairRow>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<RepairRow>, StoreError> {
            let rows = self.db().query(
                &format!(
                    "SELECT {COLUMNS} FROM source_repairs WHERE status = 'proposed' ORDER BY id DESC"
                ),
                &[],
            )?;
            Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
        })
    }

    fn decide_repair(&mut self, id: i64, status: &str, by: &str) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            self.db().execute(
                "UPDATE source_repairs SET status = $2, decided_at = $3, decided_by = $4 WHERE id = $1",
                &[&id, &status, &ts(Utc::now()), &by],
            )?;
            Ok(())
        })
    }

    /// Newest first. SQLite orders by the link's rowid (the order links
    /// were stored in); `item_links` has no such column here, so links are
    /// ordered by when they were first seen, then by item (items are
    /// numbered in the order they are stored): the same order except
    /// between pages stored within one second, one of them a new page of
    /// an older item.
    fn source_urls(&self, source_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<String>, StoreError> {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = self.db().query(
                "SELECT canonical_url FROM item_links WHERE source_id = $1
                 ORDER BY first_seen_at DESC, item_id DESC, canonical_url DESC LIMIT $2",
                &[&source_id, &limit],
            )?;
            Ok(rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }

    fn text_at(&self, url: &str) -> Result<Option<String>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<String>, StoreError> {
            match self.db().query_opt(
                "SELECT i.content_text FROM items i WHERE i.canonical_url = $1",
                &[&url],
            )? {
                Some(r) => Ok(Some(r.try_get(0)?)),
                None => Ok(None),
            }
        })
    }
}
