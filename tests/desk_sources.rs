//! Specification of the desk's 来源 page (`/desk/sources`, administrators
//! only): every configured source with its health; adding an outlet by
//! its address (proposal, preview, then 添加 appends to the sources file,
//! audited, and the running daemon polls it without a restart); switching
//! a source off; testing its selectors; refusals shown on the page; the
//! banner of a repair heal proposed after a redesign, applied (the sources
//! file rewritten, old selectors kept in a comment and a backup, audited)
//! or dismissed.

use crate::common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use kuaibao::accounts::{self, AuditQuery, Role};
use kuaibao::metrics::Metrics;
use kuaibao::serve::{self, ServeControl, ServeState};
use tower::ServiceExt;

use common::{Outlet, Reply, TestConfig};

const PASSWORD: &str = "correct horse battery";

/// A column of `n` dated items at `/{name}/list.html`, each linking to an
/// article whose text is in `div.article_con`.
fn serve_outlet(outlet: &Outlet, name: &str, n: usize) {
    let mut list = String::from(
        "<html><head><meta charset=\"utf-8\"><title>工作动态</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a></div><ul class=\"news\">",
    );
    for i in 0..n {
        let day = i % 28 + 1;
        list.push_str(&format!(
            "<li><a href=\"/{name}/art/{i}.html\">{name}人社局召开第{i}次就业服务工作推进会</a><span class=\"date\">2025-06-{day:02}</span></li>"
        ));
        outlet.set(
            &format!("/{name}/art/{i}.html"),
            Reply::html(&format!(
                "<html><head><meta charset=\"utf-8\"><title>第{i}次推进会</title></head><body>\
                 <h1 class=\"title\">{name}人社局召开第{i}次就业服务工作推进会</h1>\
                 <div class=\"info\">发布时间：2025-06-{day:02} 09:00 来源：{name}人社局</div>\
                 <div class=\"article_con\"><p>第{i}次会议要求，各地要进一步做好高校毕业生等青年就业工作，\
                 落实就业补贴政策，加强职业技能培训，切实保障劳动者权益。会议强调，要扎实推进社会保险扩面，\
                 提升经办服务水平，编号{i}。</p><p>会议还部署了下一阶段的重点任务。</p></div>\
                 <div class=\"footer\">版权所有</div></body></html>"
            )),
        );
    }
    list.push_str("</ul><div class=\"footer\">版权所有</div></body></html>");
    outlet.set(&format!("/{name}/list.html"), Reply::html(&list));
}

/// A source with hand-written selectors for [`serve_outlet`]'s column.
fn hand_source(outlet: &Outlet, id: &str, name: &str) -> String {
    format!(
        "# 手写的来源\n[[source]]\nid = \"{id}\"\nname = \"{name}\"\nurl = \"{}/{id}/list.html\"\nkind = \"html\"\n[source.list]\nitem = \"ul.news li\"\nlink = \"a@href\"\ntitle = \"a\"\ndate = \"span.date\"\n[source.article]\ncontent = \"div.article_con\"\n",
        outlet.base
    )
}

fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The text of the first element matching `selector`, if any.
fn text_of(html: &str, selector: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<String>())
}

/// The flash message a response sets: (is an error, text).
fn flash(headers: &reqwest::header::HeaderMap) -> (bool, String) {
    let set = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("kuaibao_flash="))
        .unwrap_or_else(|| panic!("no flash in {headers:?}"));
    let value = &set["kuaibao_flash=".len()..set.find(';').unwrap()];
    let text: String = url::form_urlencoded::parse(format!("f={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (text.starts_with('e'), text[1..].to_string())
}

/// `kuaibao serve` in this process, on a free port.
struct Daemon {
    base: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    client: reqwest::Client,
}

struct Session {
    cookie: String,
    csrf: String,
}

struct Got {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Daemon {
    async fn start(tc: &TestConfig) -> Daemon {
        let config = tc.load();
        {
            let store = kuaibao::app::open_store(&config).unwrap();
            accounts::add_user(&store, "root", Role::Admin, PASSWORD).unwrap();
            accounts::add_user(&store, "alice", Role::Editor, PASSWORD).unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        // The signal channel stays open (as SIGHUP's does) but is never used.
        let (reload_tx, reload) = tokio::sync::mpsc::channel(4);
        let path: PathBuf = tc.path();
        let task = tokio::spawn(async move {
            let _keep = reload_tx;
            serve::run(
                &path,
                config,
                listener,
                ServeControl {
                    shutdown,
                    reload,
                    role: serve::Role::All,
                },
            )
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Daemon {
            base,
            stop,
            task,
            client,
        }
    }

    async fn send(&self, method: Method, path: &str, cookie: &str, body: Option<String>) -> Got {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("accept", "text/html");
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let resp = req.send().await.unwrap();
        Got {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    async fn login(&self, name: &str) -> Session {
        let got = self
            .send(
                Method::POST,
                "/desk/login",
                "",
                Some(form(&[
                    ("name", name),
                    ("password", PASSWORD),
                    ("next", "/desk/"),
                ])),
            )
            .await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        let cookie = got.headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let queue = self.send(Method::GET, "/desk/", &cookie, None).await;
        let doc = scraper::Html::parse_document(&queue.body);
        let body = scraper::Selector::parse("body").unwrap();
        let csrf = doc
            .select(&body)
            .next()
            .and_then(|b| b.value().attr("data-csrf"))
            .expect("the queue carries the CSRF token")
            .to_string();
        Session { cookie, csrf }
    }

    async fn get(&self, path: &str, s: &Session) -> Got {
        self.send(Method::GET, path, &s.cookie, None).await
    }

    /// Posts a form with the session's CSRF token.
    async fn post(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Got {
        let mut all = vec![("csrf", s.csrf.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, path, &s.cookie, Some(form(&all)))
            .await
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the daemon stops")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_adds_an_outlet_by_its_address_and_the_running_daemon_polls_it_without_a_restart()
{
    let outlet = Outlet::start().await;
    serve_outlet(&outlet, "old", 3);
    serve_outlet(&outlet, "news", 6);
    let old_text = hand_source(&outlet, "old", "老来源");
    let tc = TestConfig::new(
        &old_text,
        "[review]\nmode = \"auto\"\n[schedule]\njitter = 0.0\n",
    );
    let sources_path = tc.dir.path().join("sources.toml");
    let daemon = Daemon::start(&tc).await;
    let admin = daemon.login("root").await;
    let editor = daemon.login("alice").await;

    // The page lists the configured sources; admins see it in the nav.
    let page = daemon.get("/desk/sources", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("href=\"/desk/sources\""), "nav link");
    assert!(page.body.contains("老来源"), "{}", page.body);
    assert!(text_of(&page.body, "tr#source-old").is_some());
    let queue = daemon.get("/desk/", &editor).await;
    assert!(
        !queue.body.contains("href=\"/desk/sources\""),
        "editors have no 来源 link"
    );

    // Editors are refused, and change nothing.
    assert_eq!(
        daemon.get("/desk/sources", &editor).await.status,
        StatusCode::FORBIDDEN
    );
    let refused = daemon.post("/desk/sources/old/disable", &editor, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), old_text);

    // The preview: how it was found, the [[source]] table, the items.
    let address = outlet.url("/news/list.html");
    let preview = daemon
        .post(
            "/desk/sources/preview",
            &admin,
            &[("url", &address), ("name", "新闻厅"), ("id", "news")],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let toml = text_of(&preview.body, "pre.toml").expect("the proposed table is shown");
    assert!(
        toml.contains("[[source]]") && toml.contains("id = \"news\""),
        "{toml}"
    );
    assert!(toml.contains(&address), "{toml}");
    for i in 0..5 {
        assert!(
            preview
                .body
                .contains(&format!("news人社局召开第{i}次就业服务工作推进会")),
            "item {i} previewed"
        );
    }
    let textarea = text_of(&preview.body, "textarea[name=toml]").expect("the 添加 form");
    assert_eq!(textarea.trim(), toml.trim());

    // 添加: appended after the old text, and polled without a restart.
    let added = daemon
        .post("/desk/sources/add", &admin, &[("toml", &textarea)])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.headers["location"], "/desk/sources");
    let (is_error, message) = flash(&added.headers);
    assert!(!is_error, "{message}");
    assert!(message.contains("立即生效"), "{message}");
    let file = std::fs::read_to_string(&sources_path).unwrap();
    assert!(file.starts_with(&old_text), "{file}");
    assert!(file.contains(&address), "{file}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = daemon.get("/desk/sources", &admin).await;
        let health = text_of(&page.body, "tr#source-news .health");
        if health.as_deref() == Some("正常") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new source was never polled: {health:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The same source again: refused on the page, the file unchanged.
    let again = daemon
        .post("/desk/sources/add", &admin, &[("toml", &textarea)])
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let shown = text_of(&again.body, "#flash").unwrap();
    assert!(shown.contains("已有 id 为「news」"), "{shown}");
    assert!(
        text_of(&again.body, "textarea[name=toml]").is_some(),
        "to fix and retry"
    );
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), file);

    // A hand edit tested: the list and the first articles.
    let tested = daemon.post("/desk/sources/news/test", &admin, &[]).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    let table = text_of(&tested.body, "table.tested").expect("test results");
    assert!(table.contains("news人社局召开第0次"), "{table}");
    assert!(table.contains(" 字，来源"), "articles read: {table}");

    // Switched off: `enabled = false` in the file.
    let off = daemon.post("/desk/sources/news/disable", &admin, &[]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert!(!flash(&off.headers).0);
    let file = std::fs::read_to_string(&sources_path).unwrap();
    assert!(file.contains("enabled = false"), "{file}");
    assert!(file.starts_with(&old_text), "{file}");
    let page = daemon.get("/desk/sources", &admin).await;
    assert!(
        text_of(&page.body, "tr#source-news").is_some_and(|r| r.contains("启用")),
        "an enable button for the disabled source"
    );

    // Errors are messages, never 500s.
    let bad = daemon
        .post(
            "/desk/sources/preview",
            &admin,
            &[("url", "not an address")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(
        text_of(&bad.body, "#flash")
            .unwrap()
            .contains("不是有效的网址")
    );
    let nothing = daemon
        .post(
            "/desk/sources/preview",
            &admin,
            &[("url", &outlet.url("/missing.html"))],
        )
        .await;
    assert_eq!(nothing.status, StatusCode::OK);
    assert!(!text_of(&nothing.body, "#flash").unwrap().is_empty());
    let broken = daemon
        .post(
            "/desk/sources/add",
            &admin,
            &[("toml", "[[source]]\nid = \"x\"\n")],
        )
        .await;
    assert_eq!(broken.status, StatusCode::OK);
    assert!(text_of(&broken.body, "#flash").unwrap().contains("无效"));

    // The audit log shows both changes.
    let audit = daemon.get("/desk/audit", &admin).await;
    assert!(audit.body.contains("添加来源") && audit.body.contains("停用来源"));
    daemon.stop().await;
    let config = tc.load();
    let store = kuaibao::app::open_store(&config).unwrap();
    let entries = accounts::audit_entries(&store, &AuditQuery::default()).unwrap();
    let add = entries.iter().find(|e| e.action == "source.add").unwrap();
    assert_eq!(add.user_name, "root");
    assert_eq!(add.detail.as_deref(), Some("news"));
    assert_eq!(add.after.as_deref(), Some(address.as_str()));
    let disable = entries
        .iter()
        .find(|e| e.action == "source.disable")
        .unwrap();
    assert_eq!(disable.detail.as_deref(), Some("news"));
    assert_eq!(disable.after.as_deref(), Some("disabled"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_daemon_an_added_source_waits_for_the_next_start() {
    let outlet = Outlet::start().await;
    serve_outlet(&outlet, "news", 5);
    let tc = TestConfig::new(&hand_source(&outlet, "old", "老来源"), "");
    let config = tc.load();
    let store = kuaibao::app::open_store(&config).unwrap();
    accounts::add_user(&store, "root", Role::Admin, PASSWORD).unwrap();
    let state = ServeState::new(
        Arc::new(config),
        Arc::new(Mutex::new(store)),
        Arc::new(Metrics::new()),
    );
    state.refresh().unwrap();
    let app = serve::router(state);
    let send = |method: Method, path: &str, cookie: Option<&str>, body: Option<String>| {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("accept", "text/html");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let (status, headers) = (resp.status(), resp.headers().clone());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (
                status,
                headers,
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        }
    };
    let (status, headers, _) = send(
        Method::POST,
        "/desk/login",
        None,
        Some(form(&[("name", "root"), ("password", PASSWORD)])),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (_, _, page) = send(Method::GET, "/desk/sources", Some(&cookie), None).await;
    assert!(
        page.contains("下次启动"),
        "the page says reloads are unavailable"
    );
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("input[name=csrf]").unwrap();
    let csrf = doc
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap()
        .to_string();
    let (status, _, preview) = send(
        Method::POST,
        "/desk/sources/preview",
        Some(&cookie),
        Some(form(&[
            ("csrf", &csrf),
            ("url", &outlet.url("/news/list.html")),
        ])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let toml = text_of(&preview, "textarea[name=toml]").expect("a proposal");
    let (status, headers, _) = send(
        Method::POST,
        "/desk/sources/add",
        Some(&cookie),
        Some(form(&[("csrf", &csrf), ("toml", &toml)])),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("kuaibao_flash="))
        .unwrap();
    let decoded: String = url::form_urlencoded::parse(set.as_bytes())
        .map(|(k, v)| format!("{k}{v}"))
        .collect();
    assert!(decoded.contains("下次启动"), "{decoded}");
    let file = std::fs::read_to_string(tc.dir.path().join("sources.toml")).unwrap();
    assert!(file.contains(&outlet.url("/news/list.html")));
}

/// Records a repair of `source` as heal would: its tables now, the new
/// ones, and the evidence.
fn record_repair(
    config: &kuaibao::config::Config,
    source: &str,
    status: &str,
    old_toml: &str,
    new_toml: &str,
    evidence: &str,
) -> i64 {
    let mut store = kuaibao::app::open_store(config).unwrap();
    store
        .record_repair(&kuaibao::store::NewRepair {
            source_id: source,
            status,
            what: "list",
            confidence: 0.93,
            old_toml,
            new_toml,
            evidence,
            decided_by: None,
        })
        .unwrap()
}

const EVIDENCE: &str = r#"{"known_on_page":12,"found_again":11,"articles_checked":3,"articles_matching":3,"items":20,"notes":["列表改用 div.newslist"]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repair_heal_proposed_is_shown_with_its_evidence_and_both_tables_and_an_admin_applies_or_dismisses_it()
 {
    let outlet = Outlet::start().await;
    serve_outlet(&outlet, "gd", 4);
    let old_text = hand_source(&outlet, "gd", "广东人社");
    let tc = TestConfig::new(&old_text, "[schedule]\njitter = 0.0\n");
    // The daemon's own polls must not propose repairs of their own.
    tc.set_poll("heal", "\"off\"");
    let sources_path = tc.dir.path().join("sources.toml");
    let config = tc.load();
    let old_toml = kuaibao::heal::tables_toml(config.source("gd").unwrap());
    assert!(
        old_toml.contains("[source.list]") && old_toml.contains("ul.news li"),
        "{old_toml}"
    );
    let new_toml = old_toml.replace("ul.news li", "div.newslist li");
    let rid = record_repair(&config, "gd", "proposed", &old_toml, &new_toml, EVIDENCE);
    let daemon = Daemon::start(&tc).await;
    let admin = daemon.login("root").await;
    let editor = daemon.login("alice").await;

    // The banner: what broke, the proof, the old and new tables side by
    // side with the changed lines marked, 应用 and 忽略.
    let page = daemon.get("/desk/sources", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let banner = text_of(&page.body, "section.repair").expect("a banner for the proposal");
    assert!(
        banner.contains("广东人社") && banner.contains("列表选择器"),
        "{banner}"
    );
    assert!(banner.contains("可信度 0.93"), "{banner}");
    assert_eq!(
        text_of(&page.body, "section.repair .known").as_deref(),
        Some("12")
    );
    assert_eq!(
        text_of(&page.body, "section.repair .found").as_deref(),
        Some("11")
    );
    assert_eq!(
        text_of(&page.body, "section.repair .items").as_deref(),
        Some("20")
    );
    assert_eq!(
        text_of(&page.body, "section.repair .matching").as_deref(),
        Some("3")
    );
    assert!(
        banner.contains("列表改用 div.newslist"),
        "the notes: {banner}"
    );
    let old_pre = text_of(&page.body, "section.repair pre.old").unwrap();
    let new_pre = text_of(&page.body, "section.repair pre.new").unwrap();
    assert_eq!(old_pre.trim(), old_toml.trim());
    assert_eq!(new_pre.trim(), new_toml.trim());
    assert!(
        text_of(&page.body, "pre.old del")
            .unwrap()
            .contains("ul.news li")
    );
    assert!(
        text_of(&page.body, "pre.new ins")
            .unwrap()
            .contains("div.newslist li")
    );
    let apply = format!("/desk/sources/gd/repairs/{rid}/apply");
    let dismiss = format!("/desk/sources/gd/repairs/{rid}/dismiss");
    assert!(page.body.contains(&format!("action=\"{apply}\"")));
    assert!(page.body.contains(&format!("action=\"{dismiss}\"")));
    assert!(
        text_of(&page.body, "tr#source-gd")
            .unwrap()
            .contains("待确认的修复"),
        "the row points to the banner"
    );

    // Editors cannot apply.
    let refused = daemon.post(&apply, &editor, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), old_text);

    // 应用: the file carries the new selectors, the old ones in a comment,
    // a backup beside it; the repair is applied and audited.
    let applied = daemon.post(&apply, &admin, &[]).await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    assert_eq!(applied.headers["location"], "/desk/sources");
    let (is_error, message) = flash(&applied.headers);
    assert!(!is_error, "{message}");
    assert!(message.contains("已应用"), "{message}");
    let file = std::fs::read_to_string(&sources_path).unwrap();
    assert!(file.contains("item = \"div.newslist li\""), "{file}");
    assert!(
        file.lines()
            .any(|l| l.trim_start().starts_with('#') && l.contains("ul.news li")),
        "the old selector in a comment: {file}"
    );
    assert!(file.contains("repaired on the desk by root"), "{file}");
    let backups: Vec<String> = std::fs::read_dir(tc.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sources.toml.bak-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        std::fs::read_to_string(tc.dir.path().join(&backups[0])).unwrap(),
        old_text
    );
    let page = daemon.get("/desk/sources", &admin).await;
    assert!(
        text_of(&page.body, "section.repair").is_none(),
        "no banner any more"
    );
    assert!(
        text_of(&page.body, "tr#source-gd")
            .unwrap()
            .contains("修复于"),
        "the row says when it was repaired"
    );

    // Applied once only.
    let again = daemon.post(&apply, &admin, &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let (is_error, message) = flash(&again.headers);
    assert!(is_error && message.contains("已应用"), "{message}");
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), file);

    // A proposal made from tables edited since is not applied; 忽略 sets
    // it aside and writes nothing.
    let stale = record_repair(&config, "gd", "proposed", &old_toml, &new_toml, EVIDENCE);
    let refused = daemon
        .post(
            &format!("/desk/sources/gd/repairs/{stale}/apply"),
            &admin,
            &[],
        )
        .await;
    let (is_error, message) = flash(&refused.headers);
    assert!(is_error && message.contains("已被修改"), "{message}");
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), file);
    let dismissed = daemon
        .post(
            &format!("/desk/sources/gd/repairs/{stale}/dismiss"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::SEE_OTHER);
    let (is_error, message) = flash(&dismissed.headers);
    assert!(!is_error && message.contains("已忽略"), "{message}");
    assert_eq!(std::fs::read_to_string(&sources_path).unwrap(), file);
    let page = daemon.get("/desk/sources", &admin).await;
    assert!(text_of(&page.body, "section.repair").is_none());

    // A repair that found nothing reliable asks for a person on the row;
    // one of a source no longer configured is refused, never a 500.
    record_repair(
        &config,
        "gd",
        "failed",
        &new_toml,
        &new_toml,
        r#"{"known_on_page":9,"found_again":2,"notes":["只找回 2 篇"]}"#,
    );
    let page = daemon.get("/desk/sources", &admin).await;
    let row = text_of(&page.body, "tr#source-gd").unwrap();
    assert!(
        row.contains("需要人工") && row.contains("只找回 2 篇"),
        "{row}"
    );
    let gone = record_repair(&config, "gone", "proposed", &old_toml, &new_toml, EVIDENCE);
    let page = daemon.get("/desk/sources", &admin).await;
    assert!(
        text_of(&page.body, "section.repair").is_none(),
        "{}",
        page.body
    );
    let refused = daemon
        .post(
            &format!("/desk/sources/gone/repairs/{gone}/apply"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let (is_error, message) = flash(&refused.headers);
    assert!(is_error && message.contains("没有来源"), "{message}");
    let bad = daemon
        .post("/desk/sources/gd/repairs/x/apply", &admin, &[])
        .await;
    assert_eq!(bad.status, StatusCode::SEE_OTHER);
    assert!(flash(&bad.headers).0);

    daemon.stop().await;
    let store = kuaibao::app::open_store(&config).unwrap();
    let row = store.repair(rid).unwrap().unwrap();
    assert_eq!(row.status, "applied");
    assert_eq!(row.decided_by.as_deref(), Some("root"));
    assert_eq!(store.repair(stale).unwrap().unwrap().status, "dismissed");
    let entries = accounts::audit_entries(&store, &AuditQuery::default()).unwrap();
    let repaired = entries
        .iter()
        .find(|e| e.action == "source.repair")
        .unwrap();
    assert_eq!(repaired.user_name, "root");
    assert_eq!(repaired.detail.as_deref(), Some("gd"));
    assert_eq!(repaired.before.as_deref(), Some(old_toml.as_str()));
    assert_eq!(repaired.after.as_deref(), Some(new_toml.as_str()));
    let set_aside = entries
        .iter()
        .find(|e| e.action == "source.repair.dismiss")
        .unwrap();
    assert_eq!(set_aside.detail.as_deref(), Some("gd"));
}
