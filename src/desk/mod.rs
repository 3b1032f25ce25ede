//! Desk, layer 7 (web, below serve): the editors' desk, the review step
//! between store and publish, served by `kuaibao serve` under `/desk/`. Editors log in, go through the
//! candidates (grouped by proposed section, most relevant first; below
//! them, closed until opened, the 待定 stories the classifier was unsure
//! of), approve, reject or re-file them, fix a bulletin title, split and merge stories,
//! and undo what they did; then they assemble the approved stories into an
//! issue (期), proofread and publish it. Every decision is in the audit log
//! and reaches the served feeds at once.
//!
//! Server-rendered HTML (maud templates, which escape whatever they splice
//! in) with plain forms, so every action works without JavaScript; a small
//! inline script adds keyboard shortcuts. Forms and query strings are read
//! by axum's `Form`/`Query` into serde structs, cookies by the `cookie`
//! crate ([`request_cookie`]). Nothing here is reachable without a session
//! ([`auth`]); every write needs the session's CSRF token. The modules:
//! [`auth`] (sessions, CSRF, login and logout), [`pages`] (HTML),
//! [`actions`] (the POST handlers), [`issues`] (assembling, previewing and
//! publishing issues), [`sources`] (the administrators' 来源 page: the
//! sources' health, adding one by its address, switching one on or off,
//! testing its selectors).
//!
//! The desk sits below [`crate::serve`] in the web layer: it never imports
//! it. What it needs from the server is [`DeskState`], which `serve` builds
//! from its own state and hands to [`router`]; any router state `S` with
//! `DeskState: FromRef<S>` can run the desk's extractors ([`Editor`]).
//!
//! | path | what |
//! |---|---|
//! | `GET /desk/` | the queue, with filters (`status`, `section`, `source`, `from`, `to`, `q`, `page`) |
//! | `GET, POST /desk/login`, `POST /desk/logout` | sessions |
//! | `POST /desk/items/{id}/{approve,reject,move,title,split,merge}` | one story |
//! | `POST /desk/bulk`, `POST /desk/undo` | checked items; the user's last action |
//! | `GET /desk/audit`, `GET /desk/users` | the audit log; accounts (admins only) |
//! | `GET, POST /desk/issues`, `/desk/issues/{number}[/…]` | assembling issues ([`issues`]) |
//! | `GET /desk/sources`, `POST /desk/sources/{preview,add}` | the sources and adding one by address (admins only; [`sources`]) |
//! | `POST /desk/sources/{id}/{enable,disable,test}` | one source (admins only) |
//! | `POST /desk/sources/{id}/repairs/{repair_id}/{apply,dismiss}` | a repair heal proposed: written to the sources file, or set aside (admins only) |

mod actions;
mod auth;
mod issues;
mod pages;
mod sources;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::HeaderName;
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION,
    REFERRER_POLICY, SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer};

use crate::accounts::{HashBudget, LoginLimiter, SessionUser};
use crate::config::Config;
use crate::store::Store;

pub use auth::Editor;

/// What the desk needs from the server that runs it: the configuration in
/// force, the store, the login limiter and hash budget, a way to tell
/// the feed refresher that something changed, and (under the daemon) a way
/// to ask for the configuration to be reloaded. Cheap to clone (all shared).
/// `serve` builds one from its own state (sharing the same values) and
/// implements `FromRef` for it.
#[derive(Clone)]
pub struct DeskState {
    config: Arc<RwLock<Arc<Config>>>,
    store: Arc<Mutex<Store>>,
    login_limiter: Arc<LoginLimiter>,
    hash_budget: Arc<HashBudget>,
    changed: Arc<tokio::sync::Notify>,
    /// Asks the daemon to re-read the configuration (as SIGHUP does);
    /// `None` when nothing would (a server without the daemon's reload
    /// loop): then edits take effect at the next start.
    reload: Option<tokio::sync::mpsc::Sender<()>>,
}

impl DeskState {
    /// `config` is read at every request, so a reload reaches the desk;
    /// `changed` is notified after every write that reaches the feeds.
    pub fn new(
        config: Arc<RwLock<Arc<Config>>>,
        store: Arc<Mutex<Store>>,
        login_limiter: Arc<LoginLimiter>,
        hash_budget: Arc<HashBudget>,
        changed: Arc<tokio::sync::Notify>,
    ) -> DeskState {
        DeskState {
            config,
            store,
            login_limiter,
            hash_budget,
            changed,
            reload: None,
        }
    }

    /// The same state with a way to ask for reloads: each value sent is a
    /// request to re-read the configuration from disk.
    pub fn with_reload(mut self, reload: Option<tokio::sync::mpsc::Sender<()>>) -> DeskState {
        self.reload = reload;
        self
    }

    /// Whether [`DeskState::request_reload`] reaches anything.
    pub fn can_reload(&self) -> bool {
        self.reload.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Asks for the configuration to be re-read; false when no reload loop
    /// listens. A full queue counts as asked: a reload not yet begun is
    /// waiting there, and it reads the file as it is now.
    pub fn request_reload(&self) -> bool {
        use tokio::sync::mpsc::error::TrySendError;
        match &self.reload {
            Some(tx) => match tx.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => true,
                Err(TrySendError::Closed(())) => false,
            },
            None => false,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    pub fn login_limiter(&self) -> &Arc<LoginLimiter> {
        &self.login_limiter
    }

    pub fn hash_budget(&self) -> &Arc<HashBudget> {
        &self.hash_budget
    }

    /// Tells the feed refresher that the store changed.
    pub fn notify_changed(&self) {
        self.changed.notify_one();
    }
}

/// Every route of the desk, for the server to merge.
pub fn router<S>(state: DeskState) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/desk", get(to_queue))
        .route("/desk/", get(pages::queue))
        .route("/desk/login", get(auth::login_form).post(auth::login))
        .route("/desk/logout", post(auth::logout))
        .route("/desk/audit", get(pages::audit))
        .route("/desk/users", get(pages::users))
        .route("/desk/sources", get(sources::page))
        .route("/desk/sources/", get(to_sources))
        .route("/desk/sources/preview", post(sources::preview))
        .route("/desk/sources/add", post(sources::add))
        .route("/desk/sources/{id}/{action}", post(sources::action))
        .route(
            "/desk/sources/{id}/repairs/{repair_id}/{action}",
            post(sources::repair),
        )
        .route("/desk/items/{id}/{action}", post(actions::item))
        .route("/desk/bulk", post(actions::bulk))
        .route("/desk/undo", post(actions::undo))
        .route("/desk/issues", get(issues::list).post(issues::create))
        .route("/desk/issues/", get(to_issues))
        .route("/desk/issues/{number}", get(issues::page))
        .route(
            "/desk/issues/{number}/{action}",
            get(issues::file).post(issues::action),
        )
        // Unknown desk paths answer only to a session too, so that an
        // anonymous client learns nothing from 404s.
        .route("/desk/{*rest}", any(not_found))
        .layer(axum::middleware::map_response(security_headers))
        // The queue is large and repetitive HTML: compressed, a phone on a
        // slow network gets it in a fraction of the time.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

async fn to_queue() -> Response {
    see_other("/desk/")
}

async fn to_sources() -> Response {
    see_other("/desk/sources")
}

async fn to_issues() -> Response {
    see_other("/desk/issues")
}

async fn not_found(_: Editor) -> Response {
    (StatusCode::NOT_FOUND, "没有这个页面\n").into_response()
}

/// What every desk response carries: never cached (pages hold CSRF tokens
/// and unpublished items), never framed (clickjacking of the buttons), no
/// Referer to outlets the editor follows from a candidate, and a strict
/// CSP wherever a page did not set its own nonce-based one.
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
    }
    resp
}

/// The Content-Security-Policy of a page whose inline style and script
/// carry `nonce`. Images only from the desk itself: an outlet's pictures
/// in a candidate's text would tell the outlet who reads it and when.
fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         img-src 'self' data:; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// A fresh nonce per page, so that injected markup cannot guess it.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    // Without the OS's randomness a fixed nonce still blocks injected
    // scripts that do not know it; it is only guessable by reading a page.
    if getrandom::fill(&mut bytes).is_err() {
        tracing::error!("no OS randomness for the desk's CSP nonce");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HTML page response with its CSP.
fn html(status: StatusCode, nonce: &str, page: maud::Markup) -> Response {
    let mut resp = (status, page.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp(nonce)) {
        h.insert(CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// `{ok, message, item}`: the answer to the script's requests.
fn json(status: StatusCode, ok: bool, message: &str, item: Option<serde_json::Value>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "ok": ok, "message": message, "item": item })),
    )
        .into_response()
}

fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&ascii_location(location)) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

/// A header holds only visible ASCII: other bytes (a search for 就业 in a
/// back link) are percent-encoded, as a browser would.
fn ascii_location(location: &str) -> String {
    let mut out = String::with_capacity(location.len());
    for b in location.bytes() {
        if (0x21..=0x7e).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(media))
}

/// The script asks for JSON; forms (browsers) get redirects and pages.
fn wants_json(headers: &HeaderMap) -> bool {
    accepts(headers, "application/json")
}

/// Cookies marked Secure when the desk is published over HTTPS.
fn secure(config: &Config) -> bool {
    config.base_url.scheme() == "https"
}

/// A desk path to return to after an action or a login (or the operator
/// pages, which send a browser without a session to the login form);
/// anything else (another site, a scheme-relative `//host`, the login page
/// itself) is the queue, so a crafted link cannot send an editor elsewhere.
fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b @ ("/status" | "/status.json" | "/metrics")) => b.to_string(),
        Some(b)
            if b.starts_with("/desk/")
                && !b.starts_with("/desk/login")
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b.to_string()
        }
        _ => "/desk/".to_string(),
    }
}

/// The client address the login limiter counts failures under ("" when
/// unknown: then only the per-account limit applies).
///
/// The peer's address, unless the peer is one of `server.trusted_proxies`:
/// then the client is the right-most `X-Forwarded-For` entry that is not
/// itself a trusted proxy (each proxy appends the address it saw, so
/// everything left of that entry is the client's to invent). A loopback
/// peer that is not a trusted proxy is a reverse proxy nobody declared:
/// every editor would share its one address and a guesser could lock them
/// all out, so it counts as unknown.
fn client_address(
    extensions: &axum::http::Extensions,
    headers: &HeaderMap,
    trusted: &[ipnet::IpNet],
) -> String {
    let Some(ConnectInfo(peer)) = extensions.get::<ConnectInfo<SocketAddr>>() else {
        return String::new();
    };
    let peer = canonical(peer.ip());
    if trusted.iter().any(|net| net.contains(&peer)) {
        let forwarded = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            // A header that is not text names no address.
            .map(|v| v.to_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join(",");
        return forwarded_client(&forwarded, trusted).map_or_else(String::new, |ip| ip.to_string());
    }
    if peer.is_loopback() {
        return String::new();
    }
    peer.to_string()
}

/// The client named by an `X-Forwarded-For` list behind trusted proxies:
/// the right-most entry not in `trusted`; the left-most when all are (a
/// request from a proxy's own network); none when the list is empty or the
/// entry is not an address.
fn forwarded_client(list: &str, trusted: &[ipnet::IpNet]) -> Option<std::net::IpAddr> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut client = None;
    for entry in entries.iter().rev() {
        let ip = canonical(parse_forwarded(entry)?);
        client = Some(ip);
        if !trusted.iter().any(|net| net.contains(&ip)) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, with or without a port (and
/// IPv6 brackets).
fn parse_forwarded(entry: &str) -> Option<std::net::IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket's view of IPv4 peers)
/// as IPv4, so that `trusted_proxies = ["10.0.0.0/8"]` matches them.
fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The flash message cookie: one line shown on the next page, then gone.
/// A cookie rather than a query parameter, so that nobody can put words
/// on the desk with a link.
const FLASH_COOKIE: &str = "kuaibao_flash";

/// A message for the next page: `error` ones are shown as such.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flash {
    error: bool,
    text: String,
}

fn set_flash(resp: &mut Response, config: &Config, error: bool, text: &str) {
    if let Ok(v) = HeaderValue::from_str(&flash_cookie(secure(config), error, text)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// The flash cookie with `value`, for 60 seconds (0: dropped).
fn flash_cookie_with(value: String, secure: bool, max_age: i64) -> cookie::Cookie<'static> {
    cookie::Cookie::build((FLASH_COOKIE, value))
        .path("/desk")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(secure)
        .build()
}

/// The `Set-Cookie` value carrying a flash message (percent-encoded by the
/// cookie crate, so any text fits in a header).
fn flash_cookie(secure: bool, error: bool, text: &str) -> String {
    let kind = if error { "e" } else { "i" };
    flash_cookie_with(format!("{kind}{text}"), secure, 60)
        .encoded()
        .to_string()
}

/// The value of the request's cookie `name` (percent-decoded), from any of
/// its `Cookie` headers: the first non-empty one wins. The desk's one
/// cookie reader, for the session and the flash message alike.
fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| cookie::Cookie::split_parse_encoded(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value_trimmed().is_empty())
        .map(|c| c.value_trimmed().to_string())
}

/// The flash message a request carries, if any.
fn read_flash(headers: &HeaderMap) -> Option<Flash> {
    let decoded = request_cookie(headers, FLASH_COOKIE)?;
    let mut chars = decoded.chars();
    let error = match chars.next()? {
        'e' => true,
        'i' => false,
        _ => return None,
    };
    let text: String = chars.take(500).collect();
    (!text.is_empty()).then_some(Flash { error, text })
}

/// Drops a flash message once shown.
fn clear_flash(resp: &mut Response, config: &Config) {
    let cookie = flash_cookie_with(String::new(), secure(config), 0);
    if let Ok(v) = HeaderValue::from_str(&cookie.encoded().to_string()) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// A form body read into `F` by axum's `Form` (serde): the bytes were read
/// already (under a limit, and for [`auth::Posted`] the CSRF field is read
/// from the same bytes), so they are handed to it as a fresh form request.
async fn parse_form<F: DeserializeOwned>(body: &bytes::Bytes) -> Option<F> {
    let req = Request::builder()
        .method(axum::http::Method::POST)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.clone()))
        .ok()?;
    axum::Form::<F>::from_request(req, &())
        .await
        .ok()
        .map(|f| f.0)
}

/// For form and query fields that fall back instead of failing the page:
/// the value when it reads as `T` (a [`crate::store::Status`], say), else
/// `None`.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let s = String::deserialize(d)?;
    let value: serde::de::value::StringDeserializer<serde::de::value::Error> =
        s.trim().to_string().into_deserializer();
    Ok(T::deserialize(value).ok())
}

/// Like [`lenient`], for numbers and dates (anything `FromStr`).
fn lenient_parse<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    let s = String::deserialize(d)?;
    Ok(s.trim().trim_start_matches('#').parse().ok())
}

/// Runs `f` on the store on a blocking thread (SQLite; a poll may hold the
/// store for a moment), never holding the lock across an await.
async fn with_store<T, F>(state: &DeskState, f: F) -> Result<T, Response>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> T + Send + 'static,
{
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "desk: a store task failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "内部错误\n").into_response()
    })
}

/// A store or accounts failure, logged; what the editor sees.
fn internal(e: impl std::fmt::Display, json_wanted: bool) -> Response {
    tracing::error!(error = %e, "desk: database error");
    let message = "数据库出错，操作未完成；请稍后再试";
    if json_wanted {
        json(StatusCode::INTERNAL_SERVER_ERROR, false, message, None)
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("{message}\n")).into_response()
    }
}

/// Whether the user is an administrator.
fn is_admin(user: &SessionUser) -> bool {
    user.role == crate::accounts::Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_links_stay_on_the_desk() {
        assert_eq!(safe_back(Some("/desk/?q=就业")), "/desk/?q=就业");
        assert_eq!(safe_back(Some("https://evil.example/")), "/desk/");
        assert_eq!(safe_back(Some("//evil.example/desk/")), "/desk/");
        assert_eq!(safe_back(Some("/desk/login?next=x")), "/desk/");
        assert_eq!(safe_back(Some("/desk/\\evil")), "/desk/");
        assert_eq!(safe_back(None), "/desk/");
        assert_eq!(safe_back(Some("/status")), "/status");
        assert_eq!(safe_back(Some("/status/../x")), "/desk/");
        assert_eq!(
            ascii_location("/desk/?q=就 业"),
            "/desk/?q=%E5%B0%B1%20%E4%B8%9A"
        );
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_the_rightmost_untrusted_forwarded_address() {
        let trusted: Vec<ipnet::IpNet> = ["10.0.0.0/8", "::1/128"]
            .iter()
            .map(|n| n.parse().expect("net"))
            .collect();
        let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().expect("ip"));
        // The client made up the first entry; the proxy appended the second.
        assert_eq!(
            forwarded_client("1.2.3.4, 203.0.113.9", &trusted),
            ip("203.0.113.9")
        );
        // Two proxies in a row: skip the inner one.
        assert_eq!(
            forwarded_client("203.0.113.9, 10.1.2.3", &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            forwarded_client("203.0.113.9:5120,[2001:db8::1]:443", &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            forwarded_client("10.0.0.7, 10.0.0.8", &trusted),
            ip("10.0.0.7")
        );
        assert_eq!(forwarded_client("", &trusted), None);
        assert_eq!(forwarded_client("1.2.3.4, nonsense", &trusted), None);
        assert_eq!(
            forwarded_client("::ffff:203.0.113.9", &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn flash_messages_round_trip_through_the_cookie() {
        let set = flash_cookie(true, true, "已通过：就业；通知 & <b>");
        assert!(set.contains("; Secure"), "{set}");
        assert!(
            set.contains("; HttpOnly") && set.contains("Path=/desk"),
            "{set}"
        );
        let pair = set.split(';').next().expect("pair");
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {pair}")).expect("header"),
        );
        assert_eq!(
            read_flash(&headers),
            Some(Flash {
                error: true,
                text: "已通过：就业；通知 & <b>".into()
            })
        );
    }

    #[test]
    fn cookies_are_read_by_name_and_the_first_non_empty_wins() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("kuaibao_session=; a=1; kuaibao_sessionx=no"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("b=2; kuaibao_session=\"tok\" ; c=3"),
        );
        assert_eq!(
            request_cookie(&headers, "kuaibao_session").as_deref(),
            Some("tok")
        );
        assert_eq!(request_cookie(&headers, "nothing"), None);
        assert_eq!(request_cookie(&HeaderMap::new(), "kuaibao_session"), None);
    }
}
