//! Story placement: which stored story a new item joins. Part of the dedup
//! stage; the poll orchestrator asks it while the store writes the item.
//!
//! A new item joins the story of a stored item it republishes (or is
//! republished by) within `[dedup] window_days` of its own day, as
//! [`find_matches`] finds it, or opens a story of its own. The store only
//! records the answer: it asks [`place`] through the closure it is handed,
//! inside the transaction that stores the item, and only for an item that
//! is new (a known page, or the same text stored before, is not placed
//! again).

use chrono::{DateTime, FixedOffset, Utc};

use super::DedupConfig;
use super::index::{ItemId, StoredStories, find_matches};
use super::minhash::Fingerprint;
use super::verify::{Prepared, StoryText};
use crate::model::NewItem;
use crate::time::beijing;

/// What dedup compares of an item, prepared once: normalized shingles,
/// regions and figures, the MinHash fingerprint, and the day the window is
/// counted from.
#[derive(Debug, Clone)]
pub struct PreparedStory {
    pub text: Prepared,
    pub fingerprint: Fingerprint,
    /// [`day_of`] the item's publication, else of when it was stored.
    pub day: i64,
}

/// Day number (days since 1970-01-01 in Beijing time) that the dedup
/// window is counted in.
pub fn day_of(t: DateTime<FixedOffset>) -> i64 {
    t.with_timezone(&beijing())
        .date_naive()
        .signed_duration_since(chrono::NaiveDate::default())
        .num_days()
}

/// What is compared of an item: its title, text and 来源.
pub fn story_text(title: &str, text: &str, origin: &str) -> StoryText {
    StoryText {
        title: title.to_string(),
        text: text.to_string(),
        origin: (!origin.is_empty()).then(|| origin.to_string()),
    }
}

/// Prepares an item's story text: the CPU-heavy part of storing an item,
/// which callers do before they lock the store. `now`: when the item is
/// stored, its day when it carries no date.
pub fn prepare_story(item: &NewItem, now: DateTime<Utc>, cfg: &DedupConfig) -> PreparedStory {
    let text = Prepared::new(
        &story_text(&item.title, &item.content_text, &item.origin),
        cfg,
    );
    let fingerprint = text.fingerprint();
    let day = day_of(
        item.published
            .unwrap_or_else(|| now.with_timezone(&beijing())),
    );
    PreparedStory {
        text,
        fingerprint,
        day,
    }
}

/// The stored item whose story a new item joins: the best match within the
/// window, or `None` (a story of its own; always when dedup is disabled).
pub fn place<S: StoredStories + ?Sized>(
    stored: &mut S,
    story: &PreparedStory,
    cfg: &DedupConfig,
) -> Result<Option<ItemId>, S::Error> {
    if !cfg.enabled {
        return Ok(None);
    }
    let since = story.day - i64::from(cfg.window_days);
    let matches = find_matches(stored, &story.text, &story.fingerprint, Some(since), cfg)?;
    Ok(matches.first().map(|(id, _)| *id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_counted_in_beijing_time() {
        let late = DateTime::parse_from_rfc3339("2025-06-20T23:30:00+08:00").unwrap();
        let utc_same_instant = DateTime::parse_from_rfc3339("2025-06-20T15:30:00+00:00").unwrap();
        assert_eq!(day_of(late), day_of(utc_same_instant));
        let next = DateTime::parse_from_rfc3339("2025-06-21T00:30:00+08:00").unwrap();
        assert_eq!(day_of(next), day_of(late) + 1);
    }
}
