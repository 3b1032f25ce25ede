//! The candidate index: LSH band key → items, in memory and in SQLite.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::DedupConfig;
use super::minhash::{BANDS, Fingerprint};
use super::verify::{Prepared, StoryText, Verdict, verify};

/// An item's id (the `items.id` rowid).
pub type ItemId = i64;

/// Band keys of every inserted item, in memory.
#[derive(Debug, Default)]
pub struct DedupIndex {
    bands: Vec<HashMap<i64, Vec<ItemId>>>,
    len: usize,
}

impl DedupIndex {
    pub fn new() -> DedupIndex {
        DedupIndex {
            bands: (0..BANDS).map(|_| HashMap::new()).collect(),
            len: 0,
        }
    }

    /// Items inserted.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn insert(&mut self, id: ItemId, fp: &Fingerprint) {
        if self.bands.is_empty() {
            *self = DedupIndex::new();
        }
        for (band, key) in fp.bands() {
            self.bands[usize::from(band)]
                .entry(key)
                .or_default()
                .push(id);
        }
        self.len += 1;
    }

    /// Items sharing at least one band with `fp`, most shared bands first
    /// (then by id); each once.
    pub fn candidates(&self, fp: &Fingerprint) -> Vec<ItemId> {
        let mut hits: HashMap<ItemId, usize> = HashMap::new();
        for (band, key) in fp.bands() {
            if let Some(ids) = self.bands.get(usize::from(band)).and_then(|m| m.get(&key)) {
                for &id in ids {
                    *hits.entry(id).or_default() += 1;
                }
            }
        }
        let mut out: Vec<(ItemId, usize)> = hits.into_iter().collect();
        out.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        out.into_iter().map(|(id, _)| id).collect()
    }
}

/// The tables, for the store's migrations. `day` is the item's day
/// (days since 1970-01-01 UTC, first seen or published) so a lookup can be
/// limited to a window; `shingles` is the shingle-set size. The primary key
/// of the `WITHOUT ROWID` band table is the (band, key) index itself, so a
/// band row costs no separate index entry.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS item_fingerprints (
    item_id  INTEGER PRIMARY KEY,
    day      INTEGER NOT NULL,
    shingles INTEGER NOT NULL,
    minhash  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS item_bands (
    band    INTEGER NOT NULL,
    key     INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (band, key, item_id)
) WITHOUT ROWID;
";

/// Creates the tables when missing.
pub fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// Stores an item's fingerprint and band keys (replacing earlier ones).
/// Call inside the item's transaction.
pub fn save(conn: &Connection, id: ItemId, day: i64, fp: &Fingerprint) -> rusqlite::Result<()> {
    if let Some(old) = load(conn, id)? {
        let mut del = conn.prepare_cached(
            "DELETE FROM item_bands WHERE band = ?1 AND key = ?2 AND item_id = ?3",
        )?;
        for (band, key) in old.1.bands() {
            del.execute(params![band, key, id])?;
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
    // inserts was a third of an item's time in the store.
    let mut ins = conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO item_bands (band, key, item_id) VALUES {}",
        vec!["(?, ?, ?)"; bands.len()].join(", ")
    ))?;
    let values: Vec<rusqlite::types::Value> = bands
        .iter()
        .flat_map(|&(band, key)| [i64::from(band).into(), key.into(), id.into()])
        .collect();
    ins.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// An item's stored day and fingerprint.
pub fn load(conn: &Connection, id: ItemId) -> rusqlite::Result<Option<(i64, Fingerprint)>> {
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
pub fn candidates_sql(
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
        "SELECT item_id FROM item_bands WHERE (band, key) IN (VALUES {})",
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

/// Candidates verified beyond this many (most shared bands first) are not
/// looked at: a new item that looks like hundreds of stored ones is
/// boilerplate, and the bound keeps the worst case of one insert small.
const MAX_VERIFIED: usize = 32;

/// Stored items that are the same story as `new`, best (highest score)
/// first: band look-up within the window, a pre-filter on the stored
/// fingerprints (estimated containment ≥ 0.5, cheap), then full
/// verification of what passes against the text `text_of` gives.
pub fn find_matches(
    conn: &Connection,
    new: &Prepared,
    fp: &Fingerprint,
    since_day: Option<i64>,
    cfg: &DedupConfig,
    mut text_of: impl FnMut(ItemId) -> rusqlite::Result<Option<StoryText>>,
) -> rusqlite::Result<Vec<(ItemId, Verdict)>> {
    let mut found = Vec::new();
    let mut verified = 0;
    for id in candidates_sql(conn, fp, since_day)? {
        let Some((_, stored)) = load(conn, id)? else {
            continue;
        };
        if fp.containment(&stored) < 0.5 {
            continue;
        }
        let Some(text) = text_of(id)? else {
            continue;
        };
        let verdict = verify(new, &Prepared::new(&text, cfg), cfg);
        if verdict.same {
            found.push((id, verdict));
        }
        verified += 1;
        if verified == MAX_VERIFIED {
            break;
        }
    }
    found.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    Ok(found)
}
