//! Specification of `kuaibao serve`'s HTTP side: what feed readers,
//! caches, WebSub hubs and operators get from the router, over HTTP
//! semantics (validators, 304s, content coding, archives).

use std::io::{BufReader, Read};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use kuaibao::config::Config;
use kuaibao::metrics::Metrics;
use kuaibao::model::NewItem;
use kuaibao::publish::{self, FeedKind};
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{FetchOutcomeKind, FetchRecord, Status, Store};
use tempfile::TempDir;
use tower::ServiceExt;

const BASE: &str = "https://kb.example.org/kuaibao/";

struct Fixture {
    _dir: TempDir,
    config: Arc<Config>,
    store: Arc<Mutex<Store>>,
    state: ServeState,
}

impl Fixture {
    fn new(extra: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("kuaibao.toml");
        std::fs::write(
            &main,
            format!(
                "title = \"测试快报\"\nbase_url = \"{BASE}\"\nsources = \"sources.toml\"\n\n\
                 [review]\nmode = \"auto\"\n\n[publish]\nentries = 3\n\n[server]\nmax_age = \"2m\"\n{extra}"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sources.toml"),
            "[[source]]\nid = \"mohrss\"\nname = \"人力资源社会保障部\"\n\
             url = \"https://www.mohrss.gov.cn/rss.xml\"\nkind = \"feed\"\n",
        )
        .unwrap();
        let config = Arc::new(Config::load(&main).unwrap());
        let mut store = Store::open(&dir.path().join("kuaibao.db")).unwrap();
        store.sync_sources(&config.sources).unwrap();
        let store = Arc::new(Mutex::new(store));
        let state = ServeState::new(config.clone(), store.clone(), Arc::new(Metrics::new()));
        Fixture {
            _dir: dir,
            config,
            store,
            state,
        }
    }

    fn app(&self) -> Router {
        serve::router(self.state.clone())
    }

    fn add(&self, n: u32, section: Option<&str>, published: &str) {
        let item = NewItem {
            source_id: "mohrss".into(),
            guid: None,
            url: format!("https://www.mohrss.gov.cn/a/{n}.html"),
            canonical_url: format!("http://mohrss.gov.cn/a/{n}.html"),
            title: format!("人社部通知 第{n}号"),
            content_html: format!("<p>关于做好就业工作的通知 {n}。</p>"),
            content_text: format!("关于做好就业工作的通知 {n}。"),
            content_hash: format!("hash-{n}"),
            origin: "人力资源社会保障部".into(),
            section: section.map(str::to_string),
            region: None,
            published: Some(date(published)),
            bulletin_title: None,
            relevance: None,
            explanation: None,
        };
        self.store
            .lock()
            .unwrap()
            .store_item(&item, Status::Candidate)
            .unwrap();
    }

    fn refresh(&self) -> bool {
        self.state.refresh().unwrap()
    }

    /// What `kuaibao publish` renders for `kind`.
    fn published(&self, kind: FeedKind) -> String {
        let store = self.store.lock().unwrap();
        let limit = self.config.publish.entries * (self.config.sections.len() + 1);
        let entries = store.feed_entries(true, Some(limit)).unwrap();
        publish::render_feed(&self.config, kind, &entries).unwrap()
    }
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

async fn request(app: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
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
        body,
    }
}

async fn get(app: &Router, path: &str, headers: &[(&str, &str)]) -> Got {
    request(app, Method::GET, path, headers).await
}

/// Every Atom document served must parse with both libraries readers use.
fn assert_atom_parses(bytes: &[u8]) -> atom_syndication::Feed {
    feed_rs::parser::parse(bytes).expect("feed-rs parses it");
    atom_syndication::Feed::read_from(BufReader::new(bytes)).expect("atom_syndication parses it")
}

fn links<'f>(feed: &'f atom_syndication::Feed, rel: &str) -> Vec<&'f str> {
    feed.links()
        .iter()
        .filter(|l| l.rel() == rel)
        .map(|l| l.href())
        .collect()
}

fn fixture_with_items() -> Fixture {
    let f = Fixture::new("");
    f.add(1, Some("focus"), "2025-01-15T09:00:00+08:00");
    f.add(2, Some("regional"), "2025-02-10T09:00:00+08:00");
    f.add(3, Some("focus"), "2025-02-20T09:00:00+08:00");
    assert!(f.refresh());
    f
}

#[tokio::test]
async fn all_xml_is_the_feed_publish_renders_plus_its_archive_link() {
    let f = fixture_with_items();
    let got = get(&f.app(), "/feeds/all.xml", &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    let published = f.published(FeedKind::All);
    let link = format!(
        "  <link href=\"{BASE}feeds/archive/all/2025-02.xml\" rel=\"prev-archive\" type=\"application/atom+xml\"/>\n"
    );
    // The only difference from `kuaibao publish`'s file is the RFC 5005
    // link, which only the server (serving the archives) adds.
    assert_eq!(got.text().replacen(&link, "", 1), published);
    assert_atom_parses(&got.body);
}

#[tokio::test]
async fn an_empty_store_serves_exactly_the_bytes_publish_writes() {
    let f = Fixture::new("");
    assert!(f.refresh());
    let got = get(&f.app(), "/feeds/all.xml", &[]).await;
    assert_eq!(got.text(), f.published(FeedKind::All));
}

#[tokio::test]
async fn a_section_feed_holds_only_its_section() {
    let f = fixture_with_items();
    let got = get(&f.app(), "/feeds/focus.xml", &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    let feed = assert_atom_parses(&got.body);
    assert_eq!(feed.entries().len(), 2);
    let section = f.config.section("focus").unwrap();
    let published = f.published(FeedKind::Section(section));
    assert!(got.text().starts_with(&published[..200]));
}

#[tokio::test]
async fn an_unknown_feed_is_404_with_a_short_text() {
    let f = fixture_with_items();
    let got = get(&f.app(), "/feeds/nope.xml", &[]).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
    assert!(!got.body.is_empty() && got.body.len() < 100);
}

#[tokio::test]
async fn json_feeds_are_json_feed_1_1_for_all_and_a_section() {
    let f = fixture_with_items();
    for (path, n) in [("/feeds/all.json", 3), ("/feeds/regional.json", 1)] {
        let got = get(&f.app(), path, &[]).await;
        assert_eq!(got.status, StatusCode::OK, "{path}");
        assert!(
            got.header("content-type")
                .starts_with("application/feed+json")
        );
        let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert_eq!(v["feed_url"], format!("{BASE}{}", &path[1..]));
        assert_eq!(v["home_page_url"], BASE);
        assert_eq!(v["language"], "zh-CN");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), n, "{path}");
        for item in items {
            assert!(
                item["id"]
                    .as_str()
                    .unwrap()
                    .starts_with("tag:kb.example.org,2025:")
            );
            assert!(item["content_html"].as_str().unwrap().contains("通知"));
            assert!(item["url"].as_str().unwrap().starts_with("https://"));
            DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).unwrap();
            DateTime::parse_from_rfc3339(item["date_modified"].as_str().unwrap()).unwrap();
            assert_eq!(item["authors"][0]["name"], "人力资源社会保障部");
        }
    }
    // The same ids as the Atom entries, so switching formats shows no new items.
    let atom = get(&f.app(), "/feeds/all.xml", &[]).await;
    let feed = assert_atom_parses(&atom.body);
    let json: serde_json::Value =
        serde_json::from_slice(&get(&f.app(), "/feeds/all.json", &[]).await.body).unwrap();
    let json_ids: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let atom_ids: Vec<&str> = feed.entries().iter().map(|e| e.id()).collect();
    assert_eq!(json_ids, atom_ids);
}

#[tokio::test]
async fn etag_gives_304_on_if_none_match_also_in_a_list_weak_or_star() {
    let f = fixture_with_items();
    let app = f.app();
    let got = get(&app, "/feeds/all.xml", &[]).await;
    let etag = got.header("etag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );
    for inm in [
        etag.clone(),
        format!("\"nope\", {etag}"),
        format!("W/{etag}"),
        "*".to_string(),
    ] {
        let again = get(&app, "/feeds/all.xml", &[("if-none-match", &inm)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{inm}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), etag);
        assert_eq!(again.header("cache-control"), "public, max-age=120");
    }
    let other = get(&app, "/feeds/all.xml", &[("if-none-match", "\"nope\"")]).await;
    assert_eq!(other.status, StatusCode::OK);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let lm = got.header("last-modified").to_string();
    let both = get(
        &app,
        "/feeds/all.xml",
        &[("if-none-match", "\"nope\""), ("if-modified-since", &lm)],
    )
    .await;
    assert_eq!(both.status, StatusCode::OK);
}

#[tokio::test]
async fn last_modified_gives_304_on_if_modified_since() {
    let f = fixture_with_items();
    let app = f.app();
    let got = get(&app, "/feeds/all.xml", &[]).await;
    let lm = got.header("last-modified").to_string();
    let modified = httpdate::parse_http_date(&lm).unwrap();
    let again = get(&app, "/feeds/all.xml", &[("if-modified-since", &lm)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let later = httpdate::fmt_http_date(modified + std::time::Duration::from_secs(3600));
    let again = get(&app, "/feeds/all.xml", &[("if-modified-since", &later)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let earlier = httpdate::fmt_http_date(modified - std::time::Duration::from_secs(1));
    let again = get(&app, "/feeds/all.xml", &[("if-modified-since", &earlier)]).await;
    assert_eq!(again.status, StatusCode::OK);
    let garbage = get(
        &app,
        "/feeds/all.xml",
        &[("if-modified-since", "yesterday")],
    )
    .await;
    assert_eq!(garbage.status, StatusCode::OK);
}

#[tokio::test]
async fn gzip_and_br_bodies_decode_to_the_identity_bytes_with_their_own_etags() {
    let f = fixture_with_items();
    let app = f.app();
    let identity = get(&app, "/feeds/all.xml", &[]).await;
    assert!(identity.headers.get("content-encoding").is_none());
    assert_eq!(identity.header("vary"), "Accept-Encoding");

    let gz = get(&app, "/feeds/all.xml", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(gz.header("vary"), "Accept-Encoding");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, identity.body);

    let br = get(
        &app,
        "/feeds/all.xml",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(br.header("content-encoding"), "br");
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, identity.body);

    // Strong ETags differ between representations.
    let tags = [
        identity.header("etag"),
        gz.header("etag"),
        br.header("etag"),
    ];
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );
    let revalidate = get(
        &app,
        "/feeds/all.xml",
        &[("accept-encoding", "br"), ("if-none-match", tags[2])],
    )
    .await;
    assert_eq!(revalidate.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn accept_encoding_q_values_are_respected() {
    let f = fixture_with_items();
    let app = f.app();
    let enc = |got: &Got| {
        got.headers
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string())
    };
    for (accept, want) in [
        ("br;q=0.5, gzip", Some("gzip")),
        ("gzip;q=0.8, br;q=0.8", Some("br")),
        ("br;q=0, gzip;q=0", None),
        ("*", Some("br")),
        ("identity", None),
        ("deflate", None),
    ] {
        let got = get(&app, "/feeds/all.xml", &[("accept-encoding", accept)]).await;
        assert_eq!(enc(&got).as_deref(), want, "{accept}");
    }
}

#[tokio::test]
async fn head_sends_the_headers_without_the_body() {
    let f = fixture_with_items();
    let app = f.app();
    let full = get(&app, "/feeds/all.xml", &[]).await;
    let head = request(&app, Method::HEAD, "/feeds/all.xml", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), full.header("etag"));
    assert_eq!(head.header("content-length"), full.body.len().to_string());
}

#[tokio::test]
async fn a_new_item_appears_after_refresh_and_changes_the_etag() {
    let f = fixture_with_items();
    let app = f.app();
    let before = get(&app, "/feeds/all.xml", &[]).await;
    f.add(4, None, "2025-02-25T09:00:00+08:00");
    assert!(f.refresh());
    let after = get(&app, "/feeds/all.xml", &[]).await;
    assert_ne!(before.header("etag"), after.header("etag"));
    assert!(after.text().contains("人社部通知 第4号"));
    let stale = get(
        &app,
        "/feeds/all.xml",
        &[("if-none-match", before.header("etag"))],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_without_changes_keeps_the_snapshot_and_renders_nothing() {
    let f = fixture_with_items();
    let renders = f.state.cache().renders();
    let snapshot = f.state.cache().snapshot();
    assert!(!f.refresh());
    assert!(!f.refresh());
    assert_eq!(f.state.cache().renders(), renders);
    assert!(Arc::ptr_eq(&snapshot, &f.state.cache().snapshot()));
}

#[tokio::test]
async fn an_unchanged_document_keeps_its_bytes_when_another_changes() {
    let f = fixture_with_items();
    let before = f.state.cache().snapshot();
    f.add(4, Some("regional"), "2025-02-25T09:00:00+08:00");
    assert!(f.refresh());
    let after = f.state.cache().snapshot();
    // The focus feed did not change: same document, not even recompressed.
    let path = "/feeds/focus.xml";
    assert!(Arc::ptr_eq(
        before.get(path).unwrap(),
        after.get(path).unwrap()
    ));
    let path = "/feeds/regional.xml";
    assert!(!Arc::ptr_eq(
        before.get(path).unwrap(),
        after.get(path).unwrap()
    ));
}

#[tokio::test]
async fn archives_link_months_and_past_months_are_immutable() {
    let f = fixture_with_items();
    let app = f.app();
    let current = get(&app, "/feeds/all.xml", &[]).await;
    let feed = assert_atom_parses(&current.body);
    assert_eq!(
        links(&feed, "prev-archive"),
        [format!("{BASE}feeds/archive/all/2025-02.xml")]
    );

    let older = get(&app, "/feeds/archive/all/2025-01.xml", &[]).await;
    assert_eq!(older.status, StatusCode::OK);
    assert_eq!(
        older.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(older.text().contains("<fh:archive"), "{}", older.text());
    assert!(
        older
            .text()
            .contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\"")
    );
    let feed = assert_atom_parses(&older.body);
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(links(&feed, "current"), [format!("{BASE}feeds/all.xml")]);
    assert_eq!(
        links(&feed, "self"),
        [format!("{BASE}feeds/archive/all/2025-01.xml")]
    );
    assert_eq!(
        links(&feed, "next-archive"),
        [format!("{BASE}feeds/archive/all/2025-02.xml")]
    );
    assert!(links(&feed, "prev-archive").is_empty());

    let newer = get(&app, "/feeds/archive/all/2025-02.xml", &[]).await;
    let feed = assert_atom_parses(&newer.body);
    assert_eq!(feed.entries().len(), 2);
    assert_eq!(
        links(&feed, "prev-archive"),
        [format!("{BASE}feeds/archive/all/2025-01.xml")]
    );
    assert!(links(&feed, "next-archive").is_empty());

    // Section archives only hold months the section has entries in.
    let focus = get(&app, "/feeds/archive/focus/2025-01.xml", &[]).await;
    assert_eq!(focus.status, StatusCode::OK);
    let regional = get(&app, "/feeds/archive/regional/2025-01.xml", &[]).await;
    assert_eq!(regional.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_current_months_archive_has_the_normal_max_age() {
    let f = Fixture::new("");
    let now = Utc::now().with_timezone(&kuaibao::store::beijing());
    f.add(1, None, &now.to_rfc3339());
    f.refresh();
    let month = now.format("%Y-%m").to_string();
    let got = get(&f.app(), &format!("/feeds/archive/all/{month}.xml"), &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("cache-control"), "public, max-age=120");
    assert_atom_parses(&got.body);
}

#[tokio::test]
async fn opml_index_and_healthz_are_served() {
    let f = fixture_with_items();
    let app = f.app();
    let opml = get(&app, "/feeds.opml", &[]).await;
    assert_eq!(opml.status, StatusCode::OK);
    assert_eq!(opml.text(), publish::render_opml(&f.config).unwrap());
    let index = get(&app, "/", &[]).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.header("content-type").starts_with("text/html"));
    assert!(index.text().contains("人社部通知 第3号"));
    assert!(index.headers.contains_key("etag"));
    let health = get(&app, "/healthz", &[]).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.text().trim(), "ok");
}

#[tokio::test]
async fn metrics_count_feed_requests_in_prometheus_text_format() {
    let f = fixture_with_items();
    let app = f.app();
    get(&app, "/feeds/all.xml", &[]).await;
    let etag = get(&app, "/feeds/all.xml", &[])
        .await
        .header("etag")
        .to_string();
    get(&app, "/feeds/all.xml", &[("if-none-match", &etag)]).await;
    get(&app, "/feeds/nope.xml", &[]).await;
    f.state
        .metrics()
        .fetch("mohrss", "ok", std::time::Duration::from_millis(300));
    f.state.metrics().items_ingested("mohrss", 2);
    f.state.metrics().set_scheduler_queue(1, 5);
    let got = get(&app, "/metrics", &[]).await;
    assert!(
        got.header("content-type")
            .starts_with("text/plain; version=0.0.4")
    );
    let text = got.text();
    for want in [
        "# TYPE kuaibao_feed_requests_total counter",
        "kuaibao_feed_requests_total{feed=\"all.xml\",status=\"200\"} 2",
        "kuaibao_feed_requests_total{feed=\"all.xml\",status=\"304\"} 1",
        "kuaibao_feed_requests_total{feed=\"unknown\",status=\"404\"} 1",
        "kuaibao_fetches_total{source=\"mohrss\",outcome=\"ok\"} 1",
        "kuaibao_fetch_duration_seconds_count{source=\"mohrss\"} 1",
        "kuaibao_items_ingested_total{source=\"mohrss\"} 2",
        "kuaibao_scheduler_due_sources 1",
        "kuaibao_items{status=\"candidate\"} 3",
        "kuaibao_items{status=\"approved\"} 0",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    assert!(!text.contains("# EOF"));
}

#[tokio::test]
async fn status_page_shows_source_health_and_escapes_errors() {
    let f = fixture_with_items();
    f.store
        .lock()
        .unwrap()
        .record_fetch(&FetchRecord {
            source_id: "mohrss",
            url: "https://www.mohrss.gov.cn/rss.xml",
            started_at: Utc::now(),
            duration: std::time::Duration::from_millis(20),
            outcome: FetchOutcomeKind::Failed,
            items_found: None,
            items_new: None,
            error: Some("<script>alert(1)</script>".into()),
            limits: None,
            next_due_at: Utc::now(),
        })
        .unwrap();
    let app = f.app();
    let got = get(&app, "/status", &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!got.text().contains("<script>"), "{}", got.text());
    assert!(got.text().contains("&lt;script&gt;"));
    assert!(got.text().contains("mohrss"));
    let json = get(&app, "/status.json", &[]).await;
    let v: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(v["sources"][0]["id"], "mohrss");
    assert_eq!(v["sources"][0]["consecutive_failures"], 1);
    assert_eq!(v["items"]["candidate"], 3);
}

#[tokio::test]
async fn before_the_first_refresh_feeds_are_503_not_404() {
    let f = Fixture::new("");
    let got = get(&f.app(), "/feeds/all.xml", &[]).await;
    assert_eq!(got.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// A WebSub hub on 127.0.0.1 that records every ping's body.
async fn fixture_hub() -> (String, Arc<Mutex<Vec<String>>>) {
    let pings: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = pings.clone();
    let app = Router::new().fallback(move |body: String| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(body);
            StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hub"), pings)
}

#[tokio::test]
async fn with_a_websub_hub_feeds_name_it_and_a_change_pings_it() {
    let (hub, pings) = fixture_hub().await;
    let f = Fixture::new(&format!("websub_hub = \"{hub}\"\n"));
    f.add(1, Some("focus"), "2025-01-15T09:00:00+08:00");
    assert!(f.refresh());
    let app = f.app();
    let atom = get(&app, "/feeds/all.xml", &[]).await;
    let feed = assert_atom_parses(&atom.body);
    assert_eq!(links(&feed, "hub"), [hub.as_str()]);
    let json: serde_json::Value =
        serde_json::from_slice(&get(&app, "/feeds/all.json", &[]).await.body).unwrap();
    assert_eq!(json["hubs"][0]["type"], "WebSub");
    assert_eq!(json["hubs"][0]["url"], hub);

    f.add(2, Some("focus"), "2025-01-16T09:00:00+08:00");
    assert!(f.refresh());
    let want = format!(
        "hub.mode=publish&hub.url={}",
        url::form_urlencoded::byte_serialize(format!("{BASE}feeds/all.xml").as_bytes())
            .collect::<String>()
    );
    for _ in 0..100 {
        if pings.lock().unwrap().iter().any(|p| p == &want) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pings = pings.lock().unwrap().clone();
    assert!(pings.contains(&want), "{pings:?}");
    // Unchanged feeds (the regional section) are not pinged.
    assert!(!pings.iter().any(|p| p.contains("regional")), "{pings:?}");
}

#[tokio::test]
async fn the_refresher_picks_up_a_notified_change_and_stops_on_shutdown() {
    let f = Fixture::new("");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(serve::run_refresher(
        f.state.clone(),
        std::time::Duration::from_secs(3600),
        rx,
    ));
    let app = f.app();
    let wait_for = |needle: &'static str| {
        let app = app.clone();
        async move {
            for _ in 0..200 {
                let got = get(&app, "/feeds/all.xml", &[]).await;
                if got.status == StatusCode::OK && got.text().contains(needle) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("{needle} never appeared");
        }
    };
    wait_for("<feed").await;
    f.add(7, None, "2025-03-01T09:00:00+08:00");
    f.state.notify_changed();
    wait_for("人社部通知 第7号").await;
    tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("refresher stops")
        .unwrap();
}

#[test]
fn served_paths_are_under_the_base_url_layout() {
    let f = Fixture::new("");
    f.refresh();
    let snapshot = f.state.cache().snapshot();
    let paths = snapshot.paths();
    for want in [
        "/",
        "/feeds.opml",
        "/feeds/all.json",
        "/feeds/all.xml",
        "/feeds/focus.xml",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
}
