//! Infer, layer 3 (pipeline stages): JSON lists. Finds the JSON (or JSONP)
//! documents a page loads its list from, and proposes the dotted paths of
//! `[source.json]` for one of them.
//!
//! Script-drawn list pages (gov.cn's `ZUIXINZHENGCE.json`, news.cn's
//! `ds_<id>.json` and `nodeart/list`) show nothing to an HTML reader; their
//! data file is the better source. Documents come from outlets, so the
//! walk over one uses an explicit stack and a node budget, never recursion,
//! and looks at a sample of items rather than all of them.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use super::ProposedJson;
use crate::extract::json::{json_date, lookup};
use crate::extract::{self, resolve_link};
use crate::markup;

/// Addresses [`json_list_urls`] returns at most: each one costs a request.
const MAX_URLS: usize = 8;
/// Characters of one inline script searched for addresses.
const MAX_SCRIPT_CHARS: usize = 512 * 1024;
/// Containers (arrays and objects) the search for the item array visits.
const NODE_BUDGET: usize = 100_000;
/// Nesting the search goes into.
const MAX_DEPTH: usize = 64;
/// An array of fewer objects is not a news list.
const MIN_ITEMS: usize = 3;
/// Items whose fields are examined.
const SAMPLE: usize = 50;
/// Candidate arrays examined, the largest first.
const MAX_CANDIDATES: usize = 16;
/// Fields of one item examined.
const MAX_FIELDS: usize = 200;
/// Items whose dates are counted for [`JsonProposal::with_dates`].
const MAX_COUNTED: usize = 1000;
/// Median text (in characters) from which a field is the article body.
const CONTENT_CHARS: usize = 400;

/// What [`infer_json`] proposes for one document, with its evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsonProposal {
    pub paths: ProposedJson,
    /// Elements of the item array.
    pub items: usize,
    /// Items whose date field reads as a date (of the first 1000).
    pub with_dates: usize,
    /// 0 to 1: how sure the proposal is.
    pub confidence: f32,
    /// What an editor should check, in plain words.
    pub warnings: Vec<String>,
}

static ELEMENT_SEL: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("*").expect("valid selector"));

/// `datasource:ds_<id>`, `datasource:<id>` or a bare `ds_<id>`: news.cn's
/// list pages name their data file `ds_<id>.json` this way.
static DATASOURCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:datasource\s*:\s*(?:ds_)?|\bds_)([0-9A-Za-z]{4,64})\b")
        .expect("valid datasource regex")
});
/// The address passed to the usual loaders: `$.getJSON('…')`,
/// `$.get('…')`, `fetch('…')`, `axios.get('…')`.
static CALL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:\$\.getJSON|\$\.get|\$\.post|jQuery\.getJSON|\bfetch|axios\.get)\(\s*["']([^"'\s]{1,2000})["']"#)
        .expect("valid call regex")
});
/// `$.ajax({ …, url: '…' })`, the object written inline.
static AJAX_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\$\.ajax\(\s*\{[^}]{0,600}?\burl\s*:\s*["']([^"'\s]{1,2000})["']"#)
        .expect("valid ajax regex")
});
/// A string literal without whitespace.
static LITERAL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["']([^"'\s<>]{2,2000})["']"#).expect("valid literal regex"));

/// The JSON and JSONP documents `html` names or loads, resolved against
/// `base` (or the page's `<base href>`): attribute values naming a `.json`
/// file or a `ds_<id>` data source, `<script src>` that is JSON or JSONP,
/// and in inline scripts the addresses given to `$.getJSON`, `$.ajax`,
/// `fetch` and string literals naming `.json`. Same host first, then the
/// same site, then others, each in page order; no repeats; at most eight.
pub fn json_list_urls(html: &str, base: &Url) -> Vec<Url> {
    let Ok(bounded) = markup::bound_html(html, markup::Limits::default()) else {
        return Vec::new();
    };
    let doc = Html::parse_document(&bounded.text);
    let base = super::page_base(&doc, base);

    let mut found: Vec<Url> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |href: &str, found: &mut Vec<Url>| {
        if let Some(url) = resolve_link(&base, href)
            && !url.path().to_ascii_lowercase().ends_with("manifest.json")
            && seen.insert(url.as_str().to_string())
        {
            found.push(url);
        }
    };
    for el in doc.select(&ELEMENT_SEL) {
        for (name, value) in el.value().attrs() {
            let value = value.trim();
            if value.len() > 2000 {
                continue;
            }
            if names_json(value) {
                add(value, &mut found);
            } else if name != "href" && name != "src" {
                // A data source id has digits; `ds_menu` is a class name.
                for caps in DATASOURCE_RE.captures_iter(value) {
                    if caps[1].bytes().any(|b| b.is_ascii_digit()) {
                        add(&format!("ds_{}.json", &caps[1]), &mut found);
                    }
                }
            }
        }
        if el.value().name() == "script" && el.value().attr("src").is_none() {
            let text: String = el.text().collect();
            let text = match text.char_indices().nth(MAX_SCRIPT_CHARS) {
                Some((at, _)) => &text[..at],
                None => &text,
            };
            // Calls first: their address is a JSON document whatever it
            // looks like; literals only when they name one.
            for caps in CALL_RE
                .captures_iter(text)
                .chain(AJAX_RE.captures_iter(text))
            {
                add(&caps[1], &mut found);
            }
            for caps in LITERAL_RE.captures_iter(text) {
                if names_json(&caps[1]) {
                    add(&caps[1], &mut found);
                }
            }
        }
    }
    let host = base.host_str().unwrap_or("").to_ascii_lowercase();
    let rank = |u: &Url| {
        let h = u.host_str().unwrap_or("").to_ascii_lowercase();
        if h == host {
            0
        } else if site_of(&h) == site_of(&host) {
            1
        } else {
            2
        }
    };
    found.sort_by_key(rank);
    found.truncate(MAX_URLS);
    found
}

/// An address (no whitespace) of a `.json` file or of a JSONP endpoint.
fn names_json(value: &str) -> bool {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or("");
    path.ends_with(".json")
        || path.ends_with(".jsonp")
        || ((lower.contains("callback=") || lower.contains("jsonp"))
            && (lower.contains('/') || lower.contains('?')))
}

/// The registrable part of a host, roughly: its last two labels, or three
/// under a country's generic second level (`hrss.gd.gov.cn` → `gd.gov.cn`
/// is too narrow, `gov.cn` too wide; `news.cn` and `www.news.cn` are one
/// site). Good enough to rank addresses, not to decide security.
fn site_of(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    let take = if n >= 3
        && labels[n - 1].len() == 2
        && matches!(labels[n - 2], "gov" | "com" | "edu" | "org" | "net" | "ac")
    {
        3
    } else {
        2
    };
    labels[n.saturating_sub(take)..].join(".")
}

/// Proposes `[source.json]` for a JSON list document fetched from `base`:
/// the item array (the best-scoring array of at least three objects that
/// share keys) and, relative to an item, the fields for title, link and,
/// when present, date, summary, content and guid. `None` when the document
/// holds no list of linked items.
pub fn infer_json(doc: &Value, base: &Url) -> Option<JsonProposal> {
    let mut candidates = item_arrays(doc);
    // Largest first: the news list is usually the biggest array of objects;
    // the score below settles the rest.
    candidates.sort_by_key(|c| std::cmp::Reverse(c.items.len()));
    candidates.truncate(MAX_CANDIDATES);
    candidates
        .iter()
        .filter_map(|c| evaluate(c, base))
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .map(|e| e.proposal)
}

/// An array of objects somewhere in the document.
struct Candidate<'a> {
    path: String,
    items: &'a [Value],
}

/// The arrays of at least [`MIN_ITEMS`] elements, most of them objects.
/// Only the first element of an array is entered: the other elements have
/// the same shape, and the list of a list of channels is the first one's.
fn item_arrays(doc: &Value) -> Vec<Candidate<'_>> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &Value, usize)> = vec![(String::new(), doc, 0)];
    let mut budget = NODE_BUDGET;
    while let Some((path, value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = (String, &Value)>> = match value {
            Value::Array(a) => {
                let objects = a.iter().filter(|v| v.is_object()).count();
                if a.len() >= MIN_ITEMS && objects * 5 >= a.len() * 4 {
                    out.push(Candidate {
                        path: path.clone(),
                        items: a,
                    });
                }
                Box::new(a.first().map(|f| ("0".to_string(), f)).into_iter())
            }
            Value::Object(m) => Box::new(
                m.iter()
                    .filter(|(k, _)| addressable(k))
                    .map(|(k, v)| (k.clone(), v)),
            ),
            _ => continue,
        };
        if depth >= MAX_DEPTH {
            continue;
        }
        for (key, child) in children {
            if !(child.is_array() || child.is_object()) {
                continue;
            }
            if budget == 0 {
                break;
            }
            budget -= 1;
            stack.push((join(&path, &key), child, depth + 1));
        }
    }
    out
}

/// A key a dotted path can name: `lookup` splits on dots and trims.
fn addressable(key: &str) -> bool {
    !key.is_empty() && !key.contains('.') && key.trim() == key
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One field of the sampled items: its path relative to an item and its
/// value in each.
struct Column<'a> {
    path: String,
    /// The last segment, lowercased, without `_` and `-`.
    name: String,
    values: Vec<Option<&'a Value>>,
}

impl Column<'_> {
    fn texts(&self) -> impl Iterator<Item = Option<String>> + '_ {
        self.values.iter().map(|v| match v {
            Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    fn strings(&self) -> impl Iterator<Item = &str> + '_ {
        self.values.iter().filter_map(|v| match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim()),
            _ => None,
        })
    }
}

struct Evaluated {
    proposal: JsonProposal,
    score: f64,
}

fn evaluate(c: &Candidate<'_>, base: &Url) -> Option<Evaluated> {
    let sample: Vec<&serde_json::Map<String, Value>> = c
        .items
        .iter()
        .filter_map(Value::as_object)
        .take(SAMPLE)
        .collect();
    let n = sample.len();
    if n < MIN_ITEMS {
        return None;
    }
    let columns = columns(&sample);
    if columns.len() < 2 {
        return None;
    }

    let link = pick_link(&columns, base, n)?;
    let title = pick_title(&columns, &link.path, n)?;
    let mut taken = vec![link.path.as_str(), title.path.as_str()];
    let date = pick_date(&columns, &taken, n);
    if let Some(d) = &date {
        taken.push(d.path.as_str());
    }
    let content = pick_content(&columns, &taken);
    if let Some(p) = &content {
        taken.push(p.as_str());
    }
    let summary = pick_summary(&columns, &taken, n);
    if let Some(p) = &summary {
        taken.push(p.as_str());
    }
    let guid = pick_guid(&columns, &taken, n);

    let with_dates = date.as_ref().map_or(0, |d| {
        c.items
            .iter()
            .take(MAX_COUNTED)
            .filter(|item| {
                lookup(item, &d.path)
                    .ok()
                    .and_then(plausible_date)
                    .is_some()
            })
            .count()
    });

    let mut warnings = Vec::new();
    if date.is_none() {
        warnings.push("no dates found in the items".to_string());
    }
    if link.absolute < 0.5 {
        warnings.push(
            "links are relative: they resolve against the JSON document's address, which may differ from the list page's".to_string(),
        );
    }
    if link.valid < 0.95 {
        warnings.push(format!(
            "{:.0}% of the items have no usable link",
            (1.0 - link.valid) * 100.0
        ));
    }
    if !title.by_name {
        warnings.push(format!(
            "the title field `{}` was chosen by its text, not its name",
            title.path
        ));
    }
    if c.items.len() < 5 {
        warnings.push(format!("only {} items in the list", c.items.len()));
    }

    let date_share = date.as_ref().map_or(0.0, |d| d.share);
    let confidence = (0.3
        + 0.25 * link.valid
        + if title.by_name { 0.15 } else { 0.05 }
        + 0.15 * date_share
        + if c.items.len() >= 5 { 0.1 } else { 0.0 }
        + if link.named || link.page_shape >= 0.5 {
            0.05
        } else {
            0.0
        })
    .min(1.0);
    let score = link.valid
        * c.items.len() as f64
        * (1.0
            + 0.5 * date_share
            + if title.by_name { 0.3 } else { 0.0 }
            + if link.named { 0.2 } else { 0.0 });

    Some(Evaluated {
        proposal: JsonProposal {
            paths: ProposedJson {
                items: c.path.clone(),
                title: title.path,
                link: link.path,
                date: date.map(|d| d.path),
                summary,
                content,
                guid,
            },
            items: c.items.len(),
            with_dates,
            confidence: confidence as f32,
            warnings,
        },
        score,
    })
}

/// The fields most sampled items share (60%), and one level inside those
/// that are objects (`meta.url`).
fn columns<'a>(sample: &[&'a serde_json::Map<String, Value>]) -> Vec<Column<'a>> {
    let n = sample.len();
    let shared = |counts: HashMap<&'a str, usize>, total: usize| {
        let mut keys: Vec<&'a str> = counts
            .into_iter()
            .filter(|&(k, c)| addressable(k) && c * 10 >= total * 6)
            .map(|(k, _)| k)
            .collect();
        keys.sort_unstable();
        keys
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for item in sample {
        for key in item.keys().take(MAX_FIELDS) {
            *counts.entry(key.as_str()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for key in shared(counts, n) {
        if out.len() >= MAX_FIELDS {
            break;
        }
        let values: Vec<Option<&Value>> = sample.iter().map(|i| i.get(key)).collect();
        let objects: Vec<&serde_json::Map<String, Value>> = values
            .iter()
            .filter_map(|v| v.and_then(Value::as_object))
            .collect();
        if objects.len() * 10 >= n * 6 {
            let mut inner: HashMap<&str, usize> = HashMap::new();
            for o in &objects {
                for k in o.keys().take(MAX_FIELDS) {
                    *inner.entry(k.as_str()).or_default() += 1;
                }
            }
            for sub in shared(inner, objects.len()) {
                if out.len() >= MAX_FIELDS {
                    break;
                }
                out.push(Column {
                    path: format!("{key}.{sub}"),
                    name: normalized(sub),
                    values: values
                        .iter()
                        .map(|v| v.and_then(Value::as_object).and_then(|o| o.get(sub)))
                        .collect(),
                });
            }
        } else {
            out.push(Column {
                path: key.to_string(),
                name: normalized(key),
                values,
            });
        }
    }
    out
}

fn normalized(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

struct LinkPick {
    path: String,
    /// Share of the sampled items with a usable link.
    valid: f64,
    /// Share of those links written absolute.
    absolute: f64,
    /// Share that look like article pages (`.html`, `/content_`, `/t2025…`).
    page_shape: f64,
    named: bool,
}

const LINK_NAMES: &[&str] = &[
    "url",
    "link",
    "href",
    "linkurl",
    "publishurl",
    "docurl",
    "articleurl",
    "shareurl",
    "weburl",
    "detailurl",
    "pageurl",
    "contenturl",
    "newsurl",
    "puburl",
    "staticurl",
];

/// Names of fields holding addresses of things other than the article.
const NOT_ARTICLE_LINK: &[&str] = &[
    "img", "pic", "image", "thumb", "cover", "icon", "video", "logo", "avatar", "audio", "file",
    "pdf", "attach", "photo", "media",
];

fn pick_link(columns: &[Column<'_>], base: &Url, n: usize) -> Option<LinkPick> {
    let mut best: Option<(f64, LinkPick)> = None;
    for col in columns {
        if NOT_ARTICLE_LINK.iter().any(|w| col.name.contains(w)) {
            continue;
        }
        let links: Vec<&str> = col
            .strings()
            .filter(|s| link_like(s) && resolve_link(base, s).is_some())
            .collect();
        if links.is_empty() {
            continue;
        }
        let valid = links.len() as f64 / n as f64;
        let distinct = links.iter().collect::<HashSet<_>>().len() as f64 / links.len() as f64;
        if valid < 0.6 || distinct < 0.8 {
            continue;
        }
        let share =
            |f: fn(&str) -> bool| links.iter().filter(|s| f(s)).count() as f64 / links.len() as f64;
        let absolute = share(|s| {
            let l = s.to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("https://") || l.starts_with("//")
        });
        let page_shape = share(article_shaped);
        let named_exact = LINK_NAMES.contains(&col.name.as_str());
        let named_loose = ["url", "link", "href"].iter().any(|w| col.name.contains(w));
        let score = 2.0 * valid
            + 1.5 * page_shape
            + if named_exact {
                3.0
            } else if named_loose {
                1.5
            } else {
                0.0
            };
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((
                score,
                LinkPick {
                    path: col.path.clone(),
                    valid,
                    absolute,
                    page_shape,
                    named: named_exact || named_loose,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

/// A string written as an address: absolute, root- or dot-relative, or a
/// relative path to a file (`20250620/c.html`). `2025/06/20` has no file
/// name, so a date is not one.
fn link_like(s: &str) -> bool {
    if s.contains(char::is_whitespace) || s.chars().any(is_cjk) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or("");
    if [
        ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".mp4", ".mp3", ".pdf", ".doc", ".docx",
        ".xls", ".xlsx", ".zip",
    ]
    .iter()
    .any(|e| path.ends_with(e))
    {
        return false;
    }
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("//")
        || lower.starts_with('/')
        || lower.starts_with("./")
        || lower.starts_with("../")
    {
        return true;
    }
    let file = path.rsplit('/').next().unwrap_or("");
    file.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (2..=6).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_alphabetic())
    })
}

/// The address of an article page as these outlets write them.
fn article_shaped(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or("");
    [".htm", ".html", ".shtml", ".jhtml"]
        .iter()
        .any(|e| path.ends_with(e))
        || path.contains("/content_")
        || path.contains("/t20")
        || path.contains("/art/")
        || path.contains("/c_")
}

struct TitlePick {
    path: String,
    by_name: bool,
}

fn pick_title(columns: &[Column<'_>], link: &str, n: usize) -> Option<TitlePick> {
    let mut best: Option<(f64, TitlePick)> = None;
    for col in columns.iter().filter(|c| c.path != link) {
        let texts: Vec<String> = col.strings().map(extract::html_to_text).collect();
        if texts.len() * 10 < n * 8 {
            continue;
        }
        let links = col.strings().filter(|s| link_like(s)).count();
        if links * 5 > texts.len() {
            continue;
        }
        let mut lengths: Vec<usize> = texts.iter().map(|t| t.chars().count()).collect();
        lengths.sort_unstable();
        let median = lengths[lengths.len() / 2];
        if !(2..=300).contains(&median) {
            continue;
        }
        let cjk: usize = texts
            .iter()
            .map(|t| t.chars().filter(|&c| is_cjk(c)).count())
            .sum();
        let chars: usize = lengths.iter().sum();
        let cjk_share = cjk as f64 / chars.max(1) as f64;
        let name = col.name.as_str();
        let by_name = if name == "title" {
            10.0
        } else if name.contains("title") && !name.contains("sub") {
            7.0
        } else if matches!(
            name,
            "name" | "headline" | "topic" | "subject" | "biaoti" | "heading"
        ) {
            5.0
        } else if name.contains("subtitle") {
            1.0
        } else {
            0.0
        };
        let score = if by_name > 0.0 {
            by_name + cjk_share
        } else if (6..=80).contains(&median) && cjk_share >= 0.3 {
            2.0 + cjk_share
        } else {
            continue;
        };
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((
                score,
                TitlePick {
                    path: col.path.clone(),
                    by_name: by_name >= 5.0,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

struct DatePick {
    path: String,
    /// Share of the sampled items with a date.
    share: f64,
}

/// A date as [`json_date`] reads it, within the years news is dated.
fn plausible_date(v: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    use chrono::Datelike;
    json_date(v).filter(|d| (1990..=2100).contains(&d.year()))
}

fn pick_date(columns: &[Column<'_>], taken: &[&str], n: usize) -> Option<DatePick> {
    let mut best: Option<(f64, DatePick)> = None;
    for col in columns.iter().filter(|c| !taken.contains(&c.path.as_str())) {
        let name = col.name.as_str();
        let named = [
            "time", "date", "pub", "created", "updated", "modified", "day",
        ]
        .iter()
        .any(|w| name.contains(w));
        // Ids are numbers of ten or thirteen digits too; only a field named
        // as a date may hold a bare timestamp.
        let dated = col
            .values
            .iter()
            .filter(|v| {
                v.is_some_and(|v| {
                    let bare_number = match v {
                        Value::Number(_) => true,
                        Value::String(s) => s.trim().bytes().all(|b| b.is_ascii_digit()),
                        _ => false,
                    };
                    (named || !bare_number) && plausible_date(v).is_some()
                })
            })
            .count();
        let share = dated as f64 / n as f64;
        if share < 0.6 {
            continue;
        }
        let publish = name.contains("pub") || name.contains("release");
        let score = share + if named { 2.0 } else { 0.0 } + if publish { 1.0 } else { 0.0 };
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((
                score,
                DatePick {
                    path: col.path.clone(),
                    share,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

fn median_text_chars(col: &Column<'_>) -> Option<usize> {
    let mut lengths: Vec<usize> = col
        .strings()
        .map(|s| extract::html_to_text(s).chars().count())
        .collect();
    lengths.sort_unstable();
    lengths.get(lengths.len() / 2).copied()
}

fn pick_content(columns: &[Column<'_>], taken: &[&str]) -> Option<String> {
    columns
        .iter()
        .filter(|c| !taken.contains(&c.path.as_str()))
        .filter_map(|c| {
            let median = median_text_chars(c)?;
            if median < CONTENT_CHARS {
                return None;
            }
            let named = ["content", "body", "text", "detail", "article", "html"]
                .iter()
                .any(|w| c.name.contains(w));
            Some((if named { 2.0 } else { 0.0 } + median as f64 / 10_000.0, c))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.path.clone())
}

const SUMMARY_NAMES: &[&str] = &[
    "abstract",
    "summary",
    "description",
    "desc",
    "intro",
    "digest",
    "brief",
    "subtitle",
    "zhaiyao",
    "lead",
];

fn pick_summary(columns: &[Column<'_>], taken: &[&str], n: usize) -> Option<String> {
    columns
        .iter()
        .filter(|c| !taken.contains(&c.path.as_str()))
        .filter_map(|c| {
            let rank = SUMMARY_NAMES.iter().position(|w| c.name.contains(w))?;
            let present = c.strings().count();
            let median = median_text_chars(c)?;
            (present * 10 >= n * 3 && (4..=2000).contains(&median)).then_some((rank, c))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c.path.clone())
}

fn pick_guid(columns: &[Column<'_>], taken: &[&str], n: usize) -> Option<String> {
    const NOT_ITEM_IDS: &[&str] = &[
        "nodeid",
        "channelid",
        "chnlid",
        "catid",
        "catalogid",
        "columnid",
        "siteid",
        "typeid",
        "parentid",
        "userid",
        "authorid",
        "sourceid",
        "templateid",
        "colid",
    ];
    columns
        .iter()
        .filter(|c| !taken.contains(&c.path.as_str()))
        .filter_map(|c| {
            let name = c.name.as_str();
            let rank = match name {
                "contentid" | "manuscriptid" | "docid" | "articleid" | "guid" | "newsid"
                | "uuid" => 3,
                "id" => 2,
                _ if name.ends_with("id") && !NOT_ITEM_IDS.contains(&name) => 1,
                _ => return None,
            };
            let texts: Vec<String> = c.texts().collect::<Option<_>>()?;
            let distinct = texts.iter().collect::<HashSet<_>>().len();
            (texts.len() == n && distinct == n).then_some((rank, c))
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c.path.clone())
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JsonPaths;
    use crate::extract::json::{extract_json_list, parse_json};
    use crate::model::{ListedItem, Page};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Runs the real extractor with the proposed paths.
    fn extract_with(p: &ProposedJson, text: &str, at: &Url) -> Vec<ListedItem> {
        let paths = JsonPaths {
            items: p.items.clone(),
            title: p.title.clone(),
            link: p.link.clone(),
            date: p.date.clone(),
            summary: p.summary.clone(),
            content: p.content.clone(),
            guid: p.guid.clone(),
        };
        let page = Page {
            url: at.clone(),
            status: 200,
            content_type: Some("application/json".into()),
            validators: Default::default(),
            bytes: Vec::new(),
            text: text.to_string(),
            encoding: "UTF-8",
        };
        extract_json_list(&paths, &page, &extract::Limits::default())
            .expect("the proposal reads the document")
            .items
    }

    const TOPICS: &[&str] = &[
        "国务院办公厅关于进一步做好高校毕业生等青年就业创业工作的通知",
        "人力资源社会保障部 财政部关于调整退休人员基本养老金的通知",
        "关于实施企业稳岗扩岗专项支持计划的通知",
        "国务院关于印发《全国技能人才发展规划》的通知",
        "关于加强新就业形态劳动者权益保障工作的意见",
        "人力资源社会保障部关于推进职业技能等级认定工作的意见",
    ];

    fn govcn() -> String {
        let items: Vec<Value> = (0..6)
            .map(|i| {
                serde_json::json!({
                    "TITLE": TOPICS[i],
                    "SUB_TITLE": if i % 2 == 0 { "国办发〔2025〕12号" } else { "" },
                    "URL": format!("https://www.gov.cn/zhengce/content/2025060{i}/content_70{i}1234.htm"),
                    "DOCRELPUBTIME": format!("2025-06-{:02}", 20 - i),
                })
            })
            .collect();
        serde_json::to_string(&items).unwrap()
    }

    #[test]
    fn the_govcn_top_level_array_is_read_by_its_upper_case_fields() {
        let at = url("https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json");
        let text = govcn();
        let got = infer_json(&parse_json(&text).unwrap(), &at).expect("a list");
        assert_eq!(
            got.paths,
            ProposedJson {
                items: String::new(),
                title: "TITLE".into(),
                link: "URL".into(),
                date: Some("DOCRELPUBTIME".into()),
                summary: Some("SUB_TITLE".into()),
                content: None,
                guid: None,
            }
        );
        assert_eq!((got.items, got.with_dates), (6, 6));
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        assert!(got.confidence > 0.9, "{}", got.confidence);

        let items = extract_with(&got.paths, &text, &at);
        assert_eq!(items.len(), 6);
        assert_eq!(items[0].title, TOPICS[0]);
        assert_eq!(
            items[0].published.map(|d| d.format("%Y-%m-%d").to_string()),
            Some("2025-06-20".into())
        );
    }

    fn xinhua_ds() -> String {
        let items: Vec<Value> = (0..5)
            .map(|i| {
                serde_json::json!({
                    "title": TOPICS[i],
                    "publishUrl": format!("20250620/abc{i}def/c.html"),
                    "summary": format!("新华社北京6月20日电 {}", TOPICS[i]),
                    "author": "新华社",
                    "keywords": "就业,社保",
                    "contentId": format!("abc{i}def0123456789"),
                    "publishTime": format!("2025-06-20 1{i}:30:00"),
                    "shareImages": [{"imageUrl": format!("https://www.news.cn/20250620/abc{i}def/{i}.jpg")}],
                })
            })
            .collect();
        serde_json::to_string(&serde_json::json!({"datasource": items, "total": 5})).unwrap()
    }

    #[test]
    fn the_xinhua_data_source_gets_relative_links_a_guid_and_a_warning() {
        let at = url("http://www.news.cn/ds_0a9b1c2d3e.json");
        let text = xinhua_ds();
        let got = infer_json(&parse_json(&text).unwrap(), &at).expect("a list");
        assert_eq!(got.paths.items, "datasource");
        assert_eq!(got.paths.title, "title");
        assert_eq!(got.paths.link, "publishUrl");
        assert_eq!(got.paths.date.as_deref(), Some("publishTime"));
        assert_eq!(got.paths.summary.as_deref(), Some("summary"));
        assert_eq!(got.paths.guid.as_deref(), Some("contentId"));
        assert_eq!(got.paths.content, None);
        assert!(
            got.warnings
                .iter()
                .any(|w| w.starts_with("links are relative")),
            "{:?}",
            got.warnings
        );

        let items = extract_with(&got.paths, &text, &at);
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[1].url.as_str(),
            "http://www.news.cn/20250620/abc1def/c.html"
        );
        assert_eq!(items[1].guid.as_deref(), Some("abc1def0123456789"));
    }

    #[test]
    fn the_nodeart_jsonp_list_is_found_under_data_list() {
        let list: Vec<Value> = (0..10)
            .map(|i| {
                serde_json::json!({
                    "DocID": 1131000 + i,
                    "Title": TOPICS[i % TOPICS.len()],
                    "LinkUrl": format!("http://www.news.cn/politics/2025-06/20/c_113100{i}.htm"),
                    "PubTime": format!("2025-06-20 0{}:00:00", i % 10),
                    "Abstract": "",
                    "NodeId": 113352,
                    "imgarray": [],
                })
            })
            .collect();
        let body = serde_json::json!({"status": 0, "data": {"list": list, "pageNo": 1}});
        let text = format!("jQuery112({body});");
        let at = url("https://qc.wa.news.cn/nodeart/list?nid=113352&pgnum=1&cnt=10");
        let got = infer_json(&parse_json(&text).unwrap(), &at).expect("a list");
        assert_eq!(got.paths.items, "data.list");
        assert_eq!(got.paths.title, "Title");
        assert_eq!(got.paths.link, "LinkUrl");
        assert_eq!(got.paths.date.as_deref(), Some("PubTime"));
        assert_eq!(got.paths.guid.as_deref(), Some("DocID"));
        assert_eq!(got.with_dates, 10);

        let items = extract_with(&got.paths, &text, &at);
        assert_eq!(items.len(), 10);
        assert!(items.iter().all(|i| i.published.is_some()));
    }

    #[test]
    fn a_small_navigation_array_is_not_taken_for_the_list() {
        let nav = serde_json::json!([
            {"name": "首页", "url": "/index.htm"},
            {"name": "要闻", "url": "/yaowen/index.htm"},
            {"name": "政策", "url": "/zhengce/index.htm"},
        ]);
        let list: Vec<Value> = (0..20)
            .map(|i| {
                serde_json::json!({
                    "meta": {"url": format!("/2025-06/{i:02}/content_{i}.htm"), "date": format!("2025-06-{:02} 08:00", i + 1)},
                    "headline": format!("{}（第{i}期）", TOPICS[i % TOPICS.len()]),
                    "cover": format!("/img/{i}.jpg"),
                })
            })
            .collect();
        let doc = serde_json::json!({"nav": nav, "result": {"list": list}});
        let at = url("https://www.example.gov.cn/api/list.json");
        let got = infer_json(&doc, &at).expect("a list");
        assert_eq!(got.paths.items, "result.list");
        assert_eq!(got.paths.link, "meta.url");
        assert_eq!(got.paths.title, "headline");
        assert_eq!(got.paths.date.as_deref(), Some("meta.date"));
        assert_eq!(got.items, 20);

        let text = doc.to_string();
        let items = extract_with(&got.paths, &text, &at);
        assert_eq!(items.len(), 20);
        assert_eq!(
            items[3].url.as_str(),
            "https://www.example.gov.cn/2025-06/03/content_3.htm"
        );
    }

    #[test]
    fn a_long_html_field_is_the_content_and_a_titleless_list_takes_the_most_chinese_text() {
        let body = format!("<p>{}</p>", "各地人社部门持续推进稳就业工作。".repeat(40));
        let list: Vec<Value> = (0..4)
            .map(|i| {
                serde_json::json!({
                    "a": format!("https://e.gov.cn/art/2025/6/{i}/art_1_{i}.html"),
                    "b": TOPICS[i],
                    "c": body,
                    "d": i,
                })
            })
            .collect();
        let got = infer_json(&Value::Array(list), &url("https://e.gov.cn/x.json")).expect("a list");
        assert_eq!(got.paths.link, "a");
        assert_eq!(got.paths.title, "b");
        assert_eq!(got.paths.content.as_deref(), Some("c"));
        assert_eq!(got.paths.date, None);
        assert!(
            got.warnings
                .iter()
                .any(|w| w == "no dates found in the items")
        );
        assert!(
            got.warnings
                .iter()
                .any(|w| w.contains("chosen by its text"))
        );
        assert!(got.confidence < 0.8, "{}", got.confidence);
    }

    #[test]
    fn a_document_of_settings_is_not_a_list() {
        let doc = serde_json::json!({
            "siteName": "人社厅",
            "theme": {"color": "#c00", "font": "宋体"},
            "menus": ["首页", "政务公开", "办事服务"],
            "langs": [
                {"code": "zh", "label": "中文"},
                {"code": "en", "label": "English"},
                {"code": "fr", "label": "Français"},
            ],
        });
        assert_eq!(infer_json(&doc, &url("https://e.gov.cn/config.json")), None);
    }

    #[test]
    fn a_deeply_nested_document_is_walked_without_recursion() {
        let mut text = String::new();
        for _ in 0..120 {
            text.push_str("{\"a\":");
        }
        text.push_str(&govcn());
        for _ in 0..120 {
            text.push('}');
        }
        let doc: Value = serde_json::from_str(&text).unwrap();
        // Deeper than the walk goes: no list, and no overflow.
        assert_eq!(infer_json(&doc, &url("https://e.gov.cn/x.json")), None);
    }

    #[test]
    fn json_list_urls_finds_data_sources_scripts_and_loader_calls() {
        let html = r#"<html><head>
<script src="/js/jquery.min.js"></script>
<script src="https://qc.wa.news.cn/nodeart/list?nid=113352&pgnum=1&cnt=10&callback=cb"></script>
<link rel="manifest" href="/manifest.json">
</head><body>
<ul class="wz-list" data="datasource:0a9b1c2d3e4f"></ul>
<div data-src="/zhengce/zuixin/ZUIXINZHENGCE.json"></div>
<script>
  $.getJSON('/api/yaowen.json', function (d) {});
  $.ajax({ type: 'get', dataType: 'jsonp', url: 'https://cdn.example.com/list?page=1', success: f });
  fetch("./data/list").then(r => r.json());
  var cfg = { more: "https://www.news.cn/other/ds_77.json", label: "要闻" };
</script>
</body></html>"#;
        let got: Vec<String> = json_list_urls(html, &url("http://www.news.cn/xhsxw.htm"))
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            got,
            [
                "http://www.news.cn/ds_0a9b1c2d3e4f.json",
                "http://www.news.cn/zhengce/zuixin/ZUIXINZHENGCE.json",
                "http://www.news.cn/api/yaowen.json",
                "http://www.news.cn/data/list",
                "https://www.news.cn/other/ds_77.json",
                "https://qc.wa.news.cn/nodeart/list?nid=113352&pgnum=1&cnt=10&callback=cb",
                "https://cdn.example.com/list?page=1",
            ]
        );
    }

    #[test]
    fn json_list_urls_are_capped_at_eight() {
        let html: String = (0..30)
            .map(|i| format!(r#"<div data-url="/d/{i}.json"></div>"#))
            .collect();
        assert_eq!(json_list_urls(&html, &url("https://e.gov.cn/")).len(), 8);
    }
}
