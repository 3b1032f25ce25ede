//! `kuaibao sources add`: on every template of the outlet corpus
//! (tests/fixtures/outlets/), the source inferred from the list page's
//! address alone reads the same articles as the hand-written reference
//! (≥ 95 % of its items, no link it does not have) and article text holding
//! ≥ 95 % of the reference text with none of the page furniture; pages that
//! are not news lists get "no list found".

use crate::common;

use std::collections::HashSet;
use std::time::Instant;

use common::TestConfig;
use common::outlets::{self, CorpusOutlet, read_source};
use kuaibao::fetch::Fetcher;
use kuaibao::onboard::{self, AddRequest, OnboardError};

/// One template's figures.
struct Figures {
    name: String,
    kind: String,
    reference_items: usize,
    inferred_items: usize,
    found: usize,
    extra: Vec<String>,
    /// Worst and mean share of the reference text the inferred source read.
    worst_text: f64,
    mean_text: f64,
    boilerplate: Vec<String>,
    millis: u128,
    note: String,
}

/// Share of the reference text's lines (by characters) that the inferred
/// text holds.
fn coverage(reference: &str, inferred: &str) -> f64 {
    let squeeze = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
    let inferred = squeeze(inferred);
    let mut total = 0usize;
    let mut held = 0usize;
    for line in reference.lines() {
        let line = squeeze(line);
        let n = line.chars().count();
        if n == 0 {
            continue;
        }
        total += n;
        if inferred.contains(&line) {
            held += n;
        }
    }
    if total == 0 {
        1.0
    } else {
        held as f64 / total as f64
    }
}

async fn measure(outlet: &CorpusOutlet) -> Figures {
    let base = outlet.serve().await;
    let reference = TestConfig::new(&outlet.reference_sources_toml(&base), "");
    let config = reference.load();
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    let wanted = read_source(&fetcher, &config.poll, &config.sources[0])
        .await
        .unwrap_or_else(|e| panic!("{}: the reference reads nothing: {e}", outlet.name));

    let mut figures = Figures {
        name: outlet.name.clone(),
        kind: outlet.expect.kind.clone(),
        reference_items: wanted.len(),
        inferred_items: 0,
        found: 0,
        extra: Vec::new(),
        worst_text: 0.0,
        mean_text: 0.0,
        boilerplate: Vec::new(),
        millis: 0,
        note: String::new(),
    };
    let started = Instant::now();
    let request = AddRequest {
        url: Some(
            format!("{base}{}", outlet.expect.address)
                .parse()
                .expect("url"),
        ),
        ..AddRequest::default()
    };
    let proposal = onboard::propose(&fetcher, &config.poll, &config.sections, &[], &request).await;
    figures.millis = started.elapsed().as_millis();
    let proposal = match proposal {
        Ok(p) => p,
        Err(e) => {
            figures.note = e.to_string();
            return figures;
        }
    };
    figures.kind = format!("{}→{}", outlet.expect.kind, proposal.source.kind.as_str());
    let inferred = TestConfig::new(&proposal.toml, "");
    let inferred = inferred.load();
    let got = match read_source(&fetcher, &inferred.poll, &inferred.sources[0]).await {
        Ok(g) => g,
        Err(e) => {
            figures.note = format!("the inferred source reads nothing: {e}");
            return figures;
        }
    };
    figures.inferred_items = got.len();
    let wanted_urls: HashSet<&str> = wanted.iter().map(|(i, _)| i.url.as_str()).collect();
    figures.extra = got
        .iter()
        .filter(|(i, _)| !wanted_urls.contains(i.url.as_str()))
        .map(|(i, _)| i.url.path().to_string())
        .collect();
    let mut shares = Vec::new();
    for (item, text) in &wanted {
        let Some((_, got_text)) = got.iter().find(|(g, _)| g.url == item.url) else {
            continue;
        };
        figures.found += 1;
        let (Ok(want), Ok(have)) = (text, got_text) else {
            shares.push(0.0);
            continue;
        };
        shares.push(coverage(want, have));
        for b in &outlet.expect.boilerplate {
            if have.contains(b.as_str()) && !figures.boilerplate.contains(b) {
                figures.boilerplate.push(b.clone());
            }
        }
    }
    figures.worst_text = shares.iter().copied().fold(1.0, f64::min);
    figures.mean_text = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
    figures.note = proposal.found;
    figures
}

impl Figures {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.found * 100 < self.reference_items * 95 {
            out.push(format!(
                "found {} of {} reference items ({})",
                self.found, self.reference_items, self.note
            ));
        }
        if !self.extra.is_empty() {
            out.push(format!(
                "links the reference does not have: {:?}",
                self.extra
            ));
        }
        if self.worst_text < 0.95 {
            out.push(format!(
                "an article holds only {:.0} % of the reference text",
                self.worst_text * 100.0
            ));
        }
        if !self.boilerplate.is_empty() {
            out.push(format!("boilerplate in the text: {:?}", self.boilerplate));
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inferred_sources_read_what_the_hand_written_ones_read_on_every_template() {
    let corpus = outlets::corpus();
    assert!(corpus.len() >= 15, "only {} templates", corpus.len());
    let mut all = Vec::new();
    for outlet in &corpus {
        all.push(measure(outlet).await);
    }
    println!(
        "{:<22} {:<11} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6}  how",
        "template", "kind", "ref", "inf", "found", "extra", "worst", "mean", "ms"
    );
    for f in &all {
        println!(
            "{:<22} {:<11} {:>5} {:>5} {:>5} {:>5} {:>5.1}% {:>5.1}% {:>6}  {}",
            f.name,
            f.kind,
            f.reference_items,
            f.inferred_items,
            f.found,
            f.extra.len(),
            f.worst_text * 100.0,
            f.mean_text * 100.0,
            f.millis,
            f.note
        );
    }
    let failures: Vec<String> = all
        .iter()
        .flat_map(|f| f.problems().into_iter().map(|p| format!("{}: {p}", f.name)))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn pages_that_are_not_news_lists_get_no_list_found() {
    let (site, pages) = outlets::not_lists();
    let base = outlets::serve_site(&site, true).await;
    let config = TestConfig::new("", "");
    let config = config.load();
    let fetcher = Fetcher::new(&config.poll).expect("fetcher");
    for page in pages {
        let request = AddRequest {
            url: Some(format!("{base}{page}").parse().expect("url")),
            ..AddRequest::default()
        };
        match onboard::propose(&fetcher, &config.poll, &config.sections, &[], &request).await {
            Err(OnboardError::NoList { reason, .. }) => {
                assert!(reason.contains("no list found"), "{page}: {reason}")
            }
            Ok(p) => panic!("{page}: proposed a source:\n{}\nfound {}", p.toml, p.found),
            Err(e) => panic!("{page}: {e}"),
        }
    }
}
