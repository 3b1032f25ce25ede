//! Dedup, layer 3 (pipeline stages), the fourth stage (fetch → extract →
//! normalize → **dedup** → classify → store): near-duplicate story
//! detection, the same story republished by several outlets told apart
//! from different stories written on one template. Its one job is to say
//! which stored story a new item belongs to ([`placement`]); it reads
//! stored items only through [`StoredStories`], which the store implements.
//!
//! Two steps, as usual for near-duplicate detection at scale:
//!
//! 1. **Candidates**, sub-linear: every item gets a [`Fingerprint`] — a
//!    128-value MinHash signature of its character shingles — and 32 LSH
//!    band keys (4 signature values each). Items sharing a band key are
//!    candidates ([`DedupIndex`] in memory; in the database, the store's
//!    `item_fingerprints` / `item_bands` tables behind [`StoredStories`]).
//! 2. **Verification**, exact: [`same_story`] (or [`verify::verify`] on
//!    [`Prepared`] stories, to prepare the new item once) recomputes the
//!    shingle sets from the two texts, measures Jaccard and containment, and
//!    then checks the regions and figures each names.
//!
//! # Normalization ([`shingle`])
//! Datelines and bylines (`新华社北京6月18日电（记者 王某）`, `本报讯（记者 张三）`,
//! `中新网10月8日电`), trailers (`（完）`, `（责任编辑：…）`), and whole lines
//! that are not the article (`来源：…`, `编者按…`, `原标题…`, share/print
//! links) are removed; full-width forms are folded to half-width and a few
//! dozen traditional characters to simplified; whitespace and punctuation
//! are dropped, so paragraph splits/joins and punctuation swaps change
//! nothing. The title is not compared: outlets rewrite headlines freely.
//!
//! # Shingles: 5 characters
//! Chinese has no spaces, so shingles are character n-grams. Most words are
//! 1–4 characters, so 2–3-grams measure shared *vocabulary* (any two 人社
//! articles share most of it) while a 5-gram almost always spans a word
//! boundary and so measures shared *word sequences* — what copying
//! preserves. Longer shingles punish edits more: one changed character
//! (a traditional form we do not fold, a changed figure) kills n shingles,
//! so 5 is the shortest size that keeps unrelated articles of one field
//! apart (measured: unrelated pairs from one bulletin share < 3 % of 5-grams,
//! against 10–20 % of 3-grams).
//!
//! # MinHash rather than SimHash
//! The question is "does one text contain most of the other", and abridged
//! copies make containment, not cosine similarity, the measure. MinHash
//! estimates Jaccard without bias, and with the set sizes also containment
//! (|A∩B| = J·(|A|+|B|)/(1+J)); its bands give an LSH index whose
//! candidate probability is a tunable S-curve in Jaccard. SimHash gives one
//! 64-bit word whose Hamming distance tracks weighted cosine similarity; it
//! is compact, but a 60 % abridgement moves it far, it has no containment
//! estimate, and its index (permuted tables of bit blocks) only works for a
//! few differing bits.
//!
//! # Bands: 42 × 3 (of 128 values)
//! A pair with Jaccard `s` shares a band with probability `1-(1-s³)⁴²`:
//! 0.94 at 0.4, 0.996 at 0.5, 4·10⁻⁵ at 0.01. Copies abridged to 60 % have
//! Jaccard ≈ 0.4–0.6 (containment near 1), so the usual 32 × 4 (0.56 at 0.4)
//! would miss every other abridged copy; unrelated articles of one field
//! share ~0.5 % of 5-grams, so three rows keep chance candidates rare, and
//! look-alikes sharing boilerplate (s ≈ 0.15, p ≈ 0.13) are cheap to reject.
//!
//! # Thresholds ([`DedupConfig::default`])
//! * `containment ≥ 0.7` **or** `jaccard ≥ 0.5` of the exact shingle sets
//!   makes a pair look alike. A copy keeps its body: even with the lead
//!   paragraph reworded and abridged to 60 % it keeps ≥ 85 % of its 5-grams
//!   in the original (the lead is rarely more than a quarter of a story).
//!   Different stories in one series or column share boilerplate paragraphs
//!   and stock phrases, 10–60 %. 0.7 sits between the two. Jaccard 0.5
//!   admits two equally long copies that cut different parts of one
//!   original (containment 0.67 at J = 0.5 for equal sizes).
//! * Then the template checks, which win over overlap (abridgement only
//!   removes names and figures, so a copy's are a subset of the original's,
//!   give or take its reworded lead):
//!   - **regions**: each text names a region (province, short or full name,
//!     or a major city) the other does not → different (`河北` vs `山东`
//!     notices, `黑龙江` vs `吉林`);
//!   - **substituted figures**: a number whose context (the 4 characters
//!     either side in the normalized text, digits masked) occurs in both
//!     texts with different numbers → different. This is the signature of a
//!     template filled in twice (`2024年不裁员` vs `2022年不裁员`, `减少成本456亿元`
//!     vs `612亿元`); a copy repeats its numbers, and a reworded lead puts
//!     its numbers in new contexts, so it cannot fire on one;
//!   - **dates** (years, `7月1日`): both name at least two, each has dates
//!     the other lacks and at most half of the smaller set is shared →
//!     different (a law taking effect on another day);
//!   - **figures** (numbers with units, article counts, dates): both name at
//!     least `min_figures = 2`, each has figures the other lacks, and fewer
//!     than `figures_overlap = 50 %` of the smaller set are shared →
//!     different (a monthly release, a weekly column with new numbers).
//! * `min_shingles = 30`: below that (a body under ~35 characters) only an
//!   identical body is one story.
//! * Organisation names are extracted (for the lead's UI) but not decisive:
//!   the ones that differ between template stories carry region names
//!   already, and a regex cannot cut them cleanly enough to veto a copy.
//!
//! Origins are only reported: one outlet republishing another is the case
//! being detected, and one outlet publishing two columns is not a copy.

pub mod eval;
pub mod index;
pub mod minhash;
pub mod placement;
pub mod shingle;
pub mod verify;

pub use eval::{EvalError, EvalReport, Mistake, evaluate};
pub use index::{DedupIndex, ItemId, StoredStories, find_matches};
pub use minhash::Fingerprint;
pub use placement::{PreparedStory, day_of, place, prepare_story, story_text};
pub use verify::{Entities, Prepared, StoryText, Verdict, verify};

// The thresholds are configuration (`[dedup]`), defined with the rest of it.
pub use crate::config::DedupConfig;

/// The fingerprint of a text, for the index.
pub fn fingerprint(text: &str, cfg: &DedupConfig) -> Fingerprint {
    Fingerprint::from_shingles(&shingle::shingles(&shingle::normalize(text), cfg.shingle))
}

/// Whether `a` and `b` are one story (one republishes the other), and why.
pub fn same_story(a: &StoryText, b: &StoryText, cfg: &DedupConfig) -> Verdict {
    verify(&Prepared::new(a, cfg), &Prepared::new(b, cfg), cfg)
}
