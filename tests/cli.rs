//! The `kuaibao` binary as cron and users run it: exit codes, output, and a
//! poll killed half way.

use crate::common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Outlet, Reply, TestConfig};

fn kuaibao(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run kuaibao")
}

/// Runs the binary off the async runtime so the in-process outlet keeps
/// answering.
async fn kuaibao_async(config: std::path::PathBuf, args: Vec<&'static str>) -> Output {
    tokio::task::spawn_blocking(move || kuaibao(&config, &args))
        .await
        .expect("join")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn article_page(n: usize) -> String {
    format!(
        r#"<html><head><meta charset="utf-8"></head><body><h1>第{n}条</h1><div class="info">发布日期：2025-06-{:02}　来源：测试厅</div>
        <div class="body"><p>第{n}条消息：某省人力资源和社会保障厅印发通知，进一步做好高校毕业生等青年就业创业工作，编号{n}。通知要求各地落实一次性扩岗补助和社会保险补贴政策，为离校未就业毕业生提供实名制就业服务。</p></div></body></html>"#,
        n % 28 + 1
    )
}

fn serve_list(outlet: &Outlet, n: usize, delay: Duration) {
    let mut list = String::from("<html><body><ul class=\"list\">");
    for i in 0..n {
        list.push_str(&format!(
            "<li><a href=\"/a/{i}.html\">第{i}条消息</a><span>2025-06-{:02}</span></li>",
            i % 28 + 1
        ));
        outlet.set(
            &format!("/a/{i}.html"),
            Reply::html(&article_page(i)).with_delay(delay),
        );
    }
    list.push_str("</ul></body></html>");
    outlet.set("/list.html", Reply::html(&list));
}

fn list_source(outlet: &Outlet) -> String {
    format!(
        "[[source]]\nid = \"t\"\nname = \"测试厅\"\nurl = \"{}/list.html\"\nkind = \"html\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\norigin = \"div.info\"\n",
        outlet.base
    )
}

#[test]
fn a_config_error_exits_2_naming_file_and_line() {
    let tc = TestConfig::new(
        "[[source]]\nid = \"x\"\nname = \"x\"\nurl = \"http://x/\"\nkind = \"html\"\n",
        "",
    );
    let out = kuaibao(&tc.path(), &["poll"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("sources.toml:5") && err.contains("[source.list]"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file_exits_2() {
    let out = kuaibao(
        std::path::Path::new("/nonexistent/kuaibao.toml"),
        &["status"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/kuaibao.toml"));
}

#[test]
fn a_wrong_command_line_exits_64_and_help_exits_0() {
    let tc = TestConfig::new("", "");
    assert_eq!(
        kuaibao(&tc.path(), &["poll", "--bogus"]).status.code(),
        Some(64)
    );
    let help = kuaibao(&tc.path(), &["poll", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--force"));
}

#[test]
fn check_summarizes_a_valid_configuration() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(&tc.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 sources"));
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_prints_a_table_and_json_and_exits_0_even_when_a_source_fails() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 3, Duration::ZERO);
    let mut sources = list_source(&outlet);
    sources.push_str(&format!(
        "\n[[source]]\nid = \"gone\"\nname = \"无\"\nurl = \"{}/missing.xml\"\nkind = \"feed\"\n",
        outlet.base
    ));
    let tc = TestConfig::new(&sources, "");
    let out = kuaibao_async(tc.path(), vec!["poll"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("t ") && l.contains("ok") && l.contains(" 3 ")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("gone") && l.contains("failed") && l.contains("404")),
        "{table}"
    );

    let out = kuaibao_async(tc.path(), vec!["poll", "--force", "--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let t = json
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == "t"))
        .expect("report for t");
    assert_eq!(t["status"], "ok");
    assert_eq!(t["unchanged"], 3);

    let status = kuaibao_async(tc.path(), vec!["status", "--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    let gone = json
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == "gone"))
        .expect("gone");
    assert_eq!(gone["consecutive_failures"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn review_list_approve_and_publish_from_the_command_line() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 2, Duration::ZERO);
    let tc = TestConfig::new(&list_source(&outlet), "");
    kuaibao_async(tc.path(), vec!["poll"]).await;
    let out = kuaibao_async(tc.path(), vec!["review", "list", "--json"]).await;
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = items.as_array().expect("array").clone();
    assert_eq!(items.len(), 2);
    for key in [
        "id",
        "title",
        "origin",
        "url",
        "section",
        "published",
        "status",
    ] {
        assert!(items[0].get(key).is_some(), "review list --json has {key}");
    }
    assert_eq!(items[0]["origin"], "测试厅");
    let id = items[0]["id"].to_string();
    let approve = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(tc.path())
        .args(["review", "approve", &id])
        .output()
        .expect("run");
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve.stderr));
    let unknown = kuaibao(&tc.path(), &["review", "approve", "99999"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("99999"));

    let out_dir = tc.out();
    let out_arg = out_dir.to_string_lossy().to_string();
    let publish = kuaibao(&tc.path(), &["publish", "--out", &out_arg]);
    assert_eq!(publish.status.code(), Some(0), "{}", text(&publish.stderr));
    let feed = common::check_atom(&out_dir.join("feeds/all.xml"));
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(
        feed.entries()[0].title().as_str(),
        items[0]["title"].as_str().expect("title")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_test_prints_what_it_extracts_and_stores_nothing() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 4, Duration::ZERO);
    let tc = TestConfig::new(&list_source(&outlet), "");
    let out = kuaibao_async(tc.path(), vec!["sources", "test", "t", "--articles", "2"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("4 items"), "{shown}");
    assert!(
        shown.contains("第0条消息") && shown.contains("来源 测试厅"),
        "{shown}"
    );
    assert_eq!(
        outlet.requests("/a/3.html").len(),
        0,
        "only the first articles are read"
    );
    assert!(!tc.dir.path().join("kuaibao.db").exists(), "nothing stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_killed_half_way_leaves_a_sound_database_and_the_next_poll_completes_it() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 30, Duration::from_millis(60));
    let tc = TestConfig::new(&list_source(&outlet), "");
    tc.set_poll("per_host", "1");
    let db = tc.dir.path().join("kuaibao.db");

    let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(tc.path())
        .arg("poll")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until some, not all, items are committed, then kill -9.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let n = rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM items", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if n >= 3 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let conn = rusqlite::Connection::open(&db).expect("open");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    let (items, incomplete): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), SUM(content_text = '' OR NOT EXISTS (SELECT 1 FROM item_links l WHERE l.item_id = items.id)) FROM items",
            [],
            |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0))),
        )
        .expect("count");
    assert!((1..30).contains(&items), "killed half way: {items} items");
    assert_eq!(incomplete, 0, "every committed item is whole");
    drop(conn);

    let out = kuaibao_async(tc.path(), vec!["poll", "--force"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let conn = rusqlite::Connection::open(&db).expect("open");
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .expect("count");
    let distinct: i64 = conn
        .query_row("SELECT COUNT(DISTINCT canonical_url) FROM items", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!((total, distinct), (30, 30), "nothing lost, nothing twice");
}

fn spawn_poll(config: &std::path::Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .arg("poll")
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn poll")
}

async fn finish(child: std::process::Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait")
}

fn assert_sound_and_unique(db: &std::path::Path, expected: i64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    let (total, distinct): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT canonical_url) FROM items",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    assert_eq!((total, distinct), (expected, expected), "every item once");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_polls_started_together_one_runs_and_the_other_refuses_with_75() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 10, Duration::from_millis(40));
    let tc = TestConfig::new(&list_source(&outlet), "");
    tc.set_poll("per_host", "1");
    let first = spawn_poll(&tc.path(), &[]);
    let second = spawn_poll(&tc.path(), &[]);
    let (a, b) = (finish(first).await, finish(second).await);
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(
        codes,
        [Some(0), Some(75)],
        "{}\n{}",
        text(&a.stderr),
        text(&b.stderr)
    );
    let refused = if a.status.code() == Some(75) { &a } else { &b };
    assert!(
        text(&refused.stderr).contains("already polling"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        outlet.requests("/list.html").len(),
        1,
        "the source was polled once"
    );
    assert_sound_and_unique(&tc.dir.path().join("kuaibao.db"), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_told_to_wait_runs_after_the_one_holding_the_database() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 10, Duration::from_millis(40));
    let tc = TestConfig::new(&list_source(&outlet), "");
    tc.set_poll("per_host", "1");
    let first = spawn_poll(&tc.path(), &["--wait"]);
    let second = spawn_poll(&tc.path(), &["--force", "--wait", "2m"]);
    let (a, b) = (finish(first).await, finish(second).await);
    assert_eq!(
        (a.status.code(), b.status.code()),
        (Some(0), Some(0)),
        "{}\n{}",
        text(&a.stderr),
        text(&b.stderr)
    );
    assert_sound_and_unique(&tc.dir.path().join("kuaibao.db"), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_poll_prints_only_the_sources_that_failed() {
    let outlet = Outlet::start().await;
    serve_list(&outlet, 2, Duration::ZERO);
    let mut sources = list_source(&outlet);
    sources.push_str(&format!(
        "\n[[source]]\nid = \"gone\"\nname = \"无\"\nurl = \"{}/missing.xml\"\nkind = \"feed\"\n",
        outlet.base
    ));
    let tc = TestConfig::new(&sources, "");
    let out = kuaibao_async(tc.path(), vec!["--quiet", "poll"]).await;
    assert_eq!(out.status.code(), Some(0));
    let shown = text(&out.stdout);
    assert!(shown.contains("gone") && shown.contains("404"), "{shown}");
    assert!(
        !shown.lines().any(|l| l.starts_with("t ")),
        "successful sources are not printed: {shown}"
    );
    let out = kuaibao_async(tc.path(), vec!["-q", "poll", "--force", "--source", "t"]).await;
    assert_eq!(text(&out.stdout), "", "nothing to say when nothing failed");
}

#[test]
fn classify_eval_prints_accuracy_and_a_confusion_matrix_or_json() {
    let dev = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/classify/dev.jsonl");
    let dev = dev.to_string_lossy().to_string();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kuaibao.toml");
    let out = kuaibao(&shipped, &["classify", "eval", &dev]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("accuracy") && shown.contains("off-topic"),
        "{shown}"
    );
    let out = kuaibao(&shipped, &["classify", "eval", &dev, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        json["accuracy"].as_f64().is_some_and(|a| a >= 0.95),
        "{json}"
    );
    let show = kuaibao(
        &shipped,
        &[
            "classify",
            "show",
            "--title",
            "山东省为各类就业群体提供职业技能等级认定服务",
        ],
    );
    let shown = text(&show.stdout);
    assert!(
        shown.contains("山东：为各类就业群体提供职业技能等级认定服务"),
        "{shown}"
    );
    // Whether auto mode would publish it unreviewed: news of the field at
    // once, a retiree's portrait from the same outlet only after an editor.
    let show = |title: &str, content: &str| {
        let args = [
            "classify",
            "show",
            "--title",
            title,
            "--origin",
            "人力资源社会保障部",
            "--content",
            content,
        ];
        text(&kuaibao(&shipped, &args).stdout)
    };
    let news = show(
        "人社部部署高校毕业生就业服务攻坚行动",
        "人力资源社会保障部近日印发通知，部署开展高校毕业生等青年就业服务攻坚行动，\
         要求各地摸清离校未就业毕业生底数，逐一提供就业服务，落实一次性扩岗补助和社会保险补贴政策。",
    );
    assert!(
        news.contains("in scope; auto mode publishes it at once"),
        "{news}"
    );
    let portrait = show(
        "退休老电工的书屋",
        "退休以后，老电工回到村里办起了书屋，乡亲们常来看书。社保待遇按时发放，他说日子过得踏实。",
    );
    assert!(
        portrait.contains("in scope; under relevance.publish, it waits for an editor"),
        "{portrait}"
    );
}

#[test]
fn stories_eval_prints_precision_recall_and_mistakes() {
    let pairs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dedup/pairs.jsonl");
    let tc = TestConfig::new("", "");
    let out = kuaibao(&tc.path(), &["stories", "eval", &pairs.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("precision 1.000") && shown.contains("recall 1.000"),
        "{shown}"
    );
    let missing = kuaibao(&tc.path(), &["stories", "eval", "/nonexistent.jsonl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/nonexistent.jsonl"));
}

/// A column page of six dated items between a menu and a footer, and its
/// article pages.
fn serve_column(outlet: &Outlet) {
    let mut list = String::from(
        r#"<html><head><title>工作动态_某省人力资源和社会保障厅</title></head><body>
        <div class="nav"><a href="/">首页</a><a href="/about.html">机构概况</a><a href="/col/list.html">工作动态</a></div>
        <ul class="news">"#,
    );
    for i in 0..6 {
        list.push_str(&format!(
            r#"<li><a href="/a/2025{:02}{:02}_{i}.html">某省人社厅部署第{i}批就业服务专项行动</a><span class="time">2025-06-{:02}</span></li>"#,
            6,
            i + 1,
            i + 1
        ));
        outlet.set(
            &format!("/a/2025{:02}{:02}_{i}.html", 6, i + 1),
            Reply::html(&format!(
                r#"<html><body><h1 class="tit">某省人社厅部署第{i}批就业服务专项行动</h1><div class="info">发布时间：2025-06-{:02}　来源：某省人社厅</div><div class="article"><p>为深入实施就业优先战略，某省人力资源和社会保障厅近日部署第{i}批就业服务专项行动，要求各地加强岗位归集和供需对接。</p><p>各级公共就业服务机构要开展线上线下招聘活动，重点做好高校毕业生、农民工等群体就业服务。</p><div class="share">分享到：微信 微博</div></div></body></html>"#,
                i + 1
            )),
        );
    }
    list.push_str(r#"</ul><div class="footer"><a href="https://www.gov.cn/">中国政府网</a></div></body></html>"#);
    outlet.set("/col/list.html", Reply::html(&list));
    outlet.set(
        "/",
        Reply::html(r#"<html><body><div class="nav"><a href="/about.html">机构概况</a><a href="/col/list.html">工作动态</a></div></body></html>"#),
    );
    outlet.set(
        "/about.html",
        Reply::html(
            "<html><body><p>机构概况：某省人力资源和社会保障厅是省政府组成部门。</p></body></html>",
        ),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_add_proposes_a_source_and_write_appends_it_keeping_the_file() {
    let outlet = Outlet::start().await;
    serve_column(&outlet);
    let original = "# our outlets\n";
    let tc = TestConfig::new(original, "");
    let url: &'static str = Box::leak(outlet.url("/col/list.html").into_boxed_str());

    let out = kuaibao_async(tc.path(), vec!["sources", "add", url]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("item = \"ul.news > li\""), "{shown}");
    assert!(shown.contains("content = \"div.article\""), "{shown}");
    assert!(
        shown.contains("name = \"某省人力资源和社会保障厅\""),
        "{shown}"
    );
    assert!(shown.contains("Not written"), "{shown}");
    let sources = tc.dir.path().join("sources.toml");
    assert_eq!(std::fs::read_to_string(&sources).unwrap(), original);

    let out = kuaibao_async(
        tc.path(),
        vec![
            "sources", "add", url, "--id", "mou-gzdt", "--write", "--json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["written"], true);
    assert_eq!(json["items"], 6);
    assert_eq!(json["source"]["id"], "mou-gzdt");
    assert!(
        json["preview"][0]["chars"].as_u64().unwrap_or(0) > 40,
        "{json}"
    );
    let written = std::fs::read_to_string(&sources).unwrap();
    assert!(written.starts_with(original), "{written}");
    let loaded = tc.load();
    assert_eq!(loaded.sources.len(), 1);
    assert!(
        loaded.sources[0]
            .article
            .as_ref()
            .is_some_and(|a| a.remove.iter().any(|r| r.text == ".share")),
        "the share bar is removed"
    );

    // The same address again is refused and leaves the file alone.
    let out = kuaibao_async(tc.path(), vec!["sources", "add", url, "--write"]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("already"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&sources).unwrap(), written);
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_add_on_a_page_without_a_list_says_so_and_exits_1() {
    let outlet = Outlet::start().await;
    serve_column(&outlet);
    let tc = TestConfig::new("", "");
    let url: &'static str = Box::leak(outlet.url("/about.html").into_boxed_str());
    let out = kuaibao_async(tc.path(), vec!["sources", "add", url]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no list found"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_discover_finds_the_news_column_from_the_home_page() {
    let outlet = Outlet::start().await;
    serve_column(&outlet);
    let tc = TestConfig::new("", "");
    let url: &'static str = Box::leak(outlet.url("/").into_boxed_str());
    let out = kuaibao_async(tc.path(), vec!["sources", "discover", url, "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let columns: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let columns = columns.as_array().expect("array");
    assert_eq!(
        columns.len(),
        1,
        "only the column holds a list: {columns:?}"
    );
    assert!(
        columns[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/col/list.html")
    );
    assert_eq!(columns[0]["name"], "工作动态");
    assert_eq!(columns[0]["items"], 6);
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_output_without_a_panic() {
    // `kuaibao classify eval … | head -1`: the reader goes away after the
    // first line and the rest of the report has nowhere to go.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .args(["classify", "eval", "tests/classify/tuning.jsonl"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kuaibao");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}
