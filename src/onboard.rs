//! Onboard, layer 5 (orchestration): adds an outlet by its address alone
//! (`kuaibao sources add URL`, `sources discover URL`, the desk's 来源 page).
//!
//! It fetches what inference needs and nothing more, in the order a person
//! would look: the address itself as a feed; a feed the page declares; a
//! JSON list the page loads; the page's own list; a feed at a well-known
//! path last (a site-wide feed is not the column the editor pasted). Then it
//! reads a few of the listed articles to infer `[source.article]`, and
//! proves the proposal by running it through the real extractors: the
//! preview is what polling would store.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

use crate::config::{self, EncodingChoice, Poll, Section, Source};
use crate::extract::{self, dates};
use crate::fetch::{FetchError, FetchOutcome, Fetcher};
use crate::infer::{
    self, ProposedSource,
    article::{ArticleSample, infer_article},
    feeds, json as infer_json,
    list::{NoList, infer_list},
};
use crate::model::{ListedItem, Page};
use crate::normalize;
use crate::text::collapse_ws;

/// Article pages read to infer `[source.article]`.
const SAMPLE_ARTICLES: usize = 5;
/// Items shown in the preview.
const PREVIEW_ITEMS: usize = 10;
/// Column pages `discover` reads from one home page.
const DISCOVER_PAGES: usize = 30;

/// What the editor asked for: an address and what they know of the outlet.
#[derive(Debug, Clone, Default)]
pub struct AddRequest {
    pub url: Option<Url>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub section: Option<String>,
    pub region: Option<String>,
}

/// A proposed source, proven on the outlet's own pages.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub source: ProposedSource,
    /// The `[[source]]` table as it would be written.
    pub toml: String,
    /// How the source was found, in a sentence.
    pub found: String,
    /// The encoding the list page was decoded with.
    pub encoding: String,
    /// 0 to 1.
    pub confidence: f32,
    pub warnings: Vec<String>,
    /// Items the list yields.
    pub items: usize,
    pub preview: Vec<PreviewItem>,
    /// Requests made and time taken.
    pub requests: usize,
    pub millis: u128,
}

/// One listed item as polling would store it.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewItem {
    pub url: String,
    pub title: String,
    pub published: Option<String>,
    /// Characters of article text (None: not read for the preview).
    pub chars: Option<usize>,
    pub origin: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    #[error("fetching {url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error("{url} answered 304 Not Modified to an unconditional request")]
    NotModified { url: String },
    #[error("{url}: {reason}")]
    NoList { url: String, reason: String },
    /// The proposal does not make a valid source (a bug, or a bad --id).
    #[error("the proposed source is not valid: {0}")]
    Invalid(String),
}

/// Fetches pages for inference, counting them.
struct Reader<'a> {
    fetcher: &'a Fetcher,
    poll: &'a Poll,
    requests: usize,
}

impl Reader<'_> {
    async fn page(&mut self, url: &Url) -> Result<Page, OnboardError> {
        self.requests += 1;
        match self.fetcher.fetch(url, EncodingChoice::Auto, None).await {
            Ok(FetchOutcome::Page(p)) => Ok(p),
            Ok(FetchOutcome::NotModified) => Err(OnboardError::NotModified {
                url: url.to_string(),
            }),
            Err(error) => Err(OnboardError::Fetch {
                url: url.to_string(),
                error,
            }),
        }
    }

    async fn article(&mut self, url: &Url) -> Result<Page, String> {
        self.requests += 1;
        match self
            .fetcher
            .fetch_article(url, EncodingChoice::Auto, self.poll.max_article)
            .await
        {
            Ok(FetchOutcome::Page(p)) => Ok(p),
            Ok(FetchOutcome::NotModified) => Err("unexpected 304 Not Modified".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A page that answers 200 with content, or nothing (a missing
    /// well-known feed is no error).
    async fn try_page(&mut self, url: &Url) -> Option<Page> {
        self.page(url).await.ok().filter(|p| p.status < 400)
    }
}

/// What the list stage found: the proposal so far and how.
struct Found {
    source: ProposedSource,
    found: String,
    confidence: f32,
    warnings: Vec<String>,
    /// The feed or list page to read the items from.
    page: Page,
    /// The entries carry the whole article (no article table needed).
    full_text: bool,
}

/// Proposes a source for `req.url`, proven on the outlet's pages.
pub async fn propose(
    fetcher: &Fetcher,
    poll: &Poll,
    sections: &[Section],
    existing: &[Source],
    req: &AddRequest,
) -> Result<Proposal, OnboardError> {
    let started = Instant::now();
    let Some(url) = req.url.clone() else {
        return Err(OnboardError::Invalid("no address given".into()));
    };
    let mut reader = Reader {
        fetcher,
        poll,
        requests: 0,
    };
    let page = reader.page(&url).await?;
    // The pasted page names the outlet even when the list is a feed or JSON.
    let title_name = page_name(&page.text);
    let mut found = find_list(&mut reader, page).await?;
    fill_identity(
        &mut found.source,
        req,
        title_name,
        &found.page.url,
        existing,
    );

    let mut source = parse_source(&found.source, poll, sections)?;
    let limits = extract::Limits::of(poll);
    let listed = extract::extract_list(&source, &found.page, &limits)
        .map_err(|e| OnboardError::NoList {
            url: found.page.url.to_string(),
            reason: e.to_string(),
        })?
        .items;
    if listed.is_empty() {
        return Err(OnboardError::NoList {
            url: found.page.url.to_string(),
            reason: "the list has no items with links".into(),
        });
    }

    // Article pages: read once, used for inference and for the preview.
    let mut pages: HashMap<Url, Result<Page, String>> = HashMap::new();
    let wanted = if found.full_text { 0 } else { PREVIEW_ITEMS };
    for item in listed.iter().take(wanted) {
        let page = reader.article(&item.url).await;
        pages.insert(item.url.clone(), page);
    }
    // Inference and the preview parse every page: CPU work, kept off the
    // async runtime that also serves the desk and polls other outlets.
    let article = if found.full_text {
        None
    } else {
        let (listed, pages, poll) = (listed.clone(), pages.clone(), poll.clone());
        Some(blocking(move || article_table(&listed, &pages, &poll)).await?)
    };
    if let Some(proposal) = article {
        found.warnings.extend(proposal.warnings.iter().cloned());
        found.confidence = found.confidence * 0.6 + proposal.confidence * 0.4;
        found.source.article = proposal.article;
        source = parse_source(&found.source, poll, sections)?;
    }
    let preview = {
        let (listed, limits) = (listed.clone(), limits);
        blocking(move || preview(&source, &listed, &pages, &limits)).await?
    };
    let read = preview
        .iter()
        .filter(|p| p.chars.is_some_and(|c| c > 0))
        .count();
    let tried = preview.iter().filter(|p| p.chars.is_some()).count();
    if tried > 0 && read * 2 < tried {
        found
            .warnings
            .push(format!("only {read} of {tried} articles gave any text"));
        found.confidence *= 0.5;
    }
    let undated = listed.iter().all(|i| i.published.is_none());
    if undated && !found.warnings.iter().any(|w| w.contains("no dates")) {
        found.warnings.push("no dates found on the list".into());
    }
    Ok(Proposal {
        toml: found.source.to_toml(),
        encoding: found.page.encoding.to_string(),
        source: found.source,
        found: found.found,
        confidence: (found.confidence * 100.0).round() / 100.0,
        warnings: dedup_strings(found.warnings),
        items: listed.len(),
        preview,
        requests: reader.requests,
        millis: started.elapsed().as_millis(),
    })
}

/// Runs CPU-bound inference on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, OnboardError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| OnboardError::Invalid(format!("inference stopped: {e}")))
}

fn dedup_strings(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// The feed, the JSON list or the HTML list of the page, in that order.
async fn find_list(reader: &mut Reader<'_>, page: Page) -> Result<Found, OnboardError> {
    if feeds::is_feed(&page.text) {
        return Ok(feed_found(page, "the address is a feed".into()));
    }
    if let Ok(doc) = extract::json::parse_json(&page.text)
        && let Some(found) = json_found(&doc, page.clone(), "the address is a JSON list")
    {
        return Ok(found);
    }
    for feed_url in feeds::declared_feeds(&page.text, &page.url) {
        if let Some(feed) = reader.try_page(&feed_url).await
            && feeds::is_feed(&feed.text)
        {
            return Ok(feed_found(
                feed,
                format!("the page declares a feed: {feed_url}"),
            ));
        }
    }
    for json_url in infer_json::json_list_urls(&page.text, &page.url) {
        if let Some(data) = reader.try_page(&json_url).await
            && let Ok(doc) = extract::json::parse_json(&data.text)
            && let Some(found) = json_found(
                &doc,
                data,
                &format!("the page loads its list from {json_url}"),
            )
        {
            return Ok(found);
        }
    }
    let markup_limits = extract::Limits::of(reader.poll).markup;
    let (text, base) = (page.text.clone(), page.url.clone());
    let inferred = blocking(move || infer_list(&text, &base, markup_limits)).await?;
    let no_list = match inferred {
        Ok(list) => {
            let mut source = blank_source(&page.url, crate::config::SourceKind::Html);
            source.list = Some(list.list);
            return Ok(Found {
                source,
                found: format!(
                    "a list of {} items on the page ({} dated)",
                    list.items, list.dated
                ),
                confidence: list.confidence,
                warnings: list.warnings,
                page,
                full_text: false,
            });
        }
        Err(e) => e,
    };
    for feed_url in feeds::well_known_feed_urls(&page.url) {
        if let Some(feed) = reader.try_page(&feed_url).await
            && feeds::is_feed(&feed.text)
        {
            let mut found = feed_found(
                feed,
                format!("no list on the page, but the site has a feed at {feed_url}"),
            );
            found
                .warnings
                .push("this feed may cover the whole site rather than the column".into());
            return Ok(found);
        }
    }
    Err(OnboardError::NoList {
        url: page.url.to_string(),
        reason: match no_list {
            NoList::TooComplex(e) => e.to_string(),
            other => other.to_string(),
        },
    })
}

fn blank_source(url: &Url, kind: crate::config::SourceKind) -> ProposedSource {
    ProposedSource {
        id: String::new(),
        name: String::new(),
        url: url.to_string(),
        kind,
        encoding: None,
        section: None,
        region: None,
        list: None,
        json: None,
        article: None,
    }
}

fn feed_found(page: Page, found: String) -> Found {
    let assessment = feeds::feed_full_text(&page.text, &page.url);
    let source = feeds::propose_feed(&page.url, &assessment);
    let mut warnings = Vec::new();
    let full = assessment.full_text;
    let found = format!(
        "{found}; {} entries, {}",
        assessment.entries,
        if full {
            "with the full text of each article"
        } else {
            "with summaries only: articles are read from their pages"
        }
    );
    if assessment.with_links < assessment.entries {
        warnings.push(format!(
            "{} of {} entries have no usable link",
            assessment.entries - assessment.with_links,
            assessment.entries
        ));
    }
    Found {
        source,
        found,
        confidence: if assessment.entries > 0 { 0.9 } else { 0.3 },
        warnings,
        page,
        full_text: full,
    }
}

fn json_found(doc: &serde_json::Value, page: Page, how: &str) -> Option<Found> {
    let proposal = infer_json::infer_json(doc, &page.url)?;
    let mut source = blank_source(&page.url, crate::config::SourceKind::Json);
    let full_text = proposal.paths.content.is_some();
    source.json = Some(proposal.paths);
    Some(Found {
        source,
        found: format!("{how}; {} items", proposal.items),
        confidence: proposal.confidence,
        warnings: proposal.warnings,
        page,
        full_text,
    })
}

/// Fills id, name, section and region from the request, else from the page.
fn fill_identity(
    source: &mut ProposedSource,
    req: &AddRequest,
    title_name: Option<String>,
    url: &Url,
    existing: &[Source],
) {
    source.section = req.section.clone();
    source.region = req.region.clone();
    if let Some(name) = &req.name {
        source.name = name.clone();
    }
    if source.name.trim().is_empty() {
        source.name = title_name.unwrap_or_else(|| url.host_str().unwrap_or("outlet").to_string());
    }
    source.id = match &req.id {
        Some(id) => id.clone(),
        None => unique_id(&suggest_id(req.url.as_ref().unwrap_or(url)), existing),
    };
}

/// The outlet's name from the page title: of `工作动态_广东省人力资源和社会保障厅`,
/// the part naming an institution.
fn page_name(html: &str) -> Option<String> {
    let start = html.find("<title")?;
    let rest = &html[start..];
    let open_end = rest.find('>')? + 1;
    let close = rest[open_end..].find("</title")?;
    let title = collapse_ws(&extract::html_to_text(&rest[open_end..open_end + close]));
    let parts: Vec<&str> = title
        .split(['_', '|', '-', '—', '－', '｜'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    const INSTITUTION: &[&str] = &[
        "厅", "局", "部", "网", "社", "报", "委", "办", "政府", "中心",
    ];
    parts
        .iter()
        .rev()
        .find(|p| INSTITUTION.iter().any(|w| p.ends_with(w)))
        .or(parts.last())
        .map(|p| p.to_string())
}

/// An id from the address: the host's distinctive labels and the column's
/// last path segment (`hrss.gd.gov.cn/zwgk/gzdt/` → `hrss-gd-gzdt`).
pub fn suggest_id(url: &Url) -> String {
    const DROP: &[&str] = &["www", "gov", "cn", "com", "org", "net", "edu"];
    let host: Vec<String> = url
        .host_str()
        .unwrap_or("outlet")
        .split('.')
        .filter(|l| !DROP.contains(l))
        .map(clean_id_part)
        .filter(|l| !l.is_empty())
        .collect();
    let column = url
        .path_segments()
        .into_iter()
        .flatten()
        .rev()
        .map(|s| s.split('.').next().unwrap_or(""))
        .find(|s| {
            !s.is_empty()
                && !s.starts_with("index")
                && !s.starts_with("default")
                && !s.chars().all(|c| c.is_ascii_digit())
        })
        .map(clean_id_part)
        .filter(|s| !s.is_empty());
    let mut id = host.join("-");
    if let Some(c) = column {
        id.push('-');
        id.push_str(&c);
    }
    if id.is_empty() { "outlet".into() } else { id }
}

fn clean_id_part(s: &str) -> String {
    let lower: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    lower.trim_matches('-').chars().take(24).collect()
}

fn unique_id(base: &str, existing: &[Source]) -> String {
    let taken = |id: &str| existing.iter().any(|s| s.id == id);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or_else(|| base.to_string())
}

fn parse_source(
    proposed: &ProposedSource,
    poll: &Poll,
    sections: &[Section],
) -> Result<Source, OnboardError> {
    config::parse_sources(
        std::path::Path::new("(proposed source)"),
        &proposed.to_toml(),
        poll.interval,
        sections,
    )
    .map_err(|e| OnboardError::Invalid(e.to_string()))?
    .into_iter()
    .next()
    .ok_or_else(|| OnboardError::Invalid("no source in the proposal".into()))
}

/// `[source.article]` from the first article pages that could be read.
fn article_table(
    listed: &[ListedItem],
    pages: &HashMap<Url, Result<Page, String>>,
    poll: &Poll,
) -> infer::article::ArticleProposal {
    let samples: Vec<ArticleSample<'_>> = listed
        .iter()
        .filter_map(|item| match pages.get(&item.url) {
            Some(Ok(page)) if page.status < 400 => Some(ArticleSample {
                page,
                listed_title: &item.title,
            }),
            _ => None,
        })
        .take(SAMPLE_ARTICLES)
        .collect();
    infer_article(&samples, extract::Limits::of(poll).markup)
}

/// The first items as polling would store them.
fn preview(
    source: &Source,
    listed: &[ListedItem],
    pages: &HashMap<Url, Result<Page, String>>,
    limits: &extract::Limits,
) -> Vec<PreviewItem> {
    listed
        .iter()
        .take(PREVIEW_ITEMS)
        .map(|item| {
            let article = match pages.get(&item.url) {
                None if item.content.is_some() => Ok(None),
                None => {
                    return PreviewItem {
                        url: item.url.to_string(),
                        title: item.title.clone(),
                        published: item.published.map(|d| dates_str(&d)),
                        chars: None,
                        origin: None,
                        error: None,
                    };
                }
                Some(Err(e)) => Err(e.clone()),
                Some(Ok(page)) => extract::extract_article(source, page, limits)
                    .map(Some)
                    .map_err(|e| e.to_string()),
            };
            match article.and_then(|a| {
                normalize::normalize(source, item, a.as_ref()).map_err(|e| e.to_string())
            }) {
                Ok(n) => PreviewItem {
                    url: item.url.to_string(),
                    title: n.title,
                    published: n.published.map(|d| dates_str(&d)),
                    chars: Some(
                        n.content_text
                            .chars()
                            .filter(|c| !c.is_whitespace())
                            .count(),
                    ),
                    origin: Some(n.origin).filter(|o| !o.is_empty()),
                    error: None,
                },
                Err(e) => PreviewItem {
                    url: item.url.to_string(),
                    title: item.title.clone(),
                    published: item.published.map(|d| dates_str(&d)),
                    chars: Some(0),
                    origin: None,
                    error: Some(e),
                },
            }
        })
        .collect()
}

fn dates_str(d: &chrono::DateTime<chrono::FixedOffset>) -> String {
    crate::time::in_beijing(d)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A column page of a site, as `sources discover` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub url: String,
    /// The link text that led to it (the column's name).
    pub name: String,
    pub items: usize,
    pub dated: usize,
    /// The newest item's date and title: the one-line preview.
    pub newest: Option<String>,
    pub newest_title: Option<String>,
    pub how: String,
    pub score: f32,
}

/// The column pages of a site that look like news lists, most promising
/// first: many items, dated, recent.
pub async fn discover(
    fetcher: &Fetcher,
    poll: &Poll,
    url: &Url,
    budget: Duration,
) -> Result<Vec<Column>, OnboardError> {
    let started = Instant::now();
    let mut reader = Reader {
        fetcher,
        poll,
        requests: 0,
    };
    let home = reader.page(url).await?;
    let mut columns = Vec::new();
    let markup_limits = extract::Limits::of(poll).markup;
    // The home page itself may be a list.
    let mut candidates = vec![(home.url.clone(), "(this page)".to_string())];
    candidates.extend(column_links(&home));
    for (link, name) in candidates.into_iter().take(DISCOVER_PAGES + 1) {
        if started.elapsed() > budget {
            break;
        }
        let page = if link == home.url {
            home.clone()
        } else {
            match reader.try_page(&link).await {
                Some(p) => p,
                None => continue,
            }
        };
        let how;
        let items: Vec<ListedItem>;
        if feeds::is_feed(&page.text) {
            how = "feed".to_string();
            items = extract::feed::extract_feed(&page, &extract::Limits::of(poll))
                .map(|l| l.items)
                .unwrap_or_default();
        } else {
            match infer_list(&page.text, &page.url, markup_limits) {
                Ok(list) => {
                    how = "html list".to_string();
                    let mut source = blank_source(&page.url, crate::config::SourceKind::Html);
                    source.id = "discover".into();
                    source.name = "discover".into();
                    source.list = Some(list.list);
                    items = parse_source(&source, poll, &[])
                        .ok()
                        .and_then(|s| {
                            extract::extract_list(&s, &page, &extract::Limits::of(poll)).ok()
                        })
                        .map(|l| l.items)
                        .unwrap_or_default();
                }
                Err(_) => continue,
            }
        }
        if items.len() < 3 {
            continue;
        }
        let dated = items.iter().filter(|i| i.published.is_some()).count();
        let newest = items
            .iter()
            .filter_map(|i| i.published.map(|d| (d, i)))
            .max_by_key(|(d, _)| *d);
        let age_days = newest
            .map(|(d, _)| (crate::time::now() - d).num_days().max(0) as f32)
            .unwrap_or(365.0);
        let score = (items.len().min(30) as f32).sqrt()
            * (0.3 + 0.7 * dated as f32 / items.len() as f32)
            / (1.0 + age_days / 60.0);
        columns.push(Column {
            url: page.url.to_string(),
            name,
            items: items.len(),
            dated,
            newest: newest.map(|(d, _)| dates_str(&d)),
            newest_title: newest
                .map(|(_, i)| i.title.clone())
                .or_else(|| items.first().map(|i| i.title.clone())),
            how,
            score: (score * 100.0).round() / 100.0,
        });
    }
    columns.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(columns)
}

/// Same-site links of a home page that look like columns: short names
/// (栏目 are 2–10 characters) to list addresses, not to articles.
fn column_links(home: &Page) -> Vec<(Url, String)> {
    let Ok(bounded) = crate::markup::bound_html(&home.text, crate::markup::Limits::default())
    else {
        return Vec::new();
    };
    let doc = scraper::Html::parse_document(&bounded.text);
    let Ok(links) = scraper::Selector::parse("a[href]") else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for a in doc.select(&links).take(2_000) {
        let Some(url) = a
            .value()
            .attr("href")
            .and_then(|h| extract::resolve_link(&home.url, h))
        else {
            continue;
        };
        if url.host_str() != home.url.host_str() || url == home.url {
            continue;
        }
        let name = collapse_ws(&a.text().collect::<String>());
        let len = name.chars().count();
        // An article link (a dated file) is not a column.
        if !(2..=12).contains(&len) || dates::date_from_url(url.as_str()).is_some() {
            continue;
        }
        let path = url.path().to_ascii_lowercase();
        let listy = path.ends_with('/')
            || path.contains("index")
            || path.contains("list")
            || path.contains("col")
            || path.contains("node_");
        if seen.insert(url.clone()) {
            out.push((url, name, listy));
        }
    }
    // List-looking addresses first, page order otherwise.
    out.sort_by_key(|(_, _, listy)| !*listy);
    out.into_iter().map(|(u, n, _)| (u, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_host_and_the_column() {
        let id = |u: &str| suggest_id(&Url::parse(u).unwrap());
        assert_eq!(id("https://hrss.gd.gov.cn/zwgk/gzdt/"), "hrss-gd-gzdt");
        assert_eq!(
            id("https://www.mohrss.gov.cn/SYrlzyhshbzb/dongtaixinwen/buneiyaowen/index.html"),
            "mohrss-buneiyaowen"
        );
        assert_eq!(
            id("http://127.0.0.1:8080/col/col123/index.html"),
            "127-0-0-1-col123"
        );
    }

    #[test]
    fn the_name_is_the_institution_in_the_page_title() {
        assert_eq!(
            page_name(
                "<html><head><title>工作动态_广东省人力资源和社会保障厅</title></head></html>"
            )
            .as_deref(),
            Some("广东省人力资源和社会保障厅")
        );
        assert_eq!(
            page_name("<title>人力资源和社会保障部 - 部内要闻</title>").as_deref(),
            Some("人力资源和社会保障部")
        );
    }
}
