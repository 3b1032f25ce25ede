//! `kuaibao serve` as operators run it: a child process that polls, serves
//! feeds that real feed readers consume, reloads on SIGHUP and stops
//! cleanly on SIGTERM.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::{Outlet, Reply, TestConfig};

/// Different news for each (name, n) of a test: texts that differ only in
/// a name and a number are one story to kuaibao.
const NEWS: [&str; 3] = [
    "某省人力资源和社会保障厅印发通知，进一步做好高校毕业生等青年就业创业工作。通知要求各地落实一次性扩岗补助和社会保险补贴政策，为离校未就业毕业生提供实名制就业服务。",
    "某市医疗保障局启动医保异地就医直接结算扩面行动，参保职工和城乡居民异地就医可直接结算医疗保险费用。市医保局表示，将进一步简化备案手续，方便参保群众就医。",
    "某县总工会联合人社部门举办农民工欠薪维权法律咨询活动，现场解答劳动争议和工资支付问题。县人社局表示，将畅通欠薪维权渠道，保障劳动者合法权益。",
];

fn article(name: &str, n: usize) -> String {
    let news = NEWS[(usize::from(name.as_bytes()[0]) + n) % NEWS.len()];
    format!(
        r#"<html><head><meta charset="utf-8"></head><body><h1>{name}第{n}条</h1><div class="info">发布日期：2025-06-{:02}　来源：测试厅</div>
        <div class="body"><p>第{n}条消息：{news}{name}编号{n}。</p></div></body></html>"#,
        n % 28 + 1
    )
}

/// A list page at `/{name}/list.html` with `n` articles.
fn serve_list(outlet: &Outlet, name: &str, n: usize) {
    let mut list = String::from("<html><body><ul class=\"list\">");
    for i in 0..n {
        list.push_str(&format!("<li><a href=\"/{name}/a/{i}.html\">{name}就业社保动态第{i}条</a><span>2025-06-{:02}</span></li>", i % 28 + 1));
        outlet.set(
            &format!("/{name}/a/{i}.html"),
            Reply::html(&article(name, i)),
        );
    }
    list.push_str("</ul></body></html>");
    outlet.set(&format!("/{name}/list.html"), Reply::html(&list));
}

fn list_source(outlet: &Outlet, name: &str) -> String {
    format!(
        "[[source]]\nid = \"{name}\"\nname = \"测试厅\"\nurl = \"{}/{name}/list.html\"\nkind = \"html\"\nsection = \"regional\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\norigin = \"div.info\"\n\n",
        outlet.base
    )
}

/// Waits until the served feed holds `n` entries; returns its body.
async fn feed_with(client: &reqwest::Client, url: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(resp) = client.get(url).send().await
            && resp.status() == 200
            && let Ok(body) = resp.text().await
            && body.matches("<entry>").count() == n
        {
            return body;
        }
        assert!(Instant::now() < deadline, "{url} never held {n} entries");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn auto_config(sources: &str) -> TestConfig {
    TestConfig::new(
        sources,
        "[review]\nmode = \"auto\"\n[schedule]\njitter = 0.0\n[server]\nstatus_public = true\n",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_polls_serves_feeds_answers_304_and_stops_on_sigterm_within_5s() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 3);
    let tc = auto_config(&list_source(&outlet, "a"));
    let daemon = Daemon::start(&tc);
    let client = reqwest::Client::new();
    let body = feed_with(&client, &daemon.url("/feeds/all.xml"), 3).await;
    assert!(body.contains("a就业社保动态第0条"));

    let first = client
        .get(daemon.url("/feeds/all.xml"))
        .send()
        .await
        .expect("get");
    let etag = first
        .headers()
        .get("etag")
        .expect("etag")
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(first.headers().get("last-modified").is_some());
    assert!(
        first
            .headers()
            .get("cache-control")
            .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("max-age")))
    );
    let again = client
        .get(daemon.url("/feeds/all.xml"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("conditional get");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());

    for path in [
        "/feeds/regional.xml",
        "/feeds/all.json",
        "/feeds.opml",
        "/",
        "/healthz",
        "/metrics",
        "/status",
    ] {
        let resp = client.get(daemon.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
    }
    let metrics = client
        .get(daemon.url("/metrics"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("kuaibao_fetches_total"), "{metrics}");

    let started = Instant::now();
    let status = daemon.stop(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let conn = rusqlite::Connection::open(tc.dir.path().join("kuaibao.db")).expect("db");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_restart_the_very_first_request_gets_the_stored_feed() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 3);
    let tc = auto_config(&list_source(&outlet, "a"));
    let client = reqwest::Client::new();
    let daemon = Daemon::start(&tc);
    feed_with(&client, &daemon.url("/feeds/all.xml"), 3).await;
    assert!(daemon.stop(Duration::from_secs(5)).success());

    // The restarted daemon's database already holds the three: the very
    // first request, made as soon as it listens, must get them.
    let daemon = Daemon::start(&tc);
    let first = client
        .get(daemon.url("/feeds/all.xml"))
        .send()
        .await
        .expect("first request");
    assert_eq!(first.status(), 200, "no 503 while the first render runs");
    let body = first.text().await.expect("body");
    assert_eq!(body.matches("<entry>").count(), 3, "{body}");
    assert!(daemon.stop(Duration::from_secs(5)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_configuration_and_a_new_source_gets_polled() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 1);
    serve_list(&outlet, "b", 2);
    let tc = auto_config(&list_source(&outlet, "a"));
    let daemon = Daemon::start(&tc);
    let client = reqwest::Client::new();
    feed_with(&client, &daemon.url("/feeds/all.xml"), 1).await;

    // A broken edit is refused and the daemon keeps running.
    std::fs::write(
        tc.dir.path().join("sources.toml"),
        "[[source]]\nid = \"x\"\n",
    )
    .expect("write");
    daemon.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        client
            .get(daemon.url("/healthz"))
            .send()
            .await
            .expect("get")
            .status(),
        200
    );

    let both = list_source(&outlet, "a") + &list_source(&outlet, "b");
    std::fs::write(tc.dir.path().join("sources.toml"), both).expect("write");
    daemon.signal("HUP");
    let body = feed_with(&client, &daemon.url("/feeds/all.xml"), 3).await;
    assert!(body.contains("b就业社保动态第1条"));
    assert_eq!(
        outlet.requests("/a/list.html").len(),
        1,
        "the kept source's schedule was not reset"
    );
    assert!(daemon.stop(Duration::from_secs(5)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cron_poll_while_the_daemon_runs_exits_75_and_changes_nothing() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 1);
    let tc = auto_config(&list_source(&outlet, "a"));
    let daemon = Daemon::start(&tc);
    let client = reqwest::Client::new();
    feed_with(&client, &daemon.url("/feeds/all.xml"), 1).await;
    let path = tc.path();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_kuaibao"))
            .arg("--config")
            .arg(path)
            .args(["poll", "--force"])
            .output()
    })
    .await
    .expect("join")
    .expect("run");
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(outlet.requests("/a/list.html").len(), 1);
    assert!(daemon.stop(Duration::from_secs(5)).success());
}

/// The published entries' titles, as the daemon serves them.
async fn served_titles(client: &reqwest::Client, url: &str) -> Vec<String> {
    let body = client
        .get(url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let feed = atom_syndication::Feed::read_from(&body[..]).expect("atom");
    feed.entries()
        .iter()
        .map(|e| e.title().as_str().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn newsboat_reads_every_published_entry_of_the_served_feed() {
    if !common::outside_program(
        "newsboat_reads_every_published_entry_of_the_served_feed",
        common::on_path("newsboat").is_some(),
        "apt-get install newsboat",
    ) {
        return;
    }
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 4);
    let tc = auto_config(&list_source(&outlet, "a"));
    let daemon = Daemon::start(&tc);
    let client = reqwest::Client::new();
    let url = daemon.url("/feeds/all.xml");
    feed_with(&client, &url, 4).await;
    let titles = served_titles(&client, &url).await;

    let home = tempfile::tempdir().expect("home");
    std::fs::write(home.path().join("urls"), format!("{url}\n")).expect("urls");
    let cache = home.path().join("cache.db");
    let (h, c) = (home.path().to_path_buf(), cache.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new("newsboat")
            .env("HOME", &h)
            .arg("-u")
            .arg(h.join("urls"))
            .arg("-c")
            .arg(&c)
            .args(["-x", "reload"])
            .output()
    })
    .await
    .expect("join")
    .expect("newsboat is installed (apt-get install newsboat; .ci/run installs it)");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let conn = rusqlite::Connection::open(&cache).expect("newsboat cache");
    let mut stmt = conn.prepare("SELECT title FROM rss_item").expect("query");
    let read: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("titles");
    for title in &titles {
        assert!(read.contains(title), "newsboat has {title:?}: {read:?}");
    }
    assert!(daemon.stop(Duration::from_secs(5)).success());
}

#[tokio::test(flavor = "multi_thread")]
async fn feedparser_reads_the_served_feeds_without_complaint() {
    if !common::outside_program(
        "feedparser_reads_the_served_feeds_without_complaint",
        common::has_feedparser(),
        "python3 -m pip install feedparser",
    ) {
        return;
    }
    let outlet = Outlet::start().await;
    serve_list(&outlet, "a", 2);
    let tc = auto_config(&list_source(&outlet, "a"));
    let daemon = Daemon::start(&tc);
    let client = reqwest::Client::new();
    feed_with(&client, &daemon.url("/feeds/all.xml"), 2).await;
    let script = r#"
import sys, feedparser
for url in sys.argv[1:]:
    d = feedparser.parse(url)
    assert d.bozo == 0, (url, d.get("bozo_exception"))
    assert d.version == "atom10", (url, d.version)
    print(url, len(d.entries))
"#;
    let urls = vec![
        daemon.url("/feeds/all.xml"),
        daemon.url("/feeds/regional.xml"),
        daemon.url("/feeds/focus.xml"),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(&urls)
            .output()
    })
    .await
    .expect("join")
    .expect("python3");
    assert!(
        out.status.success(),
        "feedparser (pip install feedparser; .ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    // Each item is in its section's feed, as the classifier filed it.
    let count = |feed: &str| -> usize {
        printed
            .lines()
            .find(|l| l.contains(feed))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(count("all.xml"), 2, "{printed}");
    assert_eq!(count("regional.xml") + count("focus.xml"), 2, "{printed}");
    assert!(daemon.stop(Duration::from_secs(5)).success());
}
