//! The candidate index: LSH band key → items. Part of the dedup stage:
//! [`DedupIndex`] keeps the bands in memory (evaluation, benchmarks);
//! [`find_matches`] looks a new item up among stored ones through
//! [`StoredStories`], which the store implements over its band tables.

use std::collections::HashMap;

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

/// What [`find_matches`] needs of the stored items: their band index,
/// their fingerprints and their texts. The store provides it (inside the
/// transaction that stores a new item); the dedup stage only asks.
pub trait StoredStories {
    type Error;

    /// Stored items sharing at least one band with `fp` whose day is
    /// `since_day` or later (all days when `None`), most shared bands
    /// first, then by id.
    fn candidates(
        &mut self,
        fp: &Fingerprint,
        since_day: Option<i64>,
    ) -> Result<Vec<ItemId>, Self::Error>;

    /// An item's stored fingerprint.
    fn fingerprint(&mut self, id: ItemId) -> Result<Option<Fingerprint>, Self::Error>;

    /// What is compared of a stored item.
    fn story_text(&mut self, id: ItemId) -> Result<Option<StoryText>, Self::Error>;
}

/// Candidates verified beyond this many (most shared bands first) are not
/// looked at: a new item that looks like hundreds of stored ones is
/// boilerplate, and the bound keeps the worst case of one insert small.
const MAX_VERIFIED: usize = 32;

/// Stored items that are the same story as `new`, best (highest score)
/// first: band look-up within the window, a pre-filter on the stored
/// fingerprints (estimated containment ≥ 0.5, cheap), then full
/// verification of what passes against the stored text.
pub fn find_matches<S: StoredStories + ?Sized>(
    stored: &mut S,
    new: &Prepared,
    fp: &Fingerprint,
    since_day: Option<i64>,
    cfg: &DedupConfig,
) -> Result<Vec<(ItemId, Verdict)>, S::Error> {
    let mut found = Vec::new();
    let mut verified = 0;
    for id in stored.candidates(fp, since_day)? {
        let Some(other) = stored.fingerprint(id)? else {
            continue;
        };
        if fp.containment(&other) < 0.5 {
            continue;
        }
        let Some(text) = stored.story_text(id)? else {
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
