//! The redesign corpus: every template of tests/fixtures/outlets/ has a
//! `redesign/` (the same outlet after a CMS overhaul) with its own
//! hand-written reference. Self-healing selectors are judged on it, so it
//! must hold what it claims: the new reference reads the new site, the old
//! reference is really broken there, the articles both designs list keep
//! their URLs and texts, and the not-breaks cases (a challenge page, an
//! empty column, a page that is not a list) are served where the list was.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestConfig;
use common::outlets::{self, CorpusOutlet, read_source};
use kuaibao::config::{Config, EncodingChoice};
use kuaibao::extract;
use kuaibao::fetch::{FetchError, FetchOutcome, Fetcher};
use kuaibao::model::ListedItem;

type Reading = Vec<(ListedItem, Result<String, String>)>;

fn config_of(toml: &str, outlet: &CorpusOutlet) -> (TestConfig, Config) {
    let test = TestConfig::new(toml, "");
    let config = test.load();
    assert_eq!(config.sources.len(), 1, "{}: one [[source]]", outlet.name);
    assert_eq!(config.sources[0].id, outlet.name, "{}: id", outlet.name);
    (test, config)
}

/// Reads a list and its articles with the source in `toml`.
async fn read_with(toml: &str, outlet: &CorpusOutlet) -> (Config, Result<Reading, String>) {
    let (_test, config) = config_of(toml, outlet);
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    let reading = read_source(&fetcher, &config.poll, &config.sources[0]).await;
    (config, reading)
}

async fn new_site(outlet: &CorpusOutlet) -> String {
    outlets::serve_site(&outlet.redesign_site(), outlet.expect.charset_header).await
}

fn path_of(item: &ListedItem) -> String {
    item.url.path().to_string()
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The share of `expected`'s text (by characters, sentence by sentence)
/// that `got` lacks.
fn missing_share(expected: &str, got: &str) -> f64 {
    let got = squeeze(got);
    let (mut total, mut missing) = (0usize, 0usize);
    for sentence in expected.split(['。', '\n']) {
        let s = squeeze(sentence);
        let n = s.chars().count();
        if n == 0 {
            continue;
        }
        total += n;
        if !got.contains(&s) {
            missing += n;
        }
    }
    if total == 0 {
        0.0
    } else {
        missing as f64 / total as f64
    }
}

#[test]
fn every_template_has_a_redesign_with_a_reference_of_the_same_id_and_three_new_articles() {
    let corpus = outlets::corpus();
    assert_eq!(corpus.len(), 21, "templates");
    for o in &corpus {
        let x = o.redesign_expect();
        let (_t, config) = config_of(&o.redesign_reference_toml("http://127.0.0.1:1"), o);
        assert_eq!(config.sources[0].kind.as_str(), x.kind, "{}: kind", o.name);
        assert_eq!(x.kind, o.expect.kind, "{}: the kind stays", o.name);
        assert!(!x.change.trim().is_empty(), "{}: change", o.name);
        assert!(!x.boilerplate.is_empty(), "{}: boilerplate", o.name);
        assert_eq!(
            x.items,
            o.expect.items + 1,
            "{}: the old items but the two oldest, plus three",
            o.name
        );
        assert_eq!(x.new_items.len(), 3, "{}: new_items", o.name);
        for p in &x.new_items {
            let rel = p.trim_start_matches('/');
            assert!(o.redesign_site().join(rel).is_file(), "{}: {p}", o.name);
            assert!(!o.site().join(rel).exists(), "{}: {p} was old", o.name);
        }
        let address = o.expect.address.trim_start_matches('/');
        let list = o.redesign_site().join(address);
        assert!(
            list.is_file() || list.join("index.html").is_file(),
            "{}: the list address {} is gone from the new site",
            o.name,
            o.expect.address
        );
        if !o.expect.charset_header && o.expect.kind == "html" {
            let file = if list.is_file() {
                list
            } else {
                list.join("index.html")
            };
            let bytes = std::fs::read(&file).expect("list page");
            assert!(
                String::from_utf8(bytes.clone()).is_err()
                    && String::from_utf8_lossy(&bytes).contains("charset=gb2312"),
                "{}: the redesign stays GBK",
                o.name
            );
        }
    }
}

#[tokio::test]
async fn the_new_reference_reads_the_new_site_as_redesign_expect_toml_says() {
    let mut failures = BTreeMap::new();
    for outlet in outlets::corpus() {
        let x = outlet.redesign_expect();
        let base = new_site(&outlet).await;
        let (_, reading) = read_with(&outlet.redesign_reference_toml(&base), &outlet).await;
        let mut problems = Vec::new();
        match reading {
            Err(e) => problems.push(format!("list: {e}")),
            Ok(items) => {
                if items.len() != x.items {
                    problems.push(format!(
                        "{} items, expect.toml says {}",
                        items.len(),
                        x.items
                    ));
                }
                let paths: BTreeSet<String> = items.iter().map(|(i, _)| path_of(i)).collect();
                if paths.len() != items.len() {
                    problems.push("duplicate item URLs".into());
                }
                for p in &x.new_items {
                    if !paths.contains(p) {
                        problems.push(format!("new item {p} not listed"));
                    }
                }
                for (item, text) in &items {
                    if !item.url.as_str().starts_with(&format!("{base}/")) {
                        problems.push(format!("off-host item {}", item.url));
                    }
                    match text {
                        Err(e) => problems.push(format!("{}: {e}", item.url)),
                        Ok(t) => {
                            if t.chars().count() < 200 {
                                problems.push(format!("{}: {} chars", item.url, t.chars().count()));
                            }
                            for b in &x.boilerplate {
                                if t.contains(b.as_str()) {
                                    problems.push(format!("{}: text contains {b:?}", item.url));
                                }
                            }
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            failures.insert(outlet.name.clone(), problems);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn every_new_boilerplate_string_occurs_on_the_new_article_pages() {
    for outlet in outlets::corpus() {
        let x = outlet.redesign_expect();
        let pages: Vec<String> = walk(&outlet.redesign_site())
            .into_iter()
            .filter(|p| {
                let rel = p
                    .strip_prefix(outlet.redesign_site())
                    .expect("under the site");
                x.new_items
                    .iter()
                    .any(|n| rel == std::path::Path::new(n.trim_start_matches('/')))
            })
            .map(|p| decode(&std::fs::read(p).expect("page")))
            .collect();
        assert_eq!(pages.len(), 3, "{}", outlet.name);
        for b in &x.boilerplate {
            assert!(
                pages.iter().all(|p| p.contains(b.as_str())),
                "{}: {b:?} is not on every new article page",
                outlet.name
            );
        }
    }
}

/// UTF-8, or GBK for the templates that stay GBK.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The old source's text of each article the new list names: its article
/// selectors on the new pages, or (a source without them) what the old
/// source's own reading of the new site gives.
async fn old_texts(
    config: &Config,
    old: &Result<Reading, String>,
    new: &Reading,
) -> Vec<(String, Result<String, String>)> {
    let source = &config.sources[0];
    if source.article.is_none() {
        return old
            .as_ref()
            .map(|r| r.iter().map(|(i, t)| (path_of(i), t.clone())).collect())
            .unwrap_or_default();
    }
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    let limits = extract::Limits::of(&config.poll);
    let mut out = Vec::new();
    for (item, _) in new {
        let text = match fetcher
            .fetch_article(&item.url, source.encoding, config.poll.max_article)
            .await
        {
            Ok(FetchOutcome::Page(p)) => extract::extract_article(source, &p, &limits)
                .map_err(|e| e.to_string())
                .and_then(|a| {
                    kuaibao::normalize::normalize(source, item, Some(&a)).map_err(|e| e.to_string())
                })
                .map(|i| i.content_text),
            Ok(FetchOutcome::NotModified) => Err("304".into()),
            Err(e) => Err(e.to_string()),
        };
        out.push((path_of(item), text));
    }
    out
}

/// How the old reference fails on the new site, list side and article side
/// judged apart; no entry without a leading `(` when it does not fail.
async fn breaks(outlet: &CorpusOutlet, base: &str, new: &Reading) -> Vec<String> {
    let x = outlet.redesign_expect();
    let (config, old) = read_with(&outlet.reference_sources_toml(base), outlet).await;
    let mut found = Vec::new();
    match &old {
        Err(e) => found.push(format!("list: {e}")),
        Ok(old) if old.len() * 2 < new.len() => {
            found.push(format!("list: {} of {} items", old.len(), new.len()));
        }
        Ok(_) => {}
    }
    let expected: BTreeMap<String, &str> = new
        .iter()
        .filter_map(|(i, t)| t.as_deref().ok().map(|t| (path_of(i), t)))
        .collect();
    let (mut compared, mut unreadable, mut short) = (0, 0, 0);
    let mut carrying: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, text) in old_texts(&config, &old, new).await {
        let Some(want) = expected.get(&path) else {
            continue;
        };
        compared += 1;
        match text {
            Err(_) => unreadable += 1,
            Ok(got) => {
                if missing_share(want, &got) >= 0.2 {
                    short += 1;
                }
                for b in &x.boilerplate {
                    if got.contains(b.as_str()) {
                        *carrying.entry(b.as_str()).or_default() += 1;
                    }
                }
            }
        }
    }
    // The article side counts as broken when at least half of the pages are.
    let half = |n: usize| compared > 0 && n * 2 >= compared;
    if half(unreadable) {
        found.push(format!(
            "article: {unreadable} of {compared} pages unreadable"
        ));
    }
    if half(short) {
        found.push(format!("article: {short} of {compared} texts miss ≥ 20 %"));
    }
    for (b, n) in carrying {
        if half(n) {
            found.push(format!("article: {n} of {compared} texts carry {b:?}"));
        }
    }
    // Which of the old article selectors still match (for the record).
    if let Some(article) = &config.sources[0].article {
        let fetcher = Fetcher::new(&config.poll).expect("fetcher");
        let (mut pages, mut content_hits) = (0, 0);
        let mut removes: BTreeMap<&str, usize> = article
            .remove
            .iter()
            .map(|r| (r.text.as_str(), 0usize))
            .collect();
        for (item, _) in new {
            let Ok(FetchOutcome::Page(p)) = fetcher
                .fetch_article(&item.url, EncodingChoice::Auto, config.poll.max_article)
                .await
            else {
                continue;
            };
            pages += 1;
            let doc = scraper::Html::parse_document(&p.text);
            if doc.select(&article.content.selector).next().is_some() {
                content_hits += 1;
            }
            for r in &article.remove {
                if doc.select(&r.selector).next().is_some() {
                    *removes.entry(r.text.as_str()).or_default() += 1;
                }
            }
        }
        let mut note = format!(
            "(old content {:?} matches {content_hits} of {pages} new pages",
            article.content.text
        );
        let dead: Vec<&str> = removes
            .iter()
            .filter(|(r, n)| **n == 0 && !matches!(**r, "style" | "script"))
            .map(|(r, _)| *r)
            .collect();
        if !dead.is_empty() {
            note.push_str(&format!("; old remove matching nothing: {dead:?}"));
        }
        note.push(')');
        found.push(note);
    }
    found
}

#[tokio::test]
async fn the_old_reference_is_broken_on_every_new_site() {
    let mut unbroken = Vec::new();
    for outlet in outlets::corpus() {
        let base = new_site(&outlet).await;
        let (_, new) = read_with(&outlet.redesign_reference_toml(&base), &outlet).await;
        let new = new.unwrap_or_else(|e| panic!("{}: the new reference: {e}", outlet.name));
        let found = breaks(&outlet, &base, &new).await;
        let real: Vec<&String> = found.iter().filter(|f| !f.starts_with('(')).collect();
        println!("{:<22} {}", outlet.name, found.join("; "));
        if real.is_empty() {
            unbroken.push(outlet.name.clone());
        }
    }
    assert!(
        unbroken.is_empty(),
        "the old reference still reads these redesigns: {unbroken:?}"
    );
}

#[tokio::test]
async fn the_articles_both_designs_list_keep_their_urls_and_texts() {
    let mut failures = BTreeMap::new();
    for outlet in outlets::corpus() {
        let x = outlet.redesign_expect();
        let old_base = outlet.serve().await;
        let (_, old) = read_with(&outlet.reference_sources_toml(&old_base), &outlet).await;
        let old = old.unwrap_or_else(|e| panic!("{}: old: {e}", outlet.name));
        let new_base = new_site(&outlet).await;
        let (_, new) = read_with(&outlet.redesign_reference_toml(&new_base), &outlet).await;
        let new = new.unwrap_or_else(|e| panic!("{}: new: {e}", outlet.name));

        let old_paths: Vec<String> = old.iter().map(|(i, _)| path_of(i)).collect();
        let new_paths: BTreeSet<String> = new.iter().map(|(i, _)| path_of(i)).collect();
        let mut problems = Vec::new();
        let added: BTreeSet<&String> = new_paths
            .iter()
            .filter(|p| !old_paths.contains(p))
            .collect();
        let announced: BTreeSet<&String> = x.new_items.iter().collect();
        if added != announced {
            problems.push(format!(
                "new paths {added:?}, expect.toml says {announced:?}"
            ));
        }
        let dropped: BTreeSet<&String> = old_paths
            .iter()
            .filter(|p| !new_paths.contains(*p))
            .collect();
        let oldest: BTreeSet<&String> = old_paths[old_paths.len().saturating_sub(2)..]
            .iter()
            .collect();
        if dropped != oldest {
            problems.push(format!(
                "dropped {dropped:?}, not the two oldest {oldest:?}"
            ));
        }
        let new_texts: BTreeMap<String, &Result<String, String>> =
            new.iter().map(|(i, t)| (path_of(i), t)).collect();
        for (item, text) in &old {
            let Some(now) = new_texts.get(&path_of(item)) else {
                continue;
            };
            match (text, now) {
                (Ok(a), Ok(b)) if squeeze(a) == squeeze(b) => {}
                (Ok(_), Ok(_)) => problems.push(format!("{}: the text changed", path_of(item))),
                _ => problems.push(format!("{}: unreadable", path_of(item))),
            }
        }
        if !problems.is_empty() {
            failures.insert(outlet.name.clone(), problems);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

async fn get(fetcher: &Fetcher, url: &str) -> Result<String, FetchError> {
    let url = url::Url::parse(url).expect("url");
    match fetcher.fetch(&url, EncodingChoice::Auto, None).await? {
        FetchOutcome::Page(p) => Ok(p.text),
        FetchOutcome::NotModified => panic!("{url}: 304"),
    }
}

#[tokio::test]
async fn a_switchable_server_serves_the_old_design_then_the_new_on_the_same_port() {
    let outlet = outlets::corpus()
        .into_iter()
        .find(|o| o.name == "gd-hrss")
        .expect("gd-hrss");
    let (base, switch) = outlets::serve_switchable(
        &outlet.site(),
        &outlet.redesign_site(),
        outlet.expect.charset_header,
    )
    .await;
    let test = TestConfig::new("", "");
    let fetcher = Fetcher::new(&test.load().poll).expect("fetcher");
    let address = format!("{base}{}", outlet.expect.address);
    let first = outlet.redesign_expect().new_items[0].clone();

    assert!(
        get(&fetcher, &address)
            .await
            .expect("old")
            .contains(r#"<ul class="list">"#)
    );
    assert!(
        get(&fetcher, &format!("{base}{first}")).await.is_err(),
        "not yet published"
    );
    switch.use_new();
    let page = get(&fetcher, &address).await.expect("new");
    assert!(page.contains(r#"<ul class="news-list">"#));
    assert!(get(&fetcher, &format!("{base}{first}")).await.is_ok());
    let clone = switch.clone();
    clone.use_old();
    assert!(!switch.is_new(), "clones share the switch");
    assert!(
        get(&fetcher, &address)
            .await
            .expect("old again")
            .contains(r#"<ul class="list">"#)
    );
}

#[tokio::test]
async fn the_not_breaks_cases_serve_a_challenge_an_empty_column_and_a_page_that_is_no_list() {
    let (dir, cases) = outlets::not_breaks();
    assert_eq!(cases, ["challenge", "empty", "notalist"]);
    let text = std::fs::read_to_string(dir.join("expect.toml")).expect("expect.toml");
    let expect: toml::Value = toml::from_str(&text).expect("toml");
    assert_eq!(expect["http_error"].as_integer(), Some(503));
    let gd = outlets::corpus()
        .into_iter()
        .find(|o| o.name == "gd-hrss")
        .expect("gd-hrss");
    assert_eq!(expect["address"].as_str(), Some(gd.expect.address.as_str()));
    for case in &cases {
        let base = outlets::serve_site(&dir.join(format!("site-{case}")), true).await;
        let (config, reading) = read_with(&gd.reference_sources_toml(&base), &gd).await;
        let fetcher = Fetcher::new(&config.poll).expect("fetcher");
        let address = format!("{base}{}", gd.expect.address);
        match case.as_str() {
            "challenge" => {
                let err = get(&fetcher, &address).await.expect_err("a challenge");
                assert!(matches!(err, FetchError::Challenge), "{err}");
                let len = std::fs::metadata(dir.join("site-challenge/zwgk/gzdt/index.html"))
                    .expect("page")
                    .len();
                assert!((500..=2048).contains(&len), "about 1 KB: {len}");
            }
            "empty" => {
                let page = get(&fetcher, &address).await.expect("page");
                assert!(page.contains("<ul class=\"list\">\n</ul>"), "an empty list");
                assert!(page.contains("/content/post_"), "the sidebar still links");
                assert!(reading.map(|r| r.is_empty()).unwrap_or(true), "{case}");
            }
            "notalist" => {
                let page = get(&fetcher, &address).await.expect("page");
                assert!(
                    page.contains("栏目已迁移") && page.contains("网站地图"),
                    "{case}"
                );
                assert!(reading.map(|r| r.is_empty()).unwrap_or(true), "{case}");
            }
            other => panic!("unknown case {other}"),
        }
    }
}
