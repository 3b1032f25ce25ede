//! The outlet corpus (tests/fixtures/outlets/) checked against its own
//! reference sources: each template's hand-written `[[source]]` must read
//! its list and every article the way `expect.toml` says, so that the
//! corpus can judge source inference.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestConfig;
use common::outlets::{self, CorpusOutlet};
use kuaibao::config::{Config, EncodingChoice, Source};
use kuaibao::extract::{self, Limits};
use kuaibao::fetch::{FetchOutcome, Fetcher};
use kuaibao::model::{ListedItem, Page};

/// What the reference source made of one template.
struct Extraction {
    base: String,
    config: Config,
    items: Vec<ListedItem>,
    /// Per item: the article page (when the source reads pages) and the
    /// normalized text, or what went wrong.
    articles: Vec<Result<(Option<Page>, String), String>>,
}

fn reference_config(outlet: &CorpusOutlet, base: &str) -> (TestConfig, Config) {
    let test = TestConfig::new(&outlet.reference_sources_toml(base), "");
    let config = test.load();
    assert_eq!(
        config.sources.len(),
        1,
        "{}: reference.toml must hold exactly one [[source]]",
        outlet.name
    );
    assert_eq!(config.sources[0].id, outlet.name, "{}: id", outlet.name);
    (test, config)
}

async fn fetch_page(fetcher: &Fetcher, url: &url::Url, encoding: EncodingChoice) -> Page {
    match fetcher.fetch(url, encoding, None).await {
        Ok(FetchOutcome::Page(p)) => p,
        Ok(FetchOutcome::NotModified) => panic!("{url}: 304 to an unconditional request"),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// Reads the list and every article with the public extract and normalize
/// stages, as a poll would (the full text, not `test_source`'s first 120
/// characters).
async fn extract_with_reference(outlet: &CorpusOutlet) -> Extraction {
    let base = outlet.serve().await;
    let (_dir, config) = reference_config(outlet, &base);
    let source: &Source = &config.sources[0];
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    let limits = Limits::of(&config.poll);
    let page = fetch_page(&fetcher, &source.url, source.encoding).await;
    let items = extract::extract_list(source, &page, &limits)
        .unwrap_or_else(|e| panic!("{}: list: {e}", outlet.name))
        .items;
    let mut articles = Vec::new();
    for listed in &items {
        let carries_body = listed
            .content
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty());
        let result = if source.article.is_some() || !carries_body {
            match fetcher
                .fetch_article(&listed.url, source.encoding, config.poll.max_article)
                .await
            {
                Ok(FetchOutcome::Page(p)) => extract::extract_article(source, &p, &limits)
                    .map_err(|e| e.to_string())
                    .and_then(|a| {
                        kuaibao::normalize::normalize(source, listed, Some(&a))
                            .map_err(|e| e.to_string())
                    })
                    .map(|item| (Some(p), item.content_text)),
                Ok(FetchOutcome::NotModified) => Err("304".to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            kuaibao::normalize::normalize(source, listed, None)
                .map(|item| (None, item.content_text))
                .map_err(|e| e.to_string())
        };
        articles.push(result);
    }
    Extraction {
        base,
        config,
        items,
        articles,
    }
}

/// Runs `check` on every template and fails once, naming every template
/// that broke and why.
async fn for_every_template<F>(check: F)
where
    F: Fn(&CorpusOutlet, &Extraction) -> Vec<String>,
{
    let corpus = outlets::corpus();
    assert!(!corpus.is_empty(), "no templates found");
    let mut failures = BTreeMap::new();
    for outlet in &corpus {
        let extraction = extract_with_reference(outlet).await;
        let problems = check(outlet, &extraction);
        if !problems.is_empty() {
            failures.insert(outlet.name.clone(), problems);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_corpus_has_at_least_17_templates_covering_every_kind_and_charset() {
    let corpus = outlets::corpus();
    assert!(corpus.len() >= 17, "only {} templates", corpus.len());
    let kinds: BTreeSet<&str> = corpus.iter().map(|o| o.expect.kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["feed", "html", "json"]));
    assert!(
        corpus.iter().filter(|o| !o.expect.charset_header).count() >= 2,
        "GBK templates served without an HTTP charset"
    );
    for o in &corpus {
        assert!(
            (15..=25).contains(&o.expect.items),
            "{}: {} items",
            o.name,
            o.expect.items
        );
        assert!(o.expect.address.starts_with('/'), "{}: address", o.name);
        assert!(!o.expect.imitates.is_empty(), "{}: imitates", o.name);
        assert!(!o.expect.boilerplate.is_empty(), "{}: boilerplate", o.name);
        assert!(
            o.site()
                .join(o.expect.address.trim_start_matches('/'))
                .exists()
                || o.site()
                    .join(o.expect.address.trim_start_matches('/'))
                    .join("index.html")
                    .is_file(),
            "{}: the address {} names no file",
            o.name,
            o.expect.address
        );
    }
}

#[tokio::test]
async fn every_address_an_editor_would_paste_is_served_with_200() {
    for outlet in outlets::corpus() {
        let base = outlet.serve().await;
        let (_dir, config) = reference_config(&outlet, &base);
        let fetcher = Fetcher::new(&config.poll).expect("fetcher");
        let url = url::Url::parse(&format!("{base}{}", outlet.expect.address)).expect("url");
        let page = fetch_page(&fetcher, &url, EncodingChoice::Auto).await;
        assert_eq!(page.status, 200, "{}: {url}", outlet.name);
        let served_charset = page
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("charset"));
        if url.path().ends_with('/') || url.path().ends_with("htm") || url.path().ends_with("html")
        {
            assert_eq!(
                served_charset, outlet.expect.charset_header,
                "{}: content-type {:?}",
                outlet.name, page.content_type
            );
        }
    }
}

#[tokio::test]
async fn test_source_with_the_reference_lists_the_expected_items_and_reads_every_article() {
    for outlet in outlets::corpus() {
        let base = outlet.serve().await;
        let (_dir, config) = reference_config(&outlet, &base);
        let fetcher = Fetcher::new(&config.poll).expect("fetcher");
        let source = &config.sources[0];
        let report = kuaibao::poll::test_source(&fetcher, &config.poll, source, usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", outlet.name));
        assert_eq!(
            report.items.len(),
            outlet.expect.items,
            "{}: items",
            outlet.name
        );
        for item in &report.items {
            assert!(
                item.url.starts_with(&format!("{base}/")),
                "{}: item off the fixture host: {}",
                outlet.name,
                item.url
            );
            assert!(
                !item.title.is_empty(),
                "{}: {} has no title",
                outlet.name,
                item.url
            );
            let article = item.article.as_ref().expect("every article was read");
            assert_eq!(article.error, None, "{}: {}", outlet.name, item.url);
            assert!(
                article.text_chars >= 200,
                "{}: {} has only {} chars",
                outlet.name,
                item.url,
                article.text_chars
            );
        }
    }
}

#[tokio::test]
async fn every_listed_item_is_on_the_fixture_host_and_unique() {
    for_every_template(|outlet, x| {
        let mut problems = Vec::new();
        if x.items.len() != outlet.expect.items {
            problems.push(format!(
                "{} items, expect.toml says {}",
                x.items.len(),
                outlet.expect.items
            ));
        }
        let urls: BTreeSet<&str> = x.items.iter().map(|i| i.url.as_str()).collect();
        if urls.len() != x.items.len() {
            problems.push("duplicate item URLs".into());
        }
        for item in &x.items {
            if !item.url.as_str().starts_with(&format!("{}/", x.base)) {
                problems.push(format!("off-host item {}", item.url));
            }
        }
        problems
    })
    .await;
}

#[tokio::test]
async fn every_article_yields_at_least_200_chars_of_text_with_no_boilerplate() {
    for_every_template(|outlet, x| {
        let mut problems = Vec::new();
        for (item, article) in x.items.iter().zip(&x.articles) {
            match article {
                Err(e) => problems.push(format!("{}: {e}", item.url)),
                Ok((_, text)) => {
                    if text.chars().count() < 200 {
                        problems.push(format!("{}: {} chars", item.url, text.chars().count()));
                    }
                    for b in &outlet.expect.boilerplate {
                        if text.contains(b.as_str()) {
                            problems.push(format!("{}: text contains {b:?}", item.url));
                        }
                    }
                }
            }
        }
        problems
    })
    .await;
}

#[tokio::test]
async fn every_boilerplate_string_occurs_on_the_article_pages() {
    // Otherwise "no boilerplate in the text" would prove nothing.
    for_every_template(|outlet, x| {
        let pages: Vec<&str> = x
            .articles
            .iter()
            .filter_map(|a| a.as_ref().ok())
            .filter_map(|(p, _)| p.as_ref())
            .map(|p| p.text.as_str())
            .collect();
        if pages.is_empty() {
            // A full-text feed: no page is read; its pages exist all the same.
            return Vec::new();
        }
        outlet
            .expect
            .boilerplate
            .iter()
            .filter(|b| !pages.iter().any(|p| p.contains(b.as_str())))
            .map(|b| format!("{b:?} occurs on no article page"))
            .collect()
    })
    .await;
}

#[tokio::test]
async fn the_reference_content_selector_matches_on_every_article_page() {
    // Not the built-in fallback containers: the reference's own selector.
    for_every_template(|outlet, x| {
        let source = &x.config.sources[0];
        let Some(article) = &source.article else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (item, a) in x.items.iter().zip(&x.articles) {
            let Ok((Some(page), _)) = a else { continue };
            let doc = scraper::Html::parse_document(&page.text);
            if doc.select(&article.content.selector).next().is_none() {
                problems.push(format!(
                    "{}: {:?} matches nothing",
                    item.url, article.content.text
                ));
            }
        }
        if outlet.expect.kind != "feed" && problems.is_empty() && x.items.is_empty() {
            problems.push("no items".into());
        }
        problems
    })
    .await;
}

#[tokio::test]
async fn articles_of_one_template_differ_from_each_other() {
    for_every_template(|_, x| {
        let texts: Vec<&str> = x
            .articles
            .iter()
            .filter_map(|a| a.as_ref().ok())
            .map(|(_, t)| t.as_str())
            .collect();
        let distinct: BTreeSet<&str> = texts.iter().copied().collect();
        if distinct.len() == texts.len() {
            Vec::new()
        } else {
            vec![format!(
                "{} articles, {} distinct texts",
                texts.len(),
                distinct.len()
            )]
        }
    })
    .await;
}

#[tokio::test]
async fn not_lists_pages_are_served_with_200() {
    let (site, pages) = outlets::not_lists();
    assert!(!pages.is_empty());
    let base = outlets::serve_site(&site, true).await;
    let test = TestConfig::new("", "");
    let config = test.load();
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    for path in pages {
        let url = url::Url::parse(&format!("{base}{path}")).expect("url");
        let page = fetch_page(&fetcher, &url, EncodingChoice::Auto).await;
        assert_eq!(page.status, 200, "{url}");
        assert!(
            page.text.contains("<a href="),
            "{url} carries the site's links"
        );
    }
}

#[tokio::test]
async fn the_fixture_server_refuses_parent_paths_and_answers_missing_files_with_404() {
    let (site, _) = outlets::not_lists();
    let base = outlets::serve_site(&site, true).await;
    let test = TestConfig::new("", "");
    let config = test.load();
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    for path in ["/nothing-here.html", "/%2e%2e/expect.toml"] {
        let url = url::Url::parse(&format!("{base}{path}")).expect("url");
        let err = fetcher
            .fetch(&url, EncodingChoice::Auto, None)
            .await
            .expect_err(path);
        assert!(err.to_string().contains("404"), "{path}: {err}");
    }
}

#[tokio::test]
async fn every_listed_item_carries_a_date_from_its_list_or_its_address() {
    for_every_template(|_, x| {
        x.items
            .iter()
            .filter(|i| i.published.is_none())
            .map(|i| format!("{}: no date", i.url))
            .collect()
    })
    .await;
}
