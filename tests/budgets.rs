//! The `[poll]` budgets that keep one outlet from flooding or stalling a
//! pass: new items per source, list entries, article size, requests to other
//! hosts, the per-source deadline, and the bounds on a page's markup. Each
//! names its setting when it bites, and what it holds back waits for the
//! next pass instead of being lost.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Outlet, Reply, TestConfig};
use kuaibao::app;
use kuaibao::poll::{PollOptions, PollStatus, SourceReport};
use kuaibao::store::{Status, Store};

/// Relevant news text, different for every `n`.
fn news(n: usize) -> String {
    format!(
        "第{n}号通知：某省人力资源和社会保障厅印发通知，进一步做好高校毕业生等青年就业创业工作，\
         落实稳岗扩岗政策，编号{n}的举措面向参保职工和农民工，做好社会保险和工资支付保障。"
    )
}

fn rss(items: &[(String, String, String)]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>测试厅</title><link>http://example.org/</link><description>d</description>"#,
    );
    for (link, date, content) in items {
        xml.push_str(&format!(
            "<item><title>消息{link}</title><link>{link}</link><guid>{link}</guid><pubDate>{date}</pubDate><content:encoded><![CDATA[{content}]]></content:encoded></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// RFC 2822 dates one day apart, item 0 the oldest.
fn day(n: usize) -> String {
    let d = chrono::DateTime::parse_from_rfc3339("2025-01-01T08:00:00+08:00").expect("date")
        + chrono::Duration::days(n as i64);
    d.to_rfc2822()
}

/// `count` feed items with their full text, under `prefix` on `outlet`.
fn full_text_items(outlet: &Outlet, prefix: &str, count: usize) -> Vec<(String, String, String)> {
    (0..count)
        .map(|n| {
            (
                outlet.url(&format!("{prefix}/{n:03}.html")),
                day(n),
                format!("<p>{}</p>", news(n)),
            )
        })
        .collect()
}

fn feed_source(id: &str, url: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nname = \"测试厅\"\nurl = \"{url}\"\nkind = \"feed\"\nsection = \"regional\"\n\n"
    )
}

/// An HTML list of one article at `/{id}/1.html` whose page is `page`;
/// returns the source's configuration.
fn one_article_source(outlet: &Outlet, id: &str, page: &str) -> String {
    outlet.set(&format!("/{id}/1.html"), Reply::html(page));
    outlet.set(
        &format!("/{id}/list.html"),
        Reply::html(&format!(
            "<html><body><ul class=\"list\"><li><a href=\"/{id}/1.html\">一篇文章</a></li></ul></body></html>"
        )),
    );
    format!(
        "[[source]]\nid = \"{id}\"\nname = \"测试厅\"\nurl = \"{}\"\nkind = \"html\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\n[source.article]\ncontent = \"div.body\"\n",
        outlet.url(&format!("/{id}/list.html"))
    )
}

/// One poll of a one-article source with a `[poll]` setting changed.
async fn poll_one_article(
    outlet: &Outlet,
    id: &str,
    page: &str,
    (key, value): (&str, &str),
) -> SourceReport {
    let tc = TestConfig::new(&one_article_source(outlet, id, page), "");
    tc.set_poll(key, value);
    Run::new(&tc).poll().await
}

/// The source read partially, its error naming `text`.
fn assert_partial_naming(r: &SourceReport, text: &str) {
    assert_eq!(r.status, PollStatus::Partial, "{r:?}");
    assert!(
        r.error.as_deref().unwrap_or_default().contains(text),
        "{r:?}"
    );
}

struct Run {
    config: Arc<kuaibao::config::Config>,
    store: Arc<Mutex<Store>>,
}

impl Run {
    fn new(tc: &TestConfig) -> Run {
        let config = Arc::new(tc.load());
        let store = Arc::new(Mutex::new(app::open_store(&config).expect("store")));
        Run { config, store }
    }

    async fn poll(&self) -> SourceReport {
        let opts = PollOptions {
            only: vec![],
            force: true,
        };
        let mut reports = app::poll(self.config.clone(), self.store.clone(), &opts, |_| {})
            .await
            .expect("poll pass");
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }

    fn urls(&self) -> Vec<String> {
        let store = self.store.lock().expect("lock");
        let mut urls: Vec<String> = [Status::Candidate, Status::Irrelevant]
            .into_iter()
            .flat_map(|s| store.review_items(Some(s), 100_000).expect("items"))
            .map(|i| i.url)
            .collect();
        urls.sort();
        urls
    }
}

fn limits_text(r: &SourceReport) -> String {
    r.limits.join("; ")
}

#[tokio::test]
async fn a_feed_of_many_new_items_stores_the_newest_first_and_the_rest_next_pass() {
    let outlet = Outlet::start().await;
    let items = full_text_items(&outlet, "/a", 300);
    outlet.set(
        "/feed.xml",
        Reply::new("application/rss+xml", rss(&items)).with_etag("\"v1\""),
    );
    let tc = TestConfig::new(&feed_source("big", &outlet.url("/feed.xml")), "");
    tc.set_poll("max_new_items", "20");
    let run = Run::new(&tc);

    let first = run.poll().await;
    assert_eq!(first.new, 20, "{first:?}");
    assert!(
        limits_text(&first).contains("280 new items wait for the next pass (poll.max_new_items"),
        "{first:?}"
    );
    let stored = run.urls();
    let newest: Vec<String> = (280..300)
        .map(|n| outlet.url(&format!("/a/{n:03}.html")))
        .collect();
    assert_eq!(stored, newest, "the newest twenty come first");

    // The list is read again in full (no 304 on a list with items waiting),
    // and the next twenty newest are stored.
    let second = run.poll().await;
    assert_eq!(second.new, 20, "{second:?}");
    assert_eq!(run.urls().len(), 40);
    let conditional = outlet
        .requests("/feed.xml")
        .iter()
        .filter(|h| h.contains_key("if-none-match"))
        .count();
    assert_eq!(
        conditional, 0,
        "validators are kept only once nothing waits"
    );
}

#[tokio::test]
async fn entries_beyond_max_list_entries_are_not_read_and_the_cut_is_reported() {
    let outlet = Outlet::start().await;
    let items = full_text_items(&outlet, "/a", 50);
    outlet.set("/feed.xml", Reply::new("application/rss+xml", rss(&items)));
    let tc = TestConfig::new(&feed_source("long", &outlet.url("/feed.xml")), "");
    tc.set_poll("max_list_entries", "10");
    let run = Run::new(&tc);
    let r = run.poll().await;
    assert_eq!(r.found, 10, "{r:?}");
    assert_eq!(r.new, 10);
    assert!(limits_text(&r).contains("poll.max_list_entries"), "{r:?}");
}

#[tokio::test]
async fn article_requests_to_other_hosts_are_capped_per_pass() {
    let outlet = Outlet::start().await;
    // The feed is on 127.0.0.1; its links name `localhost`, another host.
    let port = outlet.base.rsplit(':').next().expect("port").to_string();
    let items: Vec<(String, String, String)> = (0..12)
        .map(|n| {
            let path = format!("/far/{n}.html");
            outlet.set(
                &path,
                Reply::html(&format!(
                    "<html><body><article><h1>消息{n}</h1><p>{}</p><p>{}</p></article></body></html>",
                    news(n),
                    news(n + 1000)
                )),
            );
            (
                format!("http://localhost:{port}{path}"),
                day(n),
                String::new(),
            )
        })
        .collect();
    outlet.set("/feed.xml", Reply::new("application/rss+xml", rss(&items)));
    let tc = TestConfig::new(&feed_source("far", &outlet.url("/feed.xml")), "");
    tc.set_poll("max_foreign_requests", "5");
    let run = Run::new(&tc);
    let r = run.poll().await;
    let fetched: usize = (0..12)
        .map(|n| outlet.requests(&format!("/far/{n}.html")).len())
        .sum();
    assert_eq!(fetched, 5, "{r:?}");
    assert_eq!(r.new, 5);
    assert!(
        limits_text(&r).contains(
            "7 articles on other hosts wait for the next pass (poll.max_foreign_requests = 5)"
        ),
        "{r:?}"
    );
    let again = run.poll().await;
    assert_eq!(again.new, 5, "the next pass takes the next five: {again:?}");
}

#[tokio::test]
async fn a_source_stops_at_its_deadline_with_what_it_finished_kept() {
    let outlet = Outlet::start().await;
    let mut list = String::from("<html><body><ul class=\"list\">");
    for n in 0..20 {
        list.push_str(&format!(
            "<li><a href=\"/slow/{n}.html\">消息{n}</a><span>2025-06-{:02}</span></li>",
            n + 1
        ));
        outlet.set(
            &format!("/slow/{n}.html"),
            Reply::html(&format!(
                "<html><body><div class=\"body\"><p>{}</p></div></body></html>",
                news(n)
            ))
            .with_delay(Duration::from_millis(if n < 2 { 0 } else { 1500 })),
        );
    }
    list.push_str("</ul></body></html>");
    outlet.set("/slow/list.html", Reply::html(&list));
    let sources = format!(
        "[[source]]\nid = \"slow\"\nname = \"测试厅\"\nurl = \"{}\"\nkind = \"html\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\n",
        outlet.url("/slow/list.html")
    );
    let tc = TestConfig::new(&sources, "");
    tc.set_poll("source_deadline", "\"2s\"");
    tc.set_poll("per_host", "1");
    tc.set_poll("timeout", "\"10s\"");
    let run = Run::new(&tc);
    let began = Instant::now();
    let r = run.poll().await;
    assert!(
        began.elapsed() < Duration::from_secs(6),
        "took {:?}",
        began.elapsed()
    );
    assert_eq!(r.status, PollStatus::Partial, "{r:?}");
    let error = r.error.clone().unwrap_or_default();
    assert!(error.contains("poll.source_deadline"), "{error}");
    assert!(error.contains("items wait for the next pass"), "{error}");
    assert!(r.new >= 1 && r.new < 20, "{r:?}");
    assert_eq!(run.urls().len(), r.new, "what finished is kept");
}

#[tokio::test]
async fn an_article_over_max_article_is_refused_naming_the_setting() {
    let outlet = Outlet::start().await;
    let huge = format!(
        "<html><body><div class=\"body\"><p>{}</p><p>{}</p></div></body></html>",
        news(1),
        "字".repeat(200_000)
    );
    let r = poll_one_article(&outlet, "big", &huge, ("max_article", "\"100KiB\"")).await;
    assert_partial_naming(&r, "poll.max_article");
}

fn nested(depth: usize, inner: &str) -> String {
    "<div>".repeat(depth) + inner + &"</div>".repeat(depth)
}

#[tokio::test]
async fn deeply_nested_articles_are_flattened_and_stored_with_their_text() {
    let outlet = Outlet::start().await;
    let deep_text = news(7);
    outlet.set(
        "/deep/1.html",
        Reply::html(&format!(
            "<html><body><div class=\"body\">{}</div></body></html>",
            nested(50_000, &format!("<p>{deep_text}</p>"))
        )),
    );
    let items = vec![
        (outlet.url("/deep/1.html"), day(1), String::new()),
        (
            outlet.url("/deep/2.html"),
            day(2),
            nested(50_000, &format!("<p>{}</p>", news(8))),
        ),
    ];
    outlet.set(
        "/deep/feed.xml",
        Reply::new("application/rss+xml", rss(&items)),
    );
    let tc = TestConfig::new(&feed_source("deep", &outlet.url("/deep/feed.xml")), "");
    let run = Run::new(&tc);
    let r = run.poll().await;
    assert_eq!((r.status, r.new), (PollStatus::Ok, 2), "{r:?}");
    let store = run.store.lock().expect("lock");
    let texts: Vec<String> = store
        .review_items(None, 10)
        .expect("items")
        .iter()
        .map(|i| store.item_text(i.id).expect("text"))
        .collect();
    assert!(texts.iter().any(|t| t.contains(&deep_text)), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains(&news(8))), "{texts:?}");
}

#[tokio::test]
async fn a_page_of_too_many_elements_is_refused_naming_the_setting() {
    let outlet = Outlet::start().await;
    let page = format!(
        "<html><body><div class=\"body\"><p>{}</p>{}</div></body></html>",
        news(1),
        "<b></b>".repeat(5_000)
    );
    let r = poll_one_article(&outlet, "many", &page, ("max_elements", "1000")).await;
    assert_partial_naming(&r, "more than 1000 elements (poll.max_elements)");
}

#[tokio::test]
async fn a_source_that_keeps_hitting_a_budget_is_flagged_in_status() {
    let outlet = Outlet::start().await;
    let items = full_text_items(&outlet, "/f", 10);
    outlet.set("/feed.xml", Reply::new("application/rss+xml", rss(&items)));
    let tc = TestConfig::new(&feed_source("flood", &outlet.url("/feed.xml")), "");
    tc.set_poll("max_new_items", "2");
    let run = Run::new(&tc);
    for _ in 0..3 {
        run.poll().await;
    }
    let states = run
        .store
        .lock()
        .expect("lock")
        .source_states(&["flood"])
        .expect("states");
    assert_eq!(states[0].limited_passes, 3);
    assert!(
        states[0]
            .last_limits
            .as_deref()
            .unwrap_or_default()
            .contains("poll.max_new_items"),
        "{states:?}"
    );
    let table = kuaibao::report::status_table(&states);
    assert!(table.contains("limited ×3"), "{table}");
    assert!(table.contains("poll.max_new_items"), "{table}");
}
