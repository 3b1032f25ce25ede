//! Selectors that repair themselves: a site redesigned between two polls
//! is noticed in the poll that first sees it, repaired from its own pages
//! and proven against what was stored, and nothing is lost or doubled;
//! pages that are not redesigns (an anti-bot page, an HTTP error, an empty
//! column, a page that is no list any more) are never "repaired".

use crate::common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::outlets::{self, CorpusOutlet};
use common::{Outlet, Reply, TestConfig};
use kuaibao::config::Config;
use kuaibao::poll::{PollOptions, SourceReport};
use kuaibao::store::Store;

/// Every file of a site tree, by request path.
fn site_files(site: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![site.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("read site") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let rel = path.strip_prefix(site).expect("under site");
                let mut url = format!("/{}", rel.to_string_lossy());
                let body = std::fs::read(&path).expect("read file");
                if url.ends_with("/index.html") {
                    out.push((url.trim_end_matches("index.html").to_string(), body.clone()));
                }
                out.push((std::mem::take(&mut url), body));
            }
        }
    }
    out
}

/// Serves `files` on the outlet, HTML as UTF-8.
fn serve(outlet: &Outlet, files: &[(String, Vec<u8>)]) {
    for (path, body) in files {
        let kind = if path.ends_with(".xml") {
            "application/xml"
        } else if path.ends_with(".json") {
            "application/json"
        } else {
            "text/html; charset=utf-8"
        };
        outlet.set(path, Reply::new(kind, body.clone()));
    }
}

/// The gd-hrss template after a redesign: the list's classes renamed and
/// wrapped, the date moved, the article body renamed with a new share bar.
fn redesigned(files: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|(p, b)| {
            let text = String::from_utf8_lossy(b)
                .replace(
                    r#"<ul class="list">"#,
                    r#"<div class="wrap"><ul class="news-items">"#,
                )
                .replace(
                    "</ul><div class=\"pages\"",
                    "</ul></div><div class=\"pages\"",
                )
                .replace(r#"class="pubDate""#, r#"class="time""#)
                .replace(r#"class="article_con""#, r#"class="content-main""#)
                .replace(
                    r#"<div class="content-main">"#,
                    r#"<div class="content-main"><div class="share-bar">分享到：微信 微博</div>"#,
                );
            (p.clone(), text.into_bytes())
        })
        .collect()
}

async fn poll_once(config_path: &Path, store: &Arc<Mutex<Store>>) -> Vec<SourceReport> {
    let config = Arc::new(Config::load(config_path).expect("config"));
    kuaibao::app::poll(
        config,
        store.clone(),
        &PollOptions {
            only: Vec::new(),
            force: true,
        },
        |_| {},
    )
    .await
    .expect("poll")
}

fn gd() -> CorpusOutlet {
    outlets::corpus()
        .into_iter()
        .find(|o| o.name == "gd-hrss")
        .expect("gd-hrss template")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_auto_mode_a_redesigned_list_is_repaired_in_the_poll_that_sees_it() {
    let template = gd();
    let old = site_files(&template.site());
    let new = redesigned(&old);
    let outlet = Outlet::start().await;
    serve(&outlet, &old);
    let tc = TestConfig::new(&template.reference_sources_toml(&outlet.base), "");
    tc.set_poll("heal", "\"auto\"");
    let store = Arc::new(Mutex::new(
        Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
    ));

    let first = poll_once(&tc.path(), &store).await;
    assert_eq!(first[0].new, template.expect.items, "{first:?}");
    let before = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();

    serve(&outlet, &new);
    let second = poll_once(&tc.path(), &store).await;
    let repair = second[0].repair.as_deref().unwrap_or("");
    assert!(repair.contains("repaired"), "{second:?}");
    assert_eq!(second[0].new, 0, "nothing doubled: {second:?}");
    assert!(second[0].error.is_none(), "{second:?}");

    // The file now reads the new design; the old tables stay in a comment,
    // and a backup was written first.
    let after = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();
    assert_ne!(before, after);
    assert!(after.contains("Before:"), "{after}");
    assert!(
        std::fs::read_dir(tc.dir.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".bak-")),
        "a backup"
    );
    let config = tc.load();
    let list = config.sources[0].list.as_ref().expect("list");
    assert!(!list.item.text.contains("ul.list"), "{}", list.item.text);

    // The next poll reads the new design without help.
    let third = poll_once(&tc.path(), &store).await;
    assert!(third[0].repair.is_none(), "{third:?}");
    assert_eq!(third[0].found, template.expect.items, "{third:?}");
    let repairs = store.lock().unwrap().latest_repair("gd-hrss").unwrap();
    assert_eq!(repairs.map(|r| r.status).as_deref(), Some("applied"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_propose_mode_the_repair_waits_for_a_person_and_nothing_is_written() {
    let template = gd();
    let old = site_files(&template.site());
    let outlet = Outlet::start().await;
    serve(&outlet, &old);
    let tc = TestConfig::new(&template.reference_sources_toml(&outlet.base), "");
    let store = Arc::new(Mutex::new(
        Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
    ));
    poll_once(&tc.path(), &store).await;
    let before = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();
    serve(&outlet, &redesigned(&old));
    let second = poll_once(&tc.path(), &store).await;
    let repair = second[0].repair.as_deref().unwrap_or("");
    assert!(repair.contains("proposed"), "{second:?}");
    assert_eq!(
        std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap(),
        before
    );
    let proposed = store.lock().unwrap().proposed_repairs().unwrap();
    assert_eq!(proposed.len(), 1);
    assert!(
        proposed[0].new_toml.contains("news-items"),
        "{}",
        proposed[0].new_toml
    );

    // `kuaibao status` says so below its table, and how to apply it.
    let id = proposed[0].source_id.clone();
    let status = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kuaibao"));
        cmd.arg("--config").arg(tc.path()).arg("status");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("kuaibao status");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = status(false);
    assert!(
        text.contains(&format!(
            "{id}: {} selectors broke {}; repair proposed: kuaibao sources heal {id} --apply",
            proposed[0].what,
            &proposed[0].created_at[..10]
        )),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&status(true)).expect("json");
    let row = json
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == id.as_str()))
        .expect("the source in --json");
    assert_eq!(row["repair"]["status"], "proposed", "{row}");
    assert_eq!(row["repair"]["what"], proposed[0].what.as_str(), "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_page_an_http_error_an_empty_column_and_a_page_without_a_list_are_not_repaired()
{
    let template = gd();
    let old = site_files(&template.site());
    let list_path = template.expect.address.clone();
    let list_html = String::from_utf8_lossy(
        &old.iter()
            .find(|(p, _)| *p == list_path)
            .expect("list page")
            .1,
    )
    .into_owned();
    let empty = regex::Regex::new(r#"(?s)<ul class="list">.*?</ul>"#)
        .unwrap()
        .replace(&list_html, r#"<ul class="list"></ul>"#)
        .into_owned();
    let not_a_list = "<html><head><title>栏目已迁移</title></head><body><div class=\"nav\"><a href=\"/\">首页</a><a href=\"/zwgk/\">政务公开</a></div><p>本栏目已迁移，请访问新版网站。</p></body></html>".to_string();
    let challenge = r##"<html><head><meta charset="utf-8"></head><body><script>var WTKkN=431;var bOYDu=2210;var wyeCN=9984;document.cookie="__tst_status="+(WTKkN+bOYDu+wyeCN)+"#;";location.reload();</script></body></html>"##;
    let cases: Vec<(&str, Reply)> = vec![
        ("anti-bot challenge", Reply::html(challenge)),
        ("HTTP 503", Reply::status(503)),
        ("empty column", Reply::html(&empty)),
        ("not a list", Reply::html(&not_a_list)),
    ];
    for (case, reply) in cases {
        let outlet = Outlet::start().await;
        serve(&outlet, &old);
        let tc = TestConfig::new(&template.reference_sources_toml(&outlet.base), "");
        tc.set_poll("heal", "\"auto\"");
        let store = Arc::new(Mutex::new(
            Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
        ));
        poll_once(&tc.path(), &store).await;
        let before = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();
        outlet.set(&list_path, reply);
        let second = poll_once(&tc.path(), &store).await;
        let repair = second[0].repair.clone().unwrap_or_default();
        assert!(!repair.contains("selectors repaired"), "{case}: {second:?}");
        assert_eq!(
            std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap(),
            before,
            "{case}: sources.toml unchanged"
        );
        assert!(
            store
                .lock()
                .unwrap()
                .latest_repair("gd-hrss")
                .unwrap()
                .is_none(),
            "{case}: no repair recorded"
        );
    }
}

/// Runs the binary off the async runtime so the in-process outlet answers.
async fn kuaibao(config: &Path, args: &[&str]) -> std::process::Output {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kuaibao"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .output()
            .expect("run kuaibao")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_heal_shows_the_repair_beside_the_old_selectors_and_apply_writes_it() {
    let template = gd();
    let old = site_files(&template.site());
    let outlet = Outlet::start().await;
    serve(&outlet, &old);
    let tc = TestConfig::new(&template.reference_sources_toml(&outlet.base), "");
    tc.set_poll("heal", "\"off\"");
    let store = Arc::new(Mutex::new(
        Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
    ));
    poll_once(&tc.path(), &store).await;
    drop(store);

    let out = kuaibao(&tc.path(), &["sources", "heal", "gd-hrss"]).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("healthy"), "{text}");

    serve(&outlet, &redesigned(&old));
    let before = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();
    let out = kuaibao(&tc.path(), &["sources", "heal", "gd-hrss"]).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("list broken"), "{text}");
    assert!(text.contains("passed"), "{text}");
    assert!(
        text.contains("BEFORE") && text.contains("news-items"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap(),
        before,
        "nothing written without --apply"
    );

    let out = kuaibao(
        &tc.path(),
        &["sources", "heal", "gd-hrss", "--apply", "--json"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["written"], true, "{json}");
    let out = kuaibao(&tc.path(), &["sources", "heal", "gd-hrss"]).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("healthy"), "after --apply: {text}");
}
/// One template through its redesign in "auto" mode: polled on the old
/// design, then on the new one. Returns what the second poll said, whether
/// it repaired, and the problems (lost or doubled items).
async fn through_redesign(t: &CorpusOutlet) -> (String, bool, Vec<String>) {
    let (base, switch) =
        outlets::serve_switchable(&t.site(), &t.redesign_site(), t.expect.charset_header).await;
    let tc = TestConfig::new(&t.reference_sources_toml(&base), "");
    tc.set_poll("heal", "\"auto\"");
    let store = Arc::new(Mutex::new(
        Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
    ));
    let first = poll_once(&tc.path(), &store).await;
    let mut problems = Vec::new();
    if first[0].error.is_some() {
        problems.push(format!("old design: {:?}", first[0].error));
    }
    let old_config = tc.load();
    let old_fetcher = kuaibao::fetch::Fetcher::new(&old_config.poll).expect("fetcher");
    let mut every_url: std::collections::HashSet<String> =
        outlets::read_source(&old_fetcher, &old_config.poll, &old_config.sources[0])
            .await
            .unwrap_or_default()
            .iter()
            .map(|(i, _)| kuaibao::normalize::canonical_url(&i.url))
            .collect();
    switch.use_new();
    let second = poll_once(&tc.path(), &store).await;
    let said = second[0]
        .repair
        .clone()
        .or_else(|| second[0].error.clone())
        .unwrap_or_else(|| "no break noticed".into());
    let repaired = second[0].repair_outcome == Some("applied");

    // Nothing lost: every article the new design lists is stored (with
    // the new reference reading the new site); nothing doubled: each
    // stored once, by its canonical URL.
    let expect = t.redesign_expect();
    let reference = TestConfig::new(&t.redesign_reference_toml(&base), "");
    let config = reference.load();
    let fetcher = kuaibao::fetch::Fetcher::new(&config.poll).expect("fetcher");
    let wanted = outlets::read_source(&fetcher, &config.poll, &config.sources[0])
        .await
        .unwrap_or_default();
    if wanted.len() != expect.items {
        problems.push(format!(
            "the new reference reads {} items, expected {}",
            wanted.len(),
            expect.items
        ));
    }
    let store = store.lock().unwrap();
    for (item, _) in &wanted {
        let canonical = kuaibao::normalize::canonical_url(&item.url);
        // A source left for a person has not lost what it has yet to read.
        if repaired && store.text_at(&canonical).ok().flatten().is_none() {
            problems.push(format!("lost {}", item.url.path()));
        }
        every_url.insert(canonical);
    }
    let stored = store.counts().expect("counts").items;
    if stored as usize > every_url.len() || repaired && (stored as usize) < every_url.len() {
        problems.push(format!(
            "{stored} items stored for {} distinct articles",
            every_url.len()
        ));
    }
    (said, repaired, problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_the_corpus_redesigns_are_noticed_at_once_and_at_least_90_percent_repaired() {
    let corpus = outlets::corpus();
    let mut repaired = 0;
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for t in &corpus {
        let (said, ok, mut p) = through_redesign(t).await;
        if ok {
            repaired += 1;
        }
        lines.push(format!(
            "{:<22} {:<8} {}",
            t.name,
            if ok { "repaired" } else { "-" },
            said
        ));
        problems.extend(p.drain(..).map(|x| format!("{}: {x}", t.name)));
    }
    println!("{}", lines.join("\n"));
    println!("repaired {repaired} of {}", corpus.len());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        repaired * 10 >= corpus.len() * 9,
        "repaired {repaired} of {}",
        corpus.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_dates_that_stop_parsing_get_a_new_date_selector() {
    let template = gd();
    let old = site_files(&template.site());
    let moved: Vec<(String, Vec<u8>)> = old
        .iter()
        .map(|(p, b)| {
            let text = String::from_utf8_lossy(b).replace(r#"class="pubDate""#, r#"class="riqi""#);
            (p.clone(), text.into_bytes())
        })
        .collect();
    let outlet = Outlet::start().await;
    serve(&outlet, &old);
    let tc = TestConfig::new(&template.reference_sources_toml(&outlet.base), "");
    tc.set_poll("heal", "\"auto\"");
    let store = Arc::new(Mutex::new(
        Store::open(&tc.dir.path().join("kuaibao.db")).expect("store"),
    ));
    poll_once(&tc.path(), &store).await;
    serve(&outlet, &moved);
    let second = poll_once(&tc.path(), &store).await;
    assert_eq!(second[0].repair_outcome, Some("applied"), "{second:?}");
    let config = tc.load();
    let date = config.sources[0]
        .list
        .as_ref()
        .and_then(|l| l.date.as_ref());
    assert!(date.is_some_and(|d| d.text.contains("riqi")), "{date:?}");
}
