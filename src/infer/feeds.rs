//! Infer, layer 3 (pipeline stages): feeds. Tells a feed from a page, finds
//! the feeds a page declares or links, lists the well-known addresses worth
//! a try, and judges whether a feed carries its articles' full text.
//!
//! A feed is the best way to read an outlet (the outlet says what is new,
//! with dates), so onboarding looks for one before it infers selectors.

use std::collections::HashSet;
use std::sync::LazyLock;

use scraper::{Html, Selector};
use url::Url;

use super::ProposedSource;
use crate::config::SourceKind;
use crate::extract::{self, resolve_link};
use crate::markup;

/// Candidates [`declared_feeds`] returns at most: each one costs a request.
const MAX_CANDIDATES: usize = 10;

/// Entries [`feed_full_text`] looks at.
const MAX_ASSESSED_ENTRIES: usize = 200;

/// Characters of text (whitespace left out) from which an entry is the
/// article itself rather than a teaser.
const FULL_TEXT_CHARS: usize = 400;

/// Paths, on an outlet's origin, where CMSs and static site generators put
/// their feed. Few on purpose: each is a request to a site that may block
/// crawlers.
pub const WELL_KNOWN_FEED_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/all.atom.xml",
    "/rss/index.xml",
];

/// `true` when the decoded document is a feed: RSS, Atom, RSS 1.0 (RDF) or
/// JSON Feed, judged by its root after a BOM, whitespace, the XML
/// declaration, processing instructions, comments and a doctype.
pub fn is_feed(text: &str) -> bool {
    let mut rest = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if rest.starts_with('{') {
        return is_json_feed(rest);
    }
    // A prolog of more than a few dozen parts is not one a feed has.
    for _ in 0..64 {
        rest = rest.trim_start();
        let skip_to = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            break;
        };
        match skip_to {
            Some(i) => rest = &rest[i..],
            None => return false,
        }
    }
    let Some(tag) = rest.strip_prefix('<') else {
        return false;
    };
    let end = tag.find('>').unwrap_or(tag.len());
    let start_tag = &tag[..end];
    let name_end = start_tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(start_tag.len());
    let name = &start_tag[..name_end];
    // The local name; Atom is sometimes written with a prefix (`atom:feed`).
    let local = name.rsplit(':').next().unwrap_or(name);
    match local {
        "rss" => !name.contains(':'),
        "RDF" => true,
        "feed" => {
            start_tag.contains("http://www.w3.org/2005/Atom")
                || start_tag.contains("http://purl.org/atom/ns#")
        }
        _ => false,
    }
}

/// A JSON object whose top-level `version` is a jsonfeed.org URL.
fn is_json_feed(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        version: Option<String>,
    }
    // serde_json skips the other members without building them, and its
    // own depth limit bounds the nesting.
    serde_json::from_str::<Probe>(text)
        .ok()
        .and_then(|p| p.version)
        .is_some_and(|v| {
            let v = v.trim();
            v.starts_with("https://jsonfeed.org/") || v.starts_with("http://jsonfeed.org/")
        })
}

static ANCHOR_SEL: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("valid selector"));
static LINK_SEL: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("link[href]").expect("valid selector"));

/// The feeds `html` names, resolved against `base` (or the page's own
/// `<base href>`), in page order without repeats: first those it declares
/// with `<link rel="alternate" type="…">`, then links that look like feeds
/// (a path ending `.rss`, an `.xml` path naming rss/feed/atom, a link
/// reading "RSS" or "订阅"). At most ten.
pub fn declared_feeds(html: &str, base: &Url) -> Vec<Url> {
    let Ok(bounded) = markup::bound_html(html, markup::Limits::default()) else {
        return Vec::new();
    };
    let doc = Html::parse_document(&bounded.text);
    let base = super::page_base(&doc, base);

    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |url: Url, out: &mut Vec<Url>| {
        if out.len() < MAX_CANDIDATES && seen.insert(url.as_str().to_string()) {
            out.push(url);
        }
    };
    for link in doc.select(&LINK_SEL) {
        let el = link.value();
        let rel_alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("alternate"))
        });
        let ty = el
            .attr("type")
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let feed_type = matches!(
            ty.as_str(),
            "application/rss+xml"
                | "application/atom+xml"
                | "application/rdf+xml"
                | "application/feed+json"
                | "application/json"
        );
        let Some(href) = el.attr("href") else {
            continue;
        };
        // WordPress declares its REST API and oEmbed documents as JSON
        // alternates too; neither is a feed.
        let lower = href.to_ascii_lowercase();
        if !rel_alternate || !feed_type || lower.contains("/wp-json/") || lower.contains("oembed") {
            continue;
        }
        if let Some(url) = resolve_link(&base, href) {
            push(url, &mut out);
        }
    }
    for a in doc.select(&ANCHOR_SEL) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let Some(url) = resolve_link(&base, href) else {
            continue;
        };
        let text = extract::element_text(a);
        if looks_like_feed_path(url.path()) || names_a_feed(&text) {
            push(url, &mut out);
        }
    }
    out
}

/// A path ending `.rss`, or `.xml` with rss/feed/atom in it.
fn looks_like_feed_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with(".rss")
        || (p.ends_with(".xml") && (p.contains("rss") || p.contains("feed") || p.contains("atom")))
}

/// Link text that offers a feed; "订阅号" and "微信订阅" are WeChat
/// accounts, not feeds.
fn names_a_feed(text: &str) -> bool {
    if text.chars().count() > 20 {
        return false;
    }
    text.to_ascii_lowercase().contains("rss")
        || (text.contains("订阅") && !text.contains("订阅号") && !text.contains("微信"))
}

/// Addresses worth trying when a page declares no feed: the page's own
/// directory + `rss.xml` and `feed` first (a column's feed sits beside it),
/// then [`WELL_KNOWN_FEED_PATHS`] on the page's origin. No repeats.
pub fn well_known_feed_urls(page: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    let mut push = |u: Option<Url>| {
        if let Some(u) = u
            && !out.contains(&u)
        {
            out.push(u);
        }
    };
    push(page.join("rss.xml").ok());
    push(page.join("feed").ok());
    for path in WELL_KNOWN_FEED_PATHS {
        push(page.join(path).ok());
    }
    out
}

/// How a feed presents its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedAssessment {
    /// Entries looked at (at most 200).
    pub entries: usize,
    /// Entries with a usable link.
    pub with_links: usize,
    /// Most entries carry the article's whole text.
    pub full_text: bool,
    /// The median entry's text, in characters without whitespace.
    pub median_chars: usize,
    /// The feed's own title.
    pub title: Option<String>,
}

/// Reads a feed and says how much of each article its entries carry. A
/// text that is no feed is an assessment of zero entries.
pub fn feed_full_text(feed_text: &str, base: &Url) -> FeedAssessment {
    let text = feed_text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let limits = extract::Limits::default();
    // Bounded before feed-rs builds anything, as the poller does.
    let parsed = if text.starts_with('<') {
        markup::bound_feed(text, limits.markup, MAX_ASSESSED_ENTRIES)
            .ok()
            .and_then(|b| extract::feed::parse_feed(&b.text, base).ok())
    } else {
        extract::feed::parse_feed(text, base).ok()
    };
    let Some(feed) = parsed else {
        return FeedAssessment::default();
    };
    let mut chars: Vec<usize> = Vec::new();
    let mut with_links = 0;
    for entry in feed.entries.iter().take(MAX_ASSESSED_ENTRIES) {
        let has_link = entry
            .links
            .iter()
            .any(|l| resolve_link(base, &l.href).is_some())
            || (entry.id.starts_with("http://") || entry.id.starts_with("https://"));
        if has_link {
            with_links += 1;
        }
        let content = entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map_or(0, text_chars);
        let summary = entry.summary.as_ref().map_or(0, |s| text_chars(&s.content));
        chars.push(content.max(summary));
    }
    let entries = chars.len();
    let full = chars.iter().filter(|&&c| c >= FULL_TEXT_CHARS).count();
    chars.sort_unstable();
    FeedAssessment {
        entries,
        with_links,
        full_text: entries > 0 && full * 2 > entries,
        median_chars: chars.get(entries / 2).copied().unwrap_or(0),
        title: feed
            .title
            .as_ref()
            .map(|t| extract::html_to_text(&t.content))
            .filter(|t| !t.is_empty()),
    }
}

/// Characters of text in an entry's HTML, whitespace left out; markup with
/// more elements than a page may have counts as none.
fn text_chars(html: &str) -> usize {
    let Some(bounded) = extract::bounded_fragment(html.to_string(), &extract::Limits::default())
    else {
        return 0;
    };
    markup::html_to_text(&bounded)
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// A `[[source]]` of kind "feed" for `url`, named after the feed's title;
/// the caller fills in the id, and an article table when the feed is not
/// full text.
pub fn propose_feed(url: &Url, assessment: &FeedAssessment) -> ProposedSource {
    ProposedSource {
        id: String::new(),
        name: assessment.title.clone().unwrap_or_default(),
        url: url.to_string(),
        kind: SourceKind::Feed,
        encoding: None,
        section: None,
        region: None,
        list: None,
        json: None,
        article: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rss_atom_rdf_and_json_feed_roots_are_feeds_after_a_prolog() {
        for text in [
            "\u{feff}<?xml version=\"1.0\" encoding=\"gbk\"?>\n<!-- generated -->\n<?xml-stylesheet href=\"s.xsl\"?>\n<rss version=\"2.0\"><channel/></rss>",
            "<rss><channel/></rss>",
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>",
            "<atom:feed xmlns:atom=\"http://www.w3.org/2005/Atom\"></atom:feed>",
            "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"></rdf:RDF>",
            "<!DOCTYPE rss PUBLIC \"-//Netscape//DTD RSS 0.91//EN\" \"x\">\n<rss version=\"0.91\"></rss>",
            "  {\"items\": [], \"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"t\"}",
        ] {
            assert!(is_feed(text), "{text}");
        }
    }

    #[test]
    fn pages_json_and_look_alikes_are_not_feeds() {
        for text in [
            "<!DOCTYPE html><html><head><title>RSS</title></head></html>",
            "<feed><entry/></feed>",
            "<rsspage></rsspage>",
            "{\"version\": \"1.0\", \"items\": []}",
            "[{\"title\": \"x\"}]",
            "<!-- never closed",
            "",
        ] {
            assert!(!is_feed(text), "{text}");
        }
    }

    #[test]
    fn declared_feeds_come_first_in_page_order_then_feed_like_links() {
        let html = r#"<html><head>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/atom+xml" href="/atom.xml" title="Atom">
<link rel="alternate" type="application/rss+xml; charset=utf-8" href="rss/news.xml">
<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/3">
<link rel="alternate" type="application/feed+json" href="/feed.json">
<link rel="alternate" hreflang="en" href="/en/">
</head><body>
<a href="/about.html">关于</a>
<a href="/channel/rss.xml">频道</a>
<a href="/atom.xml">Atom again</a>
<a href="/subscribe.html">RSS订阅</a>
<a href="/wechat.html">微信订阅号</a>
<a href="/sitemap.xml">地图</a>
<a href="/gzdt.rss">工作动态</a>
</body></html>"#;
        let got: Vec<String> = declared_feeds(html, &url("https://hrss.example.gov.cn/zwgk/"))
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            got,
            [
                "https://hrss.example.gov.cn/atom.xml",
                "https://hrss.example.gov.cn/zwgk/rss/news.xml",
                "https://hrss.example.gov.cn/feed.json",
                "https://hrss.example.gov.cn/channel/rss.xml",
                "https://hrss.example.gov.cn/subscribe.html",
                "https://hrss.example.gov.cn/gzdt.rss",
            ]
        );
    }

    #[test]
    fn a_base_element_moves_where_feed_links_resolve() {
        let html = r#"<head><base href="https://cdn.example.org/site/"><link rel="alternate" type="application/rss+xml" href="rss.xml"></head>"#;
        assert_eq!(
            declared_feeds(html, &url("https://example.org/a/b.html")),
            [url("https://cdn.example.org/site/rss.xml")]
        );
    }

    #[test]
    fn declared_feeds_are_capped_at_ten() {
        let html: String = (0..50)
            .map(|i| format!(r#"<a href="/c{i}/index.rss">RSS</a>"#))
            .collect();
        assert_eq!(
            declared_feeds(&html, &url("https://example.org/")).len(),
            10
        );
    }

    #[test]
    fn well_known_urls_start_beside_the_page_then_the_origin() {
        let got: Vec<String> =
            well_known_feed_urls(&url("https://rsj.example.gov.cn/zwgk/gzdt/index.html?x=1"))
                .into_iter()
                .map(String::from)
                .collect();
        assert_eq!(got[0], "https://rsj.example.gov.cn/zwgk/gzdt/rss.xml");
        assert_eq!(got[1], "https://rsj.example.gov.cn/zwgk/gzdt/feed");
        assert_eq!(got[2], "https://rsj.example.gov.cn/feed");
        assert_eq!(got.len(), 2 + WELL_KNOWN_FEED_PATHS.len());

        // At the root the page's directory is the origin: no repeats.
        let root = well_known_feed_urls(&url("https://example.org/"));
        assert_eq!(root.len(), WELL_KNOWN_FEED_PATHS.len());
        assert_eq!(root[0].as_str(), "https://example.org/rss.xml");
    }

    fn rss(items: &[(&str, &str)]) -> String {
        let body: String = items
            .iter()
            .map(|(link, desc)| {
                format!(
                    "<item><title>标题</title><link>{link}</link><description><![CDATA[{desc}]]></description></item>"
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>人社新闻</title>{body}</channel></rss>"
        )
    }

    #[test]
    fn a_feed_whose_entries_carry_long_text_is_full_text() {
        let long = format!(
            "<p>{}</p><p>{}</p>",
            "稳就业".repeat(100),
            "保民生".repeat(50)
        );
        let feed = rss(&[
            ("/a.html", &long),
            ("/b.html", &long),
            ("/c.html", "短摘要"),
        ]);
        let got = feed_full_text(&feed, &url("https://example.gov.cn/rss.xml"));
        assert_eq!(got.entries, 3);
        assert_eq!(got.with_links, 3);
        assert!(got.full_text);
        assert_eq!(got.median_chars, 450);
        assert_eq!(got.title.as_deref(), Some("人社新闻"));
    }

    #[test]
    fn a_feed_of_teasers_is_not_full_text() {
        let feed = rss(&[
            ("/a.html", "短摘要"),
            ("/b.html", "另一条摘要"),
            ("", "无链接"),
        ]);
        let got = feed_full_text(&feed, &url("https://example.gov.cn/rss.xml"));
        assert_eq!((got.entries, got.with_links, got.full_text), (3, 2, false));
        assert!(got.median_chars < 10);
    }

    #[test]
    fn a_page_that_is_not_a_feed_has_no_entries() {
        let got = feed_full_text(
            "<html><body>challenge</body></html>",
            &url("https://e.org/"),
        );
        assert_eq!(got, FeedAssessment::default());
    }

    #[test]
    fn a_feed_proposal_is_a_valid_feed_source_once_named() {
        let assessment = FeedAssessment {
            entries: 3,
            with_links: 3,
            full_text: true,
            median_chars: 500,
            title: Some("人社新闻".into()),
        };
        let mut p = propose_feed(&url("https://example.gov.cn/rss.xml"), &assessment);
        assert_eq!(p.name, "人社新闻");
        p.id = "example-rss".into();
        let parsed = crate::config::parse_sources(
            std::path::Path::new("s.toml"),
            &p.to_toml(),
            std::time::Duration::from_secs(3600),
            &[],
        )
        .expect("valid");
        assert_eq!(parsed[0].kind, SourceKind::Feed);
    }
}
