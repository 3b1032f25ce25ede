//! Model, layer 1 (shared types): the data that flows between pipeline
//! stages.
//!
//! fetch produces a [`Page`]; extract turns a list page into [`ListedItem`]s
//! and an article page into an [`Article`]; normalize merges the two into a
//! [`NewItem`] that store keeps.

use chrono::{DateTime, FixedOffset};
use url::Url;

/// HTTP validators remembered per URL for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A fetched document: the raw bytes and their decoded text.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects; relative links resolve against it.
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub validators: Validators,
    pub bytes: Vec<u8>,
    /// `bytes` decoded with `encoding`.
    pub text: String,
    /// The name of the encoding that decoded `text` (e.g. "GB18030").
    pub encoding: &'static str,
}

/// An item as a feed, HTML list or JSON list presents it, before its own
/// page is read.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedItem {
    /// Absolute.
    pub url: Url,
    /// The feed's own id for the item, when it has one.
    pub guid: Option<String>,
    pub title: String,
    pub published: Option<DateTime<FixedOffset>>,
    /// A short summary (HTML or text).
    pub summary: Option<String>,
    /// The full body (HTML) when the list carries it, as many feeds do.
    pub content: Option<String>,
    pub author: Option<String>,
}

/// What an article page yields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Article {
    pub title: Option<String>,
    /// The body as HTML, not yet sanitized.
    pub content_html: String,
    pub published: Option<DateTime<FixedOffset>>,
    /// The outlet named by the page's own `来源：X`.
    pub origin: Option<String>,
}

/// A normalized item, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub source_id: String,
    pub guid: Option<String>,
    pub url: String,
    /// The identity of the URL: no fragment, no tracking parameters,
    /// scheme and `www.` folded.
    pub canonical_url: String,
    pub title: String,
    /// Sanitized HTML with absolute links.
    pub content_html: String,
    /// Plain text of the body, whitespace-normalized.
    pub content_text: String,
    /// Hash of `content_text` with all whitespace and punctuation removed:
    /// equal bodies from different outlets share it.
    pub content_hash: String,
    /// The outlet that wrote it (来源).
    pub origin: String,
    pub section: Option<String>,
    pub region: Option<String>,
    pub published: Option<DateTime<FixedOffset>>,
    /// The bulletin's title (`地区：…`) when classification gave one that
    /// differs from `title`.
    pub bulletin_title: Option<String>,
    /// Within the bulletin's scope, 0–1 (None: not classified).
    pub relevance: Option<f64>,
    /// Why it was classified so, as JSON (reasons, scores).
    pub explanation: Option<String>,
}

/// One entry of a published feed: an item as it leaves the store.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Stable identity of the item (derived from its canonical URL); the
    /// entry's `tag:` id is built from it and never changes.
    pub uid: String,
    pub title: String,
    /// The original article, `rel="alternate"`.
    pub url: String,
    /// Sanitized HTML.
    pub content_html: String,
    /// The outlet that wrote it (来源).
    pub origin: String,
    /// The outlet page kuaibao found it on.
    pub source_name: String,
    pub source_url: String,
    /// Section id, if the item has one.
    pub section: Option<String>,
    pub published: Option<DateTime<FixedOffset>>,
    /// The entry's Atom `updated`: the article's own date (its publication,
    /// else when kuaibao first saw it), or the last real change of what the
    /// entry shows (new text at the outlet, another outlet's copy, an
    /// editor's regrouping) when that is later. Approval is not a change.
    pub updated: DateTime<FixedOffset>,
    /// When kuaibao last changed anything about the entry, approval
    /// included: the feed document's own `updated` and `Last-Modified`.
    pub changed: DateTime<FixedOffset>,
    /// The title as the outlet printed it, when the entry's title is the
    /// bulletin's (`地区：…`).
    pub original_title: Option<String>,
    /// Other outlets that carried the same story.
    pub via: Vec<Via>,
}

/// An outlet page carrying a story, other than the page a feed entry shows:
/// `rel="via"` in Atom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Via {
    pub outlet: String,
    pub url: String,
}
