//! Selectors that repair themselves: a site redesigned between two polls
//! is noticed in the poll that first sees it, repaired from its own pages
//! and proven against what was stored, and nothing is lost or doubled;
//! pages that are not redesigns (an anti-bot page, an HTTP error, an empty
//! column, a page that is no list any more) are never "repaired".

mod common;

use std::collections::HashSet;
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
async fn an_http_error_an_empty_column_and_a_page_without_a_list_are_not_repaired() {
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
    let cases: Vec<(&str, Reply)> = vec![
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
    let _ = HashSet::<String>::new();
}
