//! Heal, layer 5 (orchestration): notices that a source's selectors broke
//! when its site was redesigned, works out new ones with the same
//! inference as `sources add`, and proves them against what kuaibao
//! already stored before anyone applies them.
//!
//! A break is a list page that still shows articles kuaibao stored, while
//! the configured list selectors find few or none of them; or article pages
//! where the configured `content` selector finds no body. Not a break: an
//! HTTP error or an anti-bot page (the fetch fails first), a column with no
//! items, or a page that holds no list any more (said so, not repaired).
//! A repair passes only when the new list finds again ≥ 90 % of the stored
//! articles the page links to, and re-read stored articles give the stored
//! text back.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config::{Poll, Source, SourceKind};
use crate::extract::{self, ExtractError, Listing};
use crate::fetch::Fetcher;
use crate::infer::{
    ProposedArticle, ProposedList, ProposedSource,
    article::{ArticleSample, infer_article},
    list::infer_list,
};
use crate::model::{ListedItem, Page};
use crate::normalize;

/// Stored articles of a source re-read to prove article selectors.
const ARTICLES_CHECKED: usize = 3;
/// Share of the stored articles on the page a new list must find again.
const FOUND_AGAIN: f64 = 0.9;
/// Share of a stored text a re-read must give back.
const SAME_TEXT: f64 = 0.9;

/// What a look at the list says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ListHealth {
    /// The selectors read the list.
    Healthy,
    /// The page links to stored articles the selectors no longer find.
    Broken { found: usize, known_on_page: usize },
    /// Nothing to repair: the page shows none of the stored articles and
    /// holds no list (an empty column, or a page that is no list any more).
    NoList { reason: String },
}

/// What the history of a source offers as proof.
pub struct History {
    /// Canonical URLs of its stored articles.
    pub urls: HashSet<String>,
}

/// The proof a repair carries (stored as JSON with the repair; read back
/// leniently: a missing field is zero or empty).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Evidence {
    /// Stored articles the current list page links to.
    pub known_on_page: usize,
    /// Of them, found by the new list selectors.
    pub found_again: usize,
    /// Stored articles re-read with the new article selectors.
    pub articles_checked: usize,
    /// Of them, giving the stored text back (≥ 90 % of it).
    pub articles_matching: usize,
    /// Items the new selectors read from the list.
    pub items: usize,
    pub notes: Vec<String>,
}

/// New selectors for a source, with their proof.
#[derive(Debug, Clone, Serialize)]
pub struct Repair {
    pub source_id: String,
    /// `list`, `article` or `list and article`.
    pub what: String,
    pub list: Option<ProposedList>,
    pub article: Option<ProposedArticle>,
    /// The tables before and after, as they stand in `sources.toml`.
    pub old_toml: String,
    pub new_toml: String,
    pub evidence: Evidence,
    pub confidence: f32,
    /// The evidence is strong enough to apply without a person.
    pub passed: bool,
    /// Why not, when it did not pass.
    pub reason: Option<String>,
}

/// Looks at a list page the configured selectors read (or failed to read).
pub fn check_list(
    source: &Source,
    page: &Page,
    listing: &Result<Listing, ExtractError>,
    history: &History,
    limits: &extract::Limits,
) -> ListHealth {
    if source.kind != SourceKind::Html {
        return ListHealth::Healthy;
    }
    let known_on_page = known_links(page, history).len();
    let found = match listing {
        Ok(l) => l
            .items
            .iter()
            .filter(|i| history.urls.contains(&normalize::canonical_url(&i.url)))
            .count(),
        Err(_) => 0,
    };
    let items = listing.as_ref().map_or(0, |l| l.items.len());
    if known_on_page == 0 {
        if items > 0 {
            return ListHealth::Healthy;
        }
        let reason = match infer_list(&page.text, &page.url, limits.markup) {
            Ok(_) => "the page holds a list, but none of the articles stored from this source: it may be another column now".to_string(),
            Err(e) => format!("{e} (the column may be empty, or the page is no list any more)"),
        };
        return ListHealth::NoList { reason };
    }
    // Lists scroll: a page showing 20 stored articles where the selectors
    // find 2 of them is broken; one finding 15 is not.
    if (found as f64) < known_on_page as f64 * 0.5 {
        ListHealth::Broken {
            found,
            known_on_page,
        }
    } else {
        ListHealth::Healthy
    }
}

/// Canonical URLs of stored articles that the page links to.
fn known_links(page: &Page, history: &History) -> HashSet<String> {
    let text = extract::html::unwrap_datastore(&page.text);
    let Ok(bounded) = crate::markup::bound_html(&text, crate::markup::Limits::default()) else {
        return HashSet::new();
    };
    let doc = scraper::Html::parse_document(&bounded.text);
    let Ok(links) = scraper::Selector::parse("a[href]") else {
        return HashSet::new();
    };
    doc.select(&links)
        .take(5_000)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| extract::resolve_link(&page.url, h))
        .map(|u| normalize::canonical_url(&u))
        .filter(|c| history.urls.contains(c))
        .collect()
}

/// The source's current tables as `[[source]]` TOML, for the side-by-side.
pub fn tables_toml(source: &Source) -> String {
    proposed(
        source,
        source.list.as_ref().map(proposed_list),
        source.article.as_ref().map(proposed_article),
    )
    .to_toml()
}

/// `[source.list]` as the file writes it.
fn proposed_list(l: &crate::config::ListSelectors) -> ProposedList {
    ProposedList {
        item: l.item.text.clone(),
        link: l.link.text.clone(),
        title: l.title.text.clone(),
        date: l.date.as_ref().map(|f| f.text.clone()),
        summary: l.summary.as_ref().map(|f| f.text.clone()),
    }
}

/// `[source.article]` as the file writes it.
fn proposed_article(a: &crate::config::ArticleSelectors) -> ProposedArticle {
    ProposedArticle {
        content: a.content.text.clone(),
        title: a.title.as_ref().map(|f| f.text.clone()),
        date: a.date.as_ref().map(|f| f.text.clone()),
        origin: a.origin.as_ref().map(|f| f.text.clone()),
        remove: a.remove.iter().map(|f| f.text.clone()).collect(),
    }
}

fn proposed(
    source: &Source,
    list: Option<ProposedList>,
    article: Option<ProposedArticle>,
) -> ProposedSource {
    ProposedSource {
        id: source.id.clone(),
        name: source.name.clone(),
        url: source.url.to_string(),
        kind: source.kind,
        encoding: None,
        section: source.section.clone(),
        region: source.region.clone(),
        list,
        json: source.json.as_ref().map(|j| crate::infer::ProposedJson {
            items: j.items.clone(),
            title: j.title.clone(),
            link: j.link.clone(),
            date: j.date.clone(),
            summary: j.summary.clone(),
            content: j.content.clone(),
            guid: j.guid.clone(),
        }),
        article,
    }
}

/// The source with new tables, as the configuration would read it.
pub fn with_tables(
    source: &Source,
    list: Option<&ProposedList>,
    article: Option<&ProposedArticle>,
) -> Result<Source, String> {
    let mut p = proposed(
        source,
        list.cloned()
            .or_else(|| source.list.as_ref().map(proposed_list)),
        article
            .cloned()
            .or_else(|| source.article.as_ref().map(proposed_article)),
    );
    // The section was checked when the file was read; only the tables are
    // new here.
    p.section = None;
    let parsed = crate::config::parse_sources(
        std::path::Path::new("(repaired source)"),
        &p.to_toml(),
        source.interval,
        &[],
    )
    .map_err(|e| e.to_string())?;
    let mut new = parsed
        .into_iter()
        .next()
        .ok_or_else(|| "no source in the repair".to_string())?;
    // What the file does not say again keeps its value.
    new.encoding = source.encoding;
    new.enabled = source.enabled;
    new.section = source.section.clone();
    Ok(new)
}

/// Works out and proves new list selectors (and, when the article pages
/// changed too, article selectors) for a source whose list broke.
pub async fn repair_list(
    fetcher: &Fetcher,
    poll: &Poll,
    source: &Source,
    page: &Page,
    history: &History,
    stored_text: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Repair, String> {
    let limits = extract::Limits::of(poll);
    let (text, base, markup) = (page.text.clone(), page.url.clone(), limits.markup);
    let inferred = tokio::task::spawn_blocking(move || infer_list(&text, &base, markup))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let candidate = with_tables(source, Some(&inferred.list), None)?;
    let listing = extract::extract_list(&candidate, page, &limits).map_err(|e| e.to_string())?;
    let known = known_links(page, history);
    let found_again = listing
        .items
        .iter()
        .filter(|i| known.contains(&normalize::canonical_url(&i.url)))
        .count();
    let mut evidence = Evidence {
        known_on_page: known.len(),
        found_again,
        items: listing.items.len(),
        ..Evidence::default()
    };
    // The article pages may have changed with the list: check them with the
    // current article selectors, and infer new ones if they fail.
    let (article, articles) = prove_articles(
        fetcher,
        poll,
        &candidate,
        &listing.items,
        history,
        stored_text,
        &mut evidence,
    )
    .await;
    let what = if article.is_some() {
        "list and article"
    } else {
        "list"
    };
    finish(
        source,
        what,
        Some(inferred.list),
        article,
        evidence,
        articles,
        inferred.confidence,
    )
}

/// Works out and proves new article selectors for a source whose article
/// pages broke (the list still reads).
pub async fn repair_article(
    fetcher: &Fetcher,
    poll: &Poll,
    source: &Source,
    listed: &[ListedItem],
    history: &History,
    stored_text: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Repair, String> {
    let mut evidence = Evidence {
        items: listed.len(),
        ..Evidence::default()
    };
    let (article, articles) = prove_articles(
        fetcher,
        poll,
        source,
        listed,
        history,
        stored_text,
        &mut evidence,
    )
    .await;
    if article.is_none() && articles == ArticleCheck::Fine {
        return Err("the article selectors still read the stored articles".into());
    }
    finish(source, "article", None, article, evidence, articles, 0.8)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ArticleCheck {
    /// The current article selectors read the stored articles back.
    Fine,
    /// New ones were inferred and read them back.
    Repaired,
    /// Broken, and no proven repair.
    Unproven,
    /// No stored article to check against.
    NoHistory,
}

/// Re-reads stored articles the list shows with the source's article
/// selectors; when they fail, infers new ones and re-reads with those.
async fn prove_articles(
    fetcher: &Fetcher,
    poll: &Poll,
    source: &Source,
    listed: &[ListedItem],
    history: &History,
    stored_text: &(dyn Fn(&str) -> Option<String> + Sync),
    evidence: &mut Evidence,
) -> (Option<ProposedArticle>, ArticleCheck) {
    // Without article selectors a feed or JSON source reads its pages
    // generically by design: nothing to repair there.
    if source.article.is_none() && source.kind != SourceKind::Html {
        return (None, ArticleCheck::Fine);
    }
    let limits = extract::Limits::of(poll);
    let known: Vec<&ListedItem> = listed
        .iter()
        .filter(|i| history.urls.contains(&normalize::canonical_url(&i.url)))
        .take(ARTICLES_CHECKED)
        .collect();
    // Pages to infer from: the known ones first, then new ones; only the
    // source's own host (articles elsewhere are other outlets' templates,
    // and other outlets' patience is budgeted by the poll).
    let own_host = |u: &url::Url| u.host_str() == source.url.host_str();
    let mut pages: Vec<(ListedItem, Page)> = Vec::new();
    for item in known
        .iter()
        .copied()
        .chain(
            listed
                .iter()
                .filter(|i| !known.iter().any(|k| k.url == i.url)),
        )
        .filter(|i| own_host(&i.url))
        .take(5)
    {
        if let Ok(crate::fetch::FetchOutcome::Page(p)) = fetcher
            .fetch_article(&item.url, source.encoding, poll.max_article)
            .await
            && p.status < 400
        {
            pages.push((item.clone(), p));
        }
    }
    let check = |src: &Source| -> (usize, usize) {
        let mut checked = 0;
        let mut matching = 0;
        for (item, page) in &pages {
            let Some(stored) = stored_text(&normalize::canonical_url(&item.url)) else {
                continue;
            };
            checked += 1;
            let read = extract::extract_article(src, page, &limits)
                .ok()
                .filter(|a| !a.content_selector_missed)
                .and_then(|a| normalize::normalize(src, item, Some(&a)).ok());
            if read.is_some_and(|n| same_text(&stored, &n.content_text)) {
                matching += 1;
            }
        }
        (checked, matching)
    };
    let (checked, matching) = check(source);
    let missed_on_new = pages.iter().any(|(_, p)| {
        extract::extract_article(source, p, &limits).is_ok_and(|a| a.content_selector_missed)
    });
    if checked > 0 && matching == checked && !missed_on_new {
        evidence.articles_checked = checked;
        evidence.articles_matching = matching;
        return (None, ArticleCheck::Fine);
    }
    if checked == 0 && !missed_on_new {
        evidence
            .notes
            .push("no stored article on the list to re-read".into());
        return (None, ArticleCheck::NoHistory);
    }
    let samples: Vec<ArticleSample<'_>> = pages
        .iter()
        .map(|(item, page)| ArticleSample {
            page,
            listed_title: &item.title,
        })
        .collect();
    let proposal = infer_article(&samples, limits.markup);
    let Some(article) = proposal.article else {
        evidence.articles_checked = checked;
        evidence.articles_matching = matching;
        evidence
            .notes
            .push("the article pages share no container any more".into());
        return (None, ArticleCheck::Unproven);
    };
    let Ok(candidate) = with_tables(source, None, Some(&article)) else {
        return (None, ArticleCheck::Unproven);
    };
    let (checked, matching) = check(&candidate);
    evidence.articles_checked = checked;
    evidence.articles_matching = matching;
    if checked == 0 {
        evidence
            .notes
            .push("new article selectors could not be checked against stored text".into());
        return (Some(article), ArticleCheck::NoHistory);
    }
    if matching * 3 >= checked * 2 {
        (Some(article), ArticleCheck::Repaired)
    } else {
        (Some(article), ArticleCheck::Unproven)
    }
}

/// Whether `read` gives back ≥ 90 % of `stored`, line by line.
pub fn same_text(stored: &str, read: &str) -> bool {
    let squeeze = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
    let read = squeeze(read);
    let (mut total, mut held) = (0usize, 0usize);
    for line in stored.lines() {
        let line = squeeze(line);
        let n = line.chars().count();
        total += n;
        if n > 0 && read.contains(&line) {
            held += n;
        }
    }
    total > 0 && held as f64 >= total as f64 * SAME_TEXT
}

fn finish(
    source: &Source,
    what: &str,
    list: Option<ProposedList>,
    article: Option<ProposedArticle>,
    evidence: Evidence,
    articles: ArticleCheck,
    inferred_confidence: f32,
) -> Result<Repair, String> {
    let list_ok = list.is_none()
        || (evidence.known_on_page > 0
            && evidence.found_again as f64 >= evidence.known_on_page as f64 * FOUND_AGAIN);
    let articles_ok = matches!(articles, ArticleCheck::Fine | ArticleCheck::Repaired)
        || (list.is_some() && articles == ArticleCheck::NoHistory);
    let reason = if !list_ok {
        Some(format!(
            "the new list finds {} of the {} stored articles on the page (needs {:.0} %)",
            evidence.found_again,
            evidence.known_on_page,
            FOUND_AGAIN * 100.0
        ))
    } else if !articles_ok {
        Some(format!(
            "re-read with the new selectors, {} of {} stored articles gave their stored text back",
            evidence.articles_matching, evidence.articles_checked
        ))
    } else {
        None
    };
    let list_share = if evidence.known_on_page > 0 {
        evidence.found_again as f32 / evidence.known_on_page as f32
    } else {
        1.0
    };
    let article_share = if evidence.articles_checked > 0 {
        evidence.articles_matching as f32 / evidence.articles_checked as f32
    } else {
        0.7
    };
    let confidence =
        (0.5 * list_share + 0.3 * article_share + 0.2 * inferred_confidence).clamp(0.0, 1.0);
    let new_toml = with_tables(source, list.as_ref(), article.as_ref())
        .map(|s| tables_toml(&s))
        .unwrap_or_default();
    Ok(Repair {
        source_id: source.id.clone(),
        what: what.to_string(),
        list,
        article,
        old_toml: tables_toml(source),
        new_toml,
        evidence,
        confidence: (confidence * 100.0).round() / 100.0,
        passed: reason.is_none(),
        reason,
    })
}

/// What `kuaibao sources heal` found for one source.
#[derive(Debug, Clone, Serialize)]
pub struct Examination {
    pub source_id: String,
    pub health: ListHealth,
    /// Whether the article selectors still read the stored articles back
    /// (None: not checked, the list broke or had no stored article).
    pub articles_ok: Option<bool>,
    pub repair: Option<Repair>,
    /// Why there is no repair, when something broke.
    pub error: Option<String>,
}

/// Looks at one source now: its list against its history, then its
/// article pages against their stored text; works out and proves a repair
/// for what broke.
pub async fn examine(
    fetcher: &Fetcher,
    poll: &Poll,
    source: &Source,
    history: &History,
    stored_text: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Examination, String> {
    let page = match fetcher.fetch(&source.url, source.encoding, None).await {
        Ok(crate::fetch::FetchOutcome::Page(p)) => p,
        Ok(crate::fetch::FetchOutcome::NotModified) => {
            return Err("304 Not Modified to an unconditional request".into());
        }
        Err(e) => return Err(format!("fetching {}: {e}", source.url)),
    };
    let limits = extract::Limits::of(poll);
    let listing = extract::extract_list(source, &page, &limits);
    let health = check_list(source, &page, &listing, history, &limits);
    let mut exam = Examination {
        source_id: source.id.clone(),
        health: health.clone(),
        articles_ok: None,
        repair: None,
        error: None,
    };
    match health {
        ListHealth::Broken { .. } => {
            match repair_list(fetcher, poll, source, &page, history, stored_text).await {
                Ok(r) => exam.repair = Some(r),
                Err(e) => exam.error = Some(e),
            }
        }
        ListHealth::NoList { .. } => {}
        ListHealth::Healthy if dates_broke(source, &listing) => {
            if let Ok(read) = &listing {
                match repair_dates(source, &page, read, &limits) {
                    Ok(r) => exam.repair = Some(r),
                    Err(e) => exam.error = Some(e),
                }
            }
        }
        ListHealth::Healthy => {
            let listed = listing.map(|l| l.items).unwrap_or_default();
            match repair_article(fetcher, poll, source, &listed, history, stored_text).await {
                Ok(r) => {
                    exam.articles_ok = Some(false);
                    exam.repair = Some(r);
                }
                Err(e) if e.contains("still read") => exam.articles_ok = Some(true),
                Err(e) => exam.error = Some(e),
            }
        }
    }
    Ok(exam)
}

/// The list reads, but its `date` selector no longer gives a date for any
/// item (and the links carry none): the date element moved.
pub fn dates_broke(source: &Source, listing: &Result<Listing, ExtractError>) -> bool {
    let Ok(listing) = listing else {
        return false;
    };
    source.list.as_ref().is_some_and(|l| l.date.is_some())
        && listing.items.len() >= 3
        && listing.items.iter().all(|i| i.published.is_none())
}

/// A new `date` selector for a list that still reads its items: the one
/// inference finds on the page, kept only when it dates ≥ 90 % of the same
/// items.
pub fn repair_dates(
    source: &Source,
    page: &Page,
    listing: &Listing,
    limits: &extract::Limits,
) -> Result<Repair, String> {
    let inferred = infer_list(&page.text, &page.url, limits.markup).map_err(|e| e.to_string())?;
    let date = inferred
        .list
        .date
        .ok_or_else(|| "no date element found on the list".to_string())?;
    let mut list = source
        .list
        .as_ref()
        .map(proposed_list)
        .ok_or_else(|| "the source has no list selectors".to_string())?;
    list.date = Some(date);
    let candidate = with_tables(source, Some(&list), None)?;
    let read = extract::extract_list(&candidate, page, limits).map_err(|e| e.to_string())?;
    let before: HashSet<String> = listing
        .items
        .iter()
        .map(|i| normalize::canonical_url(&i.url))
        .collect();
    let same = read
        .items
        .iter()
        .filter(|i| before.contains(&normalize::canonical_url(&i.url)))
        .count();
    let dated = read.items.iter().filter(|i| i.published.is_some()).count();
    let evidence = Evidence {
        known_on_page: before.len(),
        found_again: same,
        items: read.items.len(),
        notes: vec![format!("{dated} of {} items dated", read.items.len())],
        ..Evidence::default()
    };
    let passed = same == before.len() && dated * 10 >= read.items.len() * 9;
    Ok(Repair {
        source_id: source.id.clone(),
        what: "list date".into(),
        old_toml: tables_toml(source),
        new_toml: tables_toml(&candidate),
        list: Some(list),
        article: None,
        evidence,
        confidence: if passed { 0.9 } else { 0.3 },
        passed,
        reason: (!passed).then(|| {
            format!(
                "the new date selector dates {dated} of {} items",
                read.items.len()
            )
        }),
    })
}
