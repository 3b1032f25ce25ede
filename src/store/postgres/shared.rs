//! What several of the PostgreSQL store's traits share: the lock that
//! serialises story placement, opening a story and electing its primary
//! item, and the other outlets that carried a story. Part of the store
//! layer; the SQLite forms of these are in `store::stories`.

use ::postgres::{GenericClient, Transaction};

use crate::model::Via;
use crate::store::StoreError;
use crate::store::stories::{PrimaryCandidate, choose_primary};

/// Key of the transaction-scoped advisory lock that orders the
/// transactions placing items in stories or changing a story's membership
/// or review status ("kuaibao:stories" folded into 63 bits).
///
/// SQLite serialises these writers with `BEGIN IMMEDIATE` (one writer per
/// file). Here many processes write at once, and under READ COMMITTED two
/// of them could each find no story for the same article and both open
/// one, or a copy could join a story with the status it had just before an
/// editor approved it. An editor's change, a split, a merge and an issue
/// take it exclusively ([`lock_stories`]); saving an item takes it shared,
/// with exclusive locks on what the item could collide on
/// ([`lock_for_saving`]), so saves of unrelated articles run side by side.
/// Taken first, before any row lock, so that the lock order is the same
/// everywhere and cannot deadlock.
const STORY_LOCK: i64 = 0x006b_7561_6962_7374;

/// The first key of the advisory locks on what an item being saved could
/// collide on (the two-integer form, a key space of its own): "kb".
const SAVE_KEYS: i32 = 0x6b62;

/// Takes [`STORY_LOCK`] exclusively for the rest of `tx` (waits for every
/// save and change in progress to commit). Every later statement of `tx`
/// sees what they committed: READ COMMITTED takes a new snapshot per
/// statement.
pub(super) fn lock_stories(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STORY_LOCK])?;
    Ok(())
}

/// Locks for saving `item` for the rest of `tx`: [`STORY_LOCK`] shared,
/// then, exclusively and in one order, a key for each of its band keys,
/// its text's hash, its address and its guid. Two saves that could place
/// their items together (a near-duplicate shares a band, a copy has the
/// same text, the same article the same address) take a key in common, so
/// the second waits for the first's commit and sees its item; saves of
/// unrelated articles do not wait for each other. Before the first read.
/// Two such saves can still join one story through different members:
/// [`lock_story`] orders those.
pub(super) fn lock_for_saving(
    tx: &mut Transaction<'_>,
    item: &crate::model::NewItem,
    story: &crate::dedup::PreparedStory,
) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&STORY_LOCK])?;
    let key = |parts: &[&[u8]]| {
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend_from_slice(p);
            bytes.push(0xff);
        }
        // A 32-bit key: two unrelated items sharing one only wait.
        crate::text::fnv1a(&bytes) as u32 as i32
    };
    let mut keys: Vec<i32> = story
        .fingerprint
        .bands()
        .iter()
        .map(|&(band, k)| key(&[b"band", &[band], &k.to_le_bytes()]))
        .collect();
    keys.push(key(&[b"url", item.canonical_url.as_bytes()]));
    if !item.content_hash.is_empty() {
        keys.push(key(&[b"text", item.content_hash.as_bytes()]));
    }
    if let Some(guid) = &item.guid {
        keys.push(key(&[b"guid", item.source_id.as_bytes(), guid.as_bytes()]));
    }
    keys.sort_unstable();
    keys.dedup();
    // In the array's order, so that two saves never wait for each other
    // both ways.
    tx.query(
        "SELECT pg_advisory_xact_lock($1::int4, k)
         FROM (SELECT k FROM unnest($2::int4[]) WITH ORDINALITY AS t(k, n) ORDER BY n) s",
        &[&SAVE_KEYS, &keys],
    )?;
    Ok(())
}

/// Locks a story's row for the rest of `tx`, before a save joins it: two
/// saves joining one story through different members take turns, and the
/// second reads the story's status and members after the first's commit.
/// Returns the status of the story's items, read under the lock (None when
/// the story is gone).
pub(super) fn lock_story(
    tx: &mut Transaction<'_>,
    story_id: i64,
) -> Result<Option<String>, StoreError> {
    tx.execute(
        "SELECT 1 FROM stories WHERE id = $1 FOR UPDATE",
        &[&story_id],
    )?;
    Ok(tx
        .query_opt(
            "SELECT status FROM items WHERE story_id = $1 LIMIT 1",
            &[&story_id],
        )?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// Opens a story for an item about to be inserted; its primary is set by
/// [`refresh_primary`] once the item exists. Call under [`lock_stories`]
/// or [`lock_for_saving`].
pub(super) fn open_story(
    tx: &mut Transaction<'_>,
    uid: &str,
    now: &str,
) -> Result<i64, StoreError> {
    // A uid can be taken by a story an item was split from; the suffix
    // keeps ids unique and stable.
    let mut candidate = uid.to_string();
    let mut n = 1;
    while tx
        .query_opt("SELECT 1 FROM stories WHERE uid = $1", &[&candidate])?
        .is_some()
    {
        n += 1;
        candidate = format!("{uid}-{n}");
    }
    let row = tx.query_one(
        "INSERT INTO stories (uid, primary_item, created_at, updated_at) VALUES ($1, 0, $2, $2)
         RETURNING id",
        &[&candidate, &now],
    )?;
    Ok(row.try_get(0)?)
}

/// Recomputes the story's primary item; bumps the story's `updated_at`
/// when it changes (the feed entry's text changes with it). A story left
/// without items is deleted. The same election as SQLite's
/// `stories::refresh_primary`.
pub(super) fn refresh_primary(
    tx: &mut Transaction<'_>,
    story_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    let members: Vec<PrimaryCandidate> = tx
        .query(
            "SELECT i.id, i.origin, COALESCE(s.name, i.source_id),
                    COALESCE(i.published_at, i.first_seen_at), i.first_seen_at
             FROM items i LEFT JOIN sources s ON s.id = i.source_id WHERE i.story_id = $1",
            &[&story_id],
        )?
        .iter()
        .map(|r| {
            Ok(PrimaryCandidate {
                id: r.try_get(0)?,
                origin: r.try_get(1)?,
                outlet: r.try_get(2)?,
                date: r.try_get(3)?,
                first_seen: r.try_get(4)?,
            })
        })
        .collect::<Result<_, ::postgres::Error>>()?;
    let Some(primary) = choose_primary(&members) else {
        // Its last item left: the story is gone.
        tx.execute("DELETE FROM stories WHERE id = $1", &[&story_id])?;
        return Ok(());
    };
    tx.execute(
        "UPDATE stories SET primary_item = $2, updated_at = $3 WHERE id = $1 AND primary_item <> $2",
        &[&story_id, &primary, &now],
    )?;
    Ok(())
}

/// Every other outlet page that carried the story than the primary's own
/// page, once per outlet, in the order they were seen.
pub(super) fn story_via(
    db: &mut impl GenericClient,
    story_id: i64,
    primary_url: &str,
) -> Result<Vec<Via>, StoreError> {
    let rows = db.query(
        "SELECT COALESCE(s.name, l.source_id), l.url FROM items i
         JOIN item_links l ON l.item_id = i.id LEFT JOIN sources s ON s.id = l.source_id
         WHERE i.story_id = $1 AND l.url <> $2
         ORDER BY l.first_seen_at, l.source_id, l.url",
        &[&story_id, &primary_url],
    )?;
    let mut out: Vec<Via> = Vec::new();
    for r in rows {
        let outlet: String = r.try_get(0)?;
        let url: String = r.try_get(1)?;
        if !out.iter().any(|v| v.outlet == outlet) {
            out.push(Via { outlet, url });
        }
    }
    Ok(out)
}
