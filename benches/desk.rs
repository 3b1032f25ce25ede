//! The editors' desk's load time: `cargo bench --bench desk`.
//!
//! Stores 2,000 candidate stories (synthetic Chinese text of ~1,500
//! characters each, spread over the four sections and the unfiled, with
//! relevance and an explanation like the classifier's), logs in, and
//! measures the server time of `GET /desk/` — the first page of the queue,
//! 200 stories with their full text — over 50 requests, in process (no
//! network): median, p90, p99 and max. Then the same for a search and for
//! the last page. Target: under 200 ms at the median and p99.
//! Options: `--items N`, `--requests N`.

mod support;

/// Measured with the allocator of the `kuaibao` binary (src/main.rs).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, TimeDelta};
use kuaibao::accounts::{self, Role};
use kuaibao::config::Config;
use kuaibao::dedup::DedupConfig;
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::serve::{ServeState, router};
use kuaibao::store::{Status, Store};
use tower::ServiceExt;

const SOURCES: usize = 12;

fn main() {
    let mut items = 2_000usize;
    let mut requests = 50usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().and_then(|v| v.parse().ok()).expect("--items N"),
            "--requests" => {
                requests = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--requests N")
            }
            _ => {}
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(items, requests));
}

async fn run(n: usize, requests: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("kuaibao.toml");
    std::fs::write(
        &main,
        "title = \"快报\"\nbase_url = \"http://127.0.0.1:8080/\"\nsources = \"sources.toml\"\n",
    )
    .expect("write");
    let mut sources = String::new();
    for i in 0..SOURCES {
        sources.push_str(&format!(
            "[[source]]\nid = \"s{i}\"\nname = \"第{i}家媒体\"\nurl = \"https://s{i}.example/rss.xml\"\nkind = \"feed\"\n\n"
        ));
    }
    std::fs::write(dir.path().join("sources.toml"), sources).expect("write");
    let config = Arc::new(Config::load(&main).expect("config"));
    let mut store = Store::open(&dir.path().join("kuaibao.db")).expect("store");
    // Synthetic texts are all different: grouping would find nothing and
    // only slow the set-up down.
    let dedup = DedupConfig {
        enabled: false,
        ..DedupConfig::default()
    };
    store.sync_sources(&config.sources).expect("sources");
    let started = Instant::now();
    let base = DateTime::parse_from_rfc3339("2025-06-01T08:00:00+08:00").expect("date");
    for i in 0..n {
        let body = support::synthetic_text(i as u64 + 1, 1_500);
        let text = body.replace("</p><p>", "\n");
        let url = format!("https://s{}.example/a/{i}.html", i % SOURCES);
        // Classified as the pipeline would have: most filed, one in five not.
        let sections = ["focus", "regional", "opinion", "abroad"];
        let section = sections.get(i % 5).copied();
        let relevance = (i * 37 % 100) as f64 / 100.0;
        let explanation = format!(
            r#"{{"reasons": ["关键词：就业 +1.5", "来源：第{}家媒体 +0.5"], "scores": [["focus", {relevance}], ["regional", 0.2]]}}"#,
            i % SOURCES
        );
        kuaibao::poll::store_item(
            &mut store,
            &NewItem {
                source_id: format!("s{}", i % SOURCES),
                guid: None,
                url: url.clone(),
                canonical_url: url.clone(),
                title: format!("第{i}号：{}", support::synthetic_text(i as u64 + 7, 18)),
                content_html: kuaibao::normalize::sanitize_html(
                    &format!("<p>{body}</p>"),
                    &url::Url::parse(&url).expect("url"),
                ),
                content_hash: format!("h{i}"),
                content_text: text,
                origin: format!("第{}家媒体", i % SOURCES),
                section: section.map(str::to_string),
                region: None,
                published: Some(base + TimeDelta::minutes(i as i64 * 17)),
                bulletin_title: None,
                relevance: Some(relevance),
                explanation: Some(explanation),
            },
            Status::Candidate,
            &dedup,
        )
        .expect("store");
    }
    accounts::add_user(&store, "bench", Role::Editor, "bench password").expect("user");
    println!(
        "stored {n} candidates in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let store = Arc::new(Mutex::new(store));
    let state = ServeState::new(config, store, Arc::new(Metrics::new()));
    let app = router(state);
    let login = app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/desk/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("name=bench&password=bench+password"))
                .expect("request"),
        )
        .await
        .expect("login");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("logged in")
        .to_string();

    let word: String = support::synthetic_text(42, 40)
        .chars()
        .skip(20)
        .take(3)
        .collect();
    let q: String = url::form_urlencoded::byte_serialize(word.as_bytes()).collect();
    let last = n.div_ceil(200).max(1);
    for (label, path) in [
        ("GET /desk/ (first page, 200 stories)", "/desk/".to_string()),
        (
            "GET /desk/?q=… (3-character search, all statuses)",
            format!("/desk/?status=all&q={q}"),
        ),
        ("GET /desk/?page=last", format!("/desk/?page={last}")),
    ] {
        let (times, bytes, items) = measure(&app, &cookie, &path, requests).await;
        report(label, &times, bytes, items);
    }
}

async fn measure(
    app: &Router,
    cookie: &str,
    path: &str,
    requests: usize,
) -> (Vec<Duration>, usize, usize) {
    let mut times = Vec::with_capacity(requests);
    let (mut bytes, mut items) = (0, 0);
    // Warm-up: prepared statements, page cache.
    for i in 0..requests + 3 {
        let started = Instant::now();
        let resp = app
            .clone()
            .oneshot(
                Request::builder()
                    .uri(path)
                    .header("accept", "text/html")
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status(), 200, "{path}");
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let elapsed = started.elapsed();
        if i >= 3 {
            times.push(elapsed);
        }
        bytes = body.len();
        items = String::from_utf8_lossy(&body)
            .matches("<article class=\"item")
            .count();
    }
    (times, bytes, items)
}

fn report(label: &str, times: &[Duration], bytes: usize, items: usize) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at = |q: f64| {
        let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted[i].as_secs_f64() * 1000.0
    };
    println!(
        "{label}: {} requests, {items} stories, {:.0} KiB: median {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sorted.len(),
        bytes as f64 / 1024.0,
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
    );
}
