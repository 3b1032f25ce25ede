//! Web layer (the server): the bulletin's published issues over HTTP, the
//! serving side of the issues (期) editors assembled from approved stories.
//!
//! | path | document |
//! |---|---|
//! | `/feeds/issues.xml` | Atom, one entry per published issue (what `kuaibao publish` writes) |
//! | `/issues/`, `/issues` | an index page of the published issues |
//! | `/issues/NUMBER`, `/issues/NUMBER.html` | the issue's standalone HTML export |
//! | `/issues/NUMBER.docx`, `.md`, `.txt` | the Word, Markdown and text exports, as downloads |
//!
//! A draft or unknown number is 404: nothing is served before an editor
//! publishes it. Issues change rarely and are few, so unlike the feeds they
//! are not kept in the render-once cache: each request renders from the
//! store (milliseconds for an issue of ten articles), and an ETag (the
//! hash of the body; for the Word file, whose bytes vary between renders,
//! a weak one from its content) lets clients and proxies revalidate with
//! `If-None-Match` for a 304 instead of the body.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::ServeState;
use super::http::if_none_match_matches;
use crate::app::AppError;
use crate::assemble::{self, ExportFormat};
use crate::config::Config;
use crate::publish;
use crate::store::{IssueInfo, IssueStatus, Store, StoreError, check_issue_number};

/// A rendered answer, before validators.
struct Page {
    content_type: &'static str,
    body: Vec<u8>,
    /// `Content-Disposition: attachment` under this name.
    download: Option<String>,
    /// The ETag, when it cannot be the hash of the body; else `None`.
    etag: Option<String>,
}

/// What a request resolves to.
enum Outcome {
    Found(Page),
    NotFound(&'static str),
}

/// `/feeds/issues.xml`.
pub(super) async fn feed(State(state): State<ServeState>, headers: HeaderMap) -> Response {
    answer(
        &state,
        &headers,
        "issues.xml",
        assemble::published_issues,
        |config, issues| {
            Ok(Outcome::Found(Page {
                content_type: "application/atom+xml; charset=utf-8",
                body: publish::render_issues_feed(config, &issues)?.into_bytes(),
                download: None,
                etag: None,
            }))
        },
    )
    .await
}

/// `/issues/` (and `/issues`): the published issues, newest first.
pub(super) async fn index(State(state): State<ServeState>, headers: HeaderMap) -> Response {
    answer(
        &state,
        &headers,
        "issues",
        |_, store| store.issues(),
        |config, issues| {
            let published: Vec<IssueInfo> = issues
                .into_iter()
                .filter(|i| i.status == IssueStatus::Published)
                .collect();
            Ok(Outcome::Found(Page {
                content_type: "text/html; charset=utf-8",
                body: index_page(config, &published).into_string().into_bytes(),
                download: None,
                etag: None,
            }))
        },
    )
    .await
}

/// `/issues/NUMBER[.html|.docx|.md|.txt]`.
pub(super) async fn issue(
    State(state): State<ServeState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (number, format) = match file.rsplit_once('.') {
        None => (file.as_str(), ExportFormat::Html),
        Some((number, ext)) => match ext {
            "html" => (number, ExportFormat::Html),
            "docx" => (number, ExportFormat::Docx),
            "md" => (number, ExportFormat::Markdown),
            "txt" => (number, ExportFormat::Text),
            _ => return not_found("no such issue\n"),
        },
    };
    // Checked before the store is asked: the number ends up in a file name.
    if check_issue_number(number).is_err() {
        return not_found("no such issue\n");
    }
    let number = number.to_string();
    let label = format!("issue.{}", format.extension());
    answer(
        &state,
        &headers,
        &label,
        {
            let number = number.clone();
            move |config, store| assemble::published_issue(config, store, &number)
        },
        move |_, issue| {
            let Some(issue) = issue else {
                return Ok(Outcome::NotFound("no such issue\n"));
            };
            // docx-rs gives hyperlinks random relationship ids, so two
            // renders of one issue differ in bytes: the Word file's ETag is
            // a weak one, from what it shows (the issue, this renderer).
            let etag = (format == ExportFormat::Docx).then(|| {
                let shown = serde_json::to_vec(&issue.doc).unwrap_or_default();
                format!(
                    "W/{}",
                    etag_of(&[&shown[..], env!("CARGO_PKG_VERSION").as_bytes()].concat())
                )
            });
            Ok(Outcome::Found(Page {
                content_type: format.content_type(),
                body: assemble::render(&issue.doc, format)?,
                download: (format != ExportFormat::Html)
                    .then(|| assemble::export_file_name(&number, format)),
                etag,
            }))
        },
    )
    .await
}

/// Reads with `load` under the store's lock and renders with `render`
/// after releasing it (so the scheduler never waits for a Word file to be
/// zipped), both off the async runtime; then answers with validators.
/// `label` names the document in the request metrics.
async fn answer<T, L, R>(
    state: &ServeState,
    headers: &HeaderMap,
    label: &str,
    load: L,
    render: R,
) -> Response
where
    T: Send + 'static,
    L: FnOnce(&Config, &Store) -> Result<T, StoreError> + Send + 'static,
    R: FnOnce(&Config, T) -> Result<Outcome, AppError> + Send + 'static,
{
    let s = state.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let config = s.config();
        let loaded = {
            let store = s.store().lock().unwrap_or_else(|p| p.into_inner());
            load(&config, &store)?
        };
        render(&config, loaded)
    })
    .await;
    let mut page = match rendered {
        Ok(Ok(Outcome::Found(page))) => page,
        Ok(Ok(Outcome::NotFound(message))) => {
            state.metrics().feed_request(label, 404);
            return not_found(message);
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot render the issues");
            return server_error();
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the issues panicked");
            return server_error();
        }
    };
    let etag = page.etag.take().unwrap_or_else(|| etag_of(&page.body));
    let max_age = state.config().server.max_age.as_secs();
    let not_modified = headers
        .get(IF_NONE_MATCH)
        .is_some_and(|inm| if_none_match_matches(inm.as_bytes(), etag.as_bytes()));
    let mut resp = if not_modified {
        state.metrics().feed_request(label, 304);
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        state.metrics().feed_request(label, 200);
        let len = page.body.len();
        let mut r = Response::new(Body::from(page.body));
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(page.content_type));
        h.insert(CONTENT_LENGTH, HeaderValue::from(len));
        if let Some(name) = &page.download
            && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        {
            h.insert(CONTENT_DISPOSITION, v);
        }
        r
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(CACHE_CONTROL, v);
    }
    resp
}

/// A strong ETag: the first 16 bytes of the body's SHA-256, in hex.
fn etag_of(body: &[u8]) -> String {
    let hash = Sha256::digest(body);
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn not_found(message: &'static str) -> Response {
    (StatusCode::NOT_FOUND, message).into_response()
}

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "cannot render the issues\n",
    )
        .into_response()
}

/// The index page's stylesheet: a static asset, its only unescaped markup.
const INDEX_STYLE: &str = "body{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.6}\
li{margin:.8rem 0}.formats{font-size:.9em;color:#555}";

/// The index of published issues, newest number first: each with its
/// date, its number of articles and links to every format.
fn index_page(config: &Config, issues: &[IssueInfo]) -> Markup {
    let title = format!("{} · 各期", config.title);
    let feed = format!("{}{}", config.base_url, publish::ISSUES_FEED);
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" title { (title) }
                "\n" link rel="alternate" type="application/atom+xml" title=(title) href=(feed);
                "\n" style { (PreEscaped(INDEX_STYLE)) }
                "\n"
            }
            "\n"
            body {
                "\n" h1 { (title) } "\n"
                @if issues.is_empty() {
                    p { "尚无已发布的快报。" } "\n"
                } @else {
                    ul {
                        "\n"
                        @for issue in issues {
                            // Absolute, from base_url: the index answers at
                            // `/issues` and `/issues/`, and may sit behind a
                            // proxy under a path prefix.
                            @let page = publish::issue_url(config, &issue.number);
                            li {
                                a href=(page) { "第 " (issue.number) " 期" }
                                " " (crate::bulletin::date_line(issue.date)) "（" (issue.stories) " 篇）"
                                br;
                                span.formats {
                                    a href={ (page) ".docx" } { "Word" } " · "
                                    a href={ (page) ".md" } { "Markdown" } " · "
                                    a href={ (page) ".txt" } { "文本" }
                                }
                            }
                            "\n"
                        }
                    }
                    "\n"
                }
                p { a href=(feed) { "订阅（Atom）" } } "\n"
            }
            "\n"
        }
        "\n"
    }
}
