//! Specification of `kuaibao serve`'s HTTP side: what feed readers,
//! caches, WebSub hubs and operators get from the router, over HTTP
//! semantics (validators, 304s, content coding, archives).

use std::io::{BufReader, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use futures_util::StreamExt;
use kuaibao::config::Config;
use kuaibao::metrics::Metrics;
use kuaibao::model::{NewItem, Published};
use kuaibao::publish::{self, FeedKind};
use kuaibao::serve::{self, ServeState};
use kuaibao::store::{FetchOutcomeKind, FetchRecord, Status, Store};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
            content_html: kuaibao::normalize::sanitize_html(
                &format!("<p>关于做好就业工作的通知 {n}。</p>"),
                &url::Url::parse("https://www.mohrss.gov.cn/a/").unwrap(),
            ),
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
        kuaibao::poll::store_item(
            &mut self.store.lock().unwrap(),
            &item,
            Status::Candidate,
            &kuaibao::dedup::DedupConfig::default(),
        )
        .unwrap();
    }

    fn refresh(&self) -> bool {
        self.state.refresh().unwrap()
    }

    /// What `kuaibao publish` renders for `kind`.
    fn published(&self, kind: FeedKind) -> String {
        let store = self.store.lock().unwrap();
        let limit = self.config.publish.entries * (self.config.sections.len() + 1);
        let entries = store
            .feed_entries(Published::AlsoCandidatesFrom(0.0), Some(limit))
            .unwrap();
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
    fixture_with_items_and("")
}

/// [`fixture_with_items`] with more `[server]` keys.
fn fixture_with_items_and(server: &str) -> Fixture {
    let f = Fixture::new(server);
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
    let now = Utc::now().with_timezone(&kuaibao::time::beijing());
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
    let f = fixture_with_items_and("status_public = true\n");
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
        "kuaibao_items{status=\"maybe\"} 0",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    assert!(!text.contains("# EOF"));
}

#[tokio::test]
async fn status_page_shows_source_health_and_escapes_errors() {
    let f = fixture_with_items_and("status_public = true\n");
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
    assert_eq!(v["items"]["maybe"], 0, "every status editors work with");
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
    // The test hub is on 127.0.0.1, which the fetcher's guard refuses
    // unless told otherwise.
    let f = Fixture::new(&format!(
        "websub_hub = \"{hub}\"\n[poll]\nallow_private = true\n"
    ));
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

#[tokio::test]
async fn a_websub_hub_on_a_private_address_is_refused_unless_allow_private() {
    let (hub, pings) = fixture_hub().await;
    let f = Fixture::new(&format!("websub_hub = \"{hub}\"\n"));
    f.add(1, Some("focus"), "2025-01-15T09:00:00+08:00");
    assert!(f.refresh());
    f.add(2, Some("focus"), "2025-01-16T09:00:00+08:00");
    assert!(f.refresh());
    let refused = "kuaibao_websub_pings_total{outcome=\"refused\"}";
    for _ in 0..100 {
        if f.state.metrics().render().contains(refused) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let metrics = f.state.metrics().render();
    assert!(metrics.contains(refused), "{metrics}");
    assert!(!metrics.contains("outcome=\"ok\""), "{metrics}");
    assert!(pings.lock().unwrap().is_empty(), "the hub was reached");
}

const PASSWORD: &str = "correct horse battery";

/// Logs `name` in on the desk; the session cookie.
async fn desk_login(f: &Fixture, app: &Router, name: &str) -> String {
    kuaibao::accounts::add_user(
        &f.store.lock().unwrap(),
        name,
        kuaibao::accounts::Role::Editor,
        PASSWORD,
    )
    .unwrap();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("name", name), ("password", PASSWORD), ("next", "/status")])
        .finish();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/desk/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/status", "back where it began");
    let set = resp.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn without_status_public_status_and_metrics_need_a_desk_login_but_healthz_does_not() {
    let f = fixture_with_items();
    let app = f.app();
    for path in ["/metrics", "/status.json"] {
        let got = get(&app, path, &[]).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(got.header("cache-control"), "no-store");
        assert!(!got.text().contains("mohrss"), "{path}: {}", got.text());
    }
    let page = get(&app, "/status", &[("accept", "text/html")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/desk/login?next=%2Fstatus");
    assert_eq!(get(&app, "/healthz", &[]).await.status, StatusCode::OK);

    let cookie = desk_login(&f, &app, "alice").await;
    for path in ["/metrics", "/status.json", "/status"] {
        let got = get(&app, path, &[("cookie", &cookie)]).await;
        assert_eq!(got.status, StatusCode::OK, "{path}");
    }
    let metrics = get(&app, "/metrics", &[("cookie", &cookie)]).await;
    assert!(
        metrics
            .text()
            .contains("kuaibao_items{status=\"candidate\"} 3")
    );
}

#[tokio::test]
async fn with_status_public_anyone_reads_status_and_metrics() {
    let f = fixture_with_items_and("status_public = true\n");
    let app = f.app();
    for path in ["/metrics", "/status.json", "/status", "/healthz"] {
        assert_eq!(get(&app, path, &[]).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn every_public_response_carries_security_headers_and_html_pages_keep_their_inline_style() {
    let f = fixture_with_items_and("status_public = true\n");
    let app = f.app();
    let html = ["/", "/status", "/issues/"];
    let other = [
        "/feeds/all.xml",
        "/feeds/all.json",
        "/feeds.opml",
        "/feeds/archive/all/2025-01.xml",
        "/feeds/issues.xml",
        "/feeds/nope.xml",
        "/healthz",
        "/metrics",
    ];
    for path in html.iter().chain(&other) {
        let got = get(&app, path, &[]).await;
        assert_eq!(got.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(got.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(
            got.header("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        let csp = got.header("content-security-policy");
        assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src"), "{path}: {csp}");
        if html.contains(path) {
            // The pages style themselves inline, and must still look right.
            assert!(got.text().contains("<style>"), "{path}");
            assert!(
                csp.contains("style-src 'self' 'unsafe-inline'"),
                "{path}: {csp}"
            );
        } else {
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        }
    }
    // A 304 refreshes a cache's stored headers: it gets no CSP of its own
    // that could replace the page's.
    let etag = get(&app, "/", &[]).await.header("etag").to_string();
    let again = get(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.headers.get("content-security-policy").is_none());
    assert_eq!(again.header("x-content-type-options"), "nosniff");
    // The desk's own headers stand.
    let login = get(&app, "/desk/login", &[]).await;
    assert_eq!(login.header("referrer-policy"), "same-origin");
    assert!(login.header("content-security-policy").contains("'nonce-"));
}

#[tokio::test]
async fn a_request_body_over_max_request_body_is_413_on_every_route() {
    let f = fixture_with_items_and("max_request_body = \"1KiB\"\n");
    let app = f.app();
    let big = "name=alice&password=".to_string() + &"x".repeat(2048);
    for (method, path) in [
        (Method::POST, "/desk/login"),
        (Method::POST, "/desk/items/1/approve"),
        (Method::GET, "/feeds/all.xml"),
        (Method::GET, "/healthz"),
    ] {
        let req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", big.len().to_string())
            .body(Body::from(big.clone()))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{method} {path}"
        );
    }
    // Without a declared length the body is cut off while it is read.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/desk/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from_stream(futures_util::stream::iter([Ok::<
            _,
            std::io::Error,
        >(
            Bytes::from(big.clone()),
        )])))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// `kuaibao serve`'s accept loop on 127.0.0.1 in front of `f`'s routes
/// (the router and the fast 304s, as the daemon serves them); the address
/// and the switch that stops it.
async fn listen(
    f: &Fixture,
) -> (
    std::net::SocketAddr,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    listen_with(f, serve::routes(f.state.clone())).await
}

/// [`listen`] in front of other routes.
async fn listen_with(
    f: &Fixture,
    routes: serve::Routes,
) -> (
    std::net::SocketAddr,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let limits = serve::HttpLimits::from_config(&f.config.server, Duration::from_secs(1));
    let task = tokio::spawn(serve::serve_http(
        listener,
        routes,
        limits,
        f.state.metrics().clone(),
        stopped,
    ));
    (addr, stop, task)
}

/// What one request on a connection of its own gets, as sent: the head
/// (status line and headers in their order, without `date`, which is the
/// clock's) and the body.
struct Wire {
    head: String,
    body: Vec<u8>,
}

impl Wire {
    fn status(&self) -> u16 {
        self.head.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

async fn exchange(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Wire {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: kb\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got))
        .await
        .expect("answered and closed")
        .unwrap();
    let end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {}", String::from_utf8_lossy(&got)));
    let head = std::str::from_utf8(&got[..end])
        .unwrap()
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    Wire {
        head,
        body: got[end + 4..].to_vec(),
    }
}

/// The fast 304s with a router that answers every request 418 behind
/// them: a 304 from it can only come from the fast path, and a 418 means
/// the request went to the router.
fn fast_path_before_a_teapot(f: &Fixture) -> serve::Routes {
    let teapot = Router::new().fallback(|| async { StatusCode::IM_A_TEAPOT });
    serve::Routes::from(teapot).answering_304s_from(f.state.cache().clone())
}

/// The conditional requests of feed readers and caches that get a 304:
/// every kind of cached document, every coding, GET and HEAD, ETag and
/// date validators.
async fn conditional_requests_that_match(
    app: &Router,
) -> Vec<(&'static str, &'static str, Vec<(&'static str, String)>)> {
    let mut out = Vec::new();
    for path in [
        "/feeds/all.xml",
        "/feeds/focus.xml",
        "/feeds/all.json",
        "/feeds.opml",
        "/",
        "/index.html",
    ] {
        let plain = get(app, path, &[]).await;
        let etag = plain.header("etag").to_string();
        let lm = plain.header("last-modified").to_string();
        out.push(("GET", path, vec![("If-None-Match", etag.clone())]));
        out.push(("HEAD", path, vec![("If-None-Match", etag.clone())]));
        out.push((
            "GET",
            path,
            vec![("If-None-Match", format!("\"nope\", W/{etag}"))],
        ));
        out.push(("GET", path, vec![("If-None-Match", "*".into())]));
        out.push(("GET", path, vec![("If-Modified-Since", lm)]));
        for coding in ["gzip", "br"] {
            let compressed = get(app, path, &[("accept-encoding", coding)]).await;
            if compressed.headers.contains_key("content-encoding") {
                out.push((
                    "GET",
                    path,
                    vec![
                        ("Accept-Encoding", coding.into()),
                        ("If-None-Match", compressed.header("etag").to_string()),
                    ],
                ));
            }
        }
    }
    out
}

fn feed_requests(f: &Fixture, feed: &str, status: u16) -> u64 {
    let want = format!("kuaibao_feed_requests_total{{feed=\"{feed}\",status=\"{status}\"}} ");
    f.state
        .metrics()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(&want))
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test]
async fn a_fast_304_is_the_routers_304_byte_for_byte_and_counted_the_same() {
    let f = fixture_with_items();
    let requests = conditional_requests_that_match(&f.app()).await;
    assert!(requests.len() > 30, "{}", requests.len());
    let (router_only, _stop_a, _a) = listen_with(&f, f.app().into()).await;
    let (served, _stop_b, _b) = listen(&f).await;
    let (fast_only, _stop_c, _c) = listen_with(&f, fast_path_before_a_teapot(&f)).await;
    for (method, path, headers) in &requests {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let by_router = exchange(router_only, method, path, &headers).await;
        assert_eq!(by_router.status(), 304, "{method} {path} {headers:?}");
        let fast = exchange(fast_only, method, path, &headers).await;
        assert_eq!(
            fast.status(),
            304,
            "{method} {path} {headers:?}: not answered by the fast path"
        );
        let daemon = exchange(served, method, path, &headers).await;
        for got in [&fast, &daemon] {
            assert_eq!(got.head, by_router.head, "{method} {path} {headers:?}");
            assert!(got.body.is_empty());
        }
    }
    // Counted as the router counts them: each 304 once, under its document.
    let before = feed_requests(&f, "all.xml", 304);
    let etag = get(&f.app(), "/feeds/all.xml", &[])
        .await
        .header("etag")
        .to_string();
    for _ in 0..3 {
        let got = exchange(
            fast_only,
            "GET",
            "/feeds/all.xml",
            &[("If-None-Match", &etag)],
        )
        .await;
        assert_eq!(got.status(), 304);
    }
    assert_eq!(feed_requests(&f, "all.xml", 304), before + 3);
}

/// A method, a path and request headers.
type Exchange<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

#[tokio::test]
async fn the_fast_path_hands_every_other_request_to_the_router() {
    let f = Fixture::new("");
    f.add(1, Some("focus"), "2025-01-15T09:00:00+08:00");
    let (fast_only, _stop, _task) = listen_with(&f, fast_path_before_a_teapot(&f)).await;
    // Before the first render the cache holds nothing: the router's 503.
    let early = exchange(
        fast_only,
        "GET",
        "/feeds/all.xml",
        &[("If-None-Match", "*")],
    )
    .await;
    assert_eq!(early.status(), 418);
    assert!(f.refresh());
    let plain = get(&f.app(), "/feeds/all.xml", &[]).await;
    let etag = plain.header("etag").to_string();
    let lm = plain.header("last-modified").to_string();
    let gz_etag = get(&f.app(), "/feeds/all.xml", &[("accept-encoding", "gzip")])
        .await
        .header("etag")
        .to_string();
    assert_ne!(gz_etag, etag);
    let matching = exchange(
        fast_only,
        "GET",
        "/feeds/all.xml",
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(matching.status(), 304, "the fast path is on");
    let cases: &[Exchange] = &[
        ("GET", "/feeds/all.xml", vec![]),
        ("GET", "/feeds/all.xml", vec![("If-None-Match", "\"nope\"")]),
        // The gzip body's tag, asked without gzip: another representation.
        ("GET", "/feeds/all.xml", vec![("If-None-Match", &gz_etag)]),
        // If-None-Match wins over a matching If-Modified-Since.
        (
            "GET",
            "/feeds/all.xml",
            vec![("If-None-Match", "\"nope\""), ("If-Modified-Since", &lm)],
        ),
        (
            "GET",
            "/feeds/all.xml",
            vec![("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
        ),
        ("POST", "/feeds/all.xml", vec![("If-None-Match", &etag)]),
        ("DELETE", "/feeds/all.xml", vec![("If-None-Match", "*")]),
        // Not cached: routes of their own, the desk, archives, unknowns.
        ("GET", "/desk/", vec![("If-None-Match", "*")]),
        ("GET", "/desk/login", vec![("If-None-Match", "*")]),
        ("GET", "/desk/items/1", vec![("If-None-Match", &etag)]),
        ("GET", "/status", vec![("If-None-Match", "*")]),
        ("GET", "/status.json", vec![("If-None-Match", "*")]),
        ("GET", "/metrics", vec![("If-None-Match", "*")]),
        ("GET", "/healthz", vec![("If-None-Match", "*")]),
        ("GET", "/issues/", vec![("If-None-Match", "*")]),
        ("GET", "/feeds/issues.xml", vec![("If-None-Match", "*")]),
        (
            "GET",
            "/feeds/archive/all/2025-01.xml",
            vec![("If-None-Match", "*")],
        ),
        ("GET", "/feeds/nope.xml", vec![("If-None-Match", "*")]),
        ("GET", "/feeds/all.xml/", vec![("If-None-Match", "*")]),
    ];
    for (method, path, headers) in cases {
        let got = exchange(fast_only, method, path, headers).await;
        assert_eq!(got.status(), 418, "{method} {path} {headers:?}");
    }
    // A request with a body goes to the router, whose limits judge it.
    let mut stream = TcpStream::connect(fast_only).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /feeds/all.xml HTTP/1.1\r\nHost: kb\r\nConnection: close\r\n\
                 If-None-Match: {etag}\r\nContent-Length: 2\r\n\r\nab"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 418"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn desk_and_status_routes_keep_their_own_answers_to_conditional_requests() {
    let f = fixture_with_items();
    let (served, _stop, _task) = listen(&f).await;
    let etag = get(&f.app(), "/feeds/all.xml", &[])
        .await
        .header("etag")
        .to_string();
    for inm in ["*", etag.as_str()] {
        let desk = exchange(
            served,
            "GET",
            "/desk/",
            &[("If-None-Match", inm), ("Accept", "text/html")],
        )
        .await;
        assert_eq!(desk.status(), 303, "{}", desk.head);
        assert!(desk.header("location").unwrap().starts_with("/desk/login"));
        let status = exchange(served, "GET", "/status.json", &[("If-None-Match", inm)]).await;
        assert_eq!(status.status(), 401, "{}", status.head);
        let login = exchange(served, "GET", "/desk/login", &[("If-None-Match", inm)]).await;
        assert_eq!(login.status(), 200, "{}", login.head);
        assert!(
            login
                .header("content-security-policy")
                .unwrap()
                .contains("'nonce-")
        );
    }
}

#[tokio::test]
async fn behind_the_fast_path_a_non_matching_etag_still_gets_the_full_200() {
    let f = fixture_with_items();
    let (served, _stop, _task) = listen(&f).await;
    let full = get(&f.app(), "/feeds/all.xml", &[]).await;
    for headers in [
        vec![("If-None-Match", "\"nope\"")],
        vec![("If-None-Match", "W/\"0123456789abcdef\"")],
        vec![("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
        vec![],
    ] {
        let got = exchange(served, "GET", "/feeds/all.xml", &headers).await;
        assert_eq!(got.status(), 200, "{headers:?}");
        assert_eq!(got.body, full.body, "{headers:?}");
        assert_eq!(got.header("etag"), Some(full.header("etag")));
        assert_eq!(got.header("content-security-policy"), Some(DOCUMENT_CSP));
    }
}

const DOCUMENT_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[tokio::test]
async fn after_a_re_render_an_old_etag_gets_the_new_document_and_the_new_one_a_304() {
    let f = fixture_with_items();
    let (served, _stop, _task) = listen(&f).await;
    let (router_only, _stop_a, _a) = listen_with(&f, f.app().into()).await;
    let (fast_only, _stop_c, _c) = listen_with(&f, fast_path_before_a_teapot(&f)).await;
    let mut old = Vec::new();
    for path in ["/feeds/all.xml", "/feeds/focus.xml", "/"] {
        let etag = exchange(served, "GET", path, &[])
            .await
            .header("etag")
            .unwrap()
            .to_string();
        let got = exchange(served, "GET", path, &[("If-None-Match", &etag)]).await;
        assert_eq!(got.status(), 304, "{path}");
        old.push((path, etag));
    }
    f.add(4, Some("focus"), "2025-03-01T09:00:00+08:00");
    assert!(f.refresh());
    for (path, etag) in &old {
        // The router is not asked: the fast path itself declines.
        let declined = exchange(fast_only, "GET", path, &[("If-None-Match", etag)]).await;
        assert_eq!(declined.status(), 418, "{path}");
        let got = exchange(served, "GET", path, &[("If-None-Match", etag)]).await;
        assert_eq!(got.status(), 200, "{path}");
        assert!(
            String::from_utf8_lossy(&got.body).contains("第4号"),
            "{path}"
        );
        let new = got.header("etag").unwrap();
        assert_ne!(new, etag.as_str(), "{path}");
        let again = exchange(served, "GET", path, &[("If-None-Match", new)]).await;
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.header("etag"), Some(new));
        // The fast path's prebuilt 304 is the new render's: the router's
        // 304 to the letter (new ETag, new Last-Modified).
        let fast = exchange(fast_only, "GET", path, &[("If-None-Match", new)]).await;
        assert_eq!(fast.status(), 304, "{path}");
        let by_router = exchange(router_only, "GET", path, &[("If-None-Match", new)]).await;
        assert_eq!(by_router.status(), 304, "{path}");
        assert_eq!(fast.head, by_router.head, "{path}");
        assert_eq!(
            fast.header("last-modified"),
            got.header("last-modified"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_new_max_age_reaches_the_fast_304s_of_documents_whose_bytes_did_not_change() {
    let f = fixture_with_items();
    let (router_only, _stop_a, _a) = listen_with(&f, f.app().into()).await;
    let (fast_only, _stop_c, _c) = listen_with(&f, fast_path_before_a_teapot(&f)).await;
    let etag = exchange(router_only, "GET", "/feeds/all.xml", &[])
        .await
        .header("etag")
        .unwrap()
        .to_string();
    let before = exchange(
        fast_only,
        "GET",
        "/feeds/all.xml",
        &[("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(before.header("cache-control"), Some("public, max-age=120"));
    let main = f._dir.path().join("kuaibao.toml");
    let text = std::fs::read_to_string(&main).unwrap();
    assert!(text.contains("max_age = \"2m\""));
    std::fs::write(&main, text.replace("max_age = \"2m\"", "max_age = \"5m\"")).unwrap();
    f.state.set_config(Arc::new(Config::load(&main).unwrap()));
    f.state.refresh().unwrap();
    for (method, headers) in [
        ("GET", vec![("If-None-Match", etag.as_str())]),
        ("HEAD", vec![("If-None-Match", etag.as_str())]),
        (
            "GET",
            vec![("If-None-Match", "*"), ("Accept-Encoding", "gzip")],
        ),
        (
            "GET",
            vec![("If-None-Match", "*"), ("Accept-Encoding", "br")],
        ),
    ] {
        // Same bytes, same validator; only the Cache-Control is new.
        let fast = exchange(fast_only, method, "/feeds/all.xml", &headers).await;
        assert_eq!(fast.status(), 304, "{method} {headers:?}");
        assert_eq!(
            fast.header("cache-control"),
            Some("public, max-age=300"),
            "{method} {headers:?}"
        );
        let by_router = exchange(router_only, method, "/feeds/all.xml", &headers).await;
        assert_eq!(fast.head, by_router.head, "{method} {headers:?}");
    }
    assert_eq!(
        exchange(
            fast_only,
            "GET",
            "/feeds/all.xml",
            &[("If-None-Match", &etag)]
        )
        .await
        .header("etag"),
        Some(etag.as_str())
    );
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: kb\r\n\r\n";

/// Reads one `/healthz` answer off a kept-alive connection.
async fn read_healthz(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"\r\n\r\nok\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed mid-answer: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// How long until the server closes `stream`, reading whatever it sends.
async fn until_closed(stream: &mut TcpStream, bound: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("still open after {bound:?}"),
        }
    }
}

/// Sends a request head a header line every 300 ms, never ending it.
fn trickle_head(mut write: tokio::net::tcp::OwnedWriteHalf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = write.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if write
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    })
}

#[tokio::test]
async fn a_client_trickling_its_header_is_cut_off_after_header_timeout() {
    let f = Fixture::new("header_timeout = \"1s\"\nidle_timeout = \"5s\"\n");
    f.refresh();
    let (addr, _stop, _task) = listen(&f).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, write) = stream.into_split();
    let trickle = trickle_head(write);
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let mut answer = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(8), read.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!("a trickling header kept its connection for 8 s"),
        }
    }
    let took = started.elapsed();
    trickle.abort();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_header_timeout_not_idle_timeout() {
    let f = Fixture::new("header_timeout = \"1s\"\nidle_timeout = \"5s\"\n");
    f.refresh();
    let (addr, _stop, _task) = listen(&f).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let took = until_closed(&mut stream, Duration::from_secs(8)).await;
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_waits_idle_timeout_for_its_next_request_then_closes() {
    let f = Fixture::new("header_timeout = \"1s\"\nidle_timeout = \"3s\"\n");
    f.refresh();
    let (addr, _stop, _task) = listen(&f).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Longer than header_timeout: hyper's own header timer would have
    // closed the connection by now.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
    let took = until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        took >= Duration::from_millis(2700) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_whose_next_head_trickles_gets_header_timeout_from_its_first_byte()
{
    let f = Fixture::new("header_timeout = \"1s\"\nidle_timeout = \"5s\"\n");
    f.refresh();
    let (addr, _stop, _task) = listen(&f).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert!(read_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle past header_timeout (allowed: idle_timeout), then a head that
    // never ends. Its deadline is a second after its first byte, earlier
    // than the idle deadline the connection was waiting for.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (mut read, write) = stream.into_split();
    let trickle = trickle_head(write);
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(Duration::from_secs(8), read.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!("answered: {}", String::from_utf8_lossy(&buf[..n])),
        Err(_) => panic!("a trickling head kept its connection for 8 s"),
    }
    let took = started.elapsed();
    trickle.abort();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "closed {took:?} after the first byte"
    );
}

#[tokio::test]
async fn a_request_slower_to_answer_than_both_timeouts_is_still_answered() {
    let f = Fixture::new("header_timeout = \"1s\"\nidle_timeout = \"1s\"\n");
    let slow = Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            "done\n"
        }),
    );
    let (addr, _stop, _task) = listen_with(&f, slow.into()).await;
    let started = Instant::now();
    let got = exchange(addr, "GET", "/slow", &[]).await;
    assert_eq!(got.status(), 200, "{}", got.head);
    assert_eq!(got.body, b"done\n");
    assert!(started.elapsed() >= Duration::from_millis(2400));
}

#[tokio::test]
async fn beyond_max_connections_a_connection_waits_unaccepted_until_one_closes() {
    let f = Fixture::new("header_timeout = \"5s\"\nidle_timeout = \"20s\"\nmax_connections = 2\n");
    f.refresh();
    let (addr, _stop, _task) = listen(&f).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(HEALTHZ).await.unwrap();
        read_healthz(&mut s).await;
        held.push(s);
    }
    assert!(
        f.state
            .metrics()
            .render()
            .contains("kuaibao_http_connections 2")
    );
    // The kernel completes the handshake; the daemon does not accept.
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting.write_all(HEALTHZ).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(1000), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "answered beyond max_connections: {early:?}");
    drop(held.pop());
    let answered = tokio::time::timeout(Duration::from_secs(3), read_healthz(&mut waiting)).await;
    assert!(
        answered.is_ok_and(|a| a.starts_with("HTTP/1.1 200")),
        "a slot freed up and the waiting connection was served"
    );
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_returns_within_the_grace_period() {
    let f = Fixture::new("idle_timeout = \"30s\"\n");
    f.refresh();
    let (addr, stop, task) = listen(&f).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    read_healthz(&mut stream).await;
    let started = Instant::now();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("serve_http returns")
        .unwrap();
    let took = until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{took:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_its_response_loses_the_connection_after_idle_timeout() {
    // Far more than the socket buffers hold, so the writes stall.
    let big = Router::new().route(
        "/big",
        axum::routing::get(|| async { vec![b'x'; 64 << 20] }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let metrics = Arc::new(Metrics::new());
    let limits = serve::HttpLimits {
        header_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(1),
        max_connections: 4,
        shutdown_grace: Duration::from_secs(1),
    };
    tokio::spawn(serve::serve_http(
        listener,
        big,
        limits,
        metrics.clone(),
        stopped,
    ));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /big HTTP/1.1\r\nHost: kb\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        metrics.render().contains("kuaibao_http_connections 0"),
        "{}",
        metrics.render()
    );
    // What was already in the socket buffers arrives, then the end.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("the connection stayed open"),
        }
    }
    assert!(got < 64 << 20, "the whole response arrived: {got} bytes");
}

#[tokio::test]
async fn a_login_form_that_trickles_in_is_cut_off_after_header_timeout() {
    let f = Fixture::new("header_timeout = \"1s\"\n");
    let stalled = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
        b"name=alice&pass",
    ))])
    .chain(futures_util::stream::pending());
    let req = Request::builder()
        .method(Method::POST)
        .uri("/desk/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from_stream(stalled))
        .unwrap();
    let started = Instant::now();
    let resp = tokio::time::timeout(Duration::from_secs(5), f.app().oneshot(req))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(3));
}
