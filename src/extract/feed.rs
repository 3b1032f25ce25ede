//! Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) for the extract stage
//! (fetch → **extract** → normalize → store → publish).
//!
//! feed-rs does the parsing. Two things it would get wrong on its own:
//! it re-decodes text by the XML declaration's `encoding`, but fetch has
//! already decoded GBK feeds to UTF-8; and it invents an id for entries
//! that have none, which would look like a guid the outlet gave.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, Link};
use regex::Regex;
use url::Url;

use super::{
    ExtractError, Limits, Listing, bounded_fragment, collapse_ws, dates, html_to_text, resolve_link,
};
use crate::markup;
use crate::model::{ListedItem, Page};

/// A description this long (in characters of text) is the article itself,
/// as many Chinese RSS feeds ship it, not a teaser.
const LONG_DESCRIPTION: usize = 300;

static XML_DECL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)\A\s*<\?xml.*?\?>").expect("valid XML declaration regex"));

static RSS_ROOT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<rss\b([^>]*)>").expect("valid RSS root regex"));
static VERSION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\sversion\s*=\s*["']([^"']*)["']"#).expect("valid version regex")
});

/// Reads the entries of a feed page, at most `limits.max_entries` of them.
///
/// An XML feed is bounded before feed-rs sees it: cut after its first
/// entries (so 200,000 entries are never built) and flattened beyond the
/// nesting limit. A JSON Feed is cut after parsing, which serde_json does
/// without recursing past its own depth limit.
pub fn extract_feed(page: &Page, limits: &Limits) -> Result<Listing, ExtractError> {
    let text = page
        .text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let mut entries_cut = false;
    let feed = if text.starts_with('<') {
        let bounded = markup::bound_feed(text, limits.markup, limits.max_entries)?;
        entries_cut = bounded.entries_cut;
        parse_feed(&bounded.text, &page.url)?
    } else {
        parse_feed(text, &page.url)?
    };
    entries_cut |= feed.entries.len() > limits.max_entries;
    let items = feed
        .entries
        .iter()
        .take(limits.max_entries)
        .filter_map(|e| {
            let item = entry_item(e, &page.url, limits);
            if item.is_none() {
                tracing::debug!(id = %e.id, "feed entry without a usable link skipped");
            }
            item
        })
        .collect();
    Ok(Listing { items, entries_cut })
}

/// Parses already-decoded feed text.
pub fn parse_feed(text: &str, base: &Url) -> Result<Feed, ExtractError> {
    let text = text.trim_start_matches('\u{feff}');
    // The text is UTF-8 now whatever the declaration says; a declaration
    // saying gbk would make the parser decode it a second time.
    let text = XML_DECL_RE.replace(text, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let text = fix_rss_version(&text);
    feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        // An empty id is left empty, so "no guid" stays visible.
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(parse_feed_timestamp)
        .sanitize_content(false)
        .build()
        .parse(text.as_bytes())
        .map_err(|e| ExtractError::Malformed {
            what: "feed",
            detail: match e {
                feed_rs::parser::ParseFeedError::ParseError(
                    feed_rs::parser::ParseErrorKind::NoFeedRoot,
                ) => "no RSS, Atom or JSON Feed root element (an HTML page or an error page?)"
                    .to_string(),
                e => e.to_string(),
            },
        })
}

/// feed-rs only dispatches `<rss>` with version 0.91, 0.92 or 2.0; CMS
/// feeds often omit the version or write another (`2.00`, `0.94`). Their
/// content is RSS 2.0 in practice.
fn fix_rss_version(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(caps) = RSS_ROOT_RE.captures(text) else {
        return text.into();
    };
    let attrs = caps.get(1).expect("group 1 always takes part");
    let version = VERSION_RE
        .captures(attrs.as_str())
        .map(|c| c[1].trim().to_string());
    if matches!(version.as_deref(), Some("2.0" | "0.91" | "0.92")) {
        return text.into();
    }
    let fixed_attrs = VERSION_RE.replace(attrs.as_str(), "");
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..attrs.start()]);
    out.push_str(" version=\"2.0\"");
    out.push_str(&fixed_attrs);
    out.push_str(&text[attrs.end()..]);
    out.into()
}

/// Feed timestamps: the RFCs first, then the bare Beijing-time shapes
/// Chinese feeds put in `pubDate` (`2025-06-20 10:30:00`).
fn parse_feed_timestamp(text: &str) -> Option<DateTime<Utc>> {
    dates::parse_rfc2822(text)
        .or_else(|| dates::parse_date(text))
        .map(|d| d.with_timezone(&Utc))
}

fn entry_item(entry: &Entry, base: &Url, limits: &Limits) -> Option<ListedItem> {
    let url = entry_link(entry, base)?;
    let guid = (!entry.id.trim().is_empty()).then(|| entry.id.trim().to_string());
    let title = entry
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .unwrap_or_default();
    let published = entry
        .published
        .or(entry.updated)
        .map(|d| d.with_timezone(&crate::time::beijing()));
    let summary = entry
        .summary
        .as_ref()
        .map(|s| s.content.trim().to_string())
        .filter(|s| !s.is_empty())
        .and_then(|s| bounded_fragment(s, limits));
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_ref())
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
        .and_then(|b| bounded_fragment(b, limits))
        .or_else(|| {
            summary
                .as_ref()
                .filter(|s| html_to_text(s).chars().count() >= LONG_DESCRIPTION)
                .cloned()
        });
    let author = entry
        .authors
        .iter()
        .map(|p| collapse_ws(&p.name))
        .find(|n| !n.is_empty());
    Some(ListedItem {
        url,
        guid,
        title,
        published,
        summary,
        content,
        author,
    })
}

/// The entry's page: its alternate link, else its first link, else its id
/// when the id is itself a URL (RSS `<guid isPermaLink="true">` style).
fn entry_link(entry: &Entry, base: &Url) -> Option<Url> {
    let is_alternate = |l: &&Link| l.rel.as_deref().is_none_or(|r| r == "alternate");
    entry
        .links
        .iter()
        .find(is_alternate)
        .or_else(|| entry.links.first())
        .and_then(|l| resolve_link(base, &l.href))
        .or_else(|| {
            let id = entry.id.trim();
            (id.starts_with("http://") || id.starts_with("https://"))
                .then(|| resolve_link(base, id))
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.gov.cn/rss.xml").unwrap()
    }

    fn page(xml: String) -> Page {
        Page {
            url: base(),
            status: 200,
            content_type: Some("application/rss+xml".into()),
            validators: Default::default(),
            bytes: Vec::new(),
            text: xml,
            encoding: "UTF-8",
        }
    }

    #[test]
    fn a_feed_nested_twenty_thousand_deep_is_read_on_a_small_stack() {
        let xml = r#"<rss version="2.0"><channel><title>t</title><item><title>稳岗</title><link>https://example.gov.cn/a.html</link>"#.to_string()
            + &"<x:deep xmlns:x=\"urn:x\">".repeat(20_000)
            + "字"
            + &"</x:deep>".repeat(20_000)
            + "</item><item><title>扩岗</title><link>https://example.gov.cn/b.html</link></item></channel></rss>";
        let listing = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || extract_feed(&page(xml), &Limits::default()))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        let titles: Vec<String> = listing
            .expect("a feed")
            .items
            .into_iter()
            .map(|i| i.title)
            .collect();
        assert_eq!(titles, ["稳岗", "扩岗"]);
    }

    #[test]
    fn a_gbk_declaration_does_not_make_the_parser_decode_twice() {
        let xml = r#"<?xml version="1.0" encoding="gbk"?>
<rss version="2.0"><channel><title>人社新闻</title>
<item><title>稳岗扩岗</title><link>https://example.gov.cn/a.html</link></item>
</channel></rss>"#;
        let feed = parse_feed(xml, &base()).unwrap();
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "稳岗扩岗");
    }

    #[test]
    fn entries_without_an_id_have_no_guid() {
        let xml = r#"<rss version="2.0"><channel><title>t</title>
<item><title>无编号</title><link>/a.html</link></item>
<item><title>有编号</title><link>/b.html</link><guid isPermaLink="false">abc-1</guid></item>
</channel></rss>"#;
        let page_items: Vec<_> = parse_feed(xml, &base())
            .unwrap()
            .entries
            .iter()
            .filter_map(|e| entry_item(e, &base(), &Limits::default()))
            .collect();
        assert_eq!(page_items[0].guid, None);
        assert_eq!(page_items[0].url.as_str(), "https://example.gov.cn/a.html");
        assert_eq!(page_items[1].guid.as_deref(), Some("abc-1"));
    }

    #[test]
    fn bare_pubdates_are_beijing_time() {
        let dt = parse_feed_timestamp("2025-06-20 10:30:00").unwrap();
        assert_eq!(dt.to_rfc3339(), "2025-06-20T02:30:00+00:00");
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        let err =
            parse_feed("<rss version=\"2.0\"><channel><item><title>x</tit", &base()).unwrap_err();
        assert!(err.to_string().starts_with("malformed feed"), "{err}");
    }

    fn items(xml: &str) -> Result<Vec<ListedItem>, ExtractError> {
        let feed = parse_feed(xml, &base())?;
        Ok(feed
            .entries
            .iter()
            .filter_map(|e| entry_item(e, &base(), &Limits::default()))
            .collect())
    }

    #[test]
    fn an_html_page_is_not_a_feed() {
        let err = items("<!DOCTYPE html><html><body>challenge</body></html>").unwrap_err();
        assert!(
            err.to_string().contains("no RSS, Atom or JSON Feed root"),
            "{err}"
        );
    }

    #[test]
    fn rss_1_0_rdf_feeds_are_read() {
        let xml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.org/"><title>t</title><link>https://example.org/</link><description>d</description></channel>
<item rdf:about="https://example.org/a.html"><title>一条</title><link>https://example.org/a.html</link><dc:date>2025-06-20T10:00:00+08:00</dc:date></item>
</rdf:RDF>"#;
        let got = items(xml).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].title, "一条");
    }

    #[test]
    fn rss_without_a_usable_version_is_read_as_rss_2() {
        let xml = r#"<rss><channel><title>t</title><item><title>一条</title><link>https://example.org/a.html</link></item></channel></rss>"#;
        let got = items(xml).unwrap();
        assert_eq!(got[0].title, "一条");
        let xml = xml.replace("<rss>", r#"<rss version="2.00" xmlns:dc="x">"#);
        assert_eq!(items(&xml).unwrap()[0].title, "一条");
    }
}
