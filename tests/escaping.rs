//! Hostile text through every page (issue 11): titles, outlet names, user
//! names, search queries, a site title and URLs crafted to break out of
//! text and attributes (`"><script>`, `' onmouseover=`) or to run script
//! from a link (`javascript:`), fed in where outlets, editors and
//! operators can put them, and read back from every HTML page the server
//! and the desk render (the queue, search, audit, users, sources, issue pages,
//! public issue pages, the index, the status page, the bulletin export,
//! the sources page's repair banner,
//! the login page). Each page must show them escaped or refuse them: no
//! element, attribute or link the page did not write itself.
//!
//! A second test reads `src/` for the rules that keep it so: `PreEscaped`
//! only on compile-time constants, and `SanitizedHtml` made only by the
//! sanitizer and read back only by the store.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use kuaibao::accounts::{self, Role};
use kuaibao::config::Config;
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::normalize::sanitize_html;
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{FetchOutcomeKind, FetchRecord, Status, Store};
use tempfile::TempDir;
use tower::ServiceExt;

/// Breaks out of text and of a double-quoted attribute.
const SCRIPT: &str = "\"><script>alert(1)</script>";
/// Breaks out of a single-quoted attribute.
const HOVER: &str = "' onmouseover='alert(1)' x='";
/// Breaks out of a double-quoted attribute without a tag.
const HOVER2: &str = "\" onmouseover=\"alert(1)\" x=\"";
/// A link that runs script.
const JS_URL: &str = "javascript:alert(1)";
const PASSWORD: &str = "correct horse battery";
/// An editor whose name is markup (names may not hold whitespace).
const EVIL_USER: &str = "\"><script>alert(1)</script>";

/// What a page shows of [`SCRIPT`] when it escapes it.
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

struct Fixture {
    _dir: TempDir,
    store: Arc<Mutex<Store>>,
    state: ServeState,
    app: Router,
}

struct Session {
    cookie: String,
    csrf: String,
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("kuaibao.toml");
        std::fs::write(
            &main,
            format!(
                "title = {}\nbase_url = \"http://kb.example.org/\"\nsources = \"sources.toml\"\n",
                toml_string(&format!("快报{SCRIPT}"))
            ),
        )
        .unwrap();
        let mut sources = String::new();
        for (id, name) in [("evil", SCRIPT), ("hover", HOVER), ("hover2", HOVER2)] {
            sources.push_str(&format!(
                "[[source]]\nid = \"{id}\"\nname = {}\nurl = \"https://{id}.example/rss.xml\"\nkind = \"feed\"\n\n",
                toml_string(name)
            ));
        }
        std::fs::write(dir.path().join("sources.toml"), sources).unwrap();
        let config = Arc::new(Config::load(&main).unwrap());
        let mut store = Store::open(&dir.path().join("kuaibao.db")).unwrap();
        store.sync_sources(&config.sources).unwrap();
        // (source, url, title, origin, section)
        let items = [
            (
                "evil",
                JS_URL,
                format!("标题{SCRIPT}"),
                SCRIPT,
                Some("focus"),
            ),
            (
                "hover",
                "https://hover.example/a.html",
                format!("就业{HOVER}"),
                HOVER,
                Some("regional"),
            ),
            (
                "hover2",
                "data:text/html,<script>alert(1)</script>",
                format!("社保{HOVER2}"),
                HOVER2,
                None,
            ),
        ];
        for (i, (source, url, title, origin, section)) in items.into_iter().enumerate() {
            let body = format!(
                "<p>人力资源社会保障部印发通知{i}，部署就业服务。</p><script>alert(1)</script>\
                 <a href=\"javascript:alert(1)\" onclick=\"alert(1)\">原文</a><p>{}</p>",
                "就业".repeat(20)
            );
            kuaibao::poll::store_item(
                &mut store,
                &NewItem {
                    source_id: source.into(),
                    guid: None,
                    url: url.into(),
                    canonical_url: format!("x.example/{i}"),
                    title,
                    content_html: sanitize_html(
                        &body,
                        &url::Url::parse("https://x.example/").unwrap(),
                    ),
                    content_text: format!("人力资源社会保障部印发通知{i}，部署就业服务。"),
                    content_hash: format!("h{i}"),
                    origin: origin.into(),
                    section: section.map(str::to_string),
                    region: None,
                    published: Some(
                        DateTime::parse_from_rfc3339(&format!("2025-06-1{i}T09:00:00+08:00"))
                            .unwrap(),
                    ),
                    bulletin_title: None,
                    relevance: Some(0.9),
                    explanation: Some(
                        serde_json::json!({
                            "reasons": [SCRIPT, HOVER],
                            "scores": [[SCRIPT, 1.5], ["focus", 0.5]],
                            SCRIPT: HOVER2,
                        })
                        .to_string(),
                    ),
                },
                Status::Approved,
                &kuaibao::dedup::DedupConfig::default(),
            )
            .unwrap();
        }
        store
            .record_fetch(&FetchRecord {
                source_id: "evil",
                url: "https://evil.example/rss.xml",
                started_at: Utc::now(),
                duration: std::time::Duration::from_millis(20),
                outcome: FetchOutcomeKind::Failed,
                items_found: None,
                items_new: None,
                error: Some(SCRIPT.into()),
                limits: Some(HOVER2.into()),
                next_due_at: Utc::now(),
            })
            .unwrap();
        accounts::add_user(&store, EVIL_USER, Role::Admin, PASSWORD).unwrap();
        let store = Arc::new(Mutex::new(store));
        let state = ServeState::new(config, store.clone(), Arc::new(Metrics::new()));
        state.refresh().unwrap();
        let app = serve::router(state.clone());
        Fixture {
            _dir: dir,
            store,
            state,
            app,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        session: Option<&Session>,
        form: Option<&[(&str, &str)]>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("accept", "text/html");
        if let Some(s) = session {
            req = req.header("cookie", &s.cookie);
        }
        let body = match form {
            Some(fields) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                Body::from(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                )
            }
            None => Body::empty(),
        };
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    async fn page(&self, path: &str, session: Option<&Session>) -> String {
        let (status, _, body) = self.send(Method::GET, path, session, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn login(&self) -> Session {
        let (status, headers, body) = self
            .send(
                Method::POST,
                "/desk/login",
                None,
                Some(&[
                    ("name", EVIL_USER),
                    ("password", PASSWORD),
                    ("next", "/desk/"),
                ]),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let cookie = headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let mut session = Session {
            cookie,
            csrf: String::new(),
        };
        let queue = self.page("/desk/", Some(&session)).await;
        let doc = scraper::Html::parse_document(&queue);
        let body = scraper::Selector::parse("body").unwrap();
        session.csrf = doc
            .select(&body)
            .next()
            .and_then(|b| b.value().attr("data-csrf"))
            .expect("the queue carries the CSRF token")
            .to_string();
        session
    }

    async fn post(&self, path: &str, session: &Session, fields: &[(&str, &str)]) {
        let mut all = vec![("csrf", session.csrf.as_str())];
        all.extend_from_slice(fields);
        let (status, _, body) = self
            .send(Method::POST, path, Some(session), Some(&all))
            .await;
        assert!(
            status == StatusCode::SEE_OTHER || status == StatusCode::OK,
            "{path}: {status} {body}"
        );
    }

    fn item_id(&self, source: &str) -> i64 {
        self.store
            .lock()
            .unwrap()
            .review_items(None, 1000)
            .unwrap()
            .into_iter()
            .find(|i| i.source_id == source)
            .map(|i| i.id)
            .unwrap()
    }
}

/// Fails, naming the page, on anything in `html` that the page did not
/// write itself: a `<script>` that is not the desk's own (nonce-carrying,
/// no `alert`), an event-handler attribute, a `javascript:`/`data:` link,
/// or the raw breakout strings.
fn assert_inert(name: &str, html: &str) {
    // Every attribute the templates write is double-quoted, so a single
    // quote may stand as is; the parse below shows it broke nothing out.
    for raw in [
        "<script>alert(1)",
        "\" onmouseover=\"",
        "href=\"javascript:",
        "href='javascript:",
    ] {
        assert!(!html.contains(raw), "{name}: {raw:?} came through raw");
    }
    let doc = scraper::Html::parse_document(html);
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        for (attr, value) in el.attrs() {
            assert!(
                !attr.to_ascii_lowercase().starts_with("on"),
                "{name}: <{} {attr}={value:?}> is an event handler",
                el.name()
            );
            if matches!(attr, "href" | "src" | "action" | "formaction") {
                let v = value.trim().to_ascii_lowercase();
                assert!(
                    !v.starts_with("javascript:")
                        && !v.starts_with("data:")
                        && !v.starts_with("vbscript:"),
                    "{name}: <{} {attr}={value:?}> is a script link",
                    el.name()
                );
            }
            assert!(
                !matches!(attr, "x" | "onmouseover"),
                "{name}: an attribute from the hostile text: {attr}"
            );
        }
        if el.name() == "script" {
            let text: String = node
                .children()
                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                .collect();
            assert!(
                !text.contains("alert(1)") && el.attr("nonce").is_some(),
                "{name}: a script the page did not write"
            );
        }
    }
}

/// [`assert_inert`], and the hostile text is on the page, escaped: the
/// page did show what it was fed.
fn assert_escaped(name: &str, html: &str) {
    assert_inert(name, html);
    assert!(
        html.contains(SCRIPT_ESCAPED),
        "{name}: the hostile text is not shown (escaped) at all"
    );
}

#[tokio::test]
async fn hostile_text_and_urls_come_out_escaped_or_refused_on_every_page() {
    let f = Fixture::new();

    // The login form, with a hostile name typed in and a hostile `next`.
    let (status, _, login) = f
        .send(
            Method::POST,
            "/desk/login",
            None,
            Some(&[
                ("name", SCRIPT),
                ("password", "wrong"),
                ("next", "/desk/\"><script>alert(1)</script>"),
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_escaped("login page (failed login)", &login);
    let form = f
        .page(
            &format!(
                "/desk/login?next={}",
                url::form_urlencoded::byte_serialize(b"/desk/\"><script>alert(1)</script>")
                    .collect::<String>()
            ),
            None,
        )
        .await;
    assert_escaped("login form", &form);

    let s = f.login().await;

    // A repair proposed for the hostile source, with markup in its tables,
    // in what broke and in the evidence's notes: the 来源 page's banner.
    f.store
        .lock()
        .unwrap()
        .record_repair(&kuaibao::store::NewRepair {
            source_id: "evil",
            status: "proposed",
            what: SCRIPT,
            confidence: 0.5,
            old_toml: &format!("[[source]]\nname = {}\n", toml_string(SCRIPT)),
            new_toml: &format!(
                "[[source]]\nname = {}\n[source.list]\nitem = {}\n",
                toml_string(SCRIPT),
                toml_string(HOVER2)
            ),
            evidence: &serde_json::json!({"known_on_page": 1, "notes": [SCRIPT, HOVER, HOVER2]})
                .to_string(),
            decided_by: None,
        })
        .unwrap();
    let q: String = url::form_urlencoded::byte_serialize(SCRIPT.as_bytes()).collect();
    let q_hover: String = url::form_urlencoded::byte_serialize(HOVER2.as_bytes()).collect();

    // A flash message carrying a hostile title (the editor sets it).
    let evil = f.item_id("evil");
    f.post(
        &format!("/desk/items/{evil}/title"),
        &s,
        &[("title", SCRIPT), ("back", "/desk/?status=all")],
    )
    .await;
    let queue = f.page("/desk/?status=all", Some(&s)).await;
    assert_escaped("desk queue (with flash)", &queue);
    assert!(
        !queue.contains(&format!("href=\"{JS_URL}")),
        "the javascript: URL is not a link"
    );

    let pages = [
        ("desk queue", "/desk/?status=all".to_string()),
        ("desk search", format!("/desk/?status=all&q={q}")),
        (
            "desk search (attribute)",
            format!("/desk/?status=all&q={q_hover}&source={q}&section={q}"),
        ),
        ("audit log", "/desk/audit".to_string()),
        ("audit log filtered", format!("/desk/audit?user={q}")),
        ("users", "/desk/users".to_string()),
        ("sources", "/desk/sources".to_string()),
        ("desk issues", "/desk/issues".to_string()),
    ];
    for (name, path) in &pages {
        let body = f.page(path, Some(&s)).await;
        if *name == "sources" {
            assert!(
                body.contains("class=\"panel repair\""),
                "the repair banner: {body}"
            );
        }
        if name.contains("attribute") {
            assert_inert(name, &body);
        } else {
            assert_escaped(name, &body);
        }
    }

    // The 来源 page's answers echo what the admin typed: a hostile
    // address refused, and a hostile table back in the textarea to fix.
    let (status, _, refused) = f
        .send(
            Method::POST,
            "/desk/sources/preview",
            Some(&s),
            Some(&[
                ("csrf", s.csrf.as_str()),
                ("url", SCRIPT),
                ("name", HOVER2),
                ("region", HOVER),
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_escaped("sources preview (refused address)", &refused);
    let table = format!("[[source]]\nid = \"x\"\nname = {}\n", toml_string(SCRIPT));
    let (status, _, retry) = f
        .send(
            Method::POST,
            "/desk/sources/add",
            Some(&s),
            Some(&[("csrf", s.csrf.as_str()), ("toml", &table)]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_escaped("sources add (refused table)", &retry);

    // An issue of the hostile stories: draft, then published.
    f.post(
        "/desk/issues",
        &s,
        &[("number", "202509"), ("date", "2025-06-20")],
    )
    .await;
    let draft = f.page("/desk/issues/202509", Some(&s)).await;
    assert_escaped("desk issue (draft)", &draft);
    f.post("/desk/issues/202509/publish", &s, &[]).await;
    f.state.refresh().unwrap();
    for (name, path, session) in [
        ("desk issue (published)", "/desk/issues/202509", Some(&s)),
        ("issue preview", "/desk/issues/202509/preview", Some(&s)),
        ("issue export", "/desk/issues/202509/export.html", Some(&s)),
        ("public issue index", "/issues/", None),
        ("public issue", "/issues/202509", None),
        ("public issue (.html)", "/issues/202509.html", None),
        ("status page", "/status", Some(&s)),
        ("index page", "/", None),
    ] {
        let body = f.page(path, session).await;
        assert_escaped(name, &body);
    }
    // The desk's 404 and refusal pages too.
    let (_, _, missing) = f
        .send(Method::GET, "/desk/issues/999999", Some(&s), None)
        .await;
    assert_inert("desk issue 404", &missing);
}

/// `src/`'s rules for unescaped markup: `PreEscaped` only on a constant
/// (a stylesheet, a script, a doctype written into the program), and a
/// `SanitizedHtml` made only by the sanitizer or read back by the store.
#[test]
fn only_constants_and_sanitized_html_are_inserted_unescaped() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("PreEscaped(") {
                let arg: String = code[at + "PreEscaped(".len()..]
                    .chars()
                    .take_while(|c| *c != ')')
                    .collect();
                let constant = !arg.is_empty()
                    && arg
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !constant {
                    wrong.push(format!("src/{rel}:{}: PreEscaped({arg})", n + 1));
                }
            }
            if code.contains("from_sanitizer(")
                && !matches!(rel.as_str(), "normalize.rs" | "model.rs")
            {
                wrong.push(format!(
                    "src/{rel}:{}: SanitizedHtml::from_sanitizer",
                    n + 1
                ));
            }
            if code.contains("from_store(") && !rel.starts_with("store/") && rel != "model.rs" {
                wrong.push(format!("src/{rel}:{}: SanitizedHtml::from_store", n + 1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "unescaped markup from outside input:\n{}",
        wrong.join("\n")
    );
}
