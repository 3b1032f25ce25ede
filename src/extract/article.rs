//! Article pages for the extract stage (fetch → **extract** → normalize →
//! store → publish).
//!
//! A source may name its body, title, date and 来源 with selectors; most
//! government sites share a few CMS templates, so without selectors (or
//! when a configured selector stops matching after a redesign) the known
//! containers of the real outlets are tried, then a readability-style
//! extraction. The body is returned as HTML, unsanitized: normalize owns
//! sanitizing and link rewriting.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use super::{ExtractError, Limits, collapse_ws, dates, element_text, field_value, origin};
use crate::config::ArticleSelectors;
use crate::model::{Article, Page};

/// Body containers of the real outlets' templates, most specific first.
const BODY_SELECTORS: &[&str] = &[
    "#UCAP-CONTENT",
    "#insMainConTxt .TRS_Editor",
    "#insMainConTxt",
    ".view.TRS_UEDITOR",
    ".TRS_UEDITOR",
    ".TRS_Editor",
    ".art_det",
    ".art_p",
    "#detailContent",
    "#detail",
    "#p-detail",
    "#ContentPh",
    ".u-mainText",
    "#contentMain",
    ".left_zw",
    ".content_desc",
    ".article_con",
    "article",
];

/// Info lines (date, 来源, editor) of the same templates, near the title.
const INFO_SELECTORS: &[&str] = &[
    ".insMainConTitle_c",
    ".pages-date",
    "span.font-zyygwj",
    ".info .source",
    ".info .time",
    "#articlePubTime",
    ".m-con-time",
    "#pubTime",
    "#source",
    ".left-t",
    ".content_desc .left p",
    ".art_infos",
    ".m-con-source",
    // Last: a class this generic appears on unrelated boxes too.
    ".info",
];

const TITLE_SELECTORS: &[&str] = &[
    "meta[name=ArticleTitle]",
    ".insMainConTitle_b",
    "div.share-title",
    ".u-title",
    "#articleTitle",
    "#articleID",
    ".article_t",
    "div.artT",
    "h1",
    "meta[property='og:title']",
    "title",
];

const DATE_METAS: &[&str] = &[
    "meta[name=PubDate]",
    "meta[name=pubdate]",
    "meta[name=firstpublishedtime]",
    "meta[name=publishdate]",
    "meta[property='article:published_time']",
    "meta[itemprop=datePublished]",
];

const ORIGIN_METAS: &[&str] = &["meta[name=ContentSource]", "meta[name=source]"];

/// Characters of readable text below which readability gives up; Chinese
/// notices are short, far below the 500 tuned for English articles.
const READABILITY_CHARS: usize = 100;

fn selectors(list: &[&str]) -> Vec<Selector> {
    list.iter()
        .map(|s| Selector::parse(s).expect("valid built-in selector"))
        .collect()
}

static BODY: LazyLock<Vec<Selector>> = LazyLock::new(|| selectors(BODY_SELECTORS));
static INFO: LazyLock<Vec<Selector>> = LazyLock::new(|| selectors(INFO_SELECTORS));
static TITLE: LazyLock<Vec<Selector>> = LazyLock::new(|| selectors(TITLE_SELECTORS));
static DATE_META: LazyLock<Vec<Selector>> = LazyLock::new(|| selectors(DATE_METAS));
static ORIGIN_META: LazyLock<Vec<Selector>> = LazyLock::new(|| selectors(ORIGIN_METAS));
static ALWAYS_REMOVE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script, style, noscript").expect("valid selector"));
static MEDIA: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("img, video, table, iframe").expect("valid selector"));
static PUBLISHED_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"发布(?:日期|时间)\s*[:：]").expect("valid regex"));
static ANY_DATE_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:时间|日期)\s*[:：]").expect("valid regex"));

/// Reads an article page with the source's selectors, or without them.
pub fn extract_article_page(
    sel: Option<&ArticleSelectors>,
    page: &Page,
    limits: &Limits,
) -> Result<Article, ExtractError> {
    // Bounded before anything parses it: every reader below, readability
    // included, then sees a tree of bounded depth.
    let bounded = crate::markup::bound_html(&page.text, limits.markup)?;
    let text: &str = &bounded.text;
    let mut doc = Html::parse_document(text);

    let mut body_id = None;
    let mut body_from_selector = false;
    if let Some(sel) = sel {
        let mut matched = doc.select(&sel.content.selector).peekable();
        let any = matched.peek().is_some();
        match matched.find(|el| has_content(*el)) {
            Some(el) => {
                body_id = Some(el.id());
                body_from_selector = true;
            }
            None if any => tracing::warn!(url = %page.url, selector = %sel.content.text,
                "article content selector matched only empty elements; trying known containers"),
            None => tracing::warn!(url = %page.url, selector = %sel.content.text,
                "article content selector matched nothing; trying known containers"),
        }
    }
    if body_id.is_none() {
        body_id = BODY
            .iter()
            .find_map(|s| doc.select(s).find(|el| has_content(*el)).map(|el| el.id()));
    }

    // Read what surrounds the body before the body is cut down.
    let before_body = text_before(&doc, body_id);
    let title = sel
        .and_then(|s| s.title.as_ref())
        .and_then(|f| {
            doc.select(&f.selector)
                .next()
                .and_then(|el| field_value(el, f))
        })
        .or_else(|| generic_title(&doc));
    let published = sel
        .and_then(|s| s.date.as_ref())
        .and_then(|f| {
            doc.select(&f.selector)
                .next()
                .and_then(|el| field_value(el, f))
        })
        .and_then(|t| dates::parse_date(&t))
        .or_else(|| generic_date(&doc, &before_body, page));
    let configured_origin = sel
        .and_then(|s| s.origin.as_ref())
        .and_then(|f| {
            let el = doc.select(&f.selector).next()?;
            match f.attr {
                Some(_) => field_value(el, f),
                None => Some(spaced_text(el)),
            }
        })
        .and_then(|t| origin::find_origin(&t).or_else(|| plain_origin(&t)));

    let (content_html, body_text, readable_title, has_media) = match body_id {
        Some(id) => {
            let removes: Vec<&Selector> = sel
                .map(|s| s.remove.iter().map(|f| &f.selector).collect())
                .unwrap_or_default();
            strip(&mut doc, id, &removes);
            let el = doc
                .tree
                .get(id)
                .and_then(ElementRef::wrap)
                .expect("the body element is still in the tree");
            let has_media = el.select(&MEDIA).next().is_some();
            let html = el.inner_html().trim().to_string();
            (html, element_text(el), None, has_media)
        }
        None => {
            let (html, text, title) = readability(page, text)?;
            (html, text, title, false)
        }
    };
    if body_text.is_empty() && !has_media {
        return Err(ExtractError::NoContent {
            url: page.url.to_string(),
        });
    }

    // With a body found, the info line sits just before it; without one the
    // first 来源 on the page is the best guess (the tail would be the footer).
    let near_title = match body_id {
        Some(_) => tail(&before_body, 600),
        None => before_body.as_str(),
    };
    let origin = configured_origin.or_else(|| generic_origin(&doc, near_title, &body_text));
    Ok(Article {
        content_selector_missed: sel.is_some() && !body_from_selector,
        title: title.or(readable_title),
        content_html,
        published,
        origin,
    })
}

/// Text or media: a container holding only whitespace is a template shell.
fn has_content(el: ElementRef<'_>) -> bool {
    let visible_text = el.descendants().any(|n| {
        n.value()
            .as_text()
            .is_some_and(|t| !collapse_ws(t).is_empty())
            && !n.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| matches!(e.name(), "script" | "style" | "noscript"))
            })
    });
    visible_text || el.select(&MEDIA).next().is_some()
}

/// Removes scripts, styles and the source's `remove` matches from the body.
fn strip(doc: &mut Html, body: ego_tree::NodeId, removes: &[&Selector]) {
    let Some(el) = doc.tree.get(body).and_then(ElementRef::wrap) else {
        return;
    };
    let mut doomed: Vec<ego_tree::NodeId> = el.select(&ALWAYS_REMOVE).map(|e| e.id()).collect();
    for s in removes {
        doomed.extend(el.select(s).map(|e| e.id()));
    }
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
}

/// The page's visible text up to the body (all of it when no body was
/// found): where info lines with 发布日期 and 来源 live.
fn text_before(doc: &Html, body: Option<ego_tree::NodeId>) -> String {
    let mut out = String::new();
    let root = doc.root_element();
    let mut skip_until = None;
    for edge in root.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                if Some(node.id()) == body {
                    break;
                }
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(e)
                        if matches!(e.name(), "script" | "style" | "noscript" | "head") =>
                    {
                        skip_until = Some(node.id());
                    }
                    Node::Text(t) => {
                        out.push_str(t);
                        out.push(' ');
                    }
                    _ => {}
                }
            }
            ego_tree::iter::Edge::Close(node) => {
                if skip_until == Some(node.id()) {
                    skip_until = None;
                }
            }
        }
    }
    collapse_ws_keep_wide(&out)
}

/// Like `collapse_ws` but keeps full-width spaces, which separate the
/// fields of an info line (`2025年06月08日 10:30　来源：中国新闻网`).
fn collapse_ws_keep_wide(text: &str) -> String {
    text.split(|c: char| c != '\u{3000}' && super::is_space(c))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tail(text: &str, chars: usize) -> &str {
    let n = text.chars().count();
    match text.char_indices().nth(n.saturating_sub(chars)) {
        Some((i, _)) => &text[i..],
        None => text,
    }
}

fn generic_title(doc: &Html) -> Option<String> {
    TITLE.iter().find_map(|s| {
        let el = doc.select(s).next()?;
        let text = match el.value().name() {
            "meta" => collapse_ws(el.value().attr("content")?),
            "title" => strip_site_suffix(&element_text(el)),
            _ => element_text(el),
        };
        (!text.is_empty()).then_some(text)
    })
}

/// `标题_政策_中国政府网` → `标题`: site and channel names come off the
/// end one at a time, as long as what is cut is short and what is left
/// still reads as a headline.
fn strip_site_suffix(title: &str) -> String {
    let mut title = title.trim();
    'outer: loop {
        for sep in [" - ", "_", " | ", "｜", "——", "-"] {
            if let Some((head, suffix)) = title.rsplit_once(sep) {
                let head = head.trim();
                if suffix.chars().count() <= 20 && head.chars().count() >= 6 {
                    title = head;
                    continue 'outer;
                }
            }
        }
        return title.to_string();
    }
}

fn generic_date(doc: &Html, before_body: &str, page: &Page) -> Option<DateTime<FixedOffset>> {
    DATE_META
        .iter()
        .filter_map(|s| doc.select(s).next())
        .find_map(|m| m.value().attr("content").and_then(dates::parse_date))
        .or_else(|| {
            INFO.iter()
                .filter_map(|s| doc.select(s).next())
                .find_map(|el| dates::parse_date(&element_text(el)))
        })
        .or_else(|| labelled_date(before_body, &PUBLISHED_LABEL))
        .or_else(|| labelled_date(before_body, &ANY_DATE_LABEL))
        .or_else(|| dates::date_from_url(page.url.as_str()))
}

fn labelled_date(text: &str, label: &Regex) -> Option<DateTime<FixedOffset>> {
    label.find_iter(text).find_map(|m| {
        let after: String = text[m.end()..].chars().take(40).collect();
        dates::parse_date(&after)
    })
}

fn generic_origin(doc: &Html, near_title: &str, body_text: &str) -> Option<String> {
    ORIGIN_META
        .iter()
        .filter_map(|s| doc.select(s).next())
        .find_map(|m| m.value().attr("content").and_then(plain_origin))
        .or_else(|| {
            INFO.iter()
                .filter_map(|s| doc.select(s).next())
                .find_map(|el| origin::find_origin(&spaced_text(el)))
        })
        .or_else(|| origin::find_origin(near_title))
        // Reprints often credit the outlet in the last paragraph.
        .or_else(|| origin::find_origin(tail(body_text, 300)))
}

/// An element's text with its text nodes kept apart, so a link after the
/// 来源 (`来源：中国新闻网<a>参与互动</a>`) does not run into it.
fn spaced_text(el: ElementRef<'_>) -> String {
    collapse_ws_keep_wide(&el.text().collect::<Vec<_>>().join(" "))
}

/// An element or meta that holds only the outlet's name (`#source`).
fn plain_origin(text: &str) -> Option<String> {
    let text = collapse_ws(text);
    let n = text.chars().count();
    (n > 0 && n <= 40 && !text.contains(['：', ':'])).then_some(text)
}

/// The last resort: a readability-style guess at the body.
/// `text` is the page's markup after bounding.
fn readability(page: &Page, text: &str) -> Result<(String, String, Option<String>), ExtractError> {
    let no_content = || ExtractError::NoContent {
        url: page.url.to_string(),
    };
    let cfg = dom_smoothie::Config {
        char_threshold: READABILITY_CHARS,
        ..Default::default()
    };
    // dom_smoothie panics on some markup (a `<frameset>` page, found by
    // fuzzing); an outlet's page must cost at most this item.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dom_smoothie::Readability::new(text, Some(page.url.as_str()), Some(cfg))
            .map_err(|e| e.to_string())
            .and_then(|mut reader| reader.parse().map_err(|e| e.to_string()))
    }));
    let article = match parsed {
        Ok(Ok(article)) => article,
        Ok(Err(e)) => {
            tracing::debug!(url = %page.url, error = %e, "readability found no article");
            return Err(no_content());
        }
        Err(_) => {
            tracing::warn!(url = %page.url, "readability failed on this page's markup");
            return Err(no_content());
        }
    };
    let text = collapse_ws(&article.text_content);
    if text.is_empty() {
        return Err(no_content());
    }
    let title = collapse_ws(&article.title);
    Ok((
        article.content.to_string(),
        text,
        (!title.is_empty()).then_some(title),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_suffixes_come_off_page_titles() {
        assert_eq!(
            strip_site_suffix(
                "人社部组织开展专业技术人才管理服务改革试点工作_中华人民共和国人力资源和社会保障部"
            ),
            "人社部组织开展专业技术人才管理服务改革试点工作"
        );
        assert_eq!(
            strip_site_suffix("国务院办公厅关于做好青年就业工作的通知_政策_中国政府网"),
            "国务院办公厅关于做好青年就业工作的通知"
        );
        assert_eq!(
            strip_site_suffix("多地出台举措稳岗扩岗 助力高校毕业生就业-中新网"),
            "多地出台举措稳岗扩岗 助力高校毕业生就业"
        );
        assert_eq!(strip_site_suffix("短题_网站"), "短题_网站");
    }

    fn page(html: &str) -> Page {
        Page {
            url: url::Url::parse("https://www.example.gov.cn/art/2025/6/20/art_1_1.html").unwrap(),
            status: 200,
            content_type: None,
            validators: Default::default(),
            bytes: html.as_bytes().to_vec(),
            text: html.to_string(),
            encoding: "UTF-8",
        }
    }

    #[test]
    fn a_container_holding_only_a_script_is_not_the_body() {
        let html = r#"<html><body><div class="TRS_Editor"><script>document.write("x")</script></div>
<div class="article_con"><p>正文内容。</p></div></body></html>"#;
        let a = extract_article_page(None, &page(html), &Limits::default()).unwrap();
        assert_eq!(a.content_html, "<p>正文内容。</p>");
        assert_eq!(
            a.published,
            dates::date_from_url("/art/2025/6/20/x"),
            "the URL dates it"
        );
    }

    #[test]
    fn a_configured_origin_element_may_hold_just_the_name_or_a_linked_name() {
        let html = r#"<html><body><h1>标题文字很长的</h1><span id="source">来源：<a href="http://www.gmw.cn">光明日报</a></span><span id="src2">光明网</span>
<div id="ContentPh"><p>正文。</p></div></body></html>"#;
        let mut sel = ArticleSelectors {
            content: crate::config::FieldSelector::parse("#ContentPh").unwrap(),
            title: None,
            date: None,
            origin: Some(crate::config::FieldSelector::parse("#source").unwrap()),
            remove: vec![],
        };
        let a = extract_article_page(Some(&sel), &page(html), &Limits::default()).unwrap();
        assert_eq!(a.origin.as_deref(), Some("光明日报"));
        assert_eq!(a.title.as_deref(), Some("标题文字很长的"));
        sel.origin = Some(crate::config::FieldSelector::parse("#src2").unwrap());
        let a = extract_article_page(Some(&sel), &page(html), &Limits::default()).unwrap();
        assert_eq!(a.origin.as_deref(), Some("光明网"));
    }

    #[test]
    fn tail_counts_characters_not_bytes() {
        assert_eq!(tail("一二三四", 2), "三四");
        assert_eq!(tail("一", 5), "一");
    }
}
