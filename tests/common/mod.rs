//! Test outlets served in-process on 127.0.0.1, and helpers to build a
//! configuration pointing at them.

pub mod daemon;
pub mod outlets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;

/// What the fixture server answers on one path.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    /// Answer 304 when the request's If-None-Match equals this ETag.
    pub etag: Option<String>,
    /// Answer 304 when If-Modified-Since equals this.
    pub last_modified: Option<String>,
}

impl Reply {
    pub fn new(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            etag: None,
            last_modified: None,
        }
    }
    pub fn html(body: &str) -> Reply {
        Reply::new("text/html; charset=utf-8", body)
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::new("text/plain", "")
        }
    }
    pub fn redirect(to: &str) -> Reply {
        let mut r = Reply::status(302);
        r.headers.push(("location".into(), to.into()));
        r
    }
    pub fn with_etag(mut self, etag: &str) -> Reply {
        self.etag = Some(etag.into());
        self
    }
    pub fn with_last_modified(mut self, lm: &str) -> Reply {
        self.last_modified = Some(lm.into());
        self
    }
    pub fn with_delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

#[derive(Default)]
struct State {
    replies: HashMap<String, Reply>,
    requests: Vec<(String, HeaderMap)>,
    /// When each request arrived (tokio time: simulated under paused time).
    arrivals: Vec<(String, tokio::time::Instant)>,
    in_flight: usize,
    max_in_flight: usize,
}

/// Counts a request as in flight until its answer is built (or the client
/// gave up and the handler was dropped).
struct InFlight(Arc<Mutex<State>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            s.in_flight -= 1;
        }
    }
}

/// A fixture outlet server.
#[derive(Clone)]
pub struct Outlet {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Outlet {
    pub async fn start() -> Outlet {
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let state = shared.clone();
            async move { answer(state, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Outlet {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .expect("lock")
            .replies
            .insert(path.to_string(), reply);
    }

    /// When each request for `path` arrived, in tokio time.
    pub fn arrivals(&self, path: &str) -> Vec<tokio::time::Instant> {
        let state = self.state.lock().expect("lock");
        state
            .arrivals
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }

    /// The most requests (any path) this server was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("lock").max_in_flight
    }

    /// Requests seen for `path`, with their headers.
    pub fn requests(&self, path: &str) -> Vec<HeaderMap> {
        let state = self.state.lock().expect("lock");
        state
            .requests
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }
}

async fn answer(state: Arc<Mutex<State>>, req: Request<Body>) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let reply = {
        let mut s = state.lock().expect("lock");
        s.requests.push((path.clone(), req.headers().clone()));
        s.arrivals.push((path.clone(), tokio::time::Instant::now()));
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        s.replies.get(&path).cloned()
    };
    let _in_flight = InFlight(state.clone());
    let Some(reply) = reply else {
        return plain(404, "not found");
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let not_modified = match (&reply.etag, header("if-none-match")) {
        (Some(etag), Some(inm)) => &inm == etag,
        _ => match (&reply.last_modified, header("if-modified-since")) {
            (Some(lm), Some(ims)) => &ims == lm,
            _ => false,
        },
    };
    let mut builder = Response::builder().status(if not_modified { 304 } else { reply.status });
    if let Some(etag) = &reply.etag {
        builder = builder.header("etag", etag);
    }
    if let Some(lm) = &reply.last_modified {
        builder = builder.header("last-modified", lm);
    }
    for (k, v) in &reply.headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            builder = builder.header(k, v);
        }
    }
    let body = if not_modified { Vec::new() } else { reply.body };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| plain(500, "bad fixture"))
}

fn plain(status: u16, text: &'static str) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// A configuration directory for tests: main file + sources file.
pub struct TestConfig {
    pub dir: tempfile::TempDir,
}

impl TestConfig {
    /// `extra_main` is appended to the main file (e.g. `[review]\nmode = "auto"`).
    pub fn new(sources: &str, extra_main: &str) -> TestConfig {
        let dir = tempfile::tempdir().expect("tempdir");
        let main = format!(
            "sources = \"sources.toml\"\nbase_url = \"http://feeds.example.org/kb/\"\n[storage]\ndatabase = \"kuaibao.db\"\n[poll]\nallow_private = true\ntimeout = \"2s\"\nper_host = 4\n{extra_main}\n"
        );
        std::fs::write(dir.path().join("kuaibao.toml"), main).expect("write");
        std::fs::write(dir.path().join("sources.toml"), sources).expect("write");
        TestConfig { dir }
    }

    /// Sets a `[poll]` key of the main file, replacing its current value.
    pub fn set_poll(&self, key: &str, value: &str) {
        let main = std::fs::read_to_string(self.path()).expect("read main");
        let mut lines: Vec<String> = main
            .lines()
            .filter(|l| l.split('=').next().map(str::trim) != Some(key))
            .map(str::to_string)
            .collect();
        let at = lines.iter().position(|l| l == "[poll]").expect("[poll]") + 1;
        lines.insert(at, format!("{key} = {value}"));
        std::fs::write(self.path(), lines.join("\n") + "\n").expect("write main");
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("kuaibao.toml")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("public")
    }

    pub fn load(&self) -> kuaibao::config::Config {
        kuaibao::config::Config::load(&self.path()).expect("test config is valid")
    }
}

/// Parses a published Atom file back and checks RFC 4287's required
/// elements; returns the parsed feed.
pub fn check_atom(path: &Path) -> atom_syndication::Feed {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let feed = atom_syndication::Feed::read_from(&bytes[..])
        .unwrap_or_else(|e| panic!("{}: not Atom: {e}", path.display()));
    assert!(feed.id().starts_with("tag:"), "feed id {}", feed.id());
    assert!(!feed.title().is_empty(), "feed title");
    assert!(
        feed.links().iter().any(|l| l.rel() == "self"),
        "rel=self link"
    );
    let feed_has_author = !feed.authors().is_empty();
    for e in feed.entries() {
        assert!(e.id().starts_with("tag:"), "entry id {}", e.id());
        assert!(!e.title().is_empty(), "entry title");
        assert!(
            feed_has_author || !e.authors().is_empty(),
            "author for {}",
            e.id()
        );
        assert!(
            e.links().iter().any(|l| l.rel() == "alternate") || e.content().is_some(),
            "entry {} needs a link or content",
            e.id()
        );
    }
    // feed-rs is stricter about dates and structure; it must read it too.
    feed_rs::parser::parse(&bytes[..])
        .unwrap_or_else(|e| panic!("{}: feed-rs: {e}", path.display()));
    feed
}

/// Runs the binary with `--config config` and `args`.
pub fn kuaibao(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run kuaibao")
}

/// [`kuaibao`] off the async runtime, so an in-process outlet keeps serving.
pub async fn run_kuaibao<S: AsRef<str>>(config: PathBuf, args: &[S]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kuaibao(&config, &args)
    })
    .await
    .expect("join")
}

/// The file `name` on `PATH`, if there is one.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether a test that needs an outside program may go on. Present: yes.
/// Missing on a developer's machine: no, and the test says it skipped and
/// what to install. Missing under `CI`, where `.ci/run` installs it: the
/// test fails, so that a broken install cannot pass as a skip.
pub fn outside_program(test: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: missing under CI ({install}; .ci/run installs it)"
    );
    eprintln!("SKIPPED {test}: {install}");
    false
}

/// Python 3 with the `feedparser` package.
pub fn has_feedparser() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import feedparser"])
        .output()
        .is_ok_and(|o| o.status.success())
}
