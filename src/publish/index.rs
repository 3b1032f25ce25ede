//! Renderer (publish): the index page (`index.html`), a plain HTML5 page
//! listing the feeds and the latest items per section, for people who open
//! the site in a browser rather than a feed reader. A maud template: every
//! piece of text is escaped, and an item links to its article only through
//! [`safe_href`].

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{FeedKind, entry_date, feed_kinds, sort_newest_first};
use crate::config::Config;
use crate::model::{FeedEntry, safe_href};

/// Items shown per section; the feeds carry the rest.
const ITEMS_PER_SECTION: usize = 20;

/// The page's stylesheet: a static asset, its only unescaped markup.
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1d1f;--muted:#6e6e73;--bg:#fff;--line:#e5e5ea;--accent:#b5121b}\
@media(prefers-color-scheme:dark){:root{--fg:#f2f2f7;--muted:#a1a1a6;--bg:#1c1c1e;--line:#3a3a3c;--accent:#ff6961}}\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:46rem;padding:1rem 1.1rem 3rem;font:16px/1.65 -apple-system,BlinkMacSystemFont,\"PingFang SC\",\"Hiragino Sans GB\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;color:var(--fg);background:var(--bg)}\
header{border-bottom:3px solid var(--accent);margin-bottom:1.2rem}\
h1{font-size:1.5rem;margin:.6rem 0 .4rem;color:var(--accent)}\
h2{font-size:1.15rem;margin:1.8rem 0 .2rem;padding-left:.5rem;border-left:4px solid var(--accent)}\
.desc,.meta,.empty,footer{color:var(--muted);font-size:.85rem}\
.desc{margin:.2rem 0 .6rem}\
ul{list-style:none;margin:0;padding:0}\
li{padding:.45rem 0;border-bottom:1px solid var(--line)}\
a{color:inherit;text-decoration:none}\
a:hover,a:focus{color:var(--accent);text-decoration:underline}\
.meta{display:block}\
nav ul{display:flex;flex-wrap:wrap;gap:.3rem .9rem}\
nav li{border:0;padding:0}\
nav a{color:var(--accent)}\
footer{margin-top:2.5rem}";

/// The index page: feeds first, then the latest items of each section in
/// bulletin order, then "未分栏" for items no configured section claims.
pub fn render_index(config: &Config, entries: &[FeedEntry]) -> String {
    let kinds = feed_kinds(config);
    let mut sorted: Vec<&FeedEntry> = entries.iter().collect();
    sort_newest_first(&mut sorted);
    let in_section = |id: &str| -> Vec<&FeedEntry> {
        sorted
            .iter()
            .copied()
            .filter(|e| e.section.as_deref() == Some(id))
            .collect()
    };
    let unsorted: Vec<&FeedEntry> = sorted
        .iter()
        .copied()
        .filter(|e| {
            e.section
                .as_deref()
                .and_then(|id| config.section(id))
                .is_none()
        })
        .collect();
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" meta name="generator" content={ "kuaibao " (env!("CARGO_PKG_VERSION")) };
                "\n" title { (config.title) }
                "\n"
                @for kind in &kinds {
                    link rel="alternate" type="application/atom+xml" title=(kind.title(config)) href=(kind.rel_path());
                    "\n"
                }
                style { (PreEscaped(STYLE)) }
                "\n"
            }
            "\n"
            body {
                "\n"
                header {
                    "\n" h1 { (config.title) } "\n"
                    nav aria-label="订阅" {
                        "\n"
                        ul {
                            "\n"
                            @for kind in &kinds {
                                @let label = match kind {
                                    FeedKind::All => "全部",
                                    FeedKind::Section(s) => s.name.as_str(),
                                };
                                li { a href=(kind.rel_path()) { (label) " · Atom" } } "\n"
                            }
                            li { a href="feeds.opml" { "全部订阅 · OPML" } } "\n"
                        }
                        "\n"
                    }
                    "\n"
                }
                "\n"
                main {
                    "\n"
                    @for section in &config.sections {
                        @let desc = (!section.description.trim().is_empty()).then_some(section.description.as_str());
                        (section_html(&section.id, &section.name, desc, &in_section(&section.id)))
                    }
                    @if !unsorted.is_empty() {
                        // `_` cannot appear in a section id, so this anchor never clashes.
                        (section_html("_unsectioned", "未分栏", None, &unsorted))
                    }
                }
                "\n"
                footer { "由 kuaibao 生成 · 条目链接指向原文" }
                "\n"
            }
            "\n"
        }
        "\n"
    }
    .into_string()
}

fn section_html(id: &str, name: &str, desc: Option<&str>, items: &[&FeedEntry]) -> Markup {
    html! {
        section id=(id) {
            "\n" h2 { (name) } "\n"
            @if let Some(d) = desc {
                p.desc { (d) } "\n"
            }
            @if items.is_empty() {
                p.empty { "暂无条目" } "\n"
            } @else {
                ul {
                    "\n"
                    @for e in items.iter().take(ITEMS_PER_SECTION) {
                        @let date = crate::time::date_string(&entry_date(e));
                        li {
                            // Only web links: a `javascript:` URL from a
                            // hostile page must not become a clickable link
                            // on our own origin.
                            @if let Some(href) = safe_href(&e.url) {
                                a href=(href) { (e.title.trim()) }
                            } @else {
                                (e.title.trim())
                            }
                            span.meta {
                                @if !e.origin.trim().is_empty() { (e.origin.trim()) " · " }
                                time datetime=(date) { (date) }
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
        }
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_become_links() {
        let mut e = FeedEntry {
            uid: "u".into(),
            title: "标题".into(),
            url: "javascript:alert(1)".into(),
            content_html: String::new(),
            origin: String::new(),
            source_name: String::new(),
            source_url: String::new(),
            section: None,
            published: None,
            updated: chrono::DateTime::parse_from_rfc3339("2025-06-20T10:00:00+08:00")
                .expect("date"),
            changed: chrono::DateTime::parse_from_rfc3339("2025-06-20T10:00:00+08:00")
                .expect("date"),
            original_title: None,
            via: Vec::new(),
        };
        let refused = section_html("s", "栏", None, &[&e]).into_string();
        assert!(
            !refused.contains("href") && refused.contains("标题"),
            "{refused}"
        );
        e.url = "https://www.mohrss.gov.cn/a.html".into();
        let linked = section_html("s", "栏", None, &[&e]).into_string();
        assert!(linked.contains("<a href=\"https://www.mohrss.gov.cn/a.html\">标题</a>"));
    }
}
