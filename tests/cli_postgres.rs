//! The command line against PostgreSQL (`[storage] url`, issue 15): the
//! cron commands a SQLite user runs — poll, review, publish, check — work
//! the same on a shared database, and cron's run lock becomes the
//! database's advisory lock. Each test has a database of its own on a
//! server the tests start (`support::pg_server`); without PostgreSQL they
//! skip, except under `CI`.

use crate::common;
use crate::support;

use std::path::Path;
use std::time::Duration;

use common::{Outlet, Reply, TestConfig, kuaibao};
use kuaibao::lock::Job;
use support::pg_server::database;

/// Articles as a 人社厅 prints them: enough of the field for a candidate.
const NEWS: [(&str, &str); 2] = [
    (
        "省人社厅部署做好高校毕业生就业创业工作",
        "近日，省人力资源和社会保障厅印发通知，部署做好高校毕业生等青年就业创业工作。通知要求各地开展就业服务专项行动，落实一次性扩岗补助和社会保险补贴政策，对离校未就业毕业生提供实名制就业服务。\n通知明确，各地人社部门要加强招聘岗位归集，举办线上线下招聘会，开展职业技能培训和就业见习，帮助高校毕业生尽早实现就业。",
    ),
    (
        "全省开展根治欠薪冬季专项行动",
        "省人力资源和社会保障厅等部门近日启动根治欠薪冬季专项行动，重点检查工程建设领域农民工工资支付情况，督促用人单位依法按时足额支付劳动报酬。\n专项行动期间，各地人社部门将畅通欠薪维权渠道，对拒不支付劳动报酬的违法行为依法查处，保障农民工合法权益。",
    ),
];

fn serve_outlet(outlet: &Outlet) {
    let mut list = String::from("<html><body><ul class=\"list\">");
    for (i, (title, body)) in NEWS.iter().enumerate() {
        list.push_str(&format!(
            "<li><a href=\"/a/{i}.html\">{title}</a><span>2025-06-0{}</span></li>",
            i + 1
        ));
        let paragraphs: String = body.lines().map(|p| format!("<p>{p}</p>")).collect();
        outlet.set(
            &format!("/a/{i}.html"),
            Reply::html(&format!(
                "<html><head><meta charset=\"utf-8\"></head><body><h1>{title}</h1><div class=\"info\">来源：江苏省人力资源和社会保障厅</div><div class=\"body\">{paragraphs}</div></body></html>"
            )),
        );
    }
    list.push_str("</ul></body></html>");
    outlet.set("/list.html", Reply::html(&list));
}

fn sources(outlet: &Outlet) -> String {
    format!(
        "[[source]]\nid = \"js\"\nname = \"江苏省人力资源和社会保障厅\"\nurl = \"{}/list.html\"\nkind = \"html\"\nregion = \"江苏\"\nsection = \"regional\"\n[source.list]\nitem = \"ul.list li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span\"\n[source.article]\ncontent = \"div.body\"\norigin = \"div.info\"\n",
        outlet.base
    )
}

/// A test configuration whose `[storage]` is the PostgreSQL database at
/// `url` instead of the SQLite file.
fn on_postgres(tc: &TestConfig, url: &str) {
    let main = std::fs::read_to_string(tc.path()).expect("read main");
    let main = main.replace(
        "database = \"kuaibao.db\"",
        &format!(
            "url = \"{}\"",
            url.replace('\\', "\\\\").replace('"', "\\\"")
        ),
    );
    std::fs::write(tc.path(), main).expect("write main");
}

/// The PostgreSQL driver is blocking and runs a runtime of its own: from
/// the test's async body it is called off the runtime's threads.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn run(config: &Path, args: &[&str]) -> std::process::Output {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kuaibao(&config, &args)
    })
    .await
    .expect("join")
}

/// A database of the test's own, an outlet with the two articles and a
/// configuration polling it into that database; `None` when skipped.
async fn setup(test: &str) -> Option<(support::pg_server::TestDb, Outlet, TestConfig)> {
    let db = blocking(|| database(test))?;
    let outlet = Outlet::start().await;
    serve_outlet(&outlet);
    let tc = TestConfig::new(&sources(&outlet), "");
    on_postgres(&tc, &db.url);
    Some((db, outlet, tc))
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_review_approve_and_publish_run_against_postgresql() {
    let Some((_db, _outlet, tc)) =
        setup("poll_review_approve_and_publish_run_against_postgresql").await
    else {
        return;
    };

    let check = run(&tc.path(), &["check"]).await;
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("postgres://"),
        "{}",
        text(&check.stdout)
    );

    let poll = run(&tc.path(), &["poll"]).await;
    assert_eq!(poll.status.code(), Some(0), "{}", text(&poll.stderr));
    assert!(
        !tc.dir.path().join("kuaibao.db").exists(),
        "nothing is written to a SQLite file"
    );

    let list = run(&tc.path(), &["review", "list", "--json"]).await;
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let items: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    let items = items.as_array().expect("array").clone();
    assert_eq!(items.len(), 2, "{items:?}");
    let id = items[0]["id"].to_string();
    let approve = run(&tc.path(), &["review", "approve", &id]).await;
    assert_eq!(approve.status.code(), Some(0), "{}", text(&approve.stderr));

    let out = tc.out();
    let publish = run(&tc.path(), &["publish", "--out", &out.to_string_lossy()]).await;
    assert_eq!(publish.status.code(), Some(0), "{}", text(&publish.stderr));
    let feed = common::check_atom(&out.join("feeds/all.xml"));
    assert_eq!(feed.entries().len(), 1);
    // A regional story is published under its bulletin title, `江苏：…`.
    assert_eq!(
        feed.entries()[0].title().as_str(),
        format!("江苏：{}", items[0]["title"].as_str().expect("title"))
    );

    // A second poll finds nothing new: what the first stored is in the
    // database, not in the process.
    let again = run(&tc.path(), &["poll", "--json"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let list = run(&tc.path(), &["review", "list", "--json", "--status", "all"]).await;
    let all: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cron_poll_is_refused_with_75_while_another_machine_holds_the_database_lock() {
    let Some((_db, outlet, tc)) =
        setup("a_cron_poll_is_refused_while_another_holds_the_lock").await
    else {
        return;
    };
    let config = tc.load();
    // Creates the schema first, as any kuaibao connecting would.
    blocking(|| drop(kuaibao::store::Store::open_configured(&config.storage).expect("connect")));

    let held = blocking(|| kuaibao::store::lock_job(&config.storage, Job::Poll, Duration::ZERO))
        .expect("the lock is free");
    let busy = run(&tc.path(), &["poll"]).await;
    assert_eq!(busy.status.code(), Some(75), "{}", text(&busy.stderr));
    let message = text(&busy.stderr);
    assert!(
        message.contains("already polling") && message.contains("--wait"),
        "{message}"
    );
    assert!(!message.contains("password"), "{message}");
    assert_eq!(
        outlet.requests("/list.html").len(),
        0,
        "nothing was fetched"
    );

    // Publishing is another job: it does not wait on the poll lock.
    let publish = run(
        &tc.path(),
        &["publish", "--out", &tc.out().to_string_lossy()],
    )
    .await;
    assert_eq!(publish.status.code(), Some(0), "{}", text(&publish.stderr));

    blocking(|| drop(held));
    let poll = run(&tc.path(), &["poll"]).await;
    assert_eq!(poll.status.code(), Some(0), "{}", text(&poll.stderr));
    assert_eq!(outlet.requests("/list.html").len(), 1);
}
