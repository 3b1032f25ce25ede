//! What several of the PostgreSQL store's traits share: the lock that
//! serialises story placement, opening a story and electing its primary
//! item, and the other outlets that carried a story. Part of the store
//! layer; the SQLite forms of these are in `store::stories`.

use ::postgres::{GenericClient, Transaction};

use crate::model::Via;
use crate::store::StoreError;
use crate::store::stories::{PrimaryCandidate, choose_primary};

/// Key of the transaction-scoped advisory lock held by every transaction
/// that places items in stories or changes a story's membership or review
/// status: saving an item, setting a status, splitting and merging
/// ("kuaibao:stories" folded into 63 bits).
///
/// SQLite serialises these writers with `BEGIN IMMEDIATE` (one writer per
/// file). Here many processes write at once, and under READ COMMITTED two
/// of them could each find no story for the same article and both open
/// one, or a copy could join a story with the status it had just before an
/// editor approved it. Holding this lock from the first statement to the
/// commit makes the read-decide-write of each such transaction atomic
/// with respect to the others; taking it first, before any row lock,
/// keeps the lock order the same everywhere, so it cannot deadlock with
/// them.
const STORY_LOCK: i64 = 0x006b_7561_6962_7374;

/// Takes [`STORY_LOCK`] for the rest of `tx` (waits for its holder to
/// commit). Every later statement of `tx` sees what that holder committed:
/// READ COMMITTED takes a new snapshot per statement.
pub(super) fn lock_stories(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&STORY_LOCK])?;
    Ok(())
}

/// Opens a story for an item about to be inserted; its primary is set by
/// [`refresh_primary`] once the item exists. Call under [`lock_stories`].
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
