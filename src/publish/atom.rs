//! The Atom 1.0 feeds of the publish stage: `feeds/all.xml` and one
//! `feeds/<section-id>.xml` per bulletin section.
//!
//! The same bytes are written to disk by `write_all` and served by the HTTP
//! server, so everything here depends only on the configuration and the
//! entries — never on the clock.

use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Source, Text,
    WriteConfig,
};

use super::{FeedKind, PublishError, sort_newest_first, xml_clean};
use crate::config::Config;
use crate::model::FeedEntry;

/// The tagging date of every `tag:` id. It is part of each id's identity,
/// so it must never change once feeds are out.
const TAG_DATE: &str = "2025";

/// Summaries are an excerpt for readers that show no content.
pub(crate) const SUMMARY_CHARS: usize = 200;

/// `updated` of an empty feed: fixed, so an empty store publishes the same
/// bytes every time.
fn empty_feed_updated() -> FixedDateTime {
    crate::time::at(2025, 1, 1, 0, 0, 0).unwrap_or_default()
}

/// The tagging authority of every `tag:` id: the host of `base_url`.
pub(crate) fn tag_authority(config: &Config) -> String {
    match config.base_url.host() {
        // A colon would end the authority early; RFC 4151 has no syntax for
        // IPv6 literals, so spell them with dashes.
        Some(url::Host::Ipv6(ip)) => ip.to_string().replace(':', "-"),
        Some(host) => host.to_string(),
        None => "localhost".to_string(),
    }
}

/// `tag:<host>,2025:kuaibao/<specific>`.
pub(crate) fn tag_uri(config: &Config, specific: &str) -> String {
    format!(
        "tag:{},{TAG_DATE}:kuaibao/{specific}",
        tag_authority(config)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an
/// outlet name like `人民日报` or a uid can sit in a `tag:` URI.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The entries one feed holds: its own, newest first, at most
/// `publish.entries`.
pub(crate) fn select<'e>(
    config: &Config,
    kind: FeedKind<'_>,
    entries: &'e [FeedEntry],
) -> Vec<&'e FeedEntry> {
    let mut chosen: Vec<&FeedEntry> = entries.iter().filter(|e| kind.contains(e)).collect();
    sort_newest_first(&mut chosen);
    chosen.truncate(config.publish.entries);
    chosen
}

/// Renders one feed document: the bytes `kuaibao publish` writes.
///
/// `entries` may be the whole store's release: a section feed picks its
/// own, and every feed sorts and caps them itself.
pub fn render_feed(
    config: &Config,
    feed: FeedKind,
    entries: &[FeedEntry],
) -> Result<String, PublishError> {
    render_current_feed(config, feed, entries, None)
}

/// The current document of a feed as the HTTP server serves it: what
/// [`render_feed`] gives plus, when the feed has monthly archives (RFC 5005),
/// `rel="prev-archive"` to the newest of them (`prev_archive` = `YYYY-MM`).
///
/// `kuaibao publish` writes no archives, so only the server, which does
/// serve them, asks for the link.
pub fn render_current_feed(
    config: &Config,
    feed: FeedKind,
    entries: &[FeedEntry],
    prev_archive: Option<&str>,
) -> Result<String, PublishError> {
    let chosen = select(config, feed, entries);
    let mut atom = build_feed(config, feed, &chosen);
    if let Some(month) = prev_archive {
        let href = format!(
            "{}{}",
            config.base_url,
            super::archive::archive_rel_path(feed, month)
        );
        atom.links
            .push(link("prev-archive", &href, "application/atom+xml"));
    }
    write_feed(&atom, &feed.rel_path())
}

/// The date of a feed whose entries are `chosen`: the last change of any of
/// them (an approval included), which is when the document last changed.
pub(crate) fn feed_updated(chosen: &[&FeedEntry]) -> FixedDateTime {
    chosen
        .iter()
        .map(|e| e.changed)
        .max()
        .unwrap_or_else(empty_feed_updated)
}

/// The Atom document of `feed` holding exactly `chosen`, in that order;
/// archives adjust id, title and links before writing it.
pub(crate) fn build_feed(config: &Config, feed: FeedKind, chosen: &[&FeedEntry]) -> Feed {
    let base = config.base_url.as_str();
    let subtitle = match feed {
        FeedKind::All => None,
        FeedKind::Section(s) if s.description.trim().is_empty() => None,
        FeedKind::Section(s) => Some(Text::plain(xml_clean(&s.description))),
    };
    let mut links = vec![
        link(
            "self",
            &format!("{base}{}", feed.rel_path()),
            "application/atom+xml",
        ),
        link("alternate", base, "text/html"),
    ];
    if let Some(hub) = &config.server.websub_hub {
        links.push(Link {
            href: xml_clean(hub.as_str()).into_owned(),
            rel: "hub".into(),
            ..Link::default()
        });
    }
    Feed {
        title: Text::plain(xml_clean(&feed.title(config))),
        id: tag_uri(config, &format!("feeds/{}", feed.name())),
        updated: feed_updated(chosen),
        authors: vec![person(&config.title)],
        generator: Some(Generator {
            value: "kuaibao".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links,
        subtitle,
        entries: chosen.iter().map(|e| entry(config, e)).collect(),
        lang: Some("zh-CN".into()),
        ..Feed::default()
    }
}

/// Serializes an Atom document; `document` names it in errors.
pub(crate) fn write_feed(atom: &Feed, document: &str) -> Result<String, PublishError> {
    let bytes = atom
        .write_with_config(
            Vec::new(),
            WriteConfig {
                write_document_declaration: false,
                indent_size: Some(2),
            },
        )
        .map_err(|e| PublishError::Render {
            document: document.to_string(),
            message: e.to_string(),
        })?;
    let body = String::from_utf8(bytes).map_err(|e| PublishError::Render {
        document: document.to_string(),
        message: e.to_string(),
    })?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{body}\n"
    ))
}

fn person(name: &str) -> Person {
    Person {
        name: xml_clean(name).into_owned(),
        ..Person::default()
    }
}

pub(crate) fn link(rel: &str, href: &str, mime_type: &str) -> Link {
    Link {
        href: xml_clean(href).into_owned(),
        rel: rel.into(),
        mime_type: Some(mime_type.into()),
        ..Link::default()
    }
}

fn entry(config: &Config, e: &FeedEntry) -> Entry {
    let categories = e
        .section
        .as_deref()
        .and_then(|id| config.section(id))
        .map(|s| Category {
            term: s.id.clone(),
            scheme: None,
            label: Some(xml_clean(&s.name).into_owned()),
        })
        .into_iter()
        .collect();
    let origin = xml_clean(e.origin.trim()).into_owned();
    let mut source = Source {
        title: Text::plain(origin.clone()),
        id: tag_uri(config, &format!("outlet/{}", percent_encode(&origin))),
        updated: e.updated,
        ..Source::default()
    };
    // The source page is the origin's own only when kuaibao found the item
    // on that outlet; a reprint's list page says nothing about the origin.
    if e.origin.trim() == e.source_name.trim() && !e.source_url.is_empty() {
        source
            .links
            .push(link("alternate", &e.source_url, "text/html"));
    }
    let text = plain_text(&e.content_html);
    let summary = excerpt(&text, SUMMARY_CHARS);
    Entry {
        title: Text::plain(xml_clean(&e.title)),
        id: tag_uri(config, &format!("item/{}", percent_encode(&e.uid))),
        updated: e.updated,
        // Readers show the author; the outlet (来源) is what this bulletin's
        // readers want to see there.
        authors: if origin.is_empty() {
            Vec::new()
        } else {
            vec![person(&origin)]
        },
        categories,
        // One rel="via" per other outlet that carried the story (RFC 4287
        // §4.2.7.2: "the source of the information provided in the entry").
        links: std::iter::once(Link {
            href: xml_clean(&e.url).into_owned(),
            rel: "alternate".into(),
            ..Link::default()
        })
        .chain(e.via.iter().map(|v| Link {
            href: xml_clean(&v.url).into_owned(),
            rel: "via".into(),
            mime_type: Some("text/html".into()),
            title: Some(xml_clean(&v.outlet).into_owned()),
            ..Link::default()
        }))
        .collect(),
        published: e.published,
        source: (!origin.is_empty()).then_some(source),
        summary: (!summary.is_empty()).then(|| Text::plain(summary)),
        content: (!e.content_html.trim().is_empty()).then(|| Content {
            value: Some(xml_clean(&content_with_outlets(e)).into_owned()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// The entry's HTML, with a closing line naming the other outlets that
/// carried the story: few readers show `rel="via"` links.
pub(crate) fn content_with_outlets(e: &FeedEntry) -> std::borrow::Cow<'_, str> {
    if e.via.is_empty() {
        return std::borrow::Cow::Borrowed(&e.content_html);
    }
    // A maud template (outlets' names escaped, their URLs links only when
    // http(s) or relative), after the stored, sanitized body.
    let via = maud::html! {
        p class="kuaibao-via" {
            "同时刊发："
            @for (i, v) in e.via.iter().enumerate() {
                @if i > 0 { "、" }
                @if let Some(href) = crate::model::safe_href(&v.url) {
                    a href=(href) { (v.outlet) }
                } @else {
                    (v.outlet)
                }
            }
        }
    };
    std::borrow::Cow::Owned([e.content_html.as_str(), &via.into_string()].join("\n"))
}

/// The text of an HTML fragment on one line, safe for XML.
pub(crate) fn plain_text(html: &str) -> String {
    xml_clean(&crate::markup::inline_text(html)).into_owned()
}

/// At most `max` characters, with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved_and_encodes_utf8() {
        assert_eq!(percent_encode("ab-1._~"), "ab-1._~");
        assert_eq!(percent_encode("人 /"), "%E4%BA%BA%20%2F");
    }

    #[test]
    fn excerpt_cuts_on_characters_not_bytes() {
        assert_eq!(excerpt("人社部发布", 3), "人社部…");
        assert_eq!(excerpt("人社部", 3), "人社部");
    }

    #[test]
    fn plain_text_strips_tags_and_decodes_entities() {
        assert_eq!(plain_text("<p>a &amp; b</p>\n<p> c</p>"), "a & b c");
        assert_eq!(plain_text("人社<b>部</b>"), "人社部");
    }

    #[test]
    fn empty_feed_date_is_fixed_beijing_new_year_2025() {
        assert_eq!(
            empty_feed_updated().to_rfc3339(),
            "2025-01-01T00:00:00+08:00"
        );
    }
}
