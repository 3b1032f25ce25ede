//! The dedup stage's candidate index, the store's side: each item's MinHash
//! fingerprint and LSH band keys in `item_fingerprints` / `item_bands`
//! (migration 2 in [`super::schema`]), the newest band keys in
//! `item_bands_recent` until [`merge_recent_bands`] moves them (migration
//! 9). Part of the store layer; its one job is to keep and look up what
//! [`crate::dedup`] computes — which story an item joins is decided there
//! ([`crate::dedup::place`]).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError};
use crate::dedup::{Fingerprint, ItemId, StoredStories, StoryText, story_text};

/// Stores an item's fingerprint and band keys (replacing earlier ones).
/// Call inside the item's transaction.
pub(super) fn save(
    conn: &Connection,
    id: ItemId,
    day: i64,
    fp: &Fingerprint,
) -> rusqlite::Result<()> {
    if let Some(old) = load(conn, id)? {
        let mut merged = conn.prepare_cached(
            "DELETE FROM item_bands WHERE band = ?1 AND key = ?2 AND item_id = ?3",
        )?;
        let mut recent = conn.prepare_cached(
            "DELETE FROM item_bands_recent WHERE band = ?1 AND key = ?2 AND item_id = ?3",
        )?;
        for (band, key) in old.1.bands() {
            merged.execute(params![band, key, id])?;
            recent.execute(params![band, key, id])?;
        }
    }
    // A text too short to give a single shingle has no fingerprint: it is
    // stored unindexed (it can match nothing), not refused.
    let bands = fp.bands();
    if bands.is_empty() {
        conn.prepare_cached("DELETE FROM item_fingerprints WHERE item_id = ?1")?
            .execute([id])?;
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO item_fingerprints (item_id, day, shingles, minhash) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, day, fp.shingles, fp.to_blob()])?;
    // One statement for every band: the per-statement cost of 42 separate
    // inserts was a third of an item's time in the store. Into the small
    // table: see `merge_recent_bands`.
    let mut ins = conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO item_bands_recent (band, key, item_id) VALUES {}",
        vec!["(?, ?, ?)"; bands.len()].join(", ")
    ))?;
    let values: Vec<rusqlite::types::Value> = bands
        .iter()
        .flat_map(|&(band, key)| [i64::from(band).into(), key.into(), id.into()])
        .collect();
    ins.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Items whose band keys wait in `item_bands_recent` before they are moved
/// into `item_bands` in one sorted pass. Each key is random, so writing an
/// item's 42 keys straight into the large index dirtied ~42 of its pages at
/// every commit; merged in bulk, a page is written once per merge. Measured
/// on a first poll of 20,000 items (`benches/pipeline.rs`): every 256
/// items 13.9–14.2 s, 512 12.7–13.3 s, 1,024 12.8–14.1 s but up to
/// 100.3 MiB (sources' batches pile up while a longer merge holds the
/// store), 4,096 14.0–14.3 s (the small table itself grows past what a
/// commit touches cheaply), against 15.1–15.9 s straight into the index.
pub(super) const MERGE_RECENT_BANDS_EVERY: usize = 512;

/// Moves every band key of `item_bands_recent` into `item_bands`. Call
/// inside a transaction.
pub(super) fn merge_recent_bands(conn: &Connection) -> rusqlite::Result<()> {
    // The small table is read in key order (its primary key), so the large
    // one is written front to back.
    conn.prepare_cached(
        "INSERT OR IGNORE INTO item_bands (band, key, item_id)
         SELECT band, key, item_id FROM item_bands_recent",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM item_bands_recent")?
        .execute([])?;
    Ok(())
}

/// How many items have band keys waiting in `item_bands_recent`.
pub(super) fn recent_band_items(conn: &Connection) -> rusqlite::Result<usize> {
    conn.prepare_cached("SELECT COUNT(DISTINCT item_id) FROM item_bands_recent")?
        .query_row([], |r| r.get(0))
}

/// An item's stored day and fingerprint.
fn load(conn: &Connection, id: ItemId) -> rusqlite::Result<Option<(i64, Fingerprint)>> {
    conn.prepare_cached("SELECT day, shingles, minhash FROM item_fingerprints WHERE item_id = ?1")?
        .query_row([id], |r| {
            let blob: Vec<u8> = r.get(2)?;
            Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?, blob))
        })
        .optional()
        .map(|row| {
            row.and_then(|(day, n, blob)| Fingerprint::from_blob(n, &blob).map(|fp| (day, fp)))
        })
}

/// Stored items sharing at least one band with `fp` whose day is
/// `since_day` or later (all days when `None`), most shared bands first.
fn candidates(
    conn: &Connection,
    fp: &Fingerprint,
    since_day: Option<i64>,
) -> rusqlite::Result<Vec<ItemId>> {
    let mut hits: HashMap<ItemId, usize> = HashMap::new();
    // One look-up for every band (row values, each on the primary key).
    let bands = fp.bands();
    if bands.is_empty() {
        // `IN (VALUES )` is not SQL; a text without shingles matches nothing.
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&format!(
        "WITH wanted(band, key) AS (VALUES {})
         SELECT item_id FROM item_bands WHERE (band, key) IN wanted
         UNION ALL
         SELECT item_id FROM item_bands_recent WHERE (band, key) IN wanted",
        vec!["(?, ?)"; bands.len()].join(", ")
    ))?;
    let values: Vec<rusqlite::types::Value> = bands
        .iter()
        .flat_map(|&(band, key)| [i64::from(band).into(), key.into()])
        .collect();
    let ids = stmt.query_map(rusqlite::params_from_iter(values), |r| {
        r.get::<_, ItemId>(0)
    })?;
    for id in ids {
        *hits.entry(id?).or_default() += 1;
    }
    let mut out: Vec<(ItemId, usize)> = hits.into_iter().collect();
    if let Some(since) = since_day
        && !out.is_empty()
    {
        let mut day =
            conn.prepare_cached("SELECT day FROM item_fingerprints WHERE item_id = ?1")?;
        let mut kept = Vec::with_capacity(out.len());
        for (id, n) in out {
            let d: Option<i64> = day.query_row([id], |r| r.get(0)).optional()?;
            if d.is_some_and(|d| d >= since) {
                kept.push((id, n));
            }
        }
        out = kept;
    }
    out.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    Ok(out.into_iter().map(|(id, _)| id).collect())
}

fn stored_story_text(conn: &Connection, id: ItemId) -> rusqlite::Result<Option<StoryText>> {
    conn.prepare_cached("SELECT title, content_text, origin FROM items WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(story_text(
                &r.get::<_, String>(0)?,
                &r.get::<_, String>(1)?,
                &r.get::<_, String>(2)?,
            ))
        })
        .optional()
}

/// The stored items as dedup reads them, over one connection (or the
/// transaction that is storing an item).
pub(super) struct Lookup<'c> {
    pub conn: &'c Connection,
}

impl StoredStories for Lookup<'_> {
    type Error = StoreError;

    fn candidates(
        &mut self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError> {
        Ok(candidates(self.conn, fp, since_day)?)
    }

    fn fingerprint(&mut self, id: ItemId) -> Result<Option<Fingerprint>, StoreError> {
        Ok(load(self.conn, id)?.map(|(_, fp)| fp))
    }

    fn story_text(&mut self, id: ItemId) -> Result<Option<StoryText>, StoreError> {
        Ok(stored_story_text(self.conn, id)?)
    }
}

/// An item stored before fingerprints existed, with what its fingerprint
/// is computed from.
#[derive(Debug, Clone)]
pub struct UnindexedItem {
    pub id: ItemId,
    pub text: StoryText,
    /// Published, else first seen.
    pub date: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub trait IndexStore {
    /// Saves fingerprints (`(item, day, fingerprint)`, replacing earlier
    /// ones) in one transaction.
    fn save_fingerprints(&mut self, rows: &[(ItemId, i64, Fingerprint)]) -> Result<(), StoreError>;

    /// An item's stored day and fingerprint.
    fn fingerprint(&self, id: ItemId) -> Result<Option<(i64, Fingerprint)>, StoreError>;

    /// Stored items sharing at least one band with `fp` whose day is
    /// `since_day` or later (all days when `None`), most shared bands
    /// first, then by id.
    fn dedup_candidates(
        &self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError>;

    /// Whether this database was opened at schema version 1, from before
    /// stories: its items have no fingerprints yet, and new copies of them
    /// are recognized only once [`Store::unindexed_items`] are saved.
    fn needs_fingerprints(&self) -> bool;

    /// Items without a fingerprint (stored before fingerprints existed, or
    /// too short to have one).
    fn unindexed_items(&self) -> Result<Vec<UnindexedItem>, StoreError>;
}

impl IndexStore for SqliteStore {
    fn save_fingerprints(&mut self, rows: &[(ItemId, i64, Fingerprint)]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (id, day, fp) in rows {
            save(&tx, *id, *day, fp)?;
        }
        tx.commit()?;
        self.merge_bands_if_due(rows.len())
    }

    fn fingerprint(&self, id: ItemId) -> Result<Option<(i64, Fingerprint)>, StoreError> {
        Ok(load(&self.conn, id)?)
    }

    fn dedup_candidates(
        &self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError> {
        Ok(candidates(&self.conn, fp, since_day)?)
    }

    fn needs_fingerprints(&self) -> bool {
        (1..2).contains(&self.opened_version)
    }

    fn unindexed_items(&self) -> Result<Vec<UnindexedItem>, StoreError> {
        let rows: Vec<(i64, String, String, String, Option<String>, String)> = self
            .conn
            .prepare(
                "SELECT id, title, content_text, origin, published_at, first_seen_at FROM items
                 WHERE id NOT IN (SELECT item_id FROM item_fingerprints)",
            )?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .map(
                |(id, title, text, origin, published, first_seen)| UnindexedItem {
                    id,
                    text: story_text(&title, &text, &origin),
                    date: published
                        .as_deref()
                        .and_then(super::parse_ts)
                        .or_else(|| super::parse_ts(&first_seen)),
                },
            )
            .collect())
    }
}
