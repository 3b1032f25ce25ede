//! Storing one item, part of the store layer: the decisions of a save —
//! known already, a copy of a text already stored, which story it joins —
//! written once for both backends. Each backend gives the steps in its own
//! SQL ([`SaveSteps`], implemented on its transaction type).

use chrono::{DateTime, Utc};

use super::{Status, StoreError, Stored, ts};
use crate::dedup::{Fingerprint, PreparedStory};
use crate::model::NewItem;
use crate::normalize::item_uid;

/// The statements a save is made of, inside the backend's transaction.
pub(super) trait SaveSteps {
    /// The item already stored under this source's guid or this address.
    fn find_known(
        &mut self,
        source_id: &str,
        guid: Option<&str>,
        canonical_url: &str,
    ) -> Result<Option<i64>, StoreError>;
    /// An item seen before, again: a new link, and new text and
    /// classification if its own page changed.
    fn update_known(
        &mut self,
        id: i64,
        item: &NewItem,
        status: Status,
        now: &str,
        story: &PreparedStory,
    ) -> Result<Stored, StoreError>;
    /// An item with the same text: its id, source, story and story status.
    fn same_text(
        &mut self,
        item: &NewItem,
    ) -> Result<Option<(i64, String, i64, String)>, StoreError>;
    fn add_link(&mut self, item_id: i64, item: &NewItem, now: &str) -> Result<(), StoreError>;
    /// The story the item joins (and its status), or a new one.
    fn join_or_open(
        &mut self,
        joins: Option<(i64, Status)>,
        own_status: Status,
        uid: &str,
        now: &str,
    ) -> Result<(i64, Status), StoreError>;
    fn insert_item(
        &mut self,
        uid: &str,
        item: &NewItem,
        status: Status,
        story_id: i64,
        now: &str,
    ) -> Result<i64, StoreError>;
    fn save_fingerprint(&mut self, id: i64, day: i64, fp: &Fingerprint) -> Result<(), StoreError>;
    fn refresh_primary(&mut self, story_id: i64, now: &str) -> Result<(), StoreError>;
}

/// Stores one item in `tx`: updates it if it is already known, else files
/// it under the story it is a copy of, or the one `placed_story` finds for
/// it (asked only when it is no copy), or opens a story for it.
pub(super) fn store_item<T: SaveSteps>(
    tx: &mut T,
    item: &NewItem,
    status: Status,
    now: DateTime<Utc>,
    story: &PreparedStory,
    placed_story: impl FnOnce(&mut T) -> Result<Option<(i64, Status)>, StoreError>,
) -> Result<Stored, StoreError> {
    let now = &ts(now);
    if let Some(id) = tx.find_known(&item.source_id, item.guid.as_deref(), &item.canonical_url)? {
        return tx.update_known(id, item, status, now, story);
    }
    // The same text: from this outlet (one article under two URLs) it is
    // one item seen on two pages; from another outlet it is a copy, stored
    // as an item of the same story so the original can be told from it.
    let mut same_text_story = None;
    if !item.content_hash.is_empty() {
        match tx.same_text(item)? {
            Some((id, source, _, _)) if source == item.source_id => {
                tx.add_link(id, item, now)?;
                return Ok(Stored::Merged(id));
            }
            Some((_, _, story, status)) => same_text_story = Some((story, Status::parse(&status))),
            None => {}
        }
    }
    let uid = item_uid(&item.canonical_url);
    let joins = match same_text_story {
        Some(story) => Some(story),
        None => placed_story(tx)?,
    };
    let (story_id, status) = tx.join_or_open(joins, status, &uid, now)?;
    let id = tx.insert_item(&uid, item, status, story_id, now)?;
    tx.add_link(id, item, now)?;
    tx.save_fingerprint(id, story.day, &story.fingerprint)?;
    tx.refresh_primary(story_id, now)?;
    Ok(Stored::New(id))
}
