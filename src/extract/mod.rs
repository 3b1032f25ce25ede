//! Extract, layer 3 (pipeline stages), the second stage (fetch → **extract**
//! → normalize → dedup → classify → store): reads items out of a list page
//! and an article out of its page.
//!
//! fetch hands over a [`Page`] whose bytes are already decoded to UTF-8;
//! extract turns a list page (feed | html | json, per [`SourceKind`]) into
//! [`ListedItem`]s and an article page into an [`Article`]. Nothing here
//! touches the network or the database, and nothing sanitizes: normalize
//! does that. Real outlets are messy (GBK feeds, CMS pages that hide their
//! list in a `<script>`, JSONP), so every reader is lenient about layout
//! and strict only about saying what went wrong.

pub mod article;
pub mod dates;
pub mod feed;
pub mod html;
pub mod json;
pub mod origin;

use scraper::{ElementRef, Selector};
use url::Url;

use crate::config::{FieldSelector, Poll, Source, SourceKind};
use crate::markup;
use crate::model::{Article, ListedItem, Page};

/// Why a page could not be read. `Display` is one line an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The document is not what its kind promises (bad XML, bad JSON, not a feed).
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// The source lacks the `[source.list]`/`[source.json]` table its kind needs.
    #[error("source `{source_id}` has kind = \"{kind}\" but no [source.{table}] table")]
    MissingSelectors {
        source_id: String,
        kind: &'static str,
        table: &'static str,
    },
    /// A selector that must match did not: the page was redesigned, or it is
    /// not the page we think (an anti-bot challenge, an error page).
    #[error("selector `{selector}` ({what}) matched nothing on {url}")]
    NothingMatched {
        what: &'static str,
        selector: String,
        url: String,
    },
    /// A dotted JSON path leads nowhere.
    #[error("JSON path `{path}` not found: no `{segment}` in {found}")]
    PathNotFound {
        path: String,
        segment: String,
        found: &'static str,
    },
    /// A dotted JSON path leads to something that is not a list of items.
    #[error("JSON path `{path}` is {found}, expected an array of items")]
    NotAnArray { path: String, found: &'static str },
    /// The article page yields no body text.
    #[error("no article text found on {url}")]
    NoContent { url: String },
    /// The page has more structure than `[poll]` allows.
    #[error(transparent)]
    TooComplex(#[from] markup::TooComplex),
}

/// How much of a page extract will read: its markup's bounds and the
/// entries of one list.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub markup: markup::Limits,
    /// Entries of one list or feed read; the rest are left out.
    pub max_entries: usize,
}

impl Limits {
    /// The limits `[poll]` sets.
    pub fn of(poll: &Poll) -> Limits {
        Limits {
            markup: markup::Limits {
                max_depth: poll.max_depth,
                max_elements: poll.max_elements,
            },
            max_entries: poll.max_list_entries,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::of(&Poll::default())
    }
}

/// A list page's items, and what the limits left out of it.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub items: Vec<ListedItem>,
    /// The page had more entries than `poll.max_list_entries`.
    pub entries_cut: bool,
}

/// Reads a list page into items, by the source's kind.
pub fn extract_list(
    source: &Source,
    page: &Page,
    limits: &Limits,
) -> Result<Listing, ExtractError> {
    match source.kind {
        SourceKind::Feed => feed::extract_feed(page, limits),
        SourceKind::Html => {
            let list = source
                .list
                .as_ref()
                .ok_or_else(|| missing(source, "list"))?;
            html::extract_html_list(list, page, limits)
        }
        SourceKind::Json => {
            let paths = source
                .json
                .as_ref()
                .ok_or_else(|| missing(source, "json"))?;
            json::extract_json_list(paths, page, limits)
        }
    }
}

/// Reads an article page: body, title, date and 来源.
pub fn extract_article(
    source: &Source,
    page: &Page,
    limits: &Limits,
) -> Result<Article, ExtractError> {
    article::extract_article_page(source.article.as_ref(), page, limits)
}

/// Markup an outlet sent inside a list entry (a feed's `content:encoded`, a
/// JSON `content` field): flattened to the nesting limit, or `None` when it
/// has more elements than a page may have.
pub(crate) fn bounded_fragment(html: String, limits: &Limits) -> Option<String> {
    match markup::bound_html(&html, limits.markup) {
        Ok(b) if b.flattened == 0 => Some(html),
        Ok(b) => Some(b.text.into_owned()),
        Err(e) => {
            tracing::warn!(error = %e, "entry content left out");
            None
        }
    }
}

fn missing(source: &Source, table: &'static str) -> ExtractError {
    ExtractError::MissingSelectors {
        source_id: source.id.clone(),
        kind: source.kind.as_str(),
        table,
    }
}

pub(crate) use crate::text::{collapse_ws, is_space};

/// An element's visible text, whitespace-collapsed.
pub(crate) fn element_text(el: ElementRef<'_>) -> String {
    collapse_ws(&el.text().collect::<String>())
}

const MAX_INLINE_CHARS: usize = 20_000;

/// Text that may carry HTML markup or entities (feed titles, JSON titles
/// with `<font>` highlights) reduced to plain text.
pub(crate) fn html_to_text(text: &str) -> String {
    if text.contains('<') || text.contains('&') {
        // A title or a summary; anything longer than this is not one.
        let text = match text.char_indices().nth(MAX_INLINE_CHARS) {
            Some((at, _)) => &text[..at],
            None => text,
        };
        markup::inline_text(text)
    } else {
        collapse_ws(text)
    }
}

/// The value a field selector names on an element: its attribute when the
/// selector says `@attr`, else its text.
pub(crate) fn field_value(el: ElementRef<'_>, field: &FieldSelector) -> Option<String> {
    let value = match &field.attr {
        Some(attr) => collapse_ws(el.value().attr(attr)?),
        None => element_text(el),
    };
    (!value.is_empty()).then_some(value)
}

/// The first element under `scope` (or `scope` itself) matching `selector`.
pub(crate) fn select_in<'a>(scope: ElementRef<'a>, selector: &Selector) -> Option<ElementRef<'a>> {
    if selector.matches(&scope) {
        return Some(scope);
    }
    scope.select(selector).next()
}

/// Resolves a link as written on a page to an absolute http(s) URL; links
/// that lead nowhere (`javascript:`, `#`, `mailto:`) are not links.
pub(crate) fn resolve_link(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim_matches(is_space);
    let lower = href.to_ascii_lowercase();
    if href.is_empty()
        || href.starts_with('#')
        || lower.starts_with("javascript:")
        || lower.starts_with("mailto:")
        || lower.starts_with("tel:")
        || lower.starts_with("data:")
    {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_ws_trims_nbsp_and_full_width_spaces() {
        assert_eq!(
            collapse_ws("\u{3000}\u{a0} 人社部\n\t 通知 \u{3000}"),
            "人社部 通知"
        );
    }

    #[test]
    fn resolve_link_makes_relative_links_absolute_and_drops_dead_ones() {
        let base = Url::parse(
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/index.html",
        )
        .unwrap();
        assert_eq!(
            resolve_link(&base, "./202506/t20250620_123.html")
                .unwrap()
                .as_str(),
            "https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/202506/t20250620_123.html"
        );
        assert_eq!(resolve_link(&base, "javascript:void(0)"), None);
        assert_eq!(resolve_link(&base, "#"), None);
        assert_eq!(resolve_link(&base, "  "), None);
    }

    #[test]
    fn html_to_text_decodes_entities_and_drops_tags() {
        assert_eq!(
            html_to_text("<font color=red>稳岗</font>&amp;扩岗&nbsp;"),
            "稳岗&扩岗"
        );
    }
}
