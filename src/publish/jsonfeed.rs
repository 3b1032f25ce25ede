//! JSON Feed 1.1 twins of the publish stage's Atom feeds:
//! `feeds/all.json` and `feeds/<section-id>.json`, served by `kuaibao serve`
//! for readers and scripts that would rather not parse XML.
//!
//! Same entries, same order, same `tag:` ids and same summaries as the Atom
//! document, so a reader switching formats sees no new items.

use serde::Serialize;

use super::atom::{SUMMARY_CHARS, excerpt, percent_encode, plain_text, select, tag_uri};
use super::{FeedKind, PublishError};
use crate::config::Config;
use crate::model::FeedEntry;

pub const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    language: &'static str,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: String,
    url: &'a str,
    title: &'a str,
    content_html: std::borrow::Cow<'a, str>,
    #[serde(skip_serializing_if = "String::is_empty")]
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    /// Where kuaibao found the item: readers that know JSON Feed ignore
    /// `_`-prefixed extensions, tools of the bulletin use them.
    _kuaibao: Extension<'a>,
}

#[derive(Serialize)]
struct Extension<'a> {
    source_name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    source_url: &'a str,
    /// The outlet's own title, when `title` is the bulletin's.
    #[serde(skip_serializing_if = "Option::is_none")]
    original_title: Option<&'a str>,
    /// Other outlets that carried the same story.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    via: &'a [crate::model::Via],
}

const RFC3339: chrono::SecondsFormat = chrono::SecondsFormat::Secs;

/// Renders the JSON Feed of `feed` from the same entries (and the same
/// selection) as its Atom document.
pub fn render_json_feed(
    config: &Config,
    feed: FeedKind,
    entries: &[FeedEntry],
) -> Result<String, PublishError> {
    let chosen = select(config, feed, entries);
    let base = config.base_url.as_str();
    let doc = JsonFeed {
        version: VERSION,
        title: feed.title(config),
        home_page_url: base,
        feed_url: format!("{base}{}", feed.json_rel_path()),
        description: match feed {
            FeedKind::Section(s) if !s.description.trim().is_empty() => Some(&s.description),
            _ => None,
        },
        language: "zh-CN",
        authors: vec![Author {
            name: &config.title,
        }],
        hubs: config
            .server
            .websub_hub
            .as_ref()
            .map(|h| Hub {
                kind: "WebSub",
                url: h.as_str(),
            })
            .into_iter()
            .collect(),
        items: chosen.iter().map(|e| item(config, e)).collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).map_err(|e| PublishError::Render {
        document: feed.json_rel_path(),
        message: e.to_string(),
    })?;
    out.push('\n');
    Ok(out)
}

fn item<'a>(config: &Config, e: &'a FeedEntry) -> Item<'a> {
    let origin = e.origin.trim();
    Item {
        id: tag_uri(config, &format!("item/{}", percent_encode(&e.uid))),
        url: &e.url,
        title: &e.title,
        content_html: super::atom::content_with_outlets(e),
        summary: excerpt(&plain_text(&e.content_html), SUMMARY_CHARS),
        date_published: e.published.map(|d| d.to_rfc3339_opts(RFC3339, false)),
        date_modified: e.updated.to_rfc3339_opts(RFC3339, false),
        tags: e.section.as_deref().into_iter().collect(),
        authors: if origin.is_empty() {
            Vec::new()
        } else {
            vec![Author { name: origin }]
        },
        _kuaibao: Extension {
            source_name: &e.source_name,
            source_url: &e.source_url,
            original_title: e.original_title.as_deref(),
            via: &e.via,
        },
    }
}
