//! Specification of the editors' desk under `/desk/` in `kuaibao serve`:
//! who gets in (sessions, login limits, roles), what a form must carry
//! (CSRF), what each decision does to the store, the audit log and the
//! served feeds, and search. The last test drives the desk in headless
//! Chromium against a running `kuaibao serve`.

use crate::common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::DateTime;
use kuaibao::accounts::{self, AuditQuery, Role};
use kuaibao::config::Config;
use kuaibao::dedup::DedupConfig;
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::normalize::sanitize_html;
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{Classification, DeskItem, Status, Store};
use tempfile::TempDir;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// (slug, source, title, body, section)
const ITEMS: [(&str, &str, &str, &str, Option<&str>); 5] = [
    (
        "grads",
        "mohrss",
        "人社部部署高校毕业生就业服务攻坚行动",
        "人力资源社会保障部近日印发通知，部署开展高校毕业生等青年就业服务攻坚行动，要求各地摸清离校未就业毕业生底数，逐一提供就业服务。",
        Some("focus"),
    ),
    (
        "pension",
        "jiangsu",
        "江苏省提高城乡居民基础养老金标准",
        "江苏省人民政府决定，自今年七月起提高城乡居民基本养老保险基础养老金最低标准，每人每月增加二十元，惠及一千多万参保老人。",
        Some("regional"),
    ),
    (
        "wage",
        "xinhua",
        "德国调整法定最低工资标准",
        "德国联邦政府宣布，法定最低工资将于明年一月起上调至每小时十二点八二欧元，约六百万劳动者将因此受益，工会表示欢迎。",
        Some("abroad"),
    ),
    (
        "skills",
        "xinhua",
        "评论：让技能人才有更多获得感",
        "技能是立业之本。近年来各地出台措施提高技能人才待遇，畅通职业发展通道，激励更多劳动者走技能成才、技能报国之路。",
        Some("opinion"),
    ),
    (
        "injury",
        "mohrss",
        "工伤保险跨省异地就医直接结算试点扩围",
        "国家医保局会同人力资源社会保障部扩大工伤保险跨省异地就医直接结算试点范围，新增十个省份，参保职工看病不再垫付。",
        None,
    ),
];

struct Fixture {
    _dir: TempDir,
    store: Arc<Mutex<Store>>,
    state: ServeState,
    app: Router,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_base("http://kb.example.org/kuaibao/")
    }

    fn with_base(base: &str) -> Fixture {
        Fixture::with_config(base, "", None)
    }

    /// A fixture whose main file ends with `extra` (say a `[server]`
    /// table), with `limiter` for its logins if given.
    fn with_config(base: &str, extra: &str, limiter: Option<accounts::LoginLimiter>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("kuaibao.toml");
        std::fs::write(
            &main,
            format!(
                "title = \"测试快报\"\nbase_url = \"{base}\"\nsources = \"sources.toml\"\n{extra}"
            ),
        )
        .unwrap();
        let mut sources = String::new();
        for (id, name) in [
            ("mohrss", "人力资源社会保障部"),
            ("jiangsu", "江苏省人力资源和社会保障厅"),
            ("xinhua", "新华社"),
        ] {
            sources.push_str(&format!(
                "[[source]]\nid = \"{id}\"\nname = \"{name}\"\nurl = \"https://{id}.example/rss.xml\"\nkind = \"feed\"\n\n"
            ));
        }
        std::fs::write(dir.path().join("sources.toml"), sources).unwrap();
        let config = Arc::new(Config::load(&main).unwrap());
        let mut store = Store::open(&dir.path().join("kuaibao.db")).unwrap();
        store.sync_sources(&config.sources).unwrap();
        for (i, (slug, source, title, body, section)) in ITEMS.iter().enumerate() {
            let url = format!("https://{source}.example/{slug}.html");
            kuaibao::poll::store_item(
                &mut store,
                &NewItem {
                    source_id: source.to_string(),
                    guid: None,
                    url: url.clone(),
                    canonical_url: url.clone(),
                    title: title.to_string(),
                    content_html: sanitize_html(
                        &format!("<p>{body}</p><p>（完）</p>"),
                        &url::Url::parse(&url).unwrap(),
                    ),
                    content_text: format!("{body}\n（完）"),
                    content_hash: format!("hash-{slug}"),
                    origin: String::new(),
                    section: section.map(str::to_string),
                    region: None,
                    published: Some(
                        DateTime::parse_from_rfc3339(&format!(
                            "2025-06-{:02}T09:00:00+08:00",
                            10 + i
                        ))
                        .unwrap(),
                    ),
                    bulletin_title: None,
                    relevance: None,
                    explanation: None,
                },
                Status::Candidate,
                &kuaibao::dedup::DedupConfig::default(),
            )
            .unwrap();
        }
        accounts::add_user(&store, "alice", Role::Editor, PASSWORD).unwrap();
        accounts::add_user(&store, "root", Role::Admin, PASSWORD).unwrap();
        let store = Arc::new(Mutex::new(store));
        let mut state = ServeState::new(config, store.clone(), Arc::new(Metrics::new()));
        if let Some(limiter) = limiter {
            state = state.with_login_limiter(limiter);
        }
        state.refresh().unwrap();
        let app = serve::router(state.clone());
        Fixture {
            _dir: dir,
            store,
            state,
            app,
        }
    }

    /// The id of the item stored from `slug`.
    fn id(&self, slug: &str) -> i64 {
        let source = ITEMS
            .iter()
            .find(|i| i.0 == slug)
            .map(|i| i.1)
            .unwrap_or("mohrss");
        self.store
            .lock()
            .unwrap()
            .item_at(&format!("https://{source}.example/{slug}.html"))
            .unwrap()
            .unwrap()
    }

    fn status(&self, slug: &str) -> Status {
        let id = self.id(slug);
        self.store.lock().unwrap().review_item(id).unwrap().status
    }

    fn desk_item(&self, slug: &str) -> DeskItem {
        let id = self.id(slug);
        self.store.lock().unwrap().desk_item(id).unwrap().unwrap()
    }

    /// The story that the item stored from `slug` belongs to.
    fn story(&self, slug: &str) -> i64 {
        let id = self.id(slug);
        self.store.lock().unwrap().story_of(id).unwrap()
    }

    /// Approves the stories of `slugs`, as an editor did before.
    fn approve(&self, slugs: &[&str]) {
        for slug in slugs {
            let id = self.id(slug);
            self.store
                .lock()
                .unwrap()
                .set_status(id, Status::Approved)
                .unwrap();
        }
    }

    /// Issue `number`'s stories in print order, as slugs.
    fn contents(&self, number: &str) -> Vec<&'static str> {
        let sections = kuaibao::assemble::section_ids(&self.state.config());
        let detail = self.store.lock().unwrap().issue(number, &sections).unwrap();
        detail
            .entries
            .iter()
            .map(|e| {
                ITEMS
                    .iter()
                    .find(|(slug, source, ..)| {
                        e.url == format!("https://{source}.example/{slug}.html")
                    })
                    .map(|(slug, ..)| *slug)
                    .unwrap()
            })
            .collect()
    }

    /// The audit entries of issue actions, oldest first.
    fn issue_audit(&self) -> Vec<accounts::AuditRecord> {
        let mut entries: Vec<_> = self
            .audit()
            .into_iter()
            .filter(|e| e.action.starts_with("issue_"))
            .collect();
        entries.reverse();
        entries
    }

    fn audit(&self) -> Vec<accounts::AuditRecord> {
        accounts::audit_entries(&self.store.lock().unwrap(), &AuditQuery::default())
            .unwrap()
            .into_iter()
            .filter(|e| e.action != "login" && e.action != "logout")
            .collect()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Got {
        self.send_from(None, method, path, headers, body).await
    }

    /// [`Fixture::send`] over a connection from `peer`, as the daemon's
    /// accept loop hands requests to the router.
    async fn send_from(
        &self,
        peer: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Got {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(peer) = peer {
            let peer: std::net::SocketAddr = peer.parse().unwrap();
            req = req.extension(axum::extract::ConnectInfo(peer));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body.map_or_else(Body::empty, Body::from)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Got {
            status,
            headers,
            // Lossy: the Word export is a zip archive.
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&self, path: &str, session: Option<&Session>) -> Got {
        let cookie = session.map(|s| s.cookie.clone());
        let mut headers = vec![("accept", "text/html")];
        if let Some(c) = &cookie {
            headers.push(("cookie", c));
        }
        self.send(Method::GET, path, &headers, None).await
    }

    /// Posts a form as the browser does (`json` = as the script does).
    async fn post(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
        json: bool,
    ) -> Got {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let accept = if json {
            "application/json"
        } else {
            "text/html"
        };
        self.send(
            Method::POST,
            path,
            &[("accept", accept), ("cookie", &session.cookie)],
            Some(body),
        )
        .await
    }

    /// Posts with the session's CSRF token and `back`.
    async fn act(&self, path: &str, session: &Session, fields: &[(&str, &str)], json: bool) -> Got {
        let mut all = vec![
            ("csrf", session.csrf.as_str()),
            ("back", "/desk/?status=all"),
        ];
        all.extend_from_slice(fields);
        self.post(path, session, &all, json).await
    }

    async fn login_attempt(&self, name: &str, password: &str) -> Got {
        self.login_from(None, None, name, password).await
    }

    /// A login attempt over a connection from `peer`, with an
    /// `X-Forwarded-For` header if given.
    async fn login_from(
        &self,
        peer: Option<&str>,
        forwarded_for: Option<&str>,
        name: &str,
        password: &str,
    ) -> Got {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("name", name), ("password", password), ("next", "/desk/")])
            .finish();
        let mut headers = vec![("accept", "text/html")];
        if let Some(xff) = forwarded_for {
            headers.push(("x-forwarded-for", xff));
        }
        self.send_from(peer, Method::POST, "/desk/login", &headers, Some(body))
            .await
    }

    async fn login(&self, name: &str) -> Session {
        let got = self.login_attempt(name, PASSWORD).await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        assert_eq!(got.header("location"), "/desk/");
        let set = got.header("set-cookie").to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        let mut session = Session {
            cookie,
            csrf: String::new(),
            set_cookie: set,
        };
        let page = self.get("/desk/", Some(&session)).await;
        assert_eq!(page.status, StatusCode::OK);
        session.csrf = attr(&page.body, "data-csrf").expect("the queue carries the CSRF token");
        session
    }

    /// The served feed `path`, after the refresh the daemon's refresher
    /// would run.
    async fn feed(&self, path: &str) -> atom_syndication::Feed {
        self.state.refresh().unwrap();
        let got = self.send(Method::GET, path, &[], None).await;
        assert_eq!(got.status, StatusCode::OK);
        atom_syndication::Feed::read_from(got.body.as_bytes()).unwrap()
    }
}

struct Session {
    cookie: String,
    csrf: String,
    set_cookie: String,
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    /// The flash message the response sets: (is an error, text).
    fn flash(&self) -> (bool, String) {
        let set = self
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("kuaibao_flash="))
            .unwrap_or_else(|| panic!("no flash in {:?}", self.headers));
        let value = &set["kuaibao_flash=".len()..set.find(';').unwrap()];
        let text: String = url::form_urlencoded::parse(format!("f={value}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        (text.starts_with('e'), text[1..].to_string())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn attr(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("{name}=\""))? + name.len() + 2;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The entry titled `title` in a feed, with its category terms.
fn categories(feed: &atom_syndication::Feed, title: &str) -> Option<Vec<String>> {
    feed.entries()
        .iter()
        // The feed may carry the bulletin's title (`江苏：提高…` for
        // `江苏省提高…`): compared by their ends.
        .find(|e| {
            let tail = |t: &str| t.chars().rev().take(10).collect::<String>();
            tail(e.title().as_str()) == tail(title)
        })
        .map(|e| {
            e.categories()
                .iter()
                .map(|c| c.term().to_string())
                .collect()
        })
}

#[tokio::test]
async fn anonymous_clients_are_sent_to_the_login_form_or_get_401_and_see_no_item() {
    let f = Fixture::new();
    let got = f.get("/desk/", None).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.header("location"), "/desk/login?next=%2Fdesk%2F");
    let got = f
        .get("/desk/?status=rejected&q=%E5%B0%B1%E4%B8%9A", None)
        .await;
    assert_eq!(
        got.header("location"),
        "/desk/login?next=%2Fdesk%2F%3Fstatus%3Drejected%26q%3D%25E5%25B0%25B1%25E4%25B8%259A"
    );
    let json = f
        .send(
            Method::GET,
            "/desk/",
            &[("accept", "application/json")],
            None,
        )
        .await;
    assert_eq!(json.status, StatusCode::UNAUTHORIZED);
    assert_eq!(json.json()["ok"], false);

    // A rejected item, so that its id is one an outsider must not learn.
    let rejected = f.id("wage");
    f.store
        .lock()
        .unwrap()
        .set_status(rejected, Status::Rejected)
        .unwrap();
    let id = rejected.to_string();
    for (method, path) in [
        (Method::GET, "/desk/?status=all".to_string()),
        (Method::GET, "/desk/audit".into()),
        (Method::GET, "/desk/users".into()),
        (Method::GET, format!("/desk/items/{id}")),
        (Method::GET, "/desk/no-such-page".into()),
        (Method::POST, format!("/desk/items/{id}/approve")),
        (Method::POST, "/desk/bulk".into()),
        (Method::POST, "/desk/undo".into()),
        (Method::POST, "/desk/logout".into()),
    ] {
        for accept in ["text/html", "application/json"] {
            let got = f
                .send(
                    method.clone(),
                    &path,
                    &[("accept", accept)],
                    (method == Method::POST).then(|| format!("id={id}&action=approve")),
                )
                .await;
            assert!(
                matches!(got.status, StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED),
                "{method} {path}: {}",
                got.status
            );
            for (_, _, title, _, _) in ITEMS {
                assert!(!got.body.contains(title), "{path} shows {title}");
            }
            assert!(!got.body.contains(&format!("item-{id}")), "{path}");
        }
    }
    let login = f.get("/desk/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(!login.body.contains("data-id"));
    assert_eq!(f.status("wage"), Status::Rejected, "nothing approved it");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_read_the_same_and_the_sixth_failure_is_429() {
    let f = Fixture::new();
    let wrong = f.login_attempt("alice", "not the password").await;
    let unknown = f.login_attempt("mallory", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"));
    // The same page but for the name typed and the page's nonce.
    let main = |body: &str, name: &str| body[body.find("<main>").unwrap()..].replace(name, "NAME");
    assert_eq!(
        main(&wrong.body, "alice"),
        main(&unknown.body, "mallory"),
        "the page does not tell which names exist"
    );
    assert!(wrong.headers.get("set-cookie").is_none());
    for _ in 0..4 {
        let got = f.login_attempt("alice", "still wrong").await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    }
    let limited = f.login_attempt("alice", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(limited.body.contains("登录失败次数过多"));
    assert!(limited.headers.get("set-cookie").is_none());
    // Another account is not locked by alice's failures.
    f.login("root").await;
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_lax_and_secure_over_https() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    assert!(s.set_cookie.starts_with("kuaibao_session="));
    assert!(s.set_cookie.contains("; HttpOnly"));
    assert!(s.set_cookie.contains("; SameSite=Lax"));
    assert!(s.set_cookie.contains("; Path=/"));
    assert!(!s.set_cookie.contains("Secure"), "the desk is on http here");
    let f = Fixture::with_base("https://kb.example.org/");
    let s = f.login("alice").await;
    assert!(s.set_cookie.contains("; Secure"));
}

#[tokio::test]
async fn desk_pages_are_not_cached_framed_or_open_to_other_scripts() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    for path in ["/desk/", "/desk/audit", "/desk/login"] {
        let got = f.get(path, Some(&s)).await;
        assert_eq!(got.header("cache-control"), "no-store", "{path}");
        assert_eq!(got.header("x-frame-options"), "DENY");
        assert_eq!(got.header("referrer-policy"), "same-origin");
        let csp = got.header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
    let page = f.get("/desk/", Some(&s)).await;
    let nonce = attr(&page.body, "<script nonce").unwrap_or_default();
    let csp = page.header("content-security-policy");
    let nonce = if nonce.is_empty() {
        attr(&page.body, "script nonce").expect("the script has a nonce")
    } else {
        nonce
    };
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
    assert!(page.body.contains("name=\"viewport\""));
    assert!(page.body.contains("max-width: 700px"));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_with_403_and_changes_nothing() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let id = f.id("grads").to_string();
    for csrf in [None, Some("0".repeat(64)), Some(String::new())] {
        for (path, extra) in [
            (format!("/desk/items/{id}/approve"), vec![]),
            (
                format!("/desk/items/{id}/move"),
                vec![("section", "abroad")],
            ),
            (
                format!("/desk/items/{id}/title"),
                vec![("title", "改过的标题")],
            ),
            (
                "/desk/bulk".into(),
                vec![("id", id.as_str()), ("action", "reject")],
            ),
            ("/desk/undo".into(), vec![]),
            ("/desk/logout".into(), vec![]),
        ] {
            let mut fields = extra.clone();
            if let Some(c) = &csrf {
                fields.push(("csrf", c));
            }
            for json in [false, true] {
                let got = f.post(&path, &s, &fields, json).await;
                assert_eq!(got.status, StatusCode::FORBIDDEN, "{path} {csrf:?}");
            }
        }
    }
    assert_eq!(f.status("grads"), Status::Candidate);
    assert_eq!(f.desk_item("grads").section.as_deref(), Some("focus"));
    assert_eq!(f.desk_item("grads").bulletin_title, None);
    assert!(f.audit().is_empty());
    // The session survived the forged logouts.
    assert_eq!(f.get("/desk/", Some(&s)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn approving_writes_the_audit_log_and_reaches_the_served_feed() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let before = f.feed("/feeds/all.xml").await;
    assert!(before.entries().is_empty(), "manual review: nothing yet");
    let id = f.id("grads");
    let got = f
        .act(&format!("/desk/items/{id}/approve"), &s, &[], false)
        .await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.header("location"), "/desk/?status=all");
    assert!(got.header("set-cookie").starts_with("kuaibao_flash="));
    assert_eq!(f.status("grads"), Status::Approved);
    let audit = f.audit();
    assert_eq!(audit.len(), 1);
    let e = &audit[0];
    assert_eq!(
        (e.user_name.as_str(), e.action.as_str(), e.item_id),
        ("alice", "approve", Some(id))
    );
    assert_eq!(
        (e.before.as_deref(), e.after.as_deref()),
        (Some("candidate"), Some("approved"))
    );
    let feed = f.feed("/feeds/all.xml").await;
    assert_eq!(
        categories(&feed, ITEMS[0].2),
        Some(vec!["focus".to_string()]),
        "the approved story is served"
    );
    // The flash message is shown once on the page the form returns to.
    let flash = got
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = f
        .send(
            Method::GET,
            "/desk/?status=all",
            &[
                ("accept", "text/html"),
                ("cookie", &format!("{}; {flash}", s.cookie)),
            ],
            None,
        )
        .await;
    assert!(page.body.contains("已通过："), "flash shown");
    assert!(
        page.header("set-cookie").contains("Max-Age=0"),
        "and cleared"
    );
    // The audit page lists it.
    let audit_page = f.get("/desk/audit", Some(&s)).await;
    assert!(audit_page.body.contains("<td>alice</td><td>通过</td>"));
}

#[tokio::test]
async fn moving_a_story_changes_its_feed_category_at_once() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let id = f.id("grads");
    f.act(&format!("/desk/items/{id}/approve"), &s, &[], true)
        .await;
    let feed = f.feed("/feeds/all.xml").await;
    assert_eq!(categories(&feed, ITEMS[0].2), Some(vec!["focus".into()]));
    // In the same second as the approval: the feeds must still notice.
    let got = f
        .act(
            &format!("/desk/items/{id}/move"),
            &s,
            &[("section", "regional")],
            true,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let j = got.json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["item"]["section"], "regional");
    assert!(j["message"].as_str().unwrap().contains("各地动态"));
    assert_eq!(f.desk_item("grads").section.as_deref(), Some("regional"));
    let fixed = f
        .store
        .lock()
        .unwrap()
        .desk_item(id)
        .unwrap()
        .unwrap()
        .section_fixed;
    assert!(fixed, "the classifier leaves it alone now");
    let feed = f.feed("/feeds/all.xml").await;
    assert_eq!(categories(&feed, ITEMS[0].2), Some(vec!["regional".into()]));
    assert!(categories(&f.feed("/feeds/regional.xml").await, ITEMS[0].2).is_some());
    assert!(categories(&f.feed("/feeds/focus.xml").await, ITEMS[0].2).is_none());
    // An unknown section is refused.
    let bad = f
        .act(
            &format!("/desk/items/{id}/move"),
            &s,
            &[("section", "nope")],
            true,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let audit = f.audit();
    assert_eq!(audit[0].action, "move");
    assert_eq!(
        (audit[0].before.as_deref(), audit[0].after.as_deref()),
        (Some("focus"), Some("regional"))
    );
}

#[tokio::test]
async fn editing_the_bulletin_title_renames_the_feed_entry_and_blank_restores_it() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let id = f.id("pension");
    f.act(&format!("/desk/items/{id}/approve"), &s, &[], true)
        .await;
    let got = f
        .act(
            &format!("/desk/items/{id}/title"),
            &s,
            &[("title", "  江苏：城乡居民基础养老金再提高  ")],
            true,
        )
        .await;
    assert_eq!(
        got.json()["item"]["bulletin_title"],
        "江苏：城乡居民基础养老金再提高"
    );
    let feed = f.feed("/feeds/all.xml").await;
    assert!(categories(&feed, "江苏：城乡居民基础养老金再提高").is_some());
    let page = f.get("/desk/?status=all", Some(&s)).await;
    assert!(page.body.contains("原标题："));
    let got = f
        .act(
            &format!("/desk/items/{id}/title"),
            &s,
            &[("title", " ")],
            false,
        )
        .await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(f.desk_item("pension").bulletin_title, None);
    let feed = f.feed("/feeds/all.xml").await;
    assert!(categories(&feed, ITEMS[1].2).is_some());
    let long = "长".repeat(201);
    let got = f
        .act(
            &format!("/desk/items/{id}/title"),
            &s,
            &[("title", &long)],
            true,
        )
        .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn undo_takes_back_the_users_last_actions_one_by_one() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let id = f.id("grads");
    let path = |a: &str| format!("/desk/items/{id}/{a}");
    f.act(&path("approve"), &s, &[], true).await;
    f.act(&path("move"), &s, &[("section", "abroad")], true)
        .await;
    f.act(&path("title"), &s, &[("title", "新标题")], true)
        .await;
    // Another editor's action is not alice's to undo.
    let root = f.login("root").await;
    f.act(
        &format!("/desk/items/{}/reject", f.id("wage")),
        &root,
        &[],
        true,
    )
    .await;

    let undo = f.act("/desk/undo", &s, &[], true).await;
    assert_eq!(undo.json()["ok"], true, "{}", undo.body);
    assert_eq!(f.desk_item("grads").bulletin_title, None);
    let undo = f.act("/desk/undo", &s, &[], false).await;
    assert_eq!(undo.status, StatusCode::SEE_OTHER);
    assert_eq!(f.desk_item("grads").section.as_deref(), Some("focus"));
    f.act("/desk/undo", &s, &[], true).await;
    assert_eq!(f.status("grads"), Status::Candidate);
    let nothing = f.act("/desk/undo", &s, &[], true).await;
    assert!(
        nothing.json()["message"]
            .as_str()
            .unwrap()
            .contains("没有可以撤销")
    );
    assert_eq!(f.status("wage"), Status::Rejected, "root's decision stands");
    let undos: Vec<_> = f
        .audit()
        .into_iter()
        .filter(|e| e.action == "undo")
        .collect();
    assert_eq!(undos.len(), 3);
    assert!(undos.iter().all(|e| e.user_name == "alice"));

    // A story changed by someone else since is not overwritten.
    f.act(&path("approve"), &s, &[], true).await;
    f.act(&path("reject"), &root, &[], true).await;
    let refused = f.act("/desk/undo", &s, &[], true).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(f.status("grads"), Status::Rejected);
}

#[tokio::test]
async fn bulk_reject_decides_every_checked_story_and_undoes_as_one() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let (a, b) = (f.id("wage").to_string(), f.id("skills").to_string());
    let got = f
        .act(
            "/desk/bulk",
            &s,
            &[("id", &a), ("id", &b), ("action", "reject")],
            false,
        )
        .await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(f.status("wage"), Status::Rejected);
    assert_eq!(f.status("skills"), Status::Rejected);
    assert_eq!(f.status("grads"), Status::Candidate);
    let audit = f.audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].detail, audit[1].detail, "one batch");
    // Rejected stories leave the candidates' queue.
    let page = f.get("/desk/", Some(&s)).await;
    assert!(!page.body.contains(ITEMS[2].2));
    assert!(page.body.contains(ITEMS[0].2));
    let undo = f.act("/desk/undo", &s, &[], true).await;
    assert!(undo.json()["message"].as_str().unwrap().contains("2 条"));
    assert_eq!(f.status("wage"), Status::Candidate);
    assert_eq!(f.status("skills"), Status::Candidate);
    let none = f
        .act("/desk/bulk", &s, &[("action", "approve")], true)
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_admins_see_the_users_page() {
    let f = Fixture::new();
    let editor = f.login("alice").await;
    let got = f.get("/desk/users", Some(&editor)).await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    assert!(
        !f.get("/desk/", Some(&editor))
            .await
            .body
            .contains("/desk/users")
    );
    let admin = f.login("root").await;
    let got = f.get("/desk/users", Some(&admin)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.contains("<td>alice</td><td>编辑</td>"));
    assert!(got.body.contains("<td>root</td><td>管理员</td>"));
}

#[tokio::test]
async fn search_finds_a_story_by_a_chinese_substring_of_its_body() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let queue = |q: &str| {
        let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        format!("/desk/?status=all&q={q}")
    };
    // Three characters from the middle of the 德国 story's body: no word
    // boundary, no title word.
    let got = f.get(&queue("二点八"), Some(&s)).await;
    assert!(got.body.contains(ITEMS[2].2), "found by its body");
    for other in [ITEMS[0].2, ITEMS[1].2, ITEMS[3].2, ITEMS[4].2] {
        assert!(!got.body.contains(other), "{other}");
    }
    assert!(got.body.contains("共 1 条"));
    // Two words must both occur; two characters fall back to LIKE.
    let got = f.get(&queue("养老金 江苏"), Some(&s)).await;
    assert!(got.body.contains(ITEMS[1].2));
    assert!(got.body.contains("共 1 条"));
    let got = f.get(&queue("工伤"), Some(&s)).await;
    assert!(got.body.contains(ITEMS[4].2));
    assert!(got.body.contains("共 1 条"));
    // A title edited on the desk is searchable too.
    let id = f.id("skills");
    f.act(
        &format!("/desk/items/{id}/title"),
        &s,
        &[("title", "光明网评：技能成才正当时")],
        true,
    )
    .await;
    let got = f.get(&queue("正当时"), Some(&s)).await;
    assert!(got.body.contains("光明网评：技能成才正当时"));
    // FTS syntax is taken as text.
    let got = f.get(&queue("\"OR* NEAR("), Some(&s)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body.contains("共 0 条"));
}

#[tokio::test]
async fn the_queue_groups_by_section_in_bulletin_order_most_relevant_first() {
    let f = Fixture::new();
    let explanation = r#"{"reasons": ["关键词：养老 +2", "<b>来源</b>：人社厅"], "scores": [["focus", 0.8], ["regional", 0.15]]}"#;
    let ids: Vec<(i64, f64)> = [("grads", 0.4), ("pension", 0.9), ("skills", 0.7)]
        .into_iter()
        .map(|(slug, r)| (f.id(slug), r))
        .collect();
    {
        let mut store = f.store.lock().unwrap();
        for (id, r) in ids {
            store
                .set_classification(
                    id,
                    &Classification {
                        relevance: Some(r),
                        explanation: Some(explanation.to_string()),
                        section: Some("focus".into()),
                        ..Classification::default()
                    },
                )
                .unwrap();
        }
        // Titles are escaped, never markup: the outlet retitles one.
        let (source, slug, body) = ("mohrss", "injury", ITEMS[4].3);
        let url = format!("https://{source}.example/{slug}.html");
        kuaibao::poll::store_item(
            &mut store,
            &NewItem {
                source_id: source.to_string(),
                guid: None,
                url: url.clone(),
                canonical_url: url.clone(),
                title: "<script>alert(1)</script>".to_string(),
                content_html: sanitize_html(
                    &format!("<p>{body}</p><p>（完）</p>"),
                    &url::Url::parse(&url).unwrap(),
                ),
                content_text: format!("{body}\n（完）"),
                content_hash: format!("hash-{slug}"),
                origin: String::new(),
                section: None,
                region: None,
                published: None,
                bulletin_title: None,
                relevance: None,
                explanation: None,
            },
            Status::Candidate,
            &DedupConfig::default(),
        )
        .unwrap();
    }
    let s = f.login("alice").await;
    let page = f.get("/desk/", Some(&s)).await.body;
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle}"));
    // 最新关注 (relevance 0.9, 0.7, 0.4), then 他山之石, then the unfiled.
    assert!(at("最新关注 <span>（3 条）") < at(ITEMS[1].2));
    assert!(at(ITEMS[1].2) < at(ITEMS[3].2));
    assert!(at(ITEMS[3].2) < at(ITEMS[0].2));
    assert!(at(ITEMS[0].2) < at("他山之石 <span>（1 条）"));
    assert!(at("他山之石 <span>（1 条）") < at(ITEMS[2].2));
    assert!(at(ITEMS[2].2) < at("未分栏 <span>（1 条）"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert(1)"));
    assert!(
        page.contains("&lt;b&gt;来源&lt;/b&gt;：人社厅"),
        "explanations escaped"
    );
    assert!(
        page.contains("<td>最新关注</td><td>0.800</td>"),
        "scores by section name"
    );
    assert!(page.contains("相关度 0.90"));
    assert!(page.contains("<details class=\"full\"><summary>全文</summary>"));
    assert!(page.contains("1 家媒体刊发：江苏省人力资源和社会保障厅"));
    for key in [
        "j / k",
        "<dt>a</dt>",
        "<dt>r</dt>",
        "<dt>x</dt>",
        "<dt>/</dt>",
        "<dt>4</dt>",
    ] {
        assert!(page.contains(key), "shortcut {key} listed");
    }
    // Filters: a section, the unfiled, an outlet, a date range.
    let got = f.get("/desk/?section=abroad", Some(&s)).await.body;
    assert!(got.contains(ITEMS[2].2) && got.contains("共 1 条"));
    let got = f.get("/desk/?section=none", Some(&s)).await.body;
    assert!(got.contains("共 1 条") && got.contains("&lt;script&gt;"));
    let got = f.get("/desk/?source=xinhua", Some(&s)).await.body;
    assert!(got.contains("共 2 条"));
    let got = f
        .get("/desk/?from=2025-06-11&to=2025-06-12", Some(&s))
        .await
        .body;
    assert!(got.contains("共 2 条") && got.contains(ITEMS[1].2) && got.contains(ITEMS[2].2));
}

#[tokio::test]
async fn in_auto_mode_the_desk_marks_the_candidates_already_published_and_only_those() {
    let f = Fixture::with_config(
        "http://kb.example.org/kuaibao/",
        "[review]\nmode = \"auto\"\n",
        None,
    );
    // Under the shipped `relevance.publish` (0.993): waits for an editor.
    let unsure = f.id("wage");
    f.store
        .lock()
        .unwrap()
        .set_classification(
            unsure,
            &kuaibao::store::Classification {
                relevance: Some(0.95),
                ..Default::default()
            },
        )
        .unwrap();
    let s = f.login("alice").await;
    let page = f.get("/desk/", Some(&s)).await.body;
    let card = |slug: &str| -> String {
        let start = page
            .find(&format!("id=\"item-{}\"", f.id(slug)))
            .unwrap_or_else(|| panic!("{slug}: {page}"));
        let end = page[start..].find("</article>").expect("card end");
        page[start..start + end].to_string()
    };
    assert!(!card("wage").contains("已自动发布"), "{}", card("wage"));
    let sure = ITEMS
        .iter()
        .map(|i| i.0)
        .find(|slug| *slug != "wage")
        .expect("another item");
    assert!(card(sure).contains("已自动发布"), "{}", card(sure));
    let wage = ITEMS.iter().find(|i| i.0 == "wage").expect("wage").2;
    let feed = f.feed("/feeds/all.xml").await;
    assert!(categories(&feed, wage).is_none(), "not in the feed either");
    assert!(categories(&feed, ITEMS[0].2).is_some());
}

#[tokio::test]
async fn maybe_stories_wait_below_the_candidates_in_a_closed_group_and_reach_the_auto_feed_only_once_approved()
 {
    let f = Fixture::with_config(
        "http://kb.example.org/kuaibao/",
        "[review]\nmode = \"auto\"\n",
        None,
    );
    // 待定: 德国 wages and the 技能 commentary.
    for slug in ["wage", "skills"] {
        let id = f.id(slug);
        f.store
            .lock()
            .unwrap()
            .set_status(id, Status::Maybe)
            .unwrap();
    }
    let s = f.login("alice").await;
    let page = f.get("/desk/", Some(&s)).await.body;
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {page}"))
    };
    // Closed (no `open`), below the last candidate, saying what 待定 means.
    let group = at("<details class=\"maybe\" id=\"maybe\">");
    assert!(at(ITEMS[0].2) < group && at(ITEMS[1].2) < group);
    assert!(group < at("待定 <span>（2 条）</span>"));
    assert!(group < at("相关度介于下限与阈值之间，需编辑判断"));
    assert!(group < at(ITEMS[2].2) && group < at(ITEMS[3].2));
    assert!(page.contains("共 3 条（待审）"), "the candidates: {page}");
    assert!(
        page.contains("<a href=\"/desk/?status=maybe\">待定 2 条</a>"),
        "the summary links to them"
    );
    // The same actions as a candidate's, on each.
    for slug in ["wage", "skills"] {
        let id = f.id(slug);
        for action in ["approve", "reject", "move", "title", "merge"] {
            let form = format!("action=\"/desk/items/{id}/{action}\"");
            assert!(group < at(&form), "{slug}: {action}");
        }
    }
    // The status filter offers 待定; chosen, the stories are a plain list.
    assert!(page.contains("<option value=\"maybe\">待定</option>"));
    let only = f.get("/desk/?status=maybe", Some(&s)).await.body;
    assert!(only.contains("共 2 条（待定）"));
    assert!(only.contains("<option value=\"maybe\" selected>待定</option>"));
    assert!(only.contains(ITEMS[2].2) && !only.contains(ITEMS[0].2));
    assert!(!only.contains("<details class=\"maybe\""));
    // Other filters apply to the group too.
    let abroad = f.get("/desk/?section=abroad", Some(&s)).await.body;
    assert!(abroad.contains("待定 <span>（1 条）</span>") && abroad.contains(ITEMS[2].2));
    assert!(!abroad.contains(ITEMS[3].2));

    // Auto mode publishes the candidates, not the 待定 stories.
    let feed = f.feed("/feeds/all.xml").await;
    assert_eq!(feed.entries().len(), 3);
    assert!(categories(&feed, ITEMS[2].2).is_none());
    assert!(categories(&feed, ITEMS[3].2).is_none());

    // Approved from the group, a story is published; rejected, it is not.
    // Both are decisions, audited from 待定.
    let (wage, skills) = (f.id("wage"), f.id("skills"));
    let got = f
        .act(&format!("/desk/items/{wage}/approve"), &s, &[], true)
        .await;
    assert_eq!(got.json()["item"]["status"], "approved", "{}", got.body);
    f.act(&format!("/desk/items/{skills}/reject"), &s, &[], false)
        .await;
    assert_eq!(f.status("skills"), Status::Rejected);
    let audit = f.audit();
    let decided: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.before.as_deref(), e.after.as_deref()))
        .collect();
    assert_eq!(
        decided,
        vec![
            ("reject", Some("maybe"), Some("rejected")),
            ("approve", Some("maybe"), Some("approved")),
        ]
    );
    assert_eq!(f.store.lock().unwrap().decision_count().unwrap(), 2);
    let feed = f.feed("/feeds/all.xml").await;
    assert_eq!(categories(&feed, ITEMS[2].2), Some(vec!["abroad".into()]));
    assert!(categories(&feed, ITEMS[3].2).is_none());
    // Undone, the approved story is 待定 again and leaves the feed.
    f.act("/desk/undo", &s, &[], true).await;
    f.act("/desk/undo", &s, &[], true).await;
    assert_eq!(f.status("wage"), Status::Maybe);
    assert!(categories(&f.feed("/feeds/all.xml").await, ITEMS[2].2).is_none());

    // With nothing 待定, no group.
    for id in [wage, skills] {
        f.store
            .lock()
            .unwrap()
            .set_status(id, Status::Candidate)
            .unwrap();
    }
    let page = f.get("/desk/", Some(&s)).await.body;
    assert!(!page.contains("<details class=\"maybe\""));
    assert!(!page.contains("待定 0 条"));
}

#[tokio::test]
async fn stories_are_split_and_merged_from_the_desk_and_undone() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let (grads, injury) = (f.id("grads"), f.id("injury"));
    let story_of = |id: i64| -> i64 { f.store.lock().unwrap().story_of(id).unwrap() };
    let into = story_of(grads);
    let got = f
        .act(
            &format!("/desk/items/{injury}/merge"),
            &s,
            &[("into", &format!("#{into}"))],
            true,
        )
        .await;
    assert_eq!(got.json()["ok"], true, "{}", got.body);
    assert_eq!(story_of(injury), into);
    assert_eq!(got.json()["item"]["story_items"], 2);
    let page = f.get("/desk/", Some(&s)).await.body;
    assert!(page.contains("本报道的 2 份稿件"));
    let got = f
        .act(&format!("/desk/items/{injury}/split"), &s, &[], true)
        .await;
    assert_eq!(got.json()["ok"], true, "{}", got.body);
    assert_ne!(story_of(injury), into);
    // Undo the split: one story again; undo the merge: apart again.
    f.act("/desk/undo", &s, &[], true).await;
    assert_eq!(story_of(injury), into);
    f.act("/desk/undo", &s, &[], true).await;
    assert_ne!(story_of(injury), into);
    assert_eq!(story_of(grads), into);
    let alone = f
        .act(&format!("/desk/items/{injury}/split"), &s, &[], true)
        .await;
    assert_eq!(alone.status, StatusCode::CONFLICT);
    let missing = f
        .act(
            &format!("/desk/items/{grads}/merge"),
            &s,
            &[("into", "99999")],
            true,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let f = Fixture::new();
    let s = f.login("alice").await;
    let got = f.act("/desk/logout", &s, &[], false).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.header("location"), "/desk/login");
    let cleared = got.headers.get_all("set-cookie").iter().any(|v| {
        v.to_str().unwrap().starts_with("kuaibao_session=;")
            && v.to_str().unwrap().contains("Max-Age=0")
    });
    assert!(cleared, "{:?}", got.headers);
    // The old cookie opens nothing any more.
    let again = f.get("/desk/", Some(&s)).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let sessions = f.store.lock().unwrap().session_count().unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn a_login_posted_from_another_site_is_refused() {
    let f = Fixture::new();
    let body = format!("name=alice&password={}", PASSWORD.replace(' ', "+"));
    let got = f
        .send(
            Method::POST,
            "/desk/login",
            &[("accept", "text/html"), ("origin", "https://evil.example")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    let got = f
        .send(
            Method::POST,
            "/desk/login",
            &[
                ("accept", "text/html"),
                ("origin", "http://kb.example.org"),
                ("host", "127.0.0.1:8080"),
            ],
            Some(format!("{body}&next=https%3A%2F%2Fevil.example%2F")),
        )
        .await;
    assert_eq!(
        got.status,
        StatusCode::SEE_OTHER,
        "base_url's origin is ours"
    );
    assert_eq!(got.header("location"), "/desk/", "never sent off the desk");
}

// ---------------------------------------------------------------------
// Issues (期) on the desk.

/// Drafts issue `number` through the desk's form; the answer to it.
async fn draft(f: &Fixture, s: &Session, number: &str, date: &str) -> Got {
    f.post(
        "/desk/issues",
        s,
        &[("csrf", &s.csrf), ("number", number), ("date", date)],
        false,
    )
    .await
}

#[tokio::test]
async fn anonymous_clients_get_no_issue_page_preview_or_export() {
    let f = Fixture::new();
    f.approve(&["grads", "pension"]);
    let sections = kuaibao::assemble::section_ids(&f.state.config());
    f.store
        .lock()
        .unwrap()
        .create_issue(
            "202509",
            chrono::NaiveDate::from_ymd_opt(2025, 6, 20).unwrap(),
            &sections,
        )
        .unwrap();
    let got = f.get("/desk/issues", None).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.header("location"), "/desk/login?next=%2Fdesk%2Fissues");
    let story = f.story("grads").to_string();
    for (method, path) in [
        (Method::GET, "/desk/issues"),
        (Method::GET, "/desk/issues/202509"),
        (Method::GET, "/desk/issues/202509/preview"),
        (Method::GET, "/desk/issues/202509/export.docx"),
        (Method::GET, "/desk/issues/202509/export.md"),
        (Method::POST, "/desk/issues"),
        (Method::POST, "/desk/issues/202509/remove"),
        (Method::POST, "/desk/issues/202509/publish"),
    ] {
        for accept in ["text/html", "application/json"] {
            let got = f
                .send(
                    method.clone(),
                    path,
                    &[("accept", accept)],
                    (method == Method::POST).then(|| format!("number=202510&story={story}")),
                )
                .await;
            assert!(
                matches!(got.status, StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED),
                "{method} {path}: {}",
                got.status
            );
            for (_, _, title, _, _) in ITEMS {
                assert!(!got.body.contains(title), "{path} shows {title}");
            }
        }
    }
    assert_eq!(
        f.contents("202509"),
        ["grads", "pension"],
        "nothing changed"
    );
    assert_eq!(f.store.lock().unwrap().issues().unwrap().len(), 1);
    // A draft is not public either.
    assert_eq!(
        f.get("/issues/202509", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_editor_drafts_an_issue_through_the_form_and_it_holds_the_approved_stories() {
    let f = Fixture::new();
    // Approved through the desk, as an editor would.
    let s = f.login("alice").await;
    for slug in ["wage", "pension", "grads"] {
        let got = f
            .act(
                &format!("/desk/items/{}/approve", f.id(slug)),
                &s,
                &[],
                true,
            )
            .await;
        assert_eq!(got.json()["ok"], true);
    }
    let list = f.get("/desk/issues", Some(&s)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("cache-control"), "no-store");
    assert!(
        list.body
            .contains("<a href=\"/desk/issues\" aria-current=\"page\">期刊</a>")
    );
    assert!(list.body.contains("action=\"/desk/issues\""));
    assert!(
        list.body.contains(&s.csrf),
        "the form carries the CSRF token"
    );
    assert!(list.body.contains("现有 3 篇"));
    // The queue links to the issues too.
    assert!(
        f.get("/desk/", Some(&s))
            .await
            .body
            .contains("href=\"/desk/issues\"")
    );

    let got = draft(&f, &s, "202509", "2025-06-20").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    assert_eq!(got.header("location"), "/desk/issues/202509");
    let (error, message) = got.flash();
    assert!(!error && message.contains("收入 3 篇"), "{message}");
    // By section in bulletin order: 最新关注, 各地动态, 他山之石.
    assert_eq!(f.contents("202509"), ["grads", "pension", "wage"]);
    let info = &f.store.lock().unwrap().issues().unwrap()[0];
    assert_eq!(info.date.to_string(), "2025-06-20");

    let page = f.get("/desk/issues/202509", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    for (_, _, title, _, _) in &ITEMS[..3] {
        assert!(page.body.contains(title), "{title}");
    }
    assert!(page.body.contains("来源：人力资源社会保障部"));
    assert!(page.body.contains("2025-06-10"));
    for word in [
        "移除",
        "预览",
        "发布",
        "export.docx",
        "/desk/issues/202509/preview",
    ] {
        assert!(page.body.contains(word), "{word}");
    }
    assert!(page.body.contains("草稿"));
    assert!(!page.body.contains("本期还没有稿件"));

    // A list shows it, with its count.
    let list = f.get("/desk/issues", Some(&s)).await.body;
    assert!(list.contains("href=\"/desk/issues/202509\""));
    assert!(
        list.contains("<td>2025-06-20</td><td><span class=\"badge\">草稿</span></td><td>3</td>")
    );

    // Bad and taken numbers are a message, not a 500; nothing is created.
    for (number, words) in [
        ("2025-9", "不是期号"),
        ("20259", "不是期号"),
        ("202509", "已存在"),
    ] {
        let got = draft(&f, &s, number, "").await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{number}");
        assert_eq!(got.header("location"), "/desk/issues");
        let (error, message) = got.flash();
        assert!(error && message.contains(words), "{number}: {message}");
    }
    let bad_date = draft(&f, &s, "202510", "20.6.2025").await;
    assert!(bad_date.flash().0);
    let got = f
        .post(
            "/desk/issues",
            &s,
            &[("csrf", &s.csrf), ("number", "abc")],
            true,
        )
        .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(got.json()["ok"], false);
    assert_eq!(f.store.lock().unwrap().issues().unwrap().len(), 1);

    // The next draft takes only what was approved since; the date
    // defaults to today.
    f.approve(&["skills"]);
    let got = draft(&f, &s, "202510", "").await;
    assert_eq!(got.header("location"), "/desk/issues/202510");
    assert_eq!(f.contents("202510"), ["skills"]);
    let today = kuaibao::assemble::today();
    let issues = f.store.lock().unwrap().issues().unwrap();
    assert_eq!(issues[0].number, "202510");
    assert_eq!(issues[0].date, today);
    // An unknown issue is a 404 page for an editor.
    assert_eq!(
        f.get("/desk/issues/209901", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get("/desk/issues/abc", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
    let audit = f.issue_audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (
            audit[0].user_name.as_str(),
            audit[0].action.as_str(),
            audit[0].after.as_deref(),
            audit[0].detail.as_deref()
        ),
        ("alice", "issue_new", Some("draft"), Some("202509"))
    );
}

#[tokio::test]
async fn move_remove_and_add_reorder_the_draft_and_are_audited() {
    let f = Fixture::new();
    // Two stories in 最新关注, so that there is something to reorder.
    let injury = f.id("injury");
    f.store
        .lock()
        .unwrap()
        .set_section(injury, Some("focus"), &kuaibao::classify::filed_title)
        .unwrap();
    f.approve(&["grads", "injury", "pension", "skills"]);
    let s = f.login("alice").await;
    draft(&f, &s, "202509", "2025-06-20").await;
    assert_eq!(
        f.contents("202509"),
        ["grads", "injury", "pension", "skills"]
    );
    let base = "/desk/issues/202509";
    let page = f.get(base, Some(&s)).await.body;
    // 上移 only where there is a neighbour above in the section, 下移
    // below: injury can go up, grads down, pension (alone) neither.
    assert_eq!(page.matches(">上移<").count(), 1);
    assert_eq!(page.matches(">下移<").count(), 1);
    assert_eq!(page.matches(">移除<").count(), 4);

    // 上移 as the page's button posts it.
    let (grads, injury, pension, wage) = (
        f.story("grads").to_string(),
        f.story("injury").to_string(),
        f.story("pension").to_string(),
        f.story("wage").to_string(),
    );
    let got = f
        .act(
            &format!("{base}/move"),
            &s,
            &[("story", &injury), ("position", "1")],
            false,
        )
        .await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(got.header("location"), base);
    let (error, message) = got.flash();
    assert!(
        !error && message.contains("从第 2 位移到第 1 位"),
        "{message}"
    );
    assert_eq!(
        f.contents("202509"),
        ["injury", "grads", "pension", "skills"]
    );

    // A position past its section's end keeps it in its section, last.
    let got = f
        .act(
            &format!("{base}/move"),
            &s,
            &[("story", &injury), ("position", "4")],
            true,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.json()["ok"], true);
    assert_eq!(
        got.json()["issue"]["entries"][1]["story_id"].to_string(),
        injury
    );
    assert_eq!(
        f.contents("202509"),
        ["grads", "injury", "pension", "skills"]
    );
    // Outside the issue: refused.
    let got = f
        .act(
            &format!("{base}/move"),
            &s,
            &[("story", &injury), ("position", "9")],
            true,
        )
        .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);

    let got = f
        .act(&format!("{base}/remove"), &s, &[("story", &pension)], false)
        .await;
    assert!(!got.flash().0, "{:?}", got.flash());
    assert_eq!(f.contents("202509"), ["grads", "injury", "skills"]);
    // The removed story may be added again: it is listed as free.
    let page = f.get(base, Some(&s)).await.body;
    assert!(page.contains("可加入的报道"));
    assert!(page.contains(&format!(
        "name=\"story\" value=\"{pension}\"><button type=\"submit\" class=\"ok\">加入"
    )));
    // What may not go in is refused with a message: a candidate, a story
    // already in.
    let got = f
        .act(&format!("{base}/add"), &s, &[("story", &wage)], true)
        .await;
    assert_eq!(got.status, StatusCode::CONFLICT);
    let got = f
        .act(&format!("{base}/add"), &s, &[("story", &grads)], false)
        .await;
    let (error, message) = got.flash();
    assert!(error && message.contains("已在第 202509 期中"), "{message}");
    // Added back, at the end of its section; a story approved since too.
    f.approve(&["wage"]);
    for story in [&pension, &wage] {
        let got = f
            .act(&format!("{base}/add"), &s, &[("story", story)], true)
            .await;
        assert_eq!(got.json()["ok"], true, "{}", got.body);
    }
    assert_eq!(
        f.contents("202509"),
        ["grads", "injury", "pension", "skills", "wage"]
    );

    // The date.
    let got = f
        .act(&format!("{base}/date"), &s, &[("date", "2025-07-01")], true)
        .await;
    assert_eq!(got.json()["issue"]["date"], "2025-07-01");

    let audit = f.issue_audit();
    let seen: Vec<(&str, Option<&str>, Option<&str>)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.before.as_deref(), e.after.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("issue_new", None, Some("draft")),
            ("issue_move", Some("2"), Some("1")),
            ("issue_move", Some("1"), Some("2")),
            ("issue_remove", Some("3"), None),
            ("issue_add", None, Some("3")),
            ("issue_add", None, Some("5")),
            ("issue_date", Some("2025-06-20"), Some("2025-07-01")),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|e| e.user_name == "alice" && e.detail.as_deref() == Some("202509"))
    );
    assert_eq!(audit[1].story_id, Some(f.story("injury")));
    assert_eq!(audit[1].item_id, Some(f.id("injury")));
    let audit_page = f.get("/desk/audit", Some(&s)).await.body;
    assert!(audit_page.contains("<td>调整顺序</td>"));
    assert!(audit_page.contains("<td>第 2 位</td><td>第 1 位</td><td>第 202509 期</td>"));
}

#[tokio::test]
async fn issue_forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let f = Fixture::new();
    let injury = f.id("injury");
    f.store
        .lock()
        .unwrap()
        .set_section(injury, Some("focus"), &kuaibao::classify::filed_title)
        .unwrap();
    f.approve(&["grads", "injury", "pension"]);
    let s = f.login("alice").await;
    draft(&f, &s, "202509", "2025-06-20").await;
    f.approve(&["wage"]);
    let (grads, wage) = (f.story("grads").to_string(), f.story("wage").to_string());
    let before = f.issue_audit().len();
    for csrf in [None, Some("0".repeat(64)), Some(String::new())] {
        for (path, extra) in [
            ("/desk/issues", vec![("number", "202510")]),
            (
                "/desk/issues/202509/move",
                vec![("story", grads.as_str()), ("position", "2")],
            ),
            (
                "/desk/issues/202509/remove",
                vec![("story", grads.as_str())],
            ),
            ("/desk/issues/202509/add", vec![("story", wage.as_str())]),
            ("/desk/issues/202509/date", vec![("date", "2025-07-01")]),
            ("/desk/issues/202509/publish", vec![]),
        ] {
            let mut fields = extra.clone();
            if let Some(c) = &csrf {
                fields.push(("csrf", c));
            }
            for json in [false, true] {
                let got = f.post(path, &s, &fields, json).await;
                assert_eq!(got.status, StatusCode::FORBIDDEN, "{path} {csrf:?}");
            }
        }
    }
    assert_eq!(f.contents("202509"), ["grads", "injury", "pension"]);
    let issues = f.store.lock().unwrap().issues().unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].status, kuaibao::store::IssueStatus::Draft);
    assert_eq!(issues[0].date.to_string(), "2025-06-20");
    assert_eq!(f.issue_audit().len(), before);
}

#[tokio::test]
async fn the_preview_and_exports_of_a_draft_need_a_session() {
    let f = Fixture::new();
    f.approve(&["grads", "pension"]);
    let s = f.login("alice").await;
    draft(&f, &s, "202509", "2025-06-20").await;
    let preview = f.get("/desk/issues/202509/preview", Some(&s)).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.header("content-type").starts_with("text/html"));
    assert_eq!(preview.header("cache-control"), "no-store");
    for (_, _, title, _, _) in &ITEMS[..2] {
        assert!(preview.body.contains(title), "{title}");
    }
    assert!(preview.body.contains("第 202509 期"));
    // Its stylesheet is allowed by the page's nonce, nothing else.
    let csp = preview.header("content-security-policy");
    let nonce = attr(&preview.body, "<style nonce").expect("a nonce on the style");
    assert!(csp.contains(&format!("style-src 'nonce-{nonce}'")), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let anonymous = f.get("/desk/issues/202509/preview", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(!anonymous.body.contains(ITEMS[0].2));

    let docx = f.get("/desk/issues/202509/export.docx", Some(&s)).await;
    assert_eq!(docx.status, StatusCode::OK);
    assert!(docx.body.starts_with("PK"), "a zip archive");
    assert_eq!(
        docx.header("content-disposition"),
        "attachment; filename=\"kuaibao-202509.docx\""
    );
    assert!(docx.header("content-type").contains("wordprocessingml"));
    for (ext, kind) in [
        ("md", "text/markdown"),
        ("html", "text/html"),
        ("txt", "text/plain"),
    ] {
        let got = f
            .get(&format!("/desk/issues/202509/export.{ext}"), Some(&s))
            .await;
        assert_eq!(got.status, StatusCode::OK, "{ext}");
        assert!(got.header("content-type").starts_with(kind), "{ext}");
        assert!(got.header("content-disposition").starts_with("attachment"));
        assert!(got.body.contains(ITEMS[0].2), "{ext}");
    }
    assert_eq!(
        f.get("/desk/issues/202509/export.pdf", Some(&s))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get("/desk/issues/209901/preview", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn publishing_on_the_desk_serves_the_issue_and_its_feed_and_unpublishing_takes_it_back() {
    let f = Fixture::new();
    f.approve(&["grads", "pension"]);
    let s = f.login("root").await;
    let got = draft(&f, &s, "202508", "2025-05-20").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    assert_eq!(f.contents("202508"), ["grads", "pension"]);
    // Nothing is left for the next draft, and an empty one cannot be
    // published.
    let got = draft(&f, &s, "202509", "2025-06-20").await;
    assert_eq!(got.header("location"), "/desk/issues/202509");
    assert!(f.contents("202509").is_empty());
    let empty = f.act("/desk/issues/202509/publish", &s, &[], true).await;
    assert_eq!(empty.status, StatusCode::CONFLICT);
    assert!(f.feed("/feeds/issues.xml").await.entries().is_empty());

    let got = f.act("/desk/issues/202508/publish", &s, &[], false).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER);
    let (error, message) = got.flash();
    assert!(!error && message.contains("已发布"), "{message}");
    let feed = f.feed("/feeds/issues.xml").await;
    assert_eq!(feed.entries().len(), 1);
    assert!(feed.entries()[0].title().as_str().contains("202508"));
    let public = f.get("/issues/202508", None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains(ITEMS[0].2));

    // Read-only on the desk now, with its public page.
    let page = f.get("/desk/issues/202508", Some(&s)).await.body;
    assert!(page.contains("已发布"));
    assert!(page.contains("href=\"http://kb.example.org/kuaibao/issues/202508\""));
    assert!(page.contains("撤回发布"));
    assert!(!page.contains(">移除<") && !page.contains(">上移<") && !page.contains("可加入的报道"));
    let grads = f.story("grads").to_string();
    let frozen = f
        .act("/desk/issues/202508/remove", &s, &[("story", &grads)], true)
        .await;
    assert_eq!(frozen.status, StatusCode::CONFLICT);
    assert!(
        frozen.json()["message"]
            .as_str()
            .unwrap()
            .contains("撤回发布")
    );
    assert_eq!(f.contents("202508"), ["grads", "pension"]);

    let got = f.act("/desk/issues/202508/unpublish", &s, &[], true).await;
    assert_eq!(got.json()["ok"], true, "{}", got.body);
    assert_eq!(got.json()["issue"]["status"], "draft");
    assert!(f.feed("/feeds/issues.xml").await.entries().is_empty());
    assert_eq!(
        f.get("/issues/202508", None).await.status,
        StatusCode::NOT_FOUND
    );

    let seen: Vec<(String, Option<String>, Option<String>)> = f
        .issue_audit()
        .into_iter()
        .filter(|e| e.action.ends_with("publish"))
        .map(|e| (e.action, e.before, e.after))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "issue_publish".into(),
                Some("draft".into()),
                Some("published".into())
            ),
            (
                "issue_unpublish".into(),
                Some("published".into()),
                Some("draft".into())
            ),
        ]
    );
    assert!(
        f.get("/desk/audit", Some(&s))
            .await
            .body
            .contains("<td>root</td><td>发布期刊</td>")
    );
}

// ---------------------------------------------------------------------
// End to end: headless Chromium through chromedriver, against `kuaibao
// serve` as operators run it.

/// A program on `PATH`, as `command -v` finds it.
/// Three stories in one RSS feed carrying their full text.
fn rss() -> String {
    let mut items = String::new();
    for (i, (slug, _, title, body, _)) in ITEMS.iter().take(3).enumerate() {
        items.push_str(&format!(
            "<item><title>{title}</title><link>https://www.mohrss.gov.cn/{slug}.html</link>\
             <guid>{slug}</guid><pubDate>{} Jun 2025 09:00:00 +0800</pubDate>\
             <content:encoded><![CDATA[<p>{body}</p><p>（完）</p>]]></content:encoded></item>\n",
            ["Tue, 10", "Wed, 11", "Thu, 12"][i]
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>\
         <title>人社部</title><link>https://www.mohrss.gov.cn/</link><description>d</description>\n{items}</channel></rss>"
    )
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kuaibao_serve(config: &std::path::Path) -> (Killed, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .args(["-v", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kuaibao serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("serve announces its address")
            .expect("line");
        if let Some(at) = line.find("http://") {
            break line[at..]
                .split_whitespace()
                .next()
                .expect("url")
                .trim_end_matches('/')
                .to_string();
        }
    };
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("kuaibao serve: {line}");
        }
    });
    (Killed(child), base)
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of `#flash` on the page a form post was redirected to, read
/// again while the old page's element goes stale under it.
async fn flash_after_redirect(
    browser: &fantoccini::Client,
) -> Result<String, fantoccini::error::CmdError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let read = async {
            let flash = browser.find(fantoccini::Locator::Css("#flash")).await?;
            flash.text().await
        };
        match read.await {
            Ok(text) if !text.trim().is_empty() => return Ok(text),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(text) => return Ok(text),
            Err(e) => return Err(e),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_works_the_queue_in_a_real_browser() {
    let (chromedriver, chromium) = (common::on_path("chromedriver"), common::on_path("chromium"));
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        common::outside_program(
            "an_editor_works_the_queue_in_a_real_browser",
            false,
            "apt-get install chromium chromium-driver",
        );
        return;
    };
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    use fantoccini::{ClientBuilder, Locator};

    let outlet = common::Outlet::start().await;
    outlet.set(
        "/rss.xml",
        common::Reply::new("application/rss+xml; charset=utf-8", rss()),
    );
    let tc = common::TestConfig::new(
        &format!(
            "[[source]]\nid = \"mohrss\"\nname = \"人力资源社会保障部\"\nurl = \"{}\"\nkind = \"feed\"\nsection = \"focus\"\n",
            outlet.url("/rss.xml")
        ),
        // Poll at once rather than spread over the first minutes; the
        // test reads /status.json without logging in.
        "[schedule]\njitter = 0.0\n[server]\nstatus_public = true\n",
    );
    let mut add = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(tc.path())
        .args(["user", "add", "alice", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("kuaibao user add");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    assert!(add.wait().expect("user add").success());
    // A 待定 story, stored before the daemon starts: the classifier was
    // unsure, an editor decides.
    let maybe_id = {
        let mut store = Store::open(&tc.dir.path().join("kuaibao.db")).expect("the database");
        store.sync_sources(&tc.load().sources).expect("sources");
        let (slug, _, title, body, section) = ITEMS[3];
        let url = format!("https://www.mohrss.gov.cn/{slug}.html");
        kuaibao::poll::store_item(
            &mut store,
            &NewItem {
                source_id: "mohrss".into(),
                guid: None,
                url: url.clone(),
                canonical_url: url.clone(),
                title: title.into(),
                content_html: sanitize_html(
                    &format!("<p>{body}</p>"),
                    &url::Url::parse(&url).expect("url"),
                ),
                content_text: body.into(),
                content_hash: format!("hash-{slug}"),
                origin: String::new(),
                section: section.map(str::to_string),
                region: None,
                published: None,
                bulletin_title: None,
                relevance: Some(0.3),
                explanation: None,
            },
            Status::Maybe,
            &DedupConfig::default(),
        )
        .expect("stored")
        .id()
    };

    let (_daemon, base) = kuaibao_serve(&tc.path());
    let http = reqwest::Client::new();
    wait_until("the first poll to store three candidates", || {
        let (http, url) = (http.clone(), format!("{base}/status.json"));
        async move {
            match http.get(url).send().await {
                Ok(r) => r.text().await.is_ok_and(|t| {
                    serde_json::from_str::<serde_json::Value>(&t)
                        .is_ok_and(|j| j["items"]["candidate"] == 3)
                }),
                Err(_) => false,
            }
        }
    })
    .await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _driver = Killed(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let driver = format!("http://127.0.0.1:{port}");
    wait_until("chromedriver", || {
        let (http, url) = (http.clone(), format!("{driver}/status"));
        async move { http.get(url).send().await.is_ok() }
    })
    .await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1600", "--lang=zh-CN"]
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver)
        .await
        .expect("a WebDriver session in headless Chromium");

    let result = async {
        // The desk sends a stranger to the login form.
        browser.goto(&format!("{base}/desk/")).await?;
        assert!(
            browser
                .current_url()
                .await?
                .path()
                .starts_with("/desk/login")
        );
        browser
            .find(Locator::Css("input[name=name]"))
            .await?
            .send_keys("alice")
            .await?;
        browser
            .find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        browser
            .find(Locator::Css(".login button[type=submit]"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .for_element(Locator::Css("article.item"))
            .await?;
        assert_eq!(browser.current_url().await?.path(), "/desk/");
        let shot = browser.screenshot().await?;
        // Kept as an artifact in the target directory, wherever the build
        // put it.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        std::fs::create_dir_all(&target).expect("the target directory");
        let path = target.join("desk-queue.png");
        std::fs::write(&path, shot).expect("write the screenshot");
        eprintln!("queue screenshot: {}", path.display());
        // And as a phone shows it: one column.
        browser.set_window_size(390, 1600).await?;
        let phone = path.with_file_name("desk-queue-phone.png");
        std::fs::write(&phone, browser.screenshot().await?).expect("write the screenshot");
        eprintln!("queue on a phone: {}", phone.display());
        browser.set_window_size(1280, 1600).await?;

        // By the end of the outlet's title: the desk shows the bulletin's
        // (`江苏：提高…` for `江苏省提高…`).
        let id_of = |title: &'static str| {
            let b = browser.clone();
            let tail: String = title
                .chars()
                .rev()
                .take(10)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            async move {
                let el = b
                    .find(Locator::XPath(&format!(
                        "//article[contains(@class,'item')][.//h3[contains(text(),'{tail}')]]"
                    )))
                    .await?;
                Ok::<_, fantoccini::error::CmdError>(el.attr("data-id").await?.expect("data-id"))
            }
        };
        // Move the 江苏 story to 各地动态 → 他山之石 with the form's select
        // and button, then approve it with its button.
        let pension = id_of(ITEMS[1].2).await?;
        let item = format!("#item-{pension}");
        browser
            .find(Locator::Css(&format!("{item} select[name=section]")))
            .await?
            .select_by_value("abroad")
            .await?;
        browser
            .find(Locator::Css(&format!(
                "{item} form[action$='/move'] button"
            )))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .for_element(Locator::XPath("//p[@id='flash' and contains(., '移至')]"))
            .await?;
        browser
            .find(Locator::Css(&format!(
                "{item} form[action$='/approve'] button"
            )))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .for_element(Locator::XPath("//p[@id='flash' and contains(., '已通过')]"))
            .await?;
        assert!(
            browser.find(Locator::Css(&item)).await.is_err(),
            "an approved story leaves the candidates' queue"
        );
        // The keyboard: select the first remaining story with j, reject it
        // with r (the script's JSON path), and it leaves the page.
        let first = browser
            .find(Locator::Css("article.item"))
            .await?
            .attr("data-id")
            .await?
            .expect("data-id");
        let mut keys = KeyActions::new("keyboard".into());
        for key in ['j', 'r'] {
            keys = keys
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        browser.perform_actions(keys).await?;
        browser
            .wait()
            .for_element(Locator::XPath("//p[@id='flash' and contains(., '已拒绝')]"))
            .await?;
        let gone = format!("#item-{first}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser.find(Locator::Css(&gone)).await.is_ok() {
            assert!(Instant::now() < deadline, "rejected item still listed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The 待定 group below the candidates: closed, its story hidden,
        // until the editor opens it; then its 拒绝 works as a candidate's.
        let maybe = format!("#item-{maybe_id}");
        let group = browser.find(Locator::Css("details.maybe")).await?;
        assert_eq!(group.attr("open").await?, None, "closed by default");
        let story = browser.find(Locator::Css(&maybe)).await?;
        assert!(!story.is_displayed().await?, "hidden while closed");
        browser
            .find(Locator::Css("details.maybe > summary"))
            .await?
            .click()
            .await?;
        assert!(story.is_displayed().await?, "shown once opened");
        let opened = path.with_file_name("desk-queue-maybe.png");
        std::fs::write(&opened, browser.screenshot().await?).expect("write the screenshot");
        eprintln!("the 待定 group opened: {}", opened.display());
        browser
            .find(Locator::Css(&format!(
                "{maybe} form[action$='/reject'] button"
            )))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .for_element(Locator::XPath(&format!(
                "//p[@id='flash' and contains(., '已拒绝') and contains(., '{}')]",
                ITEMS[3].2.chars().take(8).collect::<String>()
            )))
            .await?;
        assert!(
            browser.find(Locator::Css(&maybe)).await.is_err(),
            "a rejected 待定 story leaves the queue"
        );
        assert!(
            browser.find(Locator::Css("details.maybe")).await.is_err(),
            "and with nothing 待定 left, the group"
        );
        Ok::<_, fantoccini::error::CmdError>(pension)
    }
    .await;
    let _ = browser.close().await;
    result.expect("the desk in the browser");

    // The served feed has the approved story, filed under 他山之石.
    let feed_url = format!("{base}/feeds/all.xml");
    wait_until("the approved story in the served feed", || {
        let (http, url) = (http.clone(), feed_url.clone());
        async move {
            let Ok(r) = http.get(url).send().await else {
                return false;
            };
            let Ok(body) = r.text().await else {
                return false;
            };
            atom_syndication::Feed::read_from(body.as_bytes())
                .is_ok_and(|feed| categories(&feed, ITEMS[1].2) == Some(vec!["abroad".into()]))
        }
    })
    .await;
    let feed = http
        .get(&feed_url)
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("body");
    assert_eq!(
        feed.matches("<entry>").count(),
        1,
        "only the approved story"
    );
}

#[tokio::test]
async fn desk_pages_are_compressed_for_clients_that_ask() {
    let f = Fixture::new();
    let session = f.login("alice").await;
    let got = f
        .send(
            Method::GET,
            "/desk/",
            &[
                ("accept", "text/html"),
                ("accept-encoding", "gzip"),
                ("cookie", &session.cookie),
            ],
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-encoding"), "gzip");
    assert_eq!(got.header("cache-control"), "no-store");
}

/// Three failures per address, many per name: the address limit bites.
fn address_limiter() -> accounts::LoginLimiter {
    accounts::LoginLimiter::new(accounts::LimiterConfig {
        account_failures: 100,
        address_failures: 3,
        window: Duration::from_secs(15 * 60),
    })
}

#[tokio::test]
async fn from_a_trusted_proxy_each_forwarded_client_is_limited_on_its_own() {
    let f = Fixture::with_config(
        "http://kb.example.org/",
        "[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\npassword_hashes_per_second = 1000\n",
        Some(address_limiter()),
    );
    let proxy = Some("10.0.0.1:41000");
    for name in ["a1", "a2", "a3"] {
        let got = f
            .login_from(proxy, Some("203.0.113.1"), name, "wrong")
            .await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    }
    let limited = f
        .login_from(proxy, Some("203.0.113.1"), "a4", "wrong")
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out by the first.
    let other = f
        .login_from(proxy, Some("203.0.113.2"), "b1", "wrong")
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    // The first client cannot pass for another by writing its own header:
    // the proxy appends the address it saw, and that one counts.
    let spoofed = f
        .login_from(proxy, Some("203.0.113.2, 203.0.113.1"), "a5", "wrong")
        .await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        f.login_from(proxy, Some("203.0.113.2"), "alice", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let f = Fixture::with_config(
        "http://kb.example.org/",
        "[server]\ntrusted_proxies = [\"10.0.0.0/8\"]\npassword_hashes_per_second = 1000\n",
        Some(address_limiter()),
    );
    let peer = Some("198.51.100.7:50000");
    for (i, xff) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
        let got = f
            .login_from(peer, Some(xff), &format!("n{i}"), "wrong")
            .await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    }
    // A fourth made-up client is the same peer, and the peer is limited.
    let limited = f.login_from(peer, Some("192.0.2.4"), "n4", "wrong").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    // Another peer is not.
    let other = f
        .login_from(Some("198.51.100.8:50000"), None, "n5", "wrong")
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn over_password_hashes_per_second_a_login_is_429_with_retry_after_and_nothing_is_checked() {
    let f = Fixture::with_config(
        "http://kb.example.org/",
        "[server]\npassword_hashes_per_second = 1\n",
        None,
    );
    let first = f.login_attempt("mallory", "wrong").await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    let refused = f.login_attempt("alice", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), "1");
    assert!(refused.body.contains("登录请求过多"), "{}", refused.body);
    assert!(refused.headers.get("set-cookie").is_none());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The refusal was not a failure: alice logs in once a hash is free.
    f.login("alice").await;
}

/// Everything the `tracing` events of one test thread print.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The log of this test binary. A global subscriber, installed once: a
/// thread-scoped one (`set_default`) misses events whose callsite another
/// test's thread met first, which made this check flaky.
fn captured_log() -> &'static Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        captured
    })
}

#[tokio::test]
async fn a_login_name_with_a_newline_is_logged_escaped_on_one_line() {
    let log = captured_log();
    let f = Fixture::new();
    let forged =
        "mallory\n2025-06-20T10:30:00Z  INFO kuaibao::desk::auth: desk: logged in user=root";
    let got = f.login_attempt(forged, "wrong").await;
    assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    // Other tests log too; this attempt's lines are the ones naming mallory
    // or the forged account.
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("mallory") || l.contains("user=root"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("desk: failed login"), "{text}");
    assert!(
        lines[0].contains(r#"user="mallory\n2025-06-20T10:30:00Z  INFO"#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_applies_a_proposed_selector_repair_from_the_banner_in_a_real_browser() {
    let (chromedriver, chromium) = (common::on_path("chromedriver"), common::on_path("chromium"));
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        common::outside_program(
            "an_admin_applies_a_proposed_selector_repair_from_the_banner_in_a_real_browser",
            false,
            "apt-get install chromium chromium-driver",
        );
        return;
    };
    use fantoccini::{ClientBuilder, Locator};

    let outlet = common::Outlet::start().await;
    let tc = common::TestConfig::new(
        &format!(
            "[[source]]\nid = \"gd-hrss\"\nname = \"广东省人社厅\"\nurl = \"{}\"\nkind = \"html\"\n[source.list]\nitem = \"ul.news li\"\nlink = \"a@href\"\ntitle = \"a\"\n",
            outlet.url("/gd/list.html")
        ),
        "",
    );
    tc.set_poll("heal", "\"off\"");
    let config = tc.load();
    let old_toml = kuaibao::heal::tables_toml(config.source("gd-hrss").expect("the source"));
    let new_toml = old_toml.replace("ul.news li", "div.newslist li");
    {
        let mut store = kuaibao::app::open_store(&config).expect("store");
        accounts::add_user(&store, "root", Role::Admin, PASSWORD).expect("admin");
        store
            .record_repair(&kuaibao::store::NewRepair {
                source_id: "gd-hrss",
                status: "proposed",
                what: "list",
                confidence: 0.95,
                old_toml: &old_toml,
                new_toml: &new_toml,
                evidence: r#"{"known_on_page":10,"found_again":10,"items":20,"notes":[]}"#,
                decided_by: None,
            })
            .expect("a proposed repair");
    }
    let (_daemon, base) = kuaibao_serve(&tc.path());
    let http = reqwest::Client::new();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _driver = Killed(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let driver = format!("http://127.0.0.1:{port}");
    wait_until("chromedriver", || {
        let (http, url) = (http.clone(), format!("{driver}/status"));
        async move { http.get(url).send().await.is_ok() }
    })
    .await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1600", "--lang=zh-CN"]
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver)
        .await
        .expect("a WebDriver session in headless Chromium");

    let result = async {
        browser.goto(&format!("{base}/desk/sources")).await?;
        browser
            .find(Locator::Css("input[name=name]"))
            .await?
            .send_keys("root")
            .await?;
        browser
            .find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        browser
            .find(Locator::Css(".login button[type=submit]"))
            .await?
            .click()
            .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while browser
            .current_url()
            .await?
            .path()
            .starts_with("/desk/login")
        {
            assert!(Instant::now() < deadline, "the login never finished");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if browser.current_url().await?.path() != "/desk/sources" {
            browser.goto(&format!("{base}/desk/sources")).await?;
        }
        let banner = browser
            .wait()
            .for_element(Locator::Css("section.repair"))
            .await?;
        let text = banner.text().await?;
        assert!(text.contains("广东省人社厅"), "{text}");
        assert!(
            browser
                .find(Locator::Css("section.repair pre.new ins"))
                .await?
                .text()
                .await?
                .contains("div.newslist li")
        );
        browser
            .find(Locator::XPath(
                "//section[contains(@class,'repair')]//button[normalize-space()='应用']",
            ))
            .await?
            .click()
            .await?;
        // The click posts a form and the server redirects: until the new
        // page is in, a #flash found may belong to the page being replaced.
        let message = flash_after_redirect(&browser).await?;
        assert!(message.contains("已应用"), "{message}");
        assert_eq!(browser.current_url().await?.path(), "/desk/sources");
        assert!(
            browser
                .find_all(Locator::Css("section.repair"))
                .await?
                .is_empty(),
            "no banner after 应用"
        );
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("the repair banner in the browser");
    let file = std::fs::read_to_string(tc.dir.path().join("sources.toml")).expect("sources.toml");
    assert!(file.contains("div.newslist li"), "{file}");
}
