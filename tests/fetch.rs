//! Tests for the fetch stage (fetch → extract → normalize → store →
//! publish): every behaviour against an in-process server on 127.0.0.1, no
//! internet. Fixtures live in tests/fixtures/fetch/.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kuaibao::config::{EncodingChoice, Poll};
use kuaibao::fetch::{FetchError, FetchOutcome, Fetcher, decode};
use kuaibao::model::{Page, Validators};
use url::Url;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/fetch/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn poll() -> Poll {
    Poll {
        interval: Duration::from_secs(1800),
        timeout: Duration::from_secs(10),
        max_body: 1024 * 1024,
        concurrency: 8,
        per_host: 4,
        user_agent: "kuaibao-test/1.0".into(),
        allow_private: true,
        max_redirects: 5,
        host_delay: Duration::ZERO,
        ..Poll::default()
    }
}

#[derive(Default)]
struct Counters {
    hits: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

const ETAG: &str = "\"v1-5f3a\"";
const LAST_MODIFIED: &str = "Mon, 20 May 2024 08:00:00 GMT";
const SSID: &str = "a1b2c3d4e5f60718";
const SUM: u64 = 2718 + 31415 + 1618;

fn html(ct: &'static str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn challenge_response() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html".to_string()),
            (
                header::SET_COOKIE,
                format!("EO_Bot_Ssid={SSID}; Path=/; Max-Age=600; HttpOnly"),
            ),
        ],
        fixture("mohrss_challenge.html"),
    )
        .into_response()
}

fn app(c: Arc<Counters>) -> Router {
    Router::new()
        .route(
            "/gbk-meta",
            get(|| async { html("text/html", fixture("gbk_meta.html")) }),
        )
        .route(
            "/gbk-bare",
            get(|| async { html("text/html", fixture("gbk_undeclared.html")) }),
        )
        .route(
            "/bom",
            get(|| async { html("text/html", fixture("utf8_bom.html")) }),
        )
        .route(
            "/header-wins",
            get(|| async {
                html(
                    "text/html; charset=UTF-8",
                    fixture("utf8_meta_says_gbk.html"),
                )
            }),
        )
        .route(
            "/feed",
            get(|| async { html("application/rss+xml", fixture("gb2312_feed.xml")) }),
        )
        .route(
            "/gzip",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    fixture("utf8_page.html.gz"),
                )
            }),
        )
        .route(
            "/etag",
            get(|headers: HeaderMap| async move {
                if headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|v| v == ETAG)
                {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                ([(header::ETAG, ETAG)], "<p>v1</p>").into_response()
            }),
        )
        .route(
            "/last-modified",
            get(|headers: HeaderMap| async move {
                if headers
                    .get(header::IF_MODIFIED_SINCE)
                    .is_some_and(|v| v == LAST_MODIFIED)
                {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                ([(header::LAST_MODIFIED, LAST_MODIFIED)], "<p>v1</p>").into_response()
            }),
        )
        .route(
            "/loop/{name}",
            get(|Path(name): Path<String>| async move {
                redirect(if name == "a" { "/loop/b" } else { "/loop/a" }.to_string())
            }),
        )
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                if n == 0 {
                    html("text/html; charset=utf-8", b"<p>end of chain</p>".to_vec())
                } else {
                    redirect(format!("/chain/{}", n - 1))
                }
            }),
        )
        .route(
            "/big-chunked",
            get(|| async {
                // Endless: only a streamed cap ever finishes this request.
                let chunks = futures_util::stream::repeat_with(|| {
                    Ok::<_, std::io::Error>(vec![b'x'; 64 * 1024])
                });
                html_body(Body::from_stream(chunks))
            }),
        )
        .route(
            "/big-declared",
            get(|| async { html("text/html", vec![b'x'; 2 * 1024 * 1024]) }),
        )
        .route(
            "/unavailable",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "120")],
                    "busy",
                )
            }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such page") }),
        )
        .route(
            "/gbk-location",
            get(|| async {
                // 中文 in GBK, raw, as some Chinese servers send it.
                let to = header::HeaderValue::from_bytes(b"/target/\xd6\xd0\xce\xc4")
                    .expect("obs-text is a valid header value");
                (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
            }),
        )
        .route(
            "/target/{rest}",
            get(|uri: axum::http::Uri| async move { uri.path().to_string() }),
        )
        .route(
            "/mohrss/start",
            get(|State(c): State<Arc<Counters>>| async move {
                c.hits.fetch_add(1, Ordering::SeqCst);
                redirect("/mohrss/sbjm".into())
            }),
        )
        .route(
            "/mohrss/stubborn",
            get(|State(c): State<Arc<Counters>>| async move {
                c.hits.fetch_add(1, Ordering::SeqCst);
                challenge_response()
            }),
        )
        .route(
            "/mohrss/sbjm",
            get(
                |State(c): State<Arc<Counters>>, headers: HeaderMap| async move {
                    c.hits.fetch_add(1, Ordering::SeqCst);
                    let cookie = headers
                        .get(header::COOKIE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let solved = cookie.contains(&format!("__tst_status={SUM}#"))
                        && cookie.contains(&format!("EO_Bot_Ssid={SSID}"));
                    if solved {
                        html("text/html", fixture("mohrss_content.html"))
                    } else {
                        challenge_response()
                    }
                },
            ),
        )
        .route(
            "/slow",
            get(|State(c): State<Arc<Counters>>| async move {
                let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                c.max_in_flight.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                c.in_flight.fetch_sub(1, Ordering::SeqCst);
                "<p>slow</p>"
            }),
        )
        .with_state(c)
}

fn html_body(body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(body)
        .expect("response")
}

/// Starts the fixture server; returns its base URL and request counters.
async fn serve() -> (Url, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(counters.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let base = Url::parse(&format!("http://{addr}/")).expect("url");
    (base, counters)
}

async fn fetch_with(poll: &Poll, url: &Url) -> Result<FetchOutcome, FetchError> {
    Fetcher::new(poll)
        .expect("fetcher")
        .fetch(url, EncodingChoice::Auto, None)
        .await
}

async fn page(base: &Url, path: &str) -> Page {
    let url = base.join(path).expect("url");
    match fetch_with(&poll(), &url).await {
        Ok(FetchOutcome::Page(p)) => p,
        Ok(FetchOutcome::NotModified) => panic!("{path}: unexpected 304"),
        Err(e) => panic!("{path}: {e}"),
    }
}

async fn error(poll: &Poll, url: &Url) -> FetchError {
    match fetch_with(poll, url).await {
        Ok(FetchOutcome::Page(p)) => panic!("{url}: expected an error, got a page {p:?}"),
        Ok(FetchOutcome::NotModified) => panic!("{url}: expected an error, got 304"),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "not one line: {message}");
            e
        }
    }
}

// ---- charset -------------------------------------------------------------

#[tokio::test]
async fn gbk_page_without_charset_header_decodes_via_meta() {
    let (base, _) = serve().await;
    let p = page(&base, "gbk-meta").await;
    assert_eq!(p.encoding, "gb18030");
    assert!(
        p.text
            .contains("江苏省人力资源和社会保障厅发布企业职工基本养老保险待遇调整方案")
    );
    assert!(!p.text.contains('\u{FFFD}'));
    assert_eq!(p.content_type.as_deref(), Some("text/html"));
}

#[tokio::test]
async fn gbk_page_without_any_declaration_is_detected() {
    let (base, _) = serve().await;
    let p = page(&base, "gbk-bare").await;
    assert_eq!(p.encoding, "gb18030");
    assert!(
        p.text
            .contains("关于进一步做好失业保险稳岗返还工作有关问题的通知")
    );
}

#[tokio::test]
async fn bom_decides_encoding_and_is_stripped() {
    let (base, _) = serve().await;
    let p = page(&base, "bom").await;
    assert_eq!(p.encoding, "UTF-8");
    assert!(p.text.starts_with("<!DOCTYPE"));
    assert!(
        p.text
            .contains("南京市开展2024年度专业技术人员继续教育公需科目培训")
    );
}

#[tokio::test]
async fn header_charset_wins_over_meta() {
    let (base, _) = serve().await;
    let p = page(&base, "header-wins").await;
    assert_eq!(p.encoding, "UTF-8");
    assert!(
        p.text
            .contains("关于公布第二批国家级高技能人才培训基地名单的公告")
    );
}

#[tokio::test]
async fn xml_feed_decodes_via_its_declaration_not_quoted_html_meta() {
    let (base, _) = serve().await;
    let p = page(&base, "feed").await;
    assert_eq!(p.encoding, "gb18030");
    assert!(p.text.contains("人社部召开2024年第二季度新闻发布会"));
}

#[tokio::test]
async fn fixed_encoding_overrides_everything() {
    let (base, _) = serve().await;
    let url = base.join("header-wins").expect("url");
    let outcome = Fetcher::new(&poll())
        .expect("fetcher")
        .fetch(&url, EncodingChoice::Fixed(encoding_rs::GBK), None)
        .await
        .expect("fetch");
    let FetchOutcome::Page(p) = outcome else {
        panic!("expected a page")
    };
    assert_eq!(p.encoding, "gb18030");
    assert!(!p.text.contains("国家级高技能人才"));
}

#[test]
fn decode_reads_gbk_aliases_and_bare_bodies() {
    let gbk = fixture("gbk_meta.html");
    let (text, enc) = decode(
        &gbk,
        Some("text/html; charset=GB2312"),
        EncodingChoice::Auto,
    );
    assert_eq!(enc, encoding_rs::GB18030);
    assert!(text.contains("通知公告"));
    let (_, enc) = decode(&fixture("gbk_undeclared.html"), None, EncodingChoice::Auto);
    assert_eq!(enc, encoding_rs::GB18030);
}

#[tokio::test]
async fn gzip_body_is_decoded() {
    let (base, _) = serve().await;
    let p = page(&base, "gzip").await;
    assert!(p.bytes.starts_with(b"<!DOCTYPE"));
    assert!(
        p.text
            .contains("人力资源社会保障部关于做好2024年全国高校毕业生等青年就业创业工作的通知")
    );
}

// ---- conditional GET -----------------------------------------------------

#[tokio::test]
async fn etag_round_trip_yields_not_modified() {
    let (base, _) = serve().await;
    let url = base.join("etag").expect("url");
    let fetcher = Fetcher::new(&poll()).expect("fetcher");
    let FetchOutcome::Page(first) = fetcher
        .fetch(&url, EncodingChoice::Auto, None)
        .await
        .expect("first")
    else {
        panic!("first fetch must be a page")
    };
    assert_eq!(first.validators.etag.as_deref(), Some(ETAG));
    let second = fetcher
        .fetch(&url, EncodingChoice::Auto, Some(&first.validators))
        .await
        .expect("second");
    assert!(matches!(second, FetchOutcome::NotModified));
}

#[tokio::test]
async fn last_modified_round_trip_yields_not_modified() {
    let (base, _) = serve().await;
    let url = base.join("last-modified").expect("url");
    let fetcher = Fetcher::new(&poll()).expect("fetcher");
    let FetchOutcome::Page(first) = fetcher
        .fetch(&url, EncodingChoice::Auto, None)
        .await
        .expect("first")
    else {
        panic!("first fetch must be a page")
    };
    assert_eq!(
        first.validators,
        Validators {
            etag: None,
            last_modified: Some(LAST_MODIFIED.into())
        }
    );
    let second = fetcher
        .fetch(&url, EncodingChoice::Auto, Some(&first.validators))
        .await
        .expect("second");
    assert!(matches!(second, FetchOutcome::NotModified));
}

// ---- redirects -----------------------------------------------------------

#[tokio::test]
async fn redirect_loop_is_an_error() {
    let (base, _) = serve().await;
    let e = error(&poll(), &base.join("loop/a").expect("url")).await;
    assert!(matches!(e, FetchError::RedirectLoop { .. }), "{e}");
    assert!(e.to_string().contains("/loop/a"), "{e}");
}

#[tokio::test]
async fn redirects_within_the_limit_are_followed() {
    let (base, _) = serve().await;
    let p = page(&base, "chain/5").await;
    assert_eq!(p.url, base.join("chain/0").expect("url"));
    assert!(p.text.contains("end of chain"));
}

#[tokio::test]
async fn redirects_beyond_the_limit_are_an_error() {
    let (base, _) = serve().await;
    let e = error(&poll(), &base.join("chain/6").expect("url")).await;
    assert!(
        matches!(e, FetchError::TooManyRedirects { limit: 5, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn raw_non_ascii_location_is_percent_encoded_not_refused() {
    let (base, _) = serve().await;
    let p = page(&base, "gbk-location").await;
    assert_eq!(p.url.path(), "/target/%D6%D0%CE%C4");
    assert_eq!(p.text, "/target/%D6%D0%CE%C4");
}

// ---- limits --------------------------------------------------------------

#[tokio::test]
async fn streamed_body_over_max_body_is_too_large() {
    let (base, _) = serve().await;
    let poll = Poll {
        max_body: 256 * 1024,
        ..poll()
    };
    let e = error(&poll, &base.join("big-chunked").expect("url")).await;
    assert!(
        matches!(e, FetchError::TooLarge { limit, .. } if limit == 256 * 1024),
        "{e}"
    );
}

#[tokio::test]
async fn declared_content_length_over_max_body_is_too_large() {
    let (base, _) = serve().await;
    let e = error(&poll(), &base.join("big-declared").expect("url")).await;
    assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
}

#[tokio::test]
async fn silent_server_times_out_within_the_configured_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // accept, never answer
        }
    });
    let poll = Poll {
        timeout: Duration::from_millis(300),
        ..poll()
    };
    let started = Instant::now();
    let e = error(&poll, &Url::parse(&format!("http://{addr}/")).expect("url")).await;
    assert!(matches!(e, FetchError::Timeout), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

async fn max_in_flight(poll: Poll) -> usize {
    let (base, counters) = serve().await;
    let url = base.join("slow").expect("url");
    let fetcher = Arc::new(Fetcher::new(&poll).expect("fetcher"));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (fetcher, url) = (fetcher.clone(), url.clone());
            tokio::spawn(async move { fetcher.fetch(&url, EncodingChoice::Auto, None).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.expect("task"), Ok(FetchOutcome::Page(_))));
    }
    counters.max_in_flight.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_one_serialises_requests() {
    let max = max_in_flight(Poll {
        per_host: 1,
        ..poll()
    })
    .await;
    assert_eq!(max, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_three_allows_some_parallelism() {
    let max = max_in_flight(Poll {
        per_host: 3,
        ..poll()
    })
    .await;
    assert!(max > 1 && max <= 3, "max in flight {max}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overall_concurrency_caps_requests() {
    let max = max_in_flight(Poll {
        per_host: 10,
        concurrency: 2,
        ..poll()
    })
    .await;
    assert!(max <= 2 && max > 0, "max in flight {max}");
}

// ---- safety --------------------------------------------------------------

#[tokio::test]
async fn private_literal_address_is_refused() {
    let (base, counters) = serve().await;
    let poll = Poll {
        allow_private: false,
        ..poll()
    };
    let e = error(&poll, &base.join("slow").expect("url")).await;
    assert!(matches!(e, FetchError::PrivateAddress { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "refused private address 127.0.0.1 (set poll.allow_private = true to allow)"
    );
    assert_eq!(counters.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn ipv4_mapped_ipv6_loopback_is_refused() {
    let (base, counters) = serve().await;
    let port = base.port().expect("port");
    let poll = Poll {
        allow_private: false,
        ..poll()
    };
    let url = Url::parse(&format!("http://[::ffff:127.0.0.1]:{port}/slow")).expect("url");
    let e = error(&poll, &url).await;
    assert!(matches!(e, FetchError::PrivateAddress { .. }), "{e}");
    assert_eq!(counters.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn name_resolving_to_loopback_is_refused() {
    let (base, _) = serve().await;
    let port = base.port().expect("port");
    let poll = Poll {
        allow_private: false,
        ..poll()
    };
    let url = Url::parse(&format!("http://localhost:{port}/slow")).expect("url");
    let e = error(&poll, &url).await;
    assert!(matches!(e, FetchError::PrivateAddress { .. }), "{e}");
    assert!(e.to_string().contains("for localhost"), "{e}");
}

#[tokio::test]
async fn non_http_scheme_is_refused() {
    let e = error(&poll(), &Url::parse("file:///etc/passwd").expect("url")).await;
    assert!(matches!(e, FetchError::UnsupportedUrl { .. }), "{e}");
}

// ---- anti-bot challenge --------------------------------------------------

#[tokio::test]
async fn unsolved_challenge_page_is_a_challenge_error() {
    let (base, counters) = serve().await;
    let e = error(&poll(), &base.join("mohrss/stubborn").expect("url")).await;
    assert!(matches!(e, FetchError::Challenge), "{e}");
    assert!(
        e.to_string()
            .contains("anti-bot challenge page instead of content")
    );
    // One try to solve it, no more.
    assert_eq!(counters.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn solvable_challenge_is_answered_with_the_cookie() {
    let (base, counters) = serve().await;
    let p = page(&base, "mohrss/sbjm").await;
    assert!(
        p.text
            .contains("阶段性降低失业保险、工伤保险费率政策延续实施")
    );
    assert_eq!(counters.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn challenge_behind_a_redirect_is_retried_where_it_was_served() {
    let (base, counters) = serve().await;
    let p = page(&base, "mohrss/start").await;
    assert_eq!(p.url.path(), "/mohrss/sbjm");
    assert!(p.text.contains("人社部：持续做好社保费减免政策落实工作"));
    // start → challenge → solved retry of the challenged URL only.
    assert_eq!(counters.hits.load(Ordering::SeqCst), 3);
}

// ---- HTTP errors ---------------------------------------------------------

#[tokio::test]
async fn error_status_carries_retry_after() {
    let (base, _) = serve().await;
    let e = error(&poll(), &base.join("unavailable").expect("url")).await;
    assert!(
        matches!(e, FetchError::Status { status: 503, retry_after: Some(d) } if d == Duration::from_secs(120)),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "HTTP 503 Service Unavailable, retry after 2m"
    );
    let e = error(&poll(), &base.join("missing").expect("url")).await;
    assert!(
        matches!(
            e,
            FetchError::Status {
                status: 404,
                retry_after: None
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let e = error(
        &poll(),
        &Url::parse(&format!("http://{addr}/")).expect("url"),
    )
    .await;
    let FetchError::Network(message) = &e else {
        panic!("expected a network error, got {e}")
    };
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("error sending request"), "{message}");
    eprintln!("network error reads: {e}");
}
