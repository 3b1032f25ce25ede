//! The index page of the publish stage (`index.html`): a plain HTML5 page
//! listing the feeds and the latest items per section, for people who open
//! the site in a browser rather than a feed reader.
//!
//! Built by hand, without a template engine: it is one small page, and
//! every piece of text goes through [`escape`].

use crate::normalize::escape_html as escape;
use std::fmt::Write;

use chrono::FixedOffset;

use super::{FeedKind, entry_date, feed_kinds, sort_newest_first};
use crate::config::Config;
use crate::model::FeedEntry;

/// Items shown per section; the feeds carry the rest.
const ITEMS_PER_SECTION: usize = 20;

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
    let title = escape(&config.title);
    let mut h = String::new();
    // Writing to a String cannot fail; the results are ignored for that
    // reason, not by accident.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"kuaibao {}\">\n<title>{title}</title>\n",
        env!("CARGO_PKG_VERSION")
    );
    for kind in &kinds {
        let _ = writeln!(
            h,
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{}\" href=\"{}\">",
            escape(&kind.title(config)),
            escape(&kind.rel_path())
        );
    }
    let _ = write!(
        h,
        "<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n<nav aria-label=\"订阅\">\n<ul>\n"
    );
    for kind in &kinds {
        let label = match kind {
            FeedKind::All => "全部",
            FeedKind::Section(s) => s.name.as_str(),
        };
        let _ = writeln!(
            h,
            "<li><a href=\"{}\">{} · Atom</a></li>",
            escape(&kind.rel_path()),
            escape(label)
        );
    }
    h.push_str(
        "<li><a href=\"feeds.opml\">全部订阅 · OPML</a></li>\n</ul>\n</nav>\n</header>\n<main>\n",
    );

    let mut sorted: Vec<&FeedEntry> = entries.iter().collect();
    sort_newest_first(&mut sorted);
    for section in &config.sections {
        let items: Vec<&FeedEntry> = sorted
            .iter()
            .copied()
            .filter(|e| e.section.as_deref() == Some(section.id.as_str()))
            .collect();
        let desc = (!section.description.trim().is_empty()).then_some(section.description.as_str());
        write_section(&mut h, &section.id, &section.name, desc, &items);
    }
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
    if !unsorted.is_empty() {
        // `_` cannot appear in a section id, so this anchor never clashes.
        write_section(&mut h, "_unsectioned", "未分栏", None, &unsorted);
    }
    let _ = write!(
        h,
        "</main>\n<footer>由 kuaibao 生成 · 条目链接指向原文</footer>\n</body>\n</html>\n"
    );
    h
}

fn write_section(h: &mut String, id: &str, name: &str, desc: Option<&str>, items: &[&FeedEntry]) {
    let _ = writeln!(
        h,
        "<section id=\"{}\">\n<h2>{}</h2>",
        escape(id),
        escape(name)
    );
    if let Some(d) = desc {
        let _ = writeln!(h, "<p class=\"desc\">{}</p>", escape(d));
    }
    if items.is_empty() {
        h.push_str("<p class=\"empty\">暂无条目</p>\n</section>\n");
        return;
    }
    h.push_str("<ul>\n");
    for e in items.iter().take(ITEMS_PER_SECTION) {
        let title = escape(e.title.trim());
        // Only web links: a `javascript:` URL from a hostile page must not
        // become a clickable link on our own origin.
        let linked = if is_web_url(&e.url) {
            format!("<a href=\"{}\">{title}</a>", escape(&e.url))
        } else {
            title
        };
        let date = beijing_date(e);
        let _ = write!(h, "<li>{linked}<span class=\"meta\">");
        if !e.origin.trim().is_empty() {
            let _ = write!(h, "{} · ", escape(e.origin.trim()));
        }
        let _ = writeln!(h, "<time datetime=\"{date}\">{date}</time></span></li>");
    }
    h.push_str("</ul>\n</section>\n");
}

fn is_web_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `YYYY-MM-DD` in Beijing time, whatever offset the date carries.
fn beijing_date(e: &FeedEntry) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => entry_date(e)
            .with_timezone(&tz)
            .format("%Y-%m-%d")
            .to_string(),
        None => entry_date(e).format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_become_links() {
        assert!(is_web_url("https://www.mohrss.gov.cn/a.html"));
        assert!(!is_web_url("javascript:alert(1)"));
        assert!(!is_web_url("not a url"));
    }
}
