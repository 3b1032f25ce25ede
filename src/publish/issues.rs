//! The feed of published issues (`feeds/issues.xml`), for subscribers who
//! want the bulletin as it is circulated, one
//! Atom entry per issue (期) rather than one per article.
//!
//! Like the other feeds it is a pure function of the configuration and what
//! it is given — the published issues, already laid out by
//! [`crate::bulletin`] — so `kuaibao publish` and `kuaibao serve` produce
//! the same bytes.

use std::path::Path;

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};

use super::atom::{link, percent_encode, tag_uri, write_feed};
use super::{PublishError, PublishReport, write_file, xml_clean};
use crate::bulletin::{IssueDoc, to_html_fragment};
use crate::config::Config;

/// Where the feed is written and served, relative to the output directory
/// and to `base_url`.
pub const ISSUES_FEED: &str = "feeds/issues.xml";

/// The MIME type of the Word export.
pub const DOCX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// One published issue, ready to render.
#[derive(Debug, Clone)]
pub struct PublishedIssue {
    pub doc: IssueDoc,
    /// When it was published.
    pub published: FixedDateTime,
    /// When it or one of its articles last changed.
    pub updated: FixedDateTime,
}

/// `{base_url}issues/NUMBER`: the issue's page (its HTML export).
pub fn issue_url(config: &Config, number: &str) -> String {
    format!("{}issues/{number}", config.base_url)
}

/// `updated` of a feed with no issue yet: fixed, so that an empty feed is
/// the same bytes on every run.
fn no_issue_updated() -> FixedDateTime {
    crate::time::at(2025, 1, 1, 0, 0, 0).unwrap_or_default()
}

/// The Atom document of the published issues, newest first (by when they
/// were published, the number breaking ties).
pub fn render_issues_feed(
    config: &Config,
    issues: &[PublishedIssue],
) -> Result<String, PublishError> {
    let mut chosen: Vec<&PublishedIssue> = issues.iter().collect();
    chosen.sort_by(|a, b| {
        b.published
            .cmp(&a.published)
            .then_with(|| b.doc.number.cmp(&a.doc.number))
    });
    let base = config.base_url.as_str();
    let feed = Feed {
        title: Text::plain(xml_clean(&format!("{} · 各期", config.title))),
        id: tag_uri(config, "feeds/issues"),
        updated: chosen
            .iter()
            .map(|i| i.updated)
            .max()
            .unwrap_or_else(no_issue_updated),
        authors: vec![Person {
            name: xml_clean(&config.society).into_owned(),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "kuaibao".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links: vec![
            link(
                "self",
                &format!("{base}{ISSUES_FEED}"),
                "application/atom+xml",
            ),
            link("alternate", &format!("{base}issues/"), "text/html"),
        ],
        entries: chosen.iter().map(|i| entry(config, i)).collect(),
        lang: Some("zh-CN".into()),
        ..Feed::default()
    };
    write_feed(&feed, ISSUES_FEED)
}

fn entry(config: &Config, issue: &PublishedIssue) -> Entry {
    let doc = &issue.doc;
    let page = issue_url(config, &doc.number);
    // The table of contents, for readers that show a summary only.
    let toc: Vec<String> = doc
        .printed_sections()
        .map(|s| {
            let titles: Vec<&str> = s.articles.iter().map(|a| a.title.as_str()).collect();
            format!("{}：{}", s.name, titles.join("；"))
        })
        .collect();
    Entry {
        title: Text::plain(xml_clean(&doc.issue_title())),
        // By number, which never changes once an issue exists.
        id: tag_uri(config, &format!("issue/{}", percent_encode(&doc.number))),
        updated: issue.updated,
        published: Some(issue.published),
        links: vec![
            link("alternate", &page, "text/html"),
            Link {
                title: Some(format!("{}.docx", doc.number)),
                ..link("enclosure", &format!("{page}.docx"), DOCX_TYPE)
            },
        ],
        summary: (!toc.is_empty()).then(|| Text::plain(xml_clean(&toc.join("\n")))),
        content: Some(Content {
            value: Some(xml_clean(&to_html_fragment(doc)).into_owned()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// Writes `feeds/issues.xml` under `out` (atomically, and only when its
/// bytes changed), recording it in `report`.
pub fn write_issues_feed(
    config: &Config,
    issues: &[PublishedIssue],
    out: &Path,
    report: &mut PublishReport,
) -> Result<(), PublishError> {
    let xml = render_issues_feed(config, issues)?;
    write_file(&out.join(ISSUES_FEED), xml.as_bytes(), report)
}
