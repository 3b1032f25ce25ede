//! The `[source.article]` selectors shared by a few article pages of one
//! outlet (infer: pipeline stages, layer 3).
//!
//! On each page the body is the smallest element holding nearly all of the
//! page's paragraph text; the selector proposed is one that finds that
//! element on every page (known CMS containers such as `TRS_Editor` or
//! `#UCAP-CONTENT` preferred, then ids, then classes; two selectors joined
//! when the outlet uses two templates). Inside the body, blocks that only
//! say 责任编辑, 分享到, 【纠错】, 打印, 关闭 and the like become `remove`.
//! Title, date and 来源 are found by what they say: the headline the list
//! showed, a date, `来源：`.

use std::collections::HashMap;
use std::sync::LazyLock;

use ego_tree::NodeId;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use serde::Serialize;

use super::ProposedArticle;
use super::naming::{anchors, id_token, meaningful_classes};
use crate::config::{ArticleSelectors, FieldSelector};
use crate::extract::{self, dates, origin};
use crate::markup;
use crate::model::Page;
use crate::text::collapse_ws;

/// Containers of the CMSes these outlets run: strong hints when one of
/// them is what the pages share.
const KNOWN_CONTAINERS: &[&str] = &[
    "TRS_Editor",
    "TRS_UEDITOR",
    "UCAP-CONTENT",
    "insMainConTxt",
    "art_det",
    "article_con",
    "detail",
    "detailContent",
    "p-detail",
    "ContentPh",
    "u-mainText",
    "left_zw",
    "zoom",
    "bt_content",
    "content",
];

const DATE_METAS: &[&str] = &[
    "meta[name=PubDate]",
    "meta[name=firstpublishedtime]",
    "meta[name=publishdate]",
    "meta[property='article:published_time']",
];

/// Text of a block that is furniture, not the article: editor credits,
/// share bars, correction and print buttons, previous/next links.
static FURNITURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[\[【（(]?\s*(?:责任编辑|责编|编辑\s*[:：]|审核|校对|分享到|分享\s*[:：]|纠错|打印|关闭|扫一扫|上一篇|下一篇|相关(?:文章|阅读|新闻|链接|稿件)|字体|字号|【大|返回顶部|收藏|手机扫|微信扫)",
    )
    .expect("valid furniture regex")
});

/// Credits and buttons that may stand anywhere in a short block
/// (`本文刊登于《中国劳动保障报》…　责任编辑：李明`).
static FURNITURE_ANYWHERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"责任编辑|责编\s*[:：]|本文刊登于|【纠错】|分享到|扫一扫|打印本页|关闭窗口|点赞")
        .expect("valid furniture regex")
});

/// Whether a block's text is furniture rather than article.
fn is_furniture(text: &str) -> bool {
    // A body that opens with its share bar is still a body: only a short
    // block is furniture.
    let chars = text.chars().count();
    chars <= FURNITURE_CHARS && FURNITURE.is_match(text)
        || chars <= 80 && FURNITURE_ANYWHERE.is_match(text)
}

/// Furniture is a short block: longer text is not read whole.
const FURNITURE_CHARS: usize = 300;

/// An element's text when it is short enough to be furniture; `None` for
/// longer ones, without collecting all their text (every paragraph asks
/// this of its ancestors, the body among them).
fn short_text(el: ElementRef<'_>) -> Option<String> {
    // Raw text may be padded with whitespace; four times the bound is
    // enough for any short block.
    let cap = FURNITURE_CHARS * 4;
    let raw: String = el.text().flat_map(str::chars).take(cap + 1).collect();
    if raw.chars().count() > cap {
        return None;
    }
    let text = collapse_ws(&raw);
    (text.chars().count() <= FURNITURE_CHARS).then_some(text)
}

/// Paragraph text below this many characters is too short to tell body
/// from furniture.
const PARAGRAPH_CHARS: usize = 20;

/// One article page and the headline the list gave it.
pub struct ArticleSample<'a> {
    pub page: &'a Page,
    pub listed_title: &'a str,
}

/// The selectors proposed for the outlet's article pages, and what they read.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleProposal {
    /// `None`: no container is shared by the pages; generic extraction it is.
    pub article: Option<ProposedArticle>,
    /// Characters of text the selectors read from each page, in order.
    pub chars: Vec<usize>,
    pub confidence: f32,
    pub warnings: Vec<String>,
}

/// What one page offers: its tree and where its paragraph text lies.
struct Parsed {
    doc: Html,
    /// Paragraph characters under each element.
    para: HashMap<NodeId, usize>,
    /// Paragraph characters of the whole page.
    total: usize,
    /// The smallest element holding nearly all of them.
    body: Option<NodeId>,
}

/// Works out `[source.article]` from a few article pages of one outlet.
pub fn infer_article(samples: &[ArticleSample<'_>], limits: markup::Limits) -> ArticleProposal {
    let parsed: Vec<Parsed> = samples
        .iter()
        .filter_map(|s| parse(&s.page.text, limits))
        .collect();
    if parsed.len() < samples.len() || parsed.is_empty() {
        return generic("some article pages could not be read".into());
    }
    let Some(content) = content_selector(&parsed) else {
        return generic("articles share no container: using generic extraction".into());
    };
    let Ok(content_sel) = Selector::parse(&content) else {
        return generic("articles share no container: using generic extraction".into());
    };
    let remove = remove_selectors(&parsed, &content_sel);
    let title = title_selector(&parsed, samples);
    let date = date_selector(&parsed);
    let origin = origin_selector(&parsed);
    let proposed = ProposedArticle {
        content,
        title,
        date,
        origin,
        remove,
    };
    let chars = read_with(&proposed, samples, limits);
    let mut warnings = Vec::new();
    if proposed.title.is_none() {
        warnings.push("no headline element found: titles come from the list".into());
    }
    if proposed.date.is_none() {
        warnings.push("no date found on the article pages".into());
    }
    if proposed.origin.is_none() {
        warnings.push("no 来源 line found on the article pages".into());
    }
    let read = chars.iter().filter(|c| **c > 0).count();
    let confidence = (0.5 * read as f32 / samples.len().max(1) as f32
        + 0.15 * f32::from(proposed.title.is_some())
        + 0.15 * f32::from(proposed.date.is_some())
        + 0.1 * f32::from(proposed.origin.is_some())
        + 0.1 * f32::from(samples.len() >= 3))
    .clamp(0.0, 1.0);
    ArticleProposal {
        article: Some(proposed),
        chars,
        confidence,
        warnings,
    }
}

fn generic(warning: String) -> ArticleProposal {
    ArticleProposal {
        article: None,
        chars: Vec::new(),
        confidence: 0.3,
        warnings: vec![warning],
    }
}

/// Characters of text the proposed selectors read from each page through
/// the real extractor (0 where it read nothing).
fn read_with(
    proposed: &ProposedArticle,
    samples: &[ArticleSample<'_>],
    limits: markup::Limits,
) -> Vec<usize> {
    let Some(selectors) = to_selectors(proposed) else {
        return vec![0; samples.len()];
    };
    let limits = extract::Limits {
        markup: limits,
        max_entries: 1,
    };
    samples
        .iter()
        .map(|s| {
            extract::article::extract_article_page(Some(&selectors), s.page, &limits)
                .map(|a| markup::html_to_text(&a.content_html).chars().count())
                .unwrap_or(0)
        })
        .collect()
}

/// The proposal as the configuration would read it.
pub fn to_selectors(p: &ProposedArticle) -> Option<ArticleSelectors> {
    let field = |s: &str| FieldSelector::parse(s).ok();
    let opt = |s: &Option<String>| match s {
        Some(s) => field(s).map(Some),
        None => Some(None),
    };
    Some(ArticleSelectors {
        content: field(&p.content)?,
        title: opt(&p.title)?,
        date: opt(&p.date)?,
        origin: opt(&p.origin)?,
        remove: p
            .remove
            .iter()
            .map(|r| field(r))
            .collect::<Option<Vec<_>>>()?,
    })
}

fn is_skipped(el: &scraper::node::Element) -> bool {
    matches!(
        el.name(),
        "script" | "style" | "noscript" | "head" | "a" | "button" | "select" | "option" | "title"
    )
}

fn parse(text: &str, limits: markup::Limits) -> Option<Parsed> {
    let bounded = markup::bound_html(text, limits).ok()?;
    let doc = Html::parse_document(&bounded.text);
    let mut para: HashMap<NodeId, usize> = HashMap::new();
    let mut paragraphs: Vec<(NodeId, usize)> = Vec::new();
    let mut total = 0;
    for node in doc.root_element().descendants() {
        let Node::Text(t) = node.value() else {
            continue;
        };
        let Some(parent) = node.parent() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(e.name(), "script" | "style" | "noscript" | "head" | "title")
            })
        });
        if hidden {
            continue;
        }
        let len = collapse_ws(t).chars().count();
        let skipped = node
            .ancestors()
            .any(|a| a.value().as_element().is_some_and(is_skipped));
        if skipped || len < PARAGRAPH_CHARS {
            continue;
        }
        let in_furniture = parent
            .ancestors()
            .take(3)
            .chain(std::iter::once(parent))
            .filter_map(ElementRef::wrap)
            .any(|e| short_text(e).is_some_and(|t| is_furniture(&t)));
        if in_furniture {
            continue;
        }
        total += len;
        paragraphs.push((node.id(), len));
        for a in node.ancestors() {
            *para.entry(a.id()).or_default() += len;
        }
    }
    let body = page_body(&doc, &paragraphs);
    Some(Parsed {
        doc,
        para,
        total,
        body,
    })
}

/// Where the paragraphs cluster, scored as readability does: each
/// paragraph counts fully for the element holding it and half for that
/// element's parent, so the container of many paragraphs beats the page
/// that also holds a footer line and an info line. Paragraph-level tags
/// (`p`, `span`, `td`…) are not containers: their parent is.
fn page_body(doc: &Html, paragraphs: &[(NodeId, usize)]) -> Option<NodeId> {
    let mut score: HashMap<NodeId, usize> = HashMap::new();
    for (node, len) in paragraphs {
        let Some(mut holder) = doc
            .tree
            .get(*node)
            .and_then(|n| n.ancestors().find_map(ElementRef::wrap))
        else {
            continue;
        };
        while is_paragraph_level(holder.value().name())
            && id_token(holder).is_none()
            && meaningful_classes(holder).is_empty()
        {
            match holder.parent().and_then(ElementRef::wrap) {
                Some(p) => holder = p,
                None => break,
            }
        }
        *score.entry(holder.id()).or_default() += len * 2;
        if let Some(parent) = holder.parent() {
            *score.entry(parent.id()).or_default() += len;
        }
    }
    let best = score
        .into_iter()
        .max_by_key(|(id, s)| (*s, usize::MAX - id_order(doc, *id)))
        .map(|(id, _)| id)?;
    let mut body = doc.tree.get(best).and_then(ElementRef::wrap)?;
    // A table cell or a list can be the container when the CMS named it
    // (`<td id="UCAP-CONTENT">`); unnamed, its parent is.
    while is_paragraph_level(body.value().name())
        && (matches!(
            body.value().name(),
            "p" | "span" | "font" | "strong" | "b" | "em" | "i" | "u" | "h1" | "h2" | "h3" | "h4"
        ) || (id_token(body).is_none() && meaningful_classes(body).is_empty()))
    {
        match body.parent().and_then(ElementRef::wrap) {
            Some(p) => body = p,
            None => break,
        }
    }
    Some(body.id())
}

fn is_paragraph_level(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "span"
            | "font"
            | "strong"
            | "b"
            | "em"
            | "i"
            | "u"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "li"
            | "td"
            | "th"
            | "tr"
            | "tbody"
            | "thead"
            | "table"
            | "ul"
            | "ol"
            | "br"
            | "sup"
            | "sub"
            | "small"
            | "big"
            | "label"
            | "center"
    )
}

/// A stable tie-break: the element's place in the document.
fn id_order(doc: &Html, id: NodeId) -> usize {
    doc.tree.get(id).map(|n| n.ancestors().count()).unwrap_or(0)
}

/// A selector for the body that finds it (or an element just around it)
/// on every page; two joined when no one selector does.
fn content_selector(pages: &[Parsed]) -> Option<String> {
    // Names of each page's body and of its near ancestors.
    let mut candidates: Vec<(i32, String)> = Vec::new();
    for p in pages {
        let Some(body) = p
            .body
            .and_then(|b| p.doc.tree.get(b))
            .and_then(ElementRef::wrap)
        else {
            continue;
        };
        let mut el = Some(body);
        for level in 0..3i32 {
            let Some(e) = el else {
                break;
            };
            for (i, name) in anchors(e).into_iter().enumerate() {
                let known = KNOWN_CONTAINERS
                    .iter()
                    .any(|k| name.ends_with(&format!("#{k}")) || name.ends_with(&format!(".{k}")));
                let cost = level * 10 + i as i32 * 2 - if known { 15 } else { 0 };
                candidates.push((cost, name.clone()));
                // `#insMainConTxt .TRS_Editor`: a generic class under a named parent.
                if let Some(parent) = e.parent().and_then(ElementRef::wrap)
                    && let Some(pid) = id_token(parent)
                {
                    candidates.push((cost + 3, format!("{pid} {name}")));
                }
            }
            el = e.parent().and_then(ElementRef::wrap);
        }
    }
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.len().cmp(&b.1.len())));
    candidates.dedup_by(|a, b| a.1 == b.1);
    let fits: Vec<(String, Vec<bool>)> = candidates
        .into_iter()
        .filter_map(|(_, c)| {
            let sel = Selector::parse(&c).ok()?;
            let fit: Vec<bool> = pages.iter().map(|p| fits_body(p, &sel)).collect();
            fit.iter().any(|f| *f).then_some((c, fit))
        })
        .collect();
    if let Some((c, _)) = fits.iter().find(|(_, f)| f.iter().all(|x| *x)) {
        return Some(c.clone());
    }
    // Two templates: the best selector for some pages and one for the rest.
    for (a, fa) in &fits {
        if let Some((b, _)) = fits
            .iter()
            .find(|(_, fb)| fa.iter().zip(fb).all(|(x, y)| *x || *y))
        {
            return Some(format!("{a}, {b}"));
        }
    }
    None
}

/// Whether the selector's first element with text on this page holds ≥ 90 %
/// of the page body's paragraph text and not much more than the body.
fn fits_body(p: &Parsed, sel: &Selector) -> bool {
    let Some(body) = p.body else {
        return false;
    };
    let body_chars = p.para.get(&body).copied().unwrap_or(0);
    let Some(found) = p
        .doc
        .select(sel)
        .find(|e| e.text().any(|t| !t.trim().is_empty()))
    else {
        return false;
    };
    let chars = p.para.get(&found.id()).copied().unwrap_or(0);
    let inside_or_around = found.id() == body
        || found.ancestors().any(|a| a.id() == body)
        || p.doc
            .tree
            .get(body)
            .is_some_and(|b| b.ancestors().any(|a| a.id() == found.id()));
    inside_or_around && chars * 10 >= body_chars * 9 && chars <= p.total
}

/// Blocks inside the body, on any page, that are only furniture, named by
/// class or id; a name is kept only when removing it takes no paragraph
/// text on any page.
fn remove_selectors(pages: &[Parsed], content: &Selector) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in pages {
        let Some(body) = p
            .doc
            .select(content)
            .find(|e| e.text().any(|t| !t.trim().is_empty()))
        else {
            continue;
        };
        let mut skip_under: Option<NodeId> = None;
        for el in body.descendants().filter_map(ElementRef::wrap).skip(1) {
            if skip_under.is_some_and(|s| el.ancestors().any(|a| a.id() == s)) {
                continue;
            }
            let Some(text) = short_text(el) else {
                continue;
            };
            if text.is_empty() || !is_furniture(&text) {
                continue;
            }
            // The outermost furniture block: climb while the parent is
            // furniture too and still inside the body.
            let mut block = el;
            while let Some(parent) = block.parent().and_then(ElementRef::wrap) {
                if parent.id() == body.id() {
                    break;
                }
                if short_text(parent).is_none()
                    || p.para.get(&parent.id()).copied().unwrap_or(0) > 0
                {
                    break;
                }
                block = parent;
            }
            skip_under = Some(block.id());
            if let Some(name) = name_inside(block)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
    }
    names.retain(|n| {
        Selector::parse(n).is_ok_and(|sel| {
            pages.iter().all(|p| {
                p.doc
                    .select(&sel)
                    .all(|e| p.para.get(&e.id()).copied().unwrap_or(0) == 0)
            })
        })
    });
    names
}

/// `.class` or `#id` for a block inside the body: short, since it only
/// applies there.
fn name_inside(el: ElementRef<'_>) -> Option<String> {
    if let Some(id) = id_token(el) {
        return Some(id);
    }
    if let Some(c) = meaningful_classes(el).first() {
        return Some(format!(".{c}"));
    }
    // Old templates mark the credit line only by its alignment.
    let tag = el.value().name();
    el.value()
        .attr("align")
        .filter(|a| a.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|a| format!("{tag}[align={a}]"))
}

/// The element whose text is the headline the list gave, on every page.
fn title_selector(pages: &[Parsed], samples: &[ArticleSample<'_>]) -> Option<String> {
    let wanted = |i: usize| {
        let t = collapse_ws(samples[i].listed_title);
        t.trim_end_matches(['…', '.', '⋯']).to_string()
    };
    let is_title = |text: &str, title: &str| {
        !title.is_empty()
            && text.chars().count() <= title.chars().count() + 20
            && (text.contains(title)
                || title.contains(text) && text.chars().count() * 2 > title.chars().count())
    };
    let mut candidates: Vec<String> = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let title = wanted(i);
        for el in page
            .doc
            .root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
        {
            let name = el.value().name();
            if matches!(
                name,
                "title" | "a" | "head" | "html" | "body" | "meta" | "script"
            ) {
                continue;
            }
            let text = collapse_ws(&el.text().collect::<String>());
            if !is_title(&text, &title) {
                continue;
            }
            candidates.extend(anchors(el));
            if matches!(name, "h1" | "h2") {
                candidates.push(name.to_string());
            }
        }
    }
    candidates.push("meta[name=ArticleTitle]@content".into());
    covering(candidates, pages.len(), pages.len(), |c, i| {
        let Ok(f) = FieldSelector::parse(c) else {
            return false;
        };
        pages[i]
            .doc
            .select(&f.selector)
            .next()
            .and_then(|el| match &f.attr {
                Some(a) => el.value().attr(a).map(collapse_ws),
                None => Some(collapse_ws(&el.text().collect::<String>())),
            })
            .is_some_and(|t| is_title(&t, &wanted(i)))
    })
}

/// The first candidate that works on at least `need` of `pages` pages; else
/// two joined (`a, b`: an outlet with two templates) that do together.
fn covering(
    mut candidates: Vec<String>,
    pages: usize,
    need: usize,
    works: impl Fn(&str, usize) -> bool,
) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.clone()));
    let fits: Vec<(String, Vec<bool>)> = candidates
        .into_iter()
        .map(|c| {
            let fit = (0..pages).map(|i| works(&c, i)).collect();
            (c, fit)
        })
        .collect();
    let count = |f: &[bool]| f.iter().filter(|x| **x).count();
    if let Some((c, _)) = fits.iter().find(|(_, f)| count(f) >= need) {
        return Some(c.clone());
    }
    let joinable = |c: &str| !c.contains('@') && !c.contains(',');
    for (a, fa) in fits.iter().filter(|(c, f)| joinable(c) && count(f) > 0) {
        for (b, fb) in fits.iter().filter(|(c, _)| joinable(c) && c != a) {
            let union = fa.iter().zip(fb).filter(|(x, y)| **x || **y).count();
            if union >= need && count(fb) > 0 {
                return Some(format!("{a}, {b}"));
            }
        }
    }
    None
}

/// A date meta every page has, else the small element holding a date.
fn date_selector(pages: &[Parsed]) -> Option<String> {
    for meta in DATE_METAS {
        let Ok(sel) = Selector::parse(meta) else {
            continue;
        };
        let all = pages.iter().all(|p| {
            p.doc
                .select(&sel)
                .next()
                .and_then(|m| m.value().attr("content"))
                .and_then(dates::parse_date)
                .is_some()
        });
        if all {
            return Some(format!("{meta}@content"));
        }
    }
    small_element_selector(pages, |text| dates::parse_date(text).is_some(), 80)
}

/// The small element with `来源：` in it.
fn origin_selector(pages: &[Parsed]) -> Option<String> {
    small_element_selector(
        pages,
        |text| {
            (text.contains("来源：") || text.contains("来源:"))
                && origin::find_origin(text).is_some()
        },
        160,
    )
}

/// A selector for the smallest element outside the body whose text passes
/// `test`, found so on at least all but one page.
fn small_element_selector(
    pages: &[Parsed],
    test: impl Fn(&str) -> bool,
    max_chars: usize,
) -> Option<String> {
    let mut candidates: Vec<String> = Vec::new();
    for p in pages {
        let mut best: Option<(usize, ElementRef<'_>)> = None;
        for el in p
            .doc
            .root_element()
            .descendants()
            .filter_map(ElementRef::wrap)
        {
            if matches!(
                el.value().name(),
                "script" | "style" | "head" | "title" | "a"
            ) {
                continue;
            }
            if el
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "a")
            {
                continue;
            }
            let text = collapse_ws(&el.text().collect::<String>());
            let len = text.chars().count();
            if len > max_chars || !test(&text) {
                continue;
            }
            if best.is_none_or(|(l, _)| len < l) {
                best = Some((len, el));
            }
        }
        if let Some((_, el)) = best {
            let mut e = Some(el);
            // The element itself, or its named parent (`.info span` → `.info`).
            for _ in 0..2 {
                let Some(x) = e else { break };
                for a in anchors(x) {
                    if !candidates.contains(&a) {
                        candidates.push(a);
                    }
                }
                e = x.parent().and_then(ElementRef::wrap);
            }
        }
    }
    let need = pages.len().saturating_sub(1).max(1);
    covering(candidates, pages.len(), need, |c, i| {
        let Ok(sel) = Selector::parse(c) else {
            return false;
        };
        pages[i].doc.select(&sel).next().is_some_and(|el| {
            let text = collapse_ws(&el.text().collect::<String>());
            text.chars().count() <= max_chars && test(&text)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn page(url: &str, html: String) -> Page {
        Page {
            url: Url::parse(url).unwrap(),
            status: 200,
            content_type: Some("text/html".into()),
            validators: Default::default(),
            bytes: Vec::new(),
            text: html,
            encoding: "UTF-8",
        }
    }

    const PARAS: &[&str] = &[
        "近日，人力资源社会保障部印发通知，部署开展2025年高校毕业生等青年就业服务攻坚行动，要求各地加强政策落实。",
        "通知明确，各级公共就业服务机构要密集组织招聘活动，持续开展困难毕业生结对帮扶，确保有就业意愿的毕业生都能得到服务。",
        "人力资源社会保障部有关负责人表示，将会同有关部门加大稳岗扩岗政策支持力度，提升就业服务质量和效率。",
        "各地人社部门要结合实际制定具体实施方案，加强宣传引导，营造全社会关心支持青年就业的良好氛围。",
    ];

    fn article(i: usize, template_b: bool) -> String {
        let body: String = PARAS
            .iter()
            .map(|p| format!("<p>{p}（第{i}篇）</p>"))
            .collect();
        let furniture = r##"<div class="editor">【责任编辑：王五】</div><div class="bdsharebuttonbox">分享到：<a href="#">微信</a><a href="#">微博</a></div>"##;
        let head = format!(r#"<meta name="PubDate" content="2025-09-{i:02} 10:30">"#);
        let chrome = r#"<div class="top"><a href="/">首页</a><a href="/a/">机构</a></div>"#;
        let footer = r#"<div class="footer">主办单位：某省人力资源和社会保障厅　地址：某市某路100号　网站标识码：1234567890</div>"#;
        if template_b {
            format!(
                r#"<html><head>{head}</head><body>{chrome}<div class="artT">人社部部署青年就业服务攻坚行动{i}</div><div class="art_infos"><span>2025-09-{i:02}</span> 来源：新华社</div><div class="art_det">{body}{furniture}</div>{footer}</body></html>"#
            )
        } else {
            format!(
                r#"<html><head>{head}</head><body>{chrome}<div class="insMainConTitle_b">人社部部署青年就业服务攻坚行动{i}</div><div class="insMainConTitle_c">发布日期：2025-09-{i:02} 来源：人力资源社会保障部</div><div id="insMainConTxt"><div class="TRS_Editor">{body}{furniture}</div><div class="print"><a href="javascript:print()">【打印本页】</a><a href="javascript:close()">【关闭窗口】</a></div></div>{footer}</body></html>"#
            )
        }
    }

    fn infer(templates: &[bool]) -> (ArticleProposal, Vec<Page>) {
        let pages: Vec<Page> = templates
            .iter()
            .enumerate()
            .map(|(i, b)| {
                page(
                    &format!("http://x.gov.cn/a/t2025090{i}_{i}.html"),
                    article(i + 1, *b),
                )
            })
            .collect();
        let titles: Vec<String> = (1..=templates.len())
            .map(|i| format!("人社部部署青年就业服务攻坚行动{i}"))
            .collect();
        let samples: Vec<ArticleSample<'_>> = pages
            .iter()
            .zip(&titles)
            .map(|(page, t)| ArticleSample {
                page,
                listed_title: t,
            })
            .collect();
        (
            infer_article(&samples, markup::Limits::default()),
            pages.clone(),
        )
    }

    #[test]
    fn one_template_gets_its_container_furniture_title_date_and_origin() {
        let (p, _) = infer(&[false, false, false]);
        let a = p.article.expect("selectors");
        assert_eq!(a.content, "div.TRS_Editor", "{a:?}");
        assert!(a.remove.contains(&".editor".to_string()), "{a:?}");
        assert!(a.remove.contains(&".bdsharebuttonbox".to_string()), "{a:?}");
        assert_eq!(a.title.as_deref(), Some("div.insMainConTitle_b"));
        assert_eq!(a.date.as_deref(), Some("meta[name=PubDate]@content"));
        assert_eq!(a.origin.as_deref(), Some("div.insMainConTitle_c"));
        assert!(p.chars.iter().all(|c| *c > 150), "{:?}", p.chars);
    }

    #[test]
    fn two_templates_get_two_containers_joined() {
        let (p, _) = infer(&[false, true, false, true]);
        let a = p.article.expect("selectors");
        assert!(a.content.contains(", "), "{a:?}");
        assert!(
            a.title.as_deref().is_some_and(|t| t.contains(", ")),
            "{a:?}"
        );
        assert!(
            a.origin.as_deref().is_some_and(|t| t.contains(", ")),
            "{a:?}"
        );
        assert!(p.chars.iter().all(|c| *c > 150), "{:?}", p.chars);
    }
}
