//! Infer, layer 3 (pipeline stages): works out how to read an outlet from
//! its pages alone, so an editor can add one by its address
//! (`kuaibao sources add URL`).
//!
//! Everything here is analysis of pages already fetched: nothing touches the
//! network (the `onboard` orchestration fetches) or the files (`config::edit`
//! writes). Each reader proposes strings as a person would write them in
//! `sources.toml`, with the evidence for them:
//!
//! - [`feeds`]: a document that is a feed, and the feeds a page declares or
//!   that well-known paths might answer;
//! - [`json`]: the JSON (or JSONP) list documents a page names, and the
//!   dotted paths of `[source.json]` for one;
//! - [`list`]: the main list of an HTML page and its `[source.list]`
//!   selectors;
//! - [`article`]: the `[source.article]` selectors shared by a few article
//!   pages of one outlet.

pub mod article;
pub mod feeds;
pub mod json;
pub mod list;
mod naming;

use serde::Serialize;

use crate::config::SourceKind;

/// A `[[source]]` table as inference proposes it: every value is the text
/// that will be written into `sources.toml`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProposedSource {
    pub id: String,
    pub name: String,
    pub url: String,
    #[serde(serialize_with = "kind_str")]
    pub kind: SourceKind,
    /// A fixed label ("gbk") when the pages need one; `None` is "auto".
    pub encoding: Option<String>,
    pub section: Option<String>,
    pub region: Option<String>,
    pub list: Option<ProposedList>,
    pub json: Option<ProposedJson>,
    pub article: Option<ProposedArticle>,
}

fn kind_str<S: serde::Serializer>(kind: &SourceKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// `[source.list]` as text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProposedList {
    pub item: String,
    pub link: String,
    pub title: String,
    pub date: Option<String>,
    pub summary: Option<String>,
}

/// `[source.json]` as text; `items` is "" when the document is the array.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProposedJson {
    pub items: String,
    pub title: String,
    pub link: String,
    pub date: Option<String>,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub guid: Option<String>,
}

/// `[source.article]` as text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProposedArticle {
    pub content: String,
    pub title: Option<String>,
    pub date: Option<String>,
    pub origin: Option<String>,
    pub remove: Vec<String>,
}

/// The address a page's relative links resolve against: its own
/// `<base href>` when it has one, else where it was fetched from.
pub(crate) fn page_base(doc: &scraper::Html, fetched: &url::Url) -> url::Url {
    static BASE: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
        scraper::Selector::parse("base[href]").expect("valid selector")
    });
    doc.select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| crate::extract::resolve_link(fetched, h))
        .unwrap_or_else(|| fetched.clone())
}

impl ProposedSource {
    /// The `[[source]]` table as it will stand in `sources.toml`, with its
    /// `[source.list]`/`[source.json]`/`[source.article]` sub-tables.
    pub fn to_toml(&self) -> String {
        use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

        fn put(t: &mut Table, key: &str, v: Option<&str>) {
            if let Some(v) = v {
                t.insert(key, value(v));
            }
        }
        let mut source = Table::new();
        source.insert("id", value(&self.id));
        source.insert("name", value(&self.name));
        source.insert("url", value(&self.url));
        source.insert("kind", value(self.kind.as_str()));
        put(&mut source, "encoding", self.encoding.as_deref());
        put(&mut source, "section", self.section.as_deref());
        put(&mut source, "region", self.region.as_deref());
        if let Some(l) = &self.list {
            let mut t = Table::new();
            t.insert("item", value(&l.item));
            t.insert("link", value(&l.link));
            t.insert("title", value(&l.title));
            put(&mut t, "date", l.date.as_deref());
            put(&mut t, "summary", l.summary.as_deref());
            source.insert("list", Item::Table(t));
        }
        if let Some(j) = &self.json {
            let mut t = Table::new();
            t.insert("items", value(&j.items));
            t.insert("title", value(&j.title));
            t.insert("link", value(&j.link));
            put(&mut t, "date", j.date.as_deref());
            put(&mut t, "summary", j.summary.as_deref());
            put(&mut t, "content", j.content.as_deref());
            put(&mut t, "guid", j.guid.as_deref());
            source.insert("json", Item::Table(t));
        }
        if let Some(a) = &self.article {
            let mut t = Table::new();
            t.insert("content", value(&a.content));
            put(&mut t, "title", a.title.as_deref());
            put(&mut t, "date", a.date.as_deref());
            put(&mut t, "origin", a.origin.as_deref());
            if !a.remove.is_empty() {
                let remove: Array = a.remove.iter().map(String::as_str).collect();
                t.insert("remove", value(remove));
            }
            source.insert("article", Item::Table(t));
        }
        let mut sources = ArrayOfTables::new();
        sources.push(source);
        let mut doc = DocumentMut::new();
        doc.insert("source", Item::ArrayOfTables(sources));
        doc.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    fn sections() -> Vec<crate::config::Section> {
        vec![crate::config::Section {
            id: "regional".into(),
            name: "各地动态".into(),
            description: String::new(),
        }]
    }

    #[test]
    fn a_proposed_html_source_renders_as_a_valid_sources_table() {
        let proposed = ProposedSource {
            id: "gd-rst".into(),
            name: "广东省人力资源和社会保障厅".into(),
            url: "https://hrss.gd.gov.cn/zwgk/gzdt/".into(),
            kind: SourceKind::Html,
            encoding: Some("gbk".into()),
            section: Some("regional".into()),
            region: Some("广东".into()),
            list: Some(ProposedList {
                item: "ul.list > li".into(),
                link: "a@href".into(),
                title: "a@title".into(),
                date: Some("span.pubDate".into()),
                summary: None,
            }),
            json: None,
            article: Some(ProposedArticle {
                content: ".article_con".into(),
                title: Some(".article_t".into()),
                date: None,
                origin: Some(".article_info".into()),
                remove: vec![".share".into(), "script".into()],
            }),
        };
        let text = proposed.to_toml();
        assert!(text.starts_with("[[source]]\n"), "{text}");
        assert!(text.contains("[source.list]") && text.contains("[source.article]"));
        let parsed = crate::config::parse_sources(
            Path::new("sources.toml"),
            &text,
            Duration::from_secs(3600),
            &sections(),
        )
        .expect("the rendered table is a valid source");
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            parsed[0].list.as_ref().map(|l| l.title.text.as_str()),
            Some("a@title")
        );
        assert_eq!(parsed[0].article.as_ref().map(|a| a.remove.len()), Some(2));
        assert_eq!(parsed[0].region.as_deref(), Some("广东"));
    }
}
