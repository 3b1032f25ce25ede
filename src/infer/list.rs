//! The main list of an HTML page, and the `[source.list]` selectors that
//! read it (infer: pipeline stages, layer 3).
//!
//! A news column is a run of sibling blocks, each holding one link to an
//! article of the same site with a real headline and, usually, a date. The
//! page around it has runs too: the menu (short words), the 热点 sidebar
//! (same-site article links, but in a box named `hot` under a heading
//! 热点), the pager, the footer's friend sites (other hosts). Every run of
//! siblings with article links is scored on the evidence a person would
//! use, the best one is named with selectors a person would write (classes
//! and ids, never `nth-child`), and the selectors are checked by reading
//! the page with the real extractor.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use serde::Serialize;
use url::Url;

use super::ProposedList;
use super::naming::{
    DECOY_HEADINGS, anchors, id_token, is_decoy_element, meaningful_classes, shared_signature,
};
use crate::config::{FieldSelector, ListSelectors};
use crate::extract::{self, dates, html::unwrap_datastore};
use crate::markup;
use crate::text::collapse_ws;

static LINKS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href]").expect("valid selector"));

/// Fewest items that make a list.
const MIN_ITEMS: usize = 3;
/// How far above a link its list item may be.
const MAX_ITEM_DEPTH: usize = 6;
/// Links of one page considered; a list page has a few hundred at most.
const MAX_LINKS: usize = 5_000;

/// The page's main list as inference found it.
#[derive(Debug, Clone, Serialize)]
pub struct ListProposal {
    pub list: ProposedList,
    /// Items the proposed selectors read from the page.
    pub items: usize,
    /// Of them, items with a date (from the list or the link).
    pub dated: usize,
    /// 0 to 1: how clearly this run stands out as the page's news list.
    pub confidence: f32,
    pub warnings: Vec<String>,
}

/// Why no list was proposed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoList {
    #[error("no list found: the page has no run of links to articles of its own site")]
    NoArticleLinks,
    #[error("no list found: the page's only runs of links look like navigation ({0})")]
    OnlyNavigation(String),
    #[error(transparent)]
    TooComplex(#[from] markup::TooComplex),
}

/// One candidate list: the siblings under one parent, with one tag, that
/// link to articles.
struct Group<'a> {
    items: Vec<ElementRef<'a>>,
    /// Each item's main link (the longest headline among its article links).
    links: Vec<ElementRef<'a>>,
    score: f32,
    why_not: Option<String>,
}

/// Finds the main list of `html` (served at `base`) and proposes its
/// selectors.
pub fn infer_list(html: &str, base: &Url, limits: markup::Limits) -> Result<ListProposal, NoList> {
    let text = unwrap_datastore(html);
    let bounded = markup::bound_html(&text, limits)?;
    let doc = Html::parse_document(&bounded.text);
    let mut groups = candidate_groups(&doc, base);
    if groups.is_empty() {
        return Err(NoList::NoArticleLinks);
    }
    groups.sort_by(|a, b| b.score.total_cmp(&a.score));
    let runner_up = |i: usize| {
        groups
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, g)| g.score)
            .fold(0.0f32, f32::max)
    };
    let mut rejected = Vec::new();
    for (i, group) in groups.iter().enumerate().take(6) {
        if let Some(why) = &group.why_not {
            rejected.push(why.clone());
            continue;
        }
        let Some(list) = name_group(&doc, group, base) else {
            rejected.push("no selector names it without the page's other links".into());
            continue;
        };
        let Some(checked) = check(&list, html, base, limits) else {
            continue;
        };
        let margin = 1.0 - (runner_up(i) / group.score).min(1.0);
        let mut warnings = Vec::new();
        if list.item.contains("nth-of-type") {
            warnings.push(
                "the list is told apart from a look-alike box beside it only by its position: check it after a redesign".to_string(),
            );
        }
        if list.date.is_none() && checked.dated == 0 {
            warnings.push("no dates found on the list".to_string());
        } else if list.date.is_none() {
            warnings.push("no date on the list: dates come from the article links".to_string());
        }
        let confidence = (0.35
            + 0.25 * (checked.items.min(20) as f32 / 20.0)
            + 0.2 * (checked.dated as f32 / checked.items.max(1) as f32)
            + 0.2 * margin)
            .clamp(0.0, 1.0);
        return Ok(ListProposal {
            list,
            items: checked.items,
            dated: checked.dated,
            confidence,
            warnings,
        });
    }
    let reasons = if rejected.is_empty() {
        "none reads as a list".to_string()
    } else {
        rejected.join("; ")
    };
    Err(NoList::OnlyNavigation(reasons))
}

struct Checked {
    items: usize,
    dated: usize,
}

/// Reads the page with the proposed selectors through the real extractor.
fn check(list: &ProposedList, html: &str, base: &Url, limits: markup::Limits) -> Option<Checked> {
    let field = |s: &str| FieldSelector::parse(s).ok();
    let selectors = ListSelectors {
        item: field(&list.item)?,
        link: field(&list.link)?,
        title: field(&list.title)?,
        date: match &list.date {
            Some(d) => Some(field(d)?),
            None => None,
        },
        summary: None,
    };
    let page = crate::model::Page {
        url: base.clone(),
        status: 200,
        content_type: Some("text/html".into()),
        validators: Default::default(),
        bytes: Vec::new(),
        text: html.to_string(),
        encoding: "UTF-8",
    };
    let extract_limits = extract::Limits {
        markup: limits,
        max_entries: 1_000,
    };
    let listing = extract::html::extract_html_list(&selectors, &page, &extract_limits).ok()?;
    let items = listing.items.len();
    (items >= MIN_ITEMS).then_some(Checked {
        items,
        dated: listing
            .items
            .iter()
            .filter(|i| i.published.is_some())
            .count(),
    })
}

/// Whether `url` is on the same site as the page: the same host, or hosts
/// under one registered name (`www.mohrss.gov.cn` and `mohrss.gov.cn`).
fn same_site(url: &Url, base: &Url) -> bool {
    match (url.host_str(), base.host_str()) {
        (Some(a), Some(b)) => a == b || site_name(a) == site_name(b),
        _ => false,
    }
}

fn site_name(host: &str) -> &str {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || host.parse::<std::net::IpAddr>().is_ok() {
        return host;
    }
    // `mohrss.gov.cn`, `chinanews.com.cn`: three labels under a two-label suffix.
    let second = labels[labels.len() - 2];
    let keep =
        if matches!(second, "gov" | "com" | "edu" | "org" | "net" | "ac") && labels.len() >= 3 {
            3
        } else {
            2
        };
    let start: usize = labels[..labels.len() - keep]
        .iter()
        .map(|l| l.len() + 1)
        .sum();
    &host[start..]
}

/// How much a link looks like one article rather than a column, a home
/// page or a script: 0 (not an article) to 1.
fn article_likeness(url: &Url, base: &Url) -> f32 {
    if !same_site(url, base) {
        return 0.0;
    }
    let path = url.path();
    let lower = path.to_ascii_lowercase();
    if url.as_str().trim_end_matches('/') == base.as_str().trim_end_matches('/') {
        return 0.0;
    }
    let file = lower.rsplit('/').next().unwrap_or("");
    if file.starts_with("index") || file.starts_with("default") || file.starts_with("list") {
        return 0.1;
    }
    let digits = path.chars().filter(char::is_ascii_digit).count();
    let page_ext = [".htm", ".html", ".shtml", ".jhtml", ".jsp", ".aspx", ".php"]
        .iter()
        .any(|e| lower.ends_with(e));
    let mut score: f32 = 0.3;
    if digits >= 4 {
        score += 0.4;
    }
    if page_ext {
        score += 0.2;
    }
    if dates::date_from_url(url.as_str()).is_some() || lower.contains("content") {
        score += 0.1;
    }
    if lower.ends_with('/') && digits < 4 {
        score = 0.15;
    }
    if url.query().is_some_and(|q| q.contains("id=")) {
        score += 0.3;
    }
    score.min(1.0)
}

/// The headline a link shows: its text, or its `title` when the text is
/// cut short or missing.
fn headline(a: ElementRef<'_>) -> String {
    let text = collapse_ws(&a.text().collect::<String>());
    let title = a.value().attr("title").map(collapse_ws).unwrap_or_default();
    if title.chars().count() > text.chars().count() {
        title
    } else {
        text
    }
}

fn is_cut(text: &str) -> bool {
    let t = text.trim_end();
    t.ends_with('…') || t.ends_with("...") || t.ends_with("..") || t.ends_with('⋯')
}

/// Blocks under one parent with one tag, each with its article links.
type Run<'a> = Vec<(ElementRef<'a>, Vec<ElementRef<'a>>)>;

/// Every run of siblings that link to articles, scored.
fn candidate_groups<'a>(doc: &'a Html, base: &Url) -> Vec<Group<'a>> {
    // (parent, tag) → the items under it, each with its article links.
    let mut runs: HashMap<(NodeId, String), Run<'a>> = HashMap::new();
    for a in doc.select(&LINKS).take(MAX_LINKS) {
        let Some(url) = a
            .value()
            .attr("href")
            .and_then(|h| extract::resolve_link(base, h))
        else {
            continue;
        };
        if article_likeness(&url, base) < 0.5 {
            continue;
        }
        // The link itself and each ancestor a few levels up may be the item.
        let mut item = a;
        for _ in 0..MAX_ITEM_DEPTH {
            let Some(parent) = item.parent().and_then(ElementRef::wrap) else {
                break;
            };
            if matches!(parent.value().name(), "html" | "body") {
                break;
            }
            let key = (parent.id(), item.value().name().to_string());
            let run = runs.entry(key).or_default();
            // Links come in document order, so an item's links are
            // consecutive: only the run's last item can be this one.
            match run.last_mut() {
                Some((el, links)) if el.id() == item.id() => links.push(a),
                _ => run.push((item, vec![a])),
            }
            item = parent;
        }
    }
    runs.into_values()
        .filter(|run| run.len() >= MIN_ITEMS)
        .map(|run| score_group(run, base))
        .collect()
}

fn score_group<'a>(run: Run<'a>, base: &Url) -> Group<'a> {
    let n = run.len();
    let mut single = 0usize;
    let mut dated = 0usize;
    let mut lengths = Vec::with_capacity(n);
    let mut likeness = 0.0f32;
    let mut items = Vec::with_capacity(n);
    let mut links = Vec::with_capacity(n);
    for (item, item_links) in &run {
        let distinct: HashSet<&str> = item_links
            .iter()
            .filter_map(|a| a.value().attr("href"))
            .collect();
        if distinct.len() == 1 {
            single += 1;
        }
        let main = *item_links
            .iter()
            .max_by_key(|a| headline(**a).chars().count())
            .unwrap_or(&item_links[0]);
        let title = headline(main);
        lengths.push(title.chars().count());
        let url = main
            .value()
            .attr("href")
            .and_then(|h| extract::resolve_link(base, h));
        likeness += url.as_ref().map_or(0.0, |u| article_likeness(u, base));
        let rest = collapse_ws(&item.text().collect::<String>()).replace(&title, "");
        if dates::parse_date(&rest).is_some()
            || url
                .as_ref()
                .is_some_and(|u| dates::date_from_url(u.as_str()).is_some())
        {
            dated += 1;
        }
        items.push(*item);
        links.push(main);
    }
    lengths.sort_unstable();
    let median = lengths[n / 2];
    let single_frac = single as f32 / n as f32;
    let date_frac = dated as f32 / n as f32;
    let title_factor = match median {
        0..=4 => 0.05,
        5..=7 => 0.4,
        8..=11 => 1.0,
        _ => 1.1,
    };
    let (context, decoy) = context_factor(items[0]);
    let score = (n as f32).sqrt()
        * single_frac.powi(2)
        * (0.4 + 0.6 * date_frac)
        * title_factor
        * context
        * (likeness / n as f32);
    let why_not = if median < 6 {
        Some(format!(
            "{n} links with headlines of about {median} characters, like a menu"
        ))
    } else if single_frac < 0.5 {
        Some(format!("{n} blocks that each hold several articles"))
    } else {
        decoy
    };
    Group {
        items,
        links,
        score,
        why_not,
    }
}

/// How likely the run's surroundings are the page's main content: 1 in the
/// main column, far less inside a menu, header, footer or a 热点 box. The
/// second value names the decoy when the run is inside one.
fn context_factor(item: ElementRef<'_>) -> (f32, Option<String>) {
    let mut factor = 1.0f32;
    let mut decoy = None;
    let mut level = 0;
    let mut path_child = item;
    let mut el = item.parent().and_then(ElementRef::wrap);
    while let Some(e) = el {
        if matches!(e.value().name(), "body" | "html") {
            break;
        }
        if is_decoy_element(e) {
            factor *= 0.15;
            decoy.get_or_insert_with(|| {
                format!(
                    "a run of links inside <{}{}>",
                    e.value().name(),
                    anchors(e)
                        .first()
                        .map(|a| a.trim_start_matches(e.value().name()).to_string())
                        .unwrap_or_default()
                )
            });
        }
        // A heading of the box the run sits in, just above it.
        if level < 3
            && let Some(heading) = heading_above(path_child)
            && DECOY_HEADINGS.iter().any(|w| heading.contains(w))
        {
            factor *= 0.2;
            decoy.get_or_insert_with(|| format!("a box headed 「{heading}」"));
        }
        path_child = e;
        level += 1;
        el = e.parent().and_then(ElementRef::wrap);
    }
    (factor, decoy)
}

/// The short text just before `el` among its siblings (a box's heading:
/// `<h3>热点推荐</h3><ul>…`), when there is one.
fn heading_above(el: ElementRef<'_>) -> Option<String> {
    let prev = el
        .prev_siblings()
        .filter_map(ElementRef::wrap)
        .find(|s| !collapse_ws(&s.text().collect::<String>()).is_empty())?;
    let text = collapse_ws(&prev.text().collect::<String>());
    (text.chars().count() <= 12).then_some(text)
}

/// Names the group with selectors, or `None` when no selector reads exactly
/// its items (and no other links of the page).
fn name_group(doc: &Html, group: &Group<'_>, base: &Url) -> Option<ProposedList> {
    let item = item_selector(doc, group, base)?;
    let item_sel = Selector::parse(&item).ok()?;
    let items: Vec<ElementRef<'_>> = doc.select(&item_sel).collect();
    let link = link_selector(group)?;
    let cut = group
        .links
        .iter()
        .filter(|a| is_cut(&collapse_ws(&a.text().collect::<String>())))
        .count();
    let titled = group
        .links
        .iter()
        .filter(|a| {
            a.value()
                .attr("title")
                .is_some_and(|t| !t.trim().is_empty())
        })
        .count();
    let n = group.links.len();
    let headline = title_inside_link(group)
        .or_else(|| title_selector(group))
        .unwrap_or_else(|| link.clone());
    let title = if cut * 5 >= n && titled * 10 >= n * 9 {
        format!("{headline}@title")
    } else {
        headline
    };
    let date = date_selector(group, &items);
    Some(ProposedList {
        item,
        link: format!("{link}@href"),
        title,
        date,
        summary: None,
    })
}

/// The selector for the items: the shortest that matches all of them and,
/// besides them, only blocks of the same list (a column split in several
/// `<ul>`s) or blocks without links (separators, a header row).
fn item_selector(doc: &Html, group: &Group<'_>, base: &Url) -> Option<String> {
    let sig = shared_signature(&group.items);
    let parent = group.items[0].parent().and_then(ElementRef::wrap)?;
    let members: HashSet<NodeId> = group.items.iter().map(|e| e.id()).collect();
    let mut candidates: Vec<(usize, String)> = Vec::new();
    if sig.contains('.') {
        candidates.push((10, sig.clone()));
    }
    let parent_tag = parent.value().name().to_string();
    let parent_anchors = anchor_variants(doc, parent);
    for (extra, p) in &parent_anchors {
        candidates.push((20 + extra, format!("{p} > {sig}")));
        candidates.push((21 + extra, format!("{p} {sig}")));
    }
    let mut ancestor = parent.parent().and_then(ElementRef::wrap);
    let mut level = 0;
    while let Some(a) = ancestor {
        if level >= 5 || matches!(a.value().name(), "body" | "html") {
            break;
        }
        for (extra, anchor) in anchor_variants(doc, a) {
            let cost = 22 + level + extra;
            candidates.push((cost, format!("{anchor} {sig}")));
            candidates.push((cost + 10, format!("{anchor} {parent_tag} > {sig}")));
            for (pextra, p) in &parent_anchors {
                candidates.push((cost + 12 + pextra, format!("{anchor} {p} > {sig}")));
            }
        }
        level += 1;
        ancestor = a.parent().and_then(ElementRef::wrap);
    }
    candidates.sort_by_key(|(cost, s)| (*cost, s.len()));
    let by_name = candidates
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| reads_only_the_list(doc, s, &members, &sig, base));
    // Last resort, for a column that looks exactly like the box beside it:
    // its position among its siblings.
    by_name.or_else(|| {
        let mut el = Some(parent);
        let mut path = format!("> {sig}");
        for _ in 0..3 {
            let e = el?;
            let tag = e.value().name();
            let nth = e
                .prev_siblings()
                .filter_map(ElementRef::wrap)
                .filter(|s| s.value().name() == tag)
                .count()
                + 1;
            let name = anchors(e)
                .into_iter()
                .find(|a| !a.starts_with('#'))
                .unwrap_or_else(|| tag.to_string());
            let candidate = format!("{name}:nth-of-type({nth}) {path}");
            if reads_exactly(doc, &candidate, &members) {
                return Some(candidate);
            }
            path = format!("> {tag} {path}");
            el = e.parent().and_then(ElementRef::wrap);
        }
        None
    })
}

/// Names for an ancestor of the list with what they cost: its id or
/// `tag.class` (0); `tag.class:not(.other)` when a look-alike box (the
/// sidebar's `news-list side-news`) shares the class (8); a layout class
/// such as `col-md-9` as the last resort (20).
fn anchor_variants(doc: &Html, el: ElementRef<'_>) -> Vec<(usize, String)> {
    let tag = el.value().name();
    let mut out: Vec<(usize, String)> = anchors(el).into_iter().map(|a| (0, a)).collect();
    for class in meaningful_classes(el) {
        let Ok(sel) = Selector::parse(&format!("{tag}.{class}")) else {
            continue;
        };
        let mut others: Vec<String> = Vec::new();
        for twin in doc.select(&sel).filter(|t| t.id() != el.id()).take(20) {
            for c in meaningful_classes(twin) {
                let own = el
                    .value()
                    .has_class(c, scraper::CaseSensitivity::CaseSensitive);
                if !own && !others.iter().any(|o| o == c) {
                    others.push(c.to_string());
                }
            }
        }
        for other in others.iter().take(3) {
            out.push((8, format!("{tag}.{class}:not(.{other})")));
        }
    }
    for class in el.value().classes() {
        if super::naming::is_layout_class(class) {
            out.push((20, format!("{tag}.{class}")));
        }
    }
    out
}

/// The selector matches the members and nothing else.
fn reads_exactly(doc: &Html, selector: &str, members: &HashSet<NodeId>) -> bool {
    Selector::parse(selector).is_ok_and(|sel| {
        let matched: Vec<NodeId> = doc.select(&sel).map(|e| e.id()).collect();
        matched.len() == members.len() && matched.iter().all(|id| members.contains(id))
    })
}

fn reads_only_the_list(
    doc: &Html,
    selector: &str,
    members: &HashSet<NodeId>,
    sig: &str,
    base: &Url,
) -> bool {
    let Ok(sel) = Selector::parse(selector) else {
        return false;
    };
    let mut found = 0;
    for el in doc.select(&sel) {
        if members.contains(&el.id()) {
            found += 1;
            continue;
        }
        let links: Vec<Url> = el
            .select(&LINKS)
            .filter_map(|a| {
                a.value()
                    .attr("href")
                    .and_then(|h| extract::resolve_link(base, h))
            })
            .collect();
        if links.is_empty() {
            continue;
        }
        // Another block of the same column is fine; anything else is not.
        let same_shape = shared_signature(&[el]).starts_with(sig.split('.').next().unwrap_or(""))
            && links.iter().any(|u| article_likeness(u, base) >= 0.5)
            && context_factor(el).0 >= 0.9;
        if !same_shape {
            return false;
        }
    }
    found == members.len()
}

/// The link inside each item: `a` when the first link is the headline,
/// else a selector that reaches the headline's link first.
fn link_selector(group: &Group<'_>) -> Option<String> {
    choose_in_items(group, |found, link| {
        found.id() == link.id() || found.value().attr("href") == link.value().attr("href")
    })
}

/// The selector whose first match in each item is the headline link
/// itself (not a picture link to the same article): its text is the title.
fn title_selector(group: &Group<'_>) -> Option<String> {
    choose_in_items(group, |found, link| found.id() == link.id())
}

/// Ways to reach each item's headline link, simplest first (`a`, `a.cls`,
/// `.parentcls a`), and the first that reaches one `fits` in ≥ 95 % of
/// the items.
fn choose_in_items(
    group: &Group<'_>,
    fits: impl Fn(ElementRef<'_>, ElementRef<'_>) -> bool,
) -> Option<String> {
    let main = group.links[0];
    let mut candidates = vec!["a".to_string()];
    for c in meaningful_classes(main) {
        candidates.push(format!("a.{c}"));
    }
    if let Some(id) = id_token(main) {
        candidates.push(id);
    }
    let mut el = main.parent().and_then(ElementRef::wrap);
    let mut level = 0;
    while let Some(p) = el {
        if level >= 3 || group.items.iter().any(|i| i.id() == p.id()) {
            break;
        }
        for c in meaningful_classes(p) {
            candidates.push(format!(".{c} a"));
            candidates.push(format!("{}.{c} > a", p.value().name()));
        }
        level += 1;
        el = p.parent().and_then(ElementRef::wrap);
    }
    if main.value().attr("title").is_some() {
        candidates.push("a[title]".to_string());
    }
    let n = group.items.len();
    candidates.into_iter().find(|c| {
        let Ok(sel) = Selector::parse(c) else {
            return false;
        };
        let hits = group
            .items
            .iter()
            .zip(&group.links)
            .filter(|(item, link)| first_in(**item, &sel).is_some_and(|found| fits(found, **link)))
            .count();
        hits * 20 >= n * 19
    })
}

/// When each item is its link (`<a class="item"><span class="t">…</span>
/// <span class="d">2025-09-01</span></a>`), the child holding the headline.
fn title_inside_link(group: &Group<'_>) -> Option<String> {
    let (item, link) = (group.items[0], group.links[0]);
    if item.id() != link.id() {
        return None;
    }
    let child = item
        .children()
        .filter_map(ElementRef::wrap)
        .filter(|c| {
            let t = collapse_ws(&c.text().collect::<String>());
            dates::parse_date(&t).is_none() || t.chars().count() > 20
        })
        .max_by_key(|c| c.text().collect::<String>().chars().count())?;
    let name = meaningful_classes(child)
        .first()
        .map(|c| format!("{}.{c}", child.value().name()))?;
    let sel = Selector::parse(&name).ok()?;
    let hits = group
        .items
        .iter()
        .filter(|i| i.select(&sel).next().is_some())
        .count();
    (hits * 20 >= group.items.len() * 19).then_some(name)
}

/// Like the extractor: the item itself when it matches, else its first match.
fn first_in<'a>(scope: ElementRef<'a>, sel: &Selector) -> Option<ElementRef<'a>> {
    if sel.matches(&scope) {
        return Some(scope);
    }
    scope.select(sel).next()
}

/// The element of each item that holds its date, when the items have one
/// outside their headline.
fn date_selector(group: &Group<'_>, items: &[ElementRef<'_>]) -> Option<String> {
    // The date element of the first dated item names the candidates.
    let (item, link) = group
        .items
        .iter()
        .zip(&group.links)
        .find_map(|(i, l)| date_element(*i, *l).map(|_| (*i, *l)))?;
    let date_el = date_element(item, link)?;
    let tag = date_el.value().name();
    let mut candidates = Vec::new();
    for c in meaningful_classes(date_el) {
        candidates.push(format!("{tag}.{c}"));
        candidates.push(format!(".{c}"));
    }
    if date_el.id() != item.id() {
        let parent = date_el.parent().and_then(ElementRef::wrap);
        if let Some(p) = parent.filter(|p| p.id() != item.id()) {
            for c in meaningful_classes(p) {
                candidates.push(format!("{}.{c} {tag}", p.value().name()));
                candidates.push(format!(".{c} {tag}"));
            }
        }
        candidates.push(tag.to_string());
        candidates.push(format!("{tag}:last-child"));
    } else {
        candidates.push(item.value().name().to_string());
    }
    let dated_items: Vec<ElementRef<'_>> = group
        .items
        .iter()
        .zip(&group.links)
        .filter(|(i, l)| date_element(**i, **l).is_some())
        .map(|(i, _)| *i)
        .collect();
    let wanted = dated_items.len();
    let scope: Vec<ElementRef<'_>> = if items.is_empty() {
        dated_items
    } else {
        items
            .iter()
            .filter(|i| dated_items.iter().any(|d| d.id() == i.id()))
            .copied()
            .collect()
    };
    candidates.into_iter().find(|c| {
        let Ok(sel) = Selector::parse(c) else {
            return false;
        };
        let hits = scope
            .iter()
            .filter(|item| {
                first_in(**item, &sel).is_some_and(|el| {
                    let text = collapse_ws(&el.text().collect::<String>());
                    text.chars().count() <= 60 && dates::parse_date(&text).is_some()
                        || el.id() == item.id() && dates::parse_date(&text).is_some()
                })
            })
            .count();
        wanted > 0 && hits * 10 >= wanted * 9
    })
}

/// The smallest element of the item, outside its headline link, whose text
/// is a date; the item itself when the date is loose text beside the link.
fn date_element<'a>(item: ElementRef<'a>, link: ElementRef<'a>) -> Option<ElementRef<'a>> {
    let mut best: Option<(usize, ElementRef<'a>)> = None;
    for node in item.descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        // Outside the headline link, unless the item is the link itself.
        let in_link = link.id() != item.id() && el.ancestors().any(|a| a.id() == link.id());
        if el.id() == item.id()
            || el.id() == link.id()
            || in_link
            || link.ancestors().any(|a| a.id() == el.id())
        {
            continue;
        }
        let text = collapse_ws(&el.text().collect::<String>());
        let len = text.chars().count();
        if len <= 40 && dates::parse_date(&text).is_some() && best.is_none_or(|(l, _)| len < l) {
            best = Some((len, el));
        }
    }
    if let Some((_, el)) = best {
        return Some(el);
    }
    let title = headline(link);
    let rest = collapse_ws(&item.text().collect::<String>()).replace(&title, "");
    dates::parse_date(&rest).map(|_| item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://rst.example.gov.cn/col/col1/index.html").unwrap()
    }

    fn infer(html: &str) -> Result<ListProposal, NoList> {
        infer_list(html, &base(), markup::Limits::default())
    }

    const NAV: &str = r#"<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/col/col2/index.html">机构概况</a></li><li><a href="/col/col3/index.html">政务公开</a></li><li><a href="/col/col4/index.html">办事服务</a></li></ul></div>"#;
    const FOOTER: &str = r#"<div class="footer"><a href="https://www.mohrss.gov.cn/">人力资源和社会保障部</a><a href="https://www.gov.cn/">中国政府网</a><a href="https://www.jiangsu.gov.cn/">江苏省人民政府</a></div>"#;

    fn hot_box() -> String {
        let links: String = (1..=6)
            .map(|i| format!(r#"<li><a href="/art/2025/8/{i}/art_9_{i}00.html">热点新闻第{i}条关于社保卡的消息</a></li>"#))
            .collect();
        format!(
            r#"<div class="right"><div class="hd"><h3>热点推荐</h3></div><ul>{links}</ul></div>"#
        )
    }

    #[test]
    fn the_main_list_wins_over_menu_hot_box_and_footer() {
        let items: String = (1..=12)
            .map(|i| format!(r#"<li><a href="/art/2025/9/{i}/art_1_{i}234.html" title="全省人社系统推进就业服务第{i}项工作">全省人社系统推进就业服务第{i}项…</a><span class="date">2025-09-{i:02}</span></li>"#))
            .collect();
        let html = format!(
            r#"<html><body>{NAV}<div class="main"><div class="news-list"><ul>{items}</ul></div>{}</div>{FOOTER}</body></html>"#,
            hot_box()
        );
        let p = infer(&html).expect("a list");
        assert_eq!(p.list.item, "div.news-list li", "{p:?}");
        assert_eq!(p.list.link, "a@href");
        assert_eq!(p.list.title, "a@title", "titles are cut with …");
        assert_eq!(p.list.date.as_deref(), Some("span.date"));
        assert_eq!(p.items, 12);
        assert_eq!(p.dated, 12);
    }

    #[test]
    fn a_table_list_gets_its_rows_and_date_cell() {
        let rows: String = (1..=10)
            .map(|i| format!(r#"<tr><td><a href="/xwzx/202509/t202509{i:02}_5{i}1.html">市人社局召开第{i}次就业工作推进会议</a></td><td>2025-09-{i:02}</td></tr>"#))
            .collect();
        let html = format!(
            r#"<html><body>{NAV}<table class="listTable"><tr><th>标题</th><th>日期</th></tr>{rows}</table>{FOOTER}</body></html>"#
        );
        let p = infer(&html).expect("a list");
        assert!(p.list.item.ends_with("tr"), "{p:?}");
        assert_eq!(p.list.date.as_deref(), Some("td:last-child"), "{p:?}");
        assert_eq!(p.items, 10);
    }

    #[test]
    fn items_with_a_channel_link_take_the_headline_link() {
        let items: String = (1..=10)
            .map(|i| format!(r#"<li><div class="dd_lm">[<a href="/society/">社会</a>]</div><div class="dd_bt"><a href="/sh/2025/09-{i:02}/105{i}123.shtml">多地出台稳就业新举措第{i}批</a></div><div class="dd_time">9-{i} 10:3{i}</div></li>"#))
            .collect();
        let html = format!(
            r#"<html><body>{NAV}<div id="content_right"><div class="content_list"><ul>{items}</ul></div></div>{FOOTER}</body></html>"#
        );
        let p = infer(&html).expect("a list");
        assert_eq!(p.list.link, ".dd_bt a@href", "{p:?}");
        assert_eq!(p.items, 10);
    }

    #[test]
    fn a_picture_link_before_the_headline_does_not_take_the_title() {
        let items: String = (1..=8)
            .map(|i| format!(r#"<div class="item"><a href="/xw/2025/09/{i:02}/c_{i}234.htm"><img src="/p{i}.jpg"></a><h3 class="tit"><a href="/xw/2025/09/{i:02}/c_{i}234.htm">全国职业技能大赛第{i}赛区比赛顺利开幕</a></h3><span class="time">2025-09-{i:02}</span></div>"#))
            .collect();
        let html =
            format!(r#"<html><body>{NAV}<div class="newsbox">{items}</div>{FOOTER}</body></html>"#);
        let p = infer(&html).expect("a list");
        assert_eq!(p.list.link, "a@href", "{p:?}");
        assert_eq!(p.list.title, ".tit a", "{p:?}");
        assert_eq!(p.items, 8);
    }

    #[test]
    fn items_that_are_links_get_their_headline_and_date_children() {
        let items: String = (1..=8)
            .map(|i| format!(r#"<a class="item" href="/a/2025/09/{i:02}/c_{i}1.htm"><span class="t">全国职业技能大赛第{i}赛区比赛顺利开幕</span><span class="d">2025-09-{i:02}</span></a>"#))
            .collect();
        let html =
            format!(r#"<html><body>{NAV}<div class="list">{items}</div>{FOOTER}</body></html>"#);
        let p = infer(&html).expect("a list");
        assert_eq!(p.list.item, "a.item");
        assert_eq!(p.list.title, "span.t");
        assert_eq!(p.list.date.as_deref(), Some("span.d"));
    }

    #[test]
    fn of_two_look_alike_columns_the_longer_is_named_by_position_with_a_warning() {
        let list = |prefix: &str, words: &str, n: usize| -> String {
            (1..=n)
                .map(|i| format!(r#"<li><a href="/{prefix}/2025/09/{i:02}/t_{i}1.htm">{words}第{i}项工作的通知和安排</a><span>2025-09-{i:02}</span></li>"#))
                .collect()
        };
        let html = format!(
            r#"<html><body>{NAV}<div class="box"><h3>通知公告</h3><ul>{}</ul></div><div class="box"><h3>工作动态</h3><ul>{}</ul></div>{FOOTER}</body></html>"#,
            list("tz", "关于做好职称评审", 8),
            list("dt", "全省人社系统推进", 10)
        );
        let p = infer(&html).expect("a list");
        assert_eq!(p.items, 10, "{p:?}");
        assert!(p.list.item.contains(":nth-of-type("), "{p:?}");
        assert!(p.warnings.iter().any(|w| w.contains("position")), "{p:?}");
    }

    #[test]
    fn hanweb_records_inside_cdata_are_found() {
        let records: String = (1..=8)
            .map(|i| format!(r#"<record><![CDATA[<li><a href="/art/2025/9/{i}/art_78_1{i}45.html" target="_blank">江苏省人社厅发布第{i}号就业见习通知</a><span class="bt-data-time">2025-09-{i:02}</span></li>]]></record>"#))
            .collect();
        let html = format!(
            r#"<html><body>{NAV}<div id="2345" class="default_pgContainer"><script type="text/xml"><datastore><recordset>{records}</recordset></datastore></script></div>{FOOTER}</body></html>"#
        );
        let p = infer(&html).expect("a list");
        assert_eq!(p.items, 8, "{p:?}");
        assert_eq!(p.list.date.as_deref(), Some("span.bt-data-time"));
    }

    #[test]
    fn a_page_of_navigation_has_no_list() {
        let html = format!(
            r#"<html><body>{NAV}<form action="/search"><input name="q"><button>搜索</button></form>{}{FOOTER}</body></html>"#,
            hot_box()
        );
        assert!(infer(&html).is_err(), "{:?}", infer(&html));
    }
}
