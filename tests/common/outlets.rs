//! The outlet corpus in `tests/fixtures/outlets/`: realistic copies of the
//! real outlets' list and article pages, each with a hand-written reference
//! source (see the README there). Helpers to list the templates, read their
//! expectations and serve their files; each template's redesign (the same
//! outlet after a CMS overhaul, `<template>/redesign/`) and the not-breaks
//! cases (`not-breaks/`), with a server that switches from the old site to
//! the new one on the same port.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// One template of the corpus: `tests/fixtures/outlets/<name>/`.
#[derive(Debug, Clone)]
pub struct CorpusOutlet {
    pub name: String,
    pub dir: PathBuf,
    pub expect: Expect,
}

/// A template's `expect.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Expect {
    /// The real outlet it copies.
    pub imitates: String,
    /// What an editor pastes: a path on the fixture server.
    pub address: String,
    /// What inference should find: "html", "json" or "feed".
    pub kind: String,
    /// false: pages are served as `text/html` without a charset.
    pub charset_header: bool,
    /// How many items the reference source extracts from the list.
    pub items: usize,
    /// Strings on the article pages that are not article text.
    pub boilerplate: Vec<String>,
}

#[derive(Deserialize)]
struct NotListsExpect {
    pages: Vec<String>,
}

/// A template's `redesign/expect.toml`: what the new design's reference
/// reads from the new site.
#[derive(Debug, Clone, Deserialize)]
pub struct RedesignExpect {
    /// One line: what the redesign changed.
    pub change: String,
    /// How many items the new reference extracts from the new list.
    pub items: usize,
    /// Paths of the article pages that are new in the redesign (listed on
    /// top of the new list, absent from the old site).
    pub new_items: Vec<String>,
    /// Strings on the new article pages that are not article text.
    pub boilerplate: Vec<String>,
    /// "html", "json" or "feed", as in the old design.
    pub kind: String,
}

#[derive(Deserialize)]
struct NotBreaksExpect {
    cases: Vec<String>,
}

/// `tests/fixtures/outlets/`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/outlets")
}

/// Every template, sorted by name (`not-lists` and `not-breaks` are not
/// ones).
pub fn corpus() -> Vec<CorpusOutlet> {
    let root = corpus_dir();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display())) {
        let dir = entry.expect("corpus entry").path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let expect_path = dir.join("expect.toml");
        if name == "not-lists" || name == "not-breaks" || !expect_path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
        let expect: Expect =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
        out.push(CorpusOutlet { name, dir, expect });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The not-lists site directory and the paths of its pages.
pub fn not_lists() -> (PathBuf, Vec<String>) {
    let dir = corpus_dir().join("not-lists");
    let path = dir.join("expect.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expect: NotListsExpect =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (dir.join("site"), expect.pages)
}

/// The not-breaks directory (`site-<case>/` trees, each serving gd-hrss's
/// list address) and its case names: what a list address may serve that is
/// not a redesign. Its `expect.toml` also names `http_error`, a status the
/// tests answer with themselves.
pub fn not_breaks() -> (PathBuf, Vec<String>) {
    let dir = corpus_dir().join("not-breaks");
    let path = dir.join("expect.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expect: NotBreaksExpect =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (dir, expect.cases)
}

impl CorpusOutlet {
    /// The redesigned site: `redesign/site/`.
    pub fn redesign_site(&self) -> PathBuf {
        self.dir.join("redesign").join("site")
    }

    /// `redesign/expect.toml`.
    pub fn redesign_expect(&self) -> RedesignExpect {
        let path = self.dir.join("redesign").join("expect.toml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `redesign/reference.toml` (the new design's hand-written source, same
    /// id) with `{base}` replaced by the server's base URL.
    pub fn redesign_reference_toml(&self, base: &str) -> String {
        let path = self.dir.join("redesign").join("reference.toml");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .replace("{base}", base)
    }

    /// The site directory served by [`serve_site`].
    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }

    /// `reference.toml` with `{base}` replaced by the server's base URL.
    pub fn reference_sources_toml(&self, base: &str) -> String {
        let path = self.dir.join("reference.toml");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .replace("{base}", base)
    }

    /// Serves this template's site; returns the base URL.
    pub async fn serve(&self) -> String {
        serve_site(&self.site(), self.expect.charset_header).await
    }
}

/// The Content-Type for a file, by its extension:
/// .html/.htm/.shtml → text/html (with `; charset=utf-8` when
/// `charset_header`), .json → application/json, .xml → application/xml,
/// .rss → application/rss+xml, .atom → application/atom+xml, .js or no
/// extension → application/javascript (JSONP endpoints such as
/// `nodeart/list`), .css → text/css, anything else →
/// application/octet-stream.
pub fn content_type(path: &Path, charset_header: bool) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm" | "shtml") if charset_header => "text/html; charset=utf-8",
        Some("html" | "htm" | "shtml") => "text/html",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("rss") => "application/rss+xml",
        Some("atom") => "application/atom+xml",
        Some("js") | None => "application/javascript",
        Some("css") => "text/css",
        Some(_) => "application/octet-stream",
    }
}

/// Serves the files under `site` on 127.0.0.1 (a fresh port): GET `/a/b`
/// answers `site/a/b`, a path ending in `/` answers its `index.html`; the
/// query is ignored; `..` and missing files answer 404. Returns the base
/// URL, `http://127.0.0.1:PORT`. A directory asked for without its
/// trailing slash is redirected (301) to the path with it.
pub async fn serve_site(site: &Path, charset_header: bool) -> String {
    let site = site.to_path_buf();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let site = site.clone();
        async move { answer(&site, charset_header, req.uri().path()) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Which of [`serve_switchable`]'s two sites answers: the old one until
/// [`Switch::use_new`]. Clones share the state.
#[derive(Debug, Clone, Default)]
pub struct Switch(Arc<AtomicBool>);

impl Switch {
    /// From now on the new site answers.
    pub fn use_new(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// From now on the old site answers.
    pub fn use_old(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// Whether the new site answers.
    pub fn is_new(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serves `old` (a site tree, as [`serve_site`] does) on a fresh port until
/// the returned [`Switch`] says `use_new`, then `new` on the same port: an
/// outlet redesigned between two polls. Returns the base URL and the switch.
pub async fn serve_switchable(old: &Path, new: &Path, charset_header: bool) -> (String, Switch) {
    let (old, new) = (old.to_path_buf(), new.to_path_buf());
    let switch = Switch::default();
    let state = switch.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let site = if state.is_new() {
            new.clone()
        } else {
            old.clone()
        };
        async move { answer(&site, charset_header, req.uri().path()) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), switch)
}

fn answer(site: &Path, charset_header: bool, path: &str) -> Response {
    // A directory named without its slash: redirect, as web servers do, so
    // that relative links on its index page resolve.
    if !path.ends_with('/') && file_for(site, &format!("{path}/")).is_some() {
        return Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header("location", format!("{path}/"))
            .body(Body::empty())
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR));
    }
    let Some(file) = file_for(site, path) else {
        return status(StatusCode::NOT_FOUND);
    };
    match std::fs::read(&file) {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", content_type(&file, charset_header))
            .body(Body::from(bytes))
            .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
        Err(_) => status(StatusCode::NOT_FOUND),
    }
}

/// The file a request path names, if it is inside `site` and exists.
fn file_for(site: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let rel = decoded.trim_start_matches('/');
    let mut file = site.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if decoded.ends_with('/') {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::from(code.canonical_reason().unwrap_or("")));
    *r.status_mut() = code;
    r
}

/// A source's list and every listed article's normalized text, read the
/// way a poll reads them (the full text, not `sources test`'s first
/// characters). A list that cannot be read is an empty list and its error.
pub async fn read_source(
    fetcher: &kuaibao::fetch::Fetcher,
    poll: &kuaibao::config::Poll,
    source: &kuaibao::config::Source,
) -> Result<Vec<(kuaibao::model::ListedItem, Result<String, String>)>, String> {
    use kuaibao::extract;
    use kuaibao::fetch::FetchOutcome;
    let limits = extract::Limits::of(poll);
    let page = match fetcher.fetch(&source.url, source.encoding, None).await {
        Ok(FetchOutcome::Page(p)) => p,
        Ok(FetchOutcome::NotModified) => return Err("304".into()),
        Err(e) => return Err(e.to_string()),
    };
    let items = extract::extract_list(source, &page, &limits)
        .map_err(|e| e.to_string())?
        .items;
    let mut out = Vec::new();
    for listed in items {
        let carries_body = listed
            .content
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty());
        let text = if source.article.is_some() || !carries_body {
            match fetcher
                .fetch_article(&listed.url, source.encoding, poll.max_article)
                .await
            {
                Ok(FetchOutcome::Page(p)) => extract::extract_article(source, &p, &limits)
                    .map_err(|e| e.to_string())
                    .and_then(|a| {
                        kuaibao::normalize::normalize(source, &listed, Some(&a))
                            .map_err(|e| e.to_string())
                    })
                    .map(|item| item.content_text),
                Ok(FetchOutcome::NotModified) => Err("304".to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            kuaibao::normalize::normalize(source, &listed, None)
                .map(|item| item.content_text)
                .map_err(|e| e.to_string())
        };
        out.push((listed, text));
    }
    Ok(out)
}
