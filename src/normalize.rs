//! Normalize, layer 3 (pipeline stages), the third stage (fetch → extract →
//! **normalize** → dedup → classify → store): makes one clean item of what
//! the list and the page said.
//!
//! Merges what a list said about an item with what its page said, and makes
//! the result safe and comparable: absolute URLs, a canonical URL for
//! identity, titles and text with `&nbsp;`/full-width spaces and doubled
//! whitespace trimmed, the article's own `来源` as its origin, and content
//! HTML sanitized with ammonia (no script, style, event handlers or
//! `javascript:` URLs; relative links and images made absolute).

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::UrlRelative;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::Source;
use crate::extract::{dates, origin};
use crate::model::{Article, ListedItem, NewItem, SanitizedHtml};
use crate::text::collapse_ws as clean_text;

/// Query parameters that only track the reader (`data/url/tracking-params.txt`);
/// dropping them lets two links to one article compare equal.
static TRACKING_PARAMS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    crate::text::data_lines(include_str!("../data/url/tracking-params.txt")).collect()
});

/// The identity of a URL: no fragment, no tracking parameters, `http`/`https`
/// and a leading `www.` folded, default port dropped, query sorted.
pub fn canonical_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let port = match url.port() {
        Some(p) if !matches!((url.scheme(), p), ("http", 80) | ("https", 443)) => format!(":{p}"),
        _ => String::new(),
    };
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let mut out = format!("{host}{port}{}", url.path());
    if !params.is_empty() {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        out.push('?');
        out.push_str(&query);
    }
    out
}

/// A stable short identity derived from a canonical URL: the published
/// entry id is built from it, so it must never change for one article.
pub fn item_uid(canonical_url: &str) -> String {
    let digest = Sha256::digest(canonical_url.as_bytes());
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

/// Plain text of an HTML fragment: one line per block, each line cleaned,
/// empty lines dropped (the one walk is [`crate::markup::text_blocks`]).
pub use crate::markup::html_to_text;

static SANITIZER_TAGS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut tags = ammonia::Builder::default().clone_tags();
    tags.extend(["figure", "figcaption", "section", "article", "center"]);
    tags
});

/// Sanitizes article HTML for publication: ammonia's allow-list (which drops
/// script, style, event handlers and `javascript:` URLs), with relative links
/// and images rewritten against `base`.
/// The result is a [`SanitizedHtml`]: this is the one place that makes
/// one from outside input.
pub fn sanitize_html(html: &str, base: &Url) -> SanitizedHtml {
    let cleaned = ammonia::Builder::default()
        .tags(SANITIZER_TAGS.clone())
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer"))
        .clean(&crate::markup::flatten_for_rendering(html))
        .to_string();
    SanitizedHtml::from_sanitizer(cleaned.trim().to_string())
}

/// Lines that outlets add around the same article and that say nothing about
/// which article it is.
fn is_boilerplate_line(line: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "来源",
        "稿件来源",
        "文章来源",
        "信息来源",
        "责任编辑",
        "编辑",
        "校对",
        "审核",
        "【字体",
        "分享到",
        "打印",
        "关闭",
    ];
    PREFIXES.iter().any(|p| line.starts_with(p)) || line.chars().count() <= 2
}

/// A hash of a body's words: whitespace, punctuation, full-/half-width
/// differences and boilerplate lines (`来源：…`, `责任编辑：…`) removed, so that
/// one article carried by two outlets hashes the same. `None` when too little
/// text remains to tell articles apart.
pub fn content_hash(text: &str) -> Option<String> {
    let mut folded = String::new();
    for line in text.lines() {
        if is_boilerplate_line(line.trim()) {
            continue;
        }
        for c in line.chars() {
            let c = fold_width(c);
            // Ideographs have no case: pushed as they are, without the
            // standard library's slow table look-ups.
            if crate::text::is_cjk_ideograph(c) {
                folded.push(c);
            } else if c.is_alphanumeric() {
                folded.extend(c.to_lowercase());
            }
        }
    }
    if folded.chars().count() < 20 {
        return None;
    }
    let digest = Sha256::digest(folded.as_bytes());
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// Full-width ASCII (`Ａ`, `１`) to its half-width form.
fn fold_width(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        c => c,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error("item {url} has no title")]
    NoTitle { url: String },
    #[error("item {url} has no text (neither the list nor its page gave a body)")]
    NoContent { url: String },
}

/// Builds the item to store from what the list said and, when its page was
/// read, what the page said.
pub fn normalize(
    source: &Source,
    listed: &ListedItem,
    article: Option<&Article>,
) -> Result<NewItem, NormalizeError> {
    let url = listed.url.clone();
    let canonical = canonical_url(&url);

    let list_title = clean_text(&listed.title);
    let page_title = article
        .and_then(|a| a.title.as_deref())
        .map(clean_text)
        .filter(|t| !t.is_empty());
    // The page's own headline wins when the source names its element (it is
    // the outlet's full title) or when the list shortened the title with an
    // ellipsis; a guessed page title may carry the site's name, so the list
    // title is kept otherwise.
    let list_cut = list_title.ends_with('…') || list_title.ends_with("...");
    let selector_title = source.article.as_ref().is_some_and(|a| a.title.is_some());
    let title = match page_title {
        Some(page) if list_title.is_empty() || list_cut || selector_title => page,
        _ => list_title,
    };
    if title.is_empty() {
        return Err(NormalizeError::NoTitle {
            url: url.to_string(),
        });
    }

    let raw_html = article
        .map(|a| a.content_html.as_str())
        .filter(|h| !h.trim().is_empty())
        .or(listed.content.as_deref().filter(|c| !c.trim().is_empty()))
        .or(listed.summary.as_deref().filter(|c| !c.trim().is_empty()))
        .unwrap_or("");
    let raw_html = if ammonia::is_html(raw_html) {
        raw_html.to_string()
    } else {
        text_to_html(raw_html)
    };
    let content_html = sanitize_html(&raw_html, &url);
    let content_text = html_to_text(&content_html);
    if content_text.is_empty() {
        return Err(NormalizeError::NoContent {
            url: url.to_string(),
        });
    }

    let origin = article
        .and_then(|a| a.origin.clone())
        .or_else(|| origin_in_text(&content_text))
        .map(|o| clean_text(&o))
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| source.name.clone());

    let published = article
        .and_then(|a| a.published)
        .or(listed.published)
        .or_else(|| dates::date_from_url(url.as_str()));

    Ok(NewItem {
        source_id: source.id.clone(),
        guid: listed.guid.clone().filter(|g| !g.trim().is_empty()),
        url: url.to_string(),
        content_hash: content_hash(&content_text).unwrap_or_default(),
        canonical_url: canonical,
        title,
        content_html,
        content_text,
        origin,
        section: source.section.clone(),
        region: source.region.clone(),
        published,
        bulletin_title: None,
        relevance: None,
        explanation: None,
    })
}

/// The `来源：X` an article states in its first or last lines (feeds often
/// carry it inside the body).
fn origin_in_text(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines.iter().rev().take(3);
    let head = lines.iter().take(2);
    tail.chain(head).find_map(|l| origin::find_origin(l))
}

/// Plain text (a summary-only feed, a JSON abstract) as paragraphs, for
/// the sanitizer.
fn text_to_html(text: &str) -> String {
    maud::html! {
        @for line in text.lines().map(clean_text).filter(|l| !l.is_empty()) {
            p { (line) }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_sanitizing_of_markup_nested_a_hundred_thousand_deep_need_no_deep_stack() {
        let html = "<div>".repeat(100_000) + "<p>正文</p>" + &"</div>".repeat(100_000);
        let base = Url::parse("https://www.example.gov.cn/a/").expect("url");
        let (text, clean) = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || (html_to_text(&html), sanitize_html(&html, &base)))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(text, "正文");
        assert!(clean.contains("正文"));
        assert!(
            clean.matches("<div>").count() <= 256,
            "flattened to the nesting limit"
        );
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn canonical_url_folds_scheme_www_fragment_and_tracking() {
        let a = canonical_url(&url(
            "https://www.mohrss.gov.cn/a/t1.html?utm_source=x&id=3#top",
        ));
        let b = canonical_url(&url("http://mohrss.gov.cn/a/t1.html?id=3&spm=1.2"));
        assert_eq!(a, b);
        assert_eq!(a, "mohrss.gov.cn/a/t1.html?id=3");
    }

    #[test]
    fn canonical_url_keeps_meaningful_query_and_port() {
        let a = canonical_url(&url("http://127.0.0.1:8080/list?page=2&b=1"));
        assert_eq!(a, "127.0.0.1:8080/list?b=1&page=2");
    }

    #[test]
    fn sanitize_drops_script_event_handlers_and_javascript_urls() {
        let html = r#"<p onclick="x()">正文<script>alert(1)</script></p><img src="/a.png" onerror="steal()"><a href="javascript:alert(1)">链接</a><style>p{}</style>"#;
        let out = sanitize_html(
            html,
            &url("https://www.gov.cn/zhengce/202506/content_1.htm"),
        )
        .into_string();
        assert!(!out.contains("script"), "{out}");
        assert!(
            !out.contains("onerror") && !out.contains("onclick"),
            "{out}"
        );
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("p{}"), "{out}");
        assert!(out.contains(r#"src="https://www.gov.cn/a.png""#), "{out}");
        assert!(out.contains("正文"));
    }

    #[test]
    fn sanitize_makes_relative_links_absolute() {
        let out = sanitize_html(
            r#"<a href="./t2.html">下一篇</a>"#,
            &url("https://x.gov.cn/a/b/t1.html"),
        )
        .into_string();
        assert!(
            out.contains(r#"href="https://x.gov.cn/a/b/t2.html""#),
            "{out}"
        );
    }

    #[test]
    fn html_to_text_puts_blocks_on_their_own_lines() {
        let text = html_to_text("<div><p>第一段&nbsp;内容</p><p>第二段</p>第三<br>行</div>");
        assert_eq!(text, "第一段 内容\n第二段\n第三\n行");
    }

    #[test]
    fn content_hash_ignores_spacing_punctuation_width_and_source_lines() {
        let a = "近日，人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。\n来源：人力资源社会保障部";
        let b = "近日, 人力资源社会保障部印发通知,开展专业技术人才管理服务改革试点工作.\n\n来源：新华社\n责任编辑：张三";
        assert_eq!(content_hash(a), content_hash(b));
        assert!(content_hash(a).is_some());
        assert_ne!(
            content_hash(a),
            content_hash("近日，人力资源社会保障部印发通知，开展技能人才评价改革试点工作。")
        );
    }

    #[test]
    fn plain_text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("一 <b>&\n\n 二 "),
            "<p>一 &lt;b&gt;&amp;</p><p>二</p>"
        );
    }

    fn source(article_title: bool) -> Source {
        let text = format!(
            "[[source]]\nid = \"s\"\nname = \"人社部\"\nurl = \"https://www.mohrss.gov.cn/\"\nkind = \"feed\"\n{}",
            if article_title {
                "[source.article]\ncontent = \"#c\"\ntitle = \"h1\"\n"
            } else {
                ""
            }
        );
        let sections = crate::config::parse_sections(
            std::path::Path::new("s.toml"),
            crate::config::DEFAULT_SECTIONS_TOML,
        )
        .expect("sections");
        crate::config::parse_sources(
            std::path::Path::new("x.toml"),
            &text,
            std::time::Duration::from_secs(60),
            &sections,
        )
        .expect("source")
        .remove(0)
    }

    fn listed(title: &str) -> ListedItem {
        ListedItem {
            url: url("https://www.mohrss.gov.cn/a/t20250620_1.html"),
            guid: None,
            title: title.into(),
            published: None,
            summary: None,
            content: None,
            author: None,
        }
    }

    fn article(title: &str) -> Article {
        Article {
            content_selector_missed: false,
            title: Some(title.into()),
            content_html: "<p>近日，人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。</p><p>来源：新华社</p>".into(),
            published: None,
            origin: None,
        }
    }

    #[test]
    fn a_shortened_list_title_gives_way_to_the_page_headline() {
        let item = normalize(
            &source(false),
            &listed("人社部组织开展专业技术人才…"),
            Some(&article("人社部组织开展专业技术人才管理服务改革试点工作")),
        )
        .expect("item");
        assert_eq!(item.title, "人社部组织开展专业技术人才管理服务改革试点工作");
        let item = normalize(
            &source(false),
            &listed("人社部开展试点"),
            Some(&article("人社部开展试点 - 人力资源社会保障部")),
        )
        .expect("item");
        assert_eq!(
            item.title, "人社部开展试点",
            "a guessed page title does not replace a whole list title"
        );
        let item = normalize(
            &source(true),
            &listed("人社部开展试点"),
            Some(&article("人社部组织开展试点工作")),
        )
        .expect("item");
        assert_eq!(
            item.title, "人社部组织开展试点工作",
            "a configured headline selector wins"
        );
    }

    #[test]
    fn origin_comes_from_the_body_when_the_page_names_none_and_else_the_source() {
        let item =
            normalize(&source(false), &listed("标题"), Some(&article("标题"))).expect("item");
        assert_eq!(item.origin, "新华社");
        let mut plain = article("标题");
        plain.content_html =
            "<p>近日，人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。</p>"
                .into();
        assert_eq!(
            normalize(&source(false), &listed("标题"), Some(&plain))
                .expect("item")
                .origin,
            "人社部"
        );
    }

    #[test]
    fn content_hash_refuses_too_short_bodies() {
        assert_eq!(content_hash("详见附件。"), None);
    }
}
