//! The dedup stage's candidate index on PostgreSQL: each item's MinHash
//! fingerprint and LSH band keys in `item_fingerprints` / `item_bands`, the
//! same two tables as SQLite's (`store::dedup`). Part of the store layer;
//! its one job is to keep and look up what [`crate::dedup`] computes.
//!
//! Where SQLite builds one statement with a `(?, ?)` per band, this binds
//! the bands as two arrays and `unnest`s them: one statement text for any
//! number of bands, prepared once per call.

use ::postgres::{GenericClient, Transaction};

use super::PgStore;
use crate::dedup::{Fingerprint, ItemId, StoredStories, StoryText, story_text};
use crate::store::{IndexStore, StoreError, UnindexedItem, parse_ts};

/// The bands of `fp` as two parallel arrays (band number, key).
fn band_arrays(fp: &Fingerprint) -> (Vec<i64>, Vec<i64>) {
    fp.bands()
        .into_iter()
        .map(|(band, key)| (i64::from(band), key))
        .unzip()
}

/// Stores an item's fingerprint and band keys (replacing earlier ones).
/// Call inside the item's transaction.
pub(super) fn save(
    db: &mut impl GenericClient,
    id: ItemId,
    day: i64,
    fp: &Fingerprint,
) -> Result<(), StoreError> {
    if let Some((_, old)) = load(db, id)? {
        // By the primary key (band, key, item_id): the table has no index
        // on item_id alone, as SQLite's has none.
        let (bands, keys) = band_arrays(&old);
        db.execute(
            "DELETE FROM item_bands b USING unnest($1::bigint[], $2::bigint[]) AS t(band, key)
             WHERE b.band = t.band AND b.key = t.key AND b.item_id = $3",
            &[&bands, &keys, &id],
        )?;
    }
    // A text too short to give a single shingle has no fingerprint: it is
    // stored unindexed (it can match nothing), not refused.
    let (bands, keys) = band_arrays(fp);
    if bands.is_empty() {
        db.execute("DELETE FROM item_fingerprints WHERE item_id = $1", &[&id])?;
        return Ok(());
    }
    db.execute(
        "INSERT INTO item_fingerprints (item_id, day, shingles, minhash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (item_id) DO UPDATE
         SET day = excluded.day, shingles = excluded.shingles, minhash = excluded.minhash",
        &[&id, &day, &i64::from(fp.shingles), &fp.to_blob()],
    )?;
    db.execute(
        "INSERT INTO item_bands (band, key, item_id)
         SELECT band, key, $3 FROM unnest($1::bigint[], $2::bigint[]) AS t(band, key)
         ON CONFLICT DO NOTHING",
        &[&bands, &keys, &id],
    )?;
    Ok(())
}

/// An item's stored day and fingerprint; `None` also for a stored
/// fingerprint that cannot be read back (as SQLite's `load`: a blob of the
/// wrong length), which then matches nothing rather than failing a save.
fn load(db: &mut impl GenericClient, id: ItemId) -> Result<Option<(i64, Fingerprint)>, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT day, shingles, minhash FROM item_fingerprints WHERE item_id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let day: i64 = row.try_get(0)?;
    let shingles: i64 = row.try_get(1)?;
    let blob: Vec<u8> = row.try_get(2)?;
    Ok(u32::try_from(shingles)
        .ok()
        .and_then(|n| Fingerprint::from_blob(n, &blob))
        .map(|fp| (day, fp)))
}

/// Stored items sharing at least one band with `fp` whose day is
/// `since_day` or later (all days when `None`), most shared bands first,
/// then by id.
fn candidates(
    db: &mut impl GenericClient,
    fp: &Fingerprint,
    since_day: Option<i64>,
) -> Result<Vec<ItemId>, StoreError> {
    let (bands, keys) = band_arrays(fp);
    if bands.is_empty() {
        // A text without shingles matches nothing.
        return Ok(Vec::new());
    }
    // A fingerprint's bands are distinct, so the count is the number of
    // bands shared.
    let rows = db.query(
        "SELECT b.item_id FROM item_bands b
         JOIN unnest($1::bigint[], $2::bigint[]) AS t(band, key)
           ON b.band = t.band AND b.key = t.key
         WHERE $3::bigint IS NULL
            OR EXISTS (SELECT 1 FROM item_fingerprints f WHERE f.item_id = b.item_id AND f.day >= $3)
         GROUP BY b.item_id
         ORDER BY COUNT(*) DESC, b.item_id",
        &[&bands, &keys, &since_day],
    )?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

fn stored_story_text(
    db: &mut impl GenericClient,
    id: ItemId,
) -> Result<Option<StoryText>, StoreError> {
    let Some(r) = db.query_opt(
        "SELECT title, content_text, origin FROM items WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(story_text(
        &r.try_get::<_, String>(0)?,
        &r.try_get::<_, String>(1)?,
        &r.try_get::<_, String>(2)?,
    )))
}

/// The stored items as dedup reads them, inside the transaction that is
/// storing an item (so what it reads is what that item is placed among).
pub(super) struct Lookup<'a, 't> {
    pub tx: &'a mut Transaction<'t>,
}

impl StoredStories for Lookup<'_, '_> {
    type Error = StoreError;

    fn candidates(
        &mut self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError> {
        candidates(self.tx, fp, since_day)
    }

    fn fingerprint(&mut self, id: ItemId) -> Result<Option<Fingerprint>, StoreError> {
        Ok(load(self.tx, id)?.map(|(_, fp)| fp))
    }

    fn story_text(&mut self, id: ItemId) -> Result<Option<StoryText>, StoreError> {
        stored_story_text(self.tx, id)
    }
}

impl IndexStore for PgStore {
    fn save_fingerprints(&mut self, rows: &[(ItemId, i64, Fingerprint)]) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            for (id, day, fp) in rows {
                save(&mut tx, *id, *day, fp)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn fingerprint(&self, id: ItemId) -> Result<Option<(i64, Fingerprint)>, StoreError> {
        crate::store::postgres::outside_runtime(
            || -> Result<Option<(i64, Fingerprint)>, StoreError> { load(&mut *self.db(), id) },
        )
    }

    fn dedup_candidates(
        &self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<ItemId>, StoreError> {
            candidates(&mut *self.db(), fp, since_day)
        })
    }

    /// Never: this backend's schema had stories and fingerprints from its
    /// first migration, so no database of it holds items from before them.
    fn needs_fingerprints(&self) -> bool {
        crate::store::postgres::outside_runtime(|| -> bool { false })
    }

    fn unindexed_items(&self) -> Result<Vec<UnindexedItem>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<UnindexedItem>, StoreError> {
            let rows = self.db().query(
                "SELECT id, title, content_text, origin, published_at, first_seen_at FROM items i
                 WHERE NOT EXISTS (SELECT 1 FROM item_fingerprints f WHERE f.item_id = i.id)
                 ORDER BY id",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let title: String = r.try_get(1)?;
                    let text: String = r.try_get(2)?;
                    let origin: String = r.try_get(3)?;
                    let published: Option<String> = r.try_get(4)?;
                    let first_seen: String = r.try_get(5)?;
                    Ok(UnindexedItem {
                        id: r.try_get(0)?,
                        text: story_text(&title, &text, &origin),
                        date: published
                            .as_deref()
                            .and_then(parse_ts)
                            .or_else(|| parse_ts(&first_seen)),
                    })
                })
                .collect()
        })
    }
}
