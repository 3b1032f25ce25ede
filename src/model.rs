//! Model, layer 1 (shared types): the data that flows between pipeline
//! stages.
//!
//! fetch produces a [`Page`]; extract turns a list page into [`ListedItem`]s
//! and an article page into an [`Article`]; normalize merges the two into a
//! [`NewItem`] that store keeps. An article's body travels as
//! [`SanitizedHtml`], the one kind of markup a page may show unescaped, and
//! [`safe_href`] says which outlet URLs may become links.

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
    /// The source's `[source.article] content` selector found no body on
    /// this page (the body came from the known containers or readability):
    /// the article template may have been redesigned.
    pub content_selector_missed: bool,
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
    pub content_html: SanitizedHtml,
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

/// An article's body as the sanitizer left it (ammonia at ingest, in
/// [`crate::normalize::sanitize_html`]: no script, style, event handler or
/// `javascript:` URL). The only markup any page inserts unescaped: its
/// [`maud::Render`] writes it as is, where every other value a template
/// splices in is escaped.
///
/// Two constructors, both crate-private and each with one caller:
/// [`SanitizedHtml::from_sanitizer`] (normalize's sanitizer) and
/// [`SanitizedHtml::from_store`] (the store, reading back what it kept from
/// the sanitizer). `tests/escaping.rs` checks that nothing else calls them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SanitizedHtml(String);

impl SanitizedHtml {
    /// What the sanitizer produced. Only `normalize::sanitize_html` calls
    /// this.
    pub(crate) fn from_sanitizer(html: String) -> SanitizedHtml {
        SanitizedHtml(html)
    }

    /// A body read back from the store, which only ever stores a
    /// [`NewItem::content_html`] (that is, the sanitizer's output). Only
    /// `src/store` calls this.
    pub(crate) fn from_store(html: String) -> SanitizedHtml {
        SanitizedHtml(html)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Read access as text (searching it, turning it into paragraphs); there
/// is no way back from `str`.
impl std::ops::Deref for SanitizedHtml {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl maud::Render for SanitizedHtml {
    /// As is: sanitized at ingest.
    fn render_to(&self, buffer: &mut String) {
        buffer.push_str(&self.0);
    }
}

/// `url` as it may stand in an `href`: an http(s) URL or a relative
/// reference; `None` for anything else (`javascript:`, `data:`, `vbscript:`,
/// unparseable), which a page then shows as text without a link. Outlets'
/// URLs come from outlets' pages, so a hostile one must not become a link
/// that runs script on our origin.
pub fn safe_href(url: &str) -> Option<&str> {
    let url = url.trim();
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => Some(url),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_mode_publishes_approved_stories_and_sure_candidates_only() {
        let auto = Published::AlsoCandidatesFrom(0.993);
        assert!(auto.publishes(Status::Approved, Some(0.1)));
        assert!(auto.publishes(Status::Candidate, Some(0.999)));
        assert!(
            auto.publishes(Status::Candidate, None),
            "stored before relevance"
        );
        assert!(!auto.publishes(Status::Candidate, Some(0.95)));
        assert!(!auto.publishes(Status::Maybe, Some(1.0)));
        assert!(!auto.publishes(Status::Rejected, Some(1.0)));
        assert!(!Published::Approved.publishes(Status::Candidate, Some(1.0)));
        assert!(Published::Approved.publishes(Status::Approved, None));
    }

    #[test]
    fn only_web_and_relative_urls_are_links() {
        assert_eq!(
            safe_href(" https://www.mohrss.gov.cn/a.html"),
            Some("https://www.mohrss.gov.cn/a.html")
        );
        assert_eq!(safe_href("http://x.cn/"), Some("http://x.cn/"));
        assert_eq!(safe_href("/issues/202509"), Some("/issues/202509"));
        assert_eq!(safe_href("feeds/all.xml"), Some("feeds/all.xml"));
        assert_eq!(safe_href("#s1"), Some("#s1"));
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "ftp://x.cn/",
            "http://[::1",
        ] {
            assert_eq!(safe_href(bad), None, "{bad:?}");
        }
    }
}

/// Which stories the feeds publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Published {
    /// Approved stories only (`review.mode = "manual"`).
    Approved,
    /// Approved stories, and candidates whose relevance is at least this
    /// (`review.mode = "auto"` with `relevance.publish`); a candidate of
    /// unknown relevance (stored before there was any) counts as sure.
    AlsoCandidatesFrom(f64),
}

impl Published {
    /// The relevance from which a candidate is published, if any is.
    pub fn candidates_from(self) -> Option<f64> {
        match self {
            Published::Approved => None,
            Published::AlsoCandidatesFrom(bound) => Some(bound),
        }
    }

    /// Whether a story of this status and relevance is published (what the
    /// store's feed queries select, for one story).
    pub fn publishes(self, status: Status, relevance: Option<f64>) -> bool {
        match status {
            Status::Approved => true,
            Status::Candidate => self
                .candidates_from()
                .is_some_and(|bound| relevance.unwrap_or(1.0) >= bound),
            Status::Rejected | Status::Maybe | Status::Irrelevant => false,
        }
    }
}

/// Review state of an item: what editors (or `review.mode = "auto"`)
/// decided. Stored by its [`Status::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Candidate,
    Approved,
    Rejected,
    /// 待定: relevance between `relevance.maybe` and the threshold. Not
    /// published, not even in auto mode, until an editor approves it; the
    /// desk lists these in their own group.
    Maybe,
    /// Outside the bulletin's scope (below `relevance.maybe`): not a
    /// candidate, never published, listed for editors on request.
    Irrelevant,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Candidate => "candidate",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Maybe => "maybe",
            Status::Irrelevant => "irrelevant",
        }
    }

    /// The status stored as `s` (unknown text reads as candidate).
    pub fn parse(s: &str) -> Status {
        match s {
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "maybe" => Status::Maybe,
            "irrelevant" => Status::Irrelevant,
            _ => Status::Candidate,
        }
    }
}
