//! Web layer (the editors' desk): who is at the desk. The session
//! extractor every desk page and action takes, the CSRF check of every
//! form, and logging in and out; the sessions, password hashes, limiter and
//! audit log themselves are [`crate::accounts`]. The extractors work under
//! any router state that yields a [`DeskState`].

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{HOST, ORIGIN, RETRY_AFTER, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{
    DeskState, accepts, client_address, html, internal, json, nonce, pages, parse_form,
    request_cookie, safe_back, secure, see_other, wants_json, with_store,
};
use crate::accounts::{
    self, AccountError, AuditEntry, COOKIE_NAME, LoginRequest, SessionPolicy, SessionUser,
    check_csrf, clear_cookie, session_cookie, session_user,
};
use crate::config::Config;
use crate::store::Store;

/// A logged-in editor (or administrator): taking this as an argument is
/// what makes a handler require a session.
pub struct Editor {
    pub user: SessionUser,
    /// The session's token, for logging out.
    token: String,
}

impl<S> FromRequestParts<S> for Editor
where
    DeskState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Editor, Response> {
        let state = &DeskState::from_ref(state);
        if let Some(token) = session_token(&parts.headers) {
            let t = token.clone();
            let found = with_store(state, move |s| session_user(s, &t)).await?;
            match found {
                Ok(Some(user)) => return Ok(Editor { user, token }),
                Ok(None) => {}
                Err(e) => return Err(internal(e, wants_json(&parts.headers))),
            }
        }
        Err(unauthenticated(parts))
    }
}

/// The session cookie's token, from any of the request's `Cookie` headers.
fn session_token(headers: &HeaderMap) -> Option<String> {
    request_cookie(headers, COOKIE_NAME)
}

/// No session: a browser is sent to the login form (and back here after
/// it), anything else gets 401.
fn unauthenticated(parts: &Parts) -> Response {
    if accepts(&parts.headers, "text/html") {
        // Only a page can be returned to; a form posted without a session
        // goes back to the queue.
        let next = if parts.method == Method::GET {
            parts.uri.path_and_query().map(|p| p.as_str())
        } else {
            None
        };
        let next: String =
            url::form_urlencoded::byte_serialize(safe_back(next).as_bytes()).collect();
        see_other(&format!("/desk/login?next={next}"))
    } else {
        json(StatusCode::UNAUTHORIZED, false, "请先登录编辑台", None)
    }
}

/// The CSRF field every desk form carries.
#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// Whether a form carries the session's CSRF token (field `csrf`, or the
/// `X-CSRF-Token` header the script sends).
fn csrf_ok(user: &SessionUser, form: Option<&CsrfField>, headers: &HeaderMap) -> bool {
    let presented = form
        .and_then(|f| f.csrf.as_deref())
        .or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
    presented.is_some_and(|p| check_csrf(user, p))
}

/// A desk POST from a logged-in editor whose CSRF token checked out, with
/// its form read into `F` by axum's `Form`: the only way a state-changing
/// handler gets its form, so none can forget the check. Without a session
/// it answers as [`Editor`] does (303 to the login form, 401 for scripts);
/// without a valid token, 403, and the handler never runs; a form that
/// does not read as `F`, 400.
pub(super) struct Posted<F> {
    pub editor: Editor,
    pub form: F,
    pub headers: HeaderMap,
}

impl<S, F> FromRequest<S> for Posted<F>
where
    DeskState: FromRef<S>,
    S: Send + Sync,
    F: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Posted<F>, Response> {
        let (mut parts, body) = req.into_parts();
        let editor = Editor::from_request_parts(&mut parts, state).await?;
        let state = &DeskState::from_ref(state);
        let headers = parts.headers;
        let limit = usize::try_from(state.config().server.max_request_body).unwrap_or(usize::MAX);
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response()
        })?;
        let csrf = parse_form::<CsrfField>(&body).await;
        if !csrf_ok(&editor.user, csrf.as_ref(), &headers) {
            return Err(csrf_refused(state, &editor.user, &headers));
        }
        let Some(form) = parse_form::<F>(&body).await else {
            let message = "表单内容有误，没有做任何修改。";
            return Err(if wants_json(&headers) {
                json(StatusCode::BAD_REQUEST, false, message, None)
            } else {
                (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
            });
        };
        Ok(Posted {
            editor,
            form,
            headers,
        })
    }
}

/// 403 for a form without a valid CSRF token: nothing was changed.
fn csrf_refused(state: &DeskState, user: &SessionUser, headers: &HeaderMap) -> Response {
    let message = "安全校验未通过（页面可能已过期），没有做任何修改。请刷新页面后再试。";
    if wants_json(headers) {
        return json(StatusCode::FORBIDDEN, false, message, None);
    }
    let n = nonce();
    html(
        StatusCode::FORBIDDEN,
        &n,
        pages::message_page(&state.config(), Some(user), &n, "操作被拒绝", message),
    )
}

/// A login form posted from another site (login CSRF: logging the editor
/// into someone else's account). Browsers send `Origin` with every POST;
/// it must name this server, as the request reached it or as `base_url`
/// publishes it (behind a proxy the two differ).
fn cross_site(headers: &HeaderMap, config: &Config) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let base = match (config.base_url.host_str(), config.base_url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    Some(authority) != host && authority != base
}

/// How many logins may be hashing at once: argon2 takes ~19 MiB and tens
/// of milliseconds each, and a burst of attempts under many names must not
/// take every blocking thread and that much memory each. Only attempts
/// that got a hash from the [`accounts::HashBudget`] wait here, so the
/// queue stays as short as that budget.
static LOGIN_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Request bodies of the login form are small; anything bigger is refused
/// before parsing.
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// `?next=` of the login form: where to go after it.
#[derive(Deserialize, Default)]
pub(super) struct NextQuery {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Deserialize, Default)]
struct LoginForm {
    next: Option<String>,
    name: Option<String>,
    password: Option<String>,
}

pub(super) async fn login_form(
    State(state): State<DeskState>,
    query: Result<Query<NextQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let next = safe_back(query.next.as_deref());
    // Already logged in: straight on.
    if let Some(token) = session_token(&headers) {
        let found = with_store(&state, move |s| session_user(s, &token)).await;
        if let Ok(Ok(Some(_))) = found {
            return see_other(&next);
        }
    }
    let n = nonce();
    let flash = super::read_flash(&headers);
    let mut resp = html(
        StatusCode::OK,
        &n,
        pages::login_page(&state.config(), &n, &next, "", flash.as_ref()),
    );
    if flash.is_some() {
        super::clear_flash(&mut resp, &state.config());
    }
    resp
}

/// `POST /desk/login`: checks the form, the limiter and the password, and
/// on success sets the session cookie and goes on to `next`.
pub(super) async fn login(State(state): State<DeskState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let config = state.config();
    let form = match read_login_form(body, config.server.header_timeout).await {
        Ok(form) => form,
        Err(resp) => return resp,
    };
    let next = safe_back(form.next.as_deref());
    let name = form.name.unwrap_or_default().trim().to_string();
    let password = form.password.unwrap_or_default();
    let n = nonce();
    let page = |status: StatusCode, text: &str| {
        let flash = super::Flash {
            error: true,
            text: text.to_string(),
        };
        html(
            status,
            &n,
            pages::login_page(&config, &n, &next, &name, Some(&flash)),
        )
    };
    if cross_site(&parts.headers, &config) {
        return page(StatusCode::FORBIDDEN, "登录请求来自其他网站，已拒绝。");
    }
    if name.is_empty() || password.is_empty() {
        return page(StatusCode::BAD_REQUEST, "请输入用户名和密码。");
    }
    let address = client_address(
        &parts.extensions,
        &parts.headers,
        &config.server.trusted_proxies,
    );
    // The database file, so that the slow password check runs on a
    // connection of its own instead of holding the store (and with it the
    // poller) for its duration. An in-memory store has no file to share.
    let path = match with_store(&state, |s| s.path()).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    // PostgreSQL: a connection of its own for the same reason.
    let shared = config.storage.url.is_some().then(|| config.storage.clone());
    // Refused by the limiter: say so without spending a hash on it. Then
    // the global cap, before any waiting: over it, nothing queues.
    let admitted = state
        .login_limiter()
        .check(&name, &address)
        .and_then(|()| state.hash_budget().take());
    if let Err(refused) = admitted {
        return refused_login(&name, &address, refused, page);
    }
    let Ok(_permit) = LOGIN_SLOTS.acquire().await else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法登录，请稍后再试。",
        );
    };
    let attempt = Attempt {
        name: name.clone(),
        password,
        address: address.clone(),
        user_agent: user_agent(&parts.headers),
    };
    match attempt_login(&state, path, shared, attempt).await {
        Ok(Ok(session)) => logged_in(&session, &next, &config),
        Ok(Err(e)) => failed_login(&name, &address, e, &page),
        Err(e) => {
            tracing::error!(error = %e, "desk: login task failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法登录，请稍后再试。",
            )
        }
    }
}

/// Reads the login form's body within the header timeout and its size
/// limit; a body that breaks either is answered here.
async fn read_login_form(body: axum::body::Body, timeout: Duration) -> Result<LoginForm, Response> {
    // Anyone may post here: a body that trickles in is cut off like a
    // head that does, instead of holding a connection for as long as the
    // sender likes.
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, LOGIN_BODY_LIMIT)).await;
    let body = match read {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return Err((StatusCode::PAYLOAD_TOO_LARGE, "表单过大\n").into_response()),
        Err(_) => return Err((StatusCode::REQUEST_TIMEOUT, "表单发送超时\n").into_response()),
    };
    Ok(parse_form(&body).await.unwrap_or_default())
}

/// The browser's `User-Agent`, cut to 300 characters, for the session list.
fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
}

/// A login admitted by the limiter, moved to the blocking thread.
struct Attempt {
    name: String,
    password: String,
    address: String,
    user_agent: Option<String>,
}

/// Checks the password on a blocking thread, on a connection of its own
/// when the store has a file; on success sweeps expired sessions and
/// audits the login.
async fn attempt_login(
    state: &DeskState,
    path: Option<std::path::PathBuf>,
    shared: Option<crate::config::Storage>,
    attempt: Attempt,
) -> Result<Result<accounts::Session, AccountError>, tokio::task::JoinError> {
    let limiter = state.login_limiter().clone();
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || {
        let login = |store: &Store| {
            let session = accounts::login(
                store,
                &limiter,
                &LoginRequest {
                    name: &attempt.name,
                    password: &attempt.password,
                    address: &attempt.address,
                    user_agent: attempt.user_agent.as_deref(),
                },
                &SessionPolicy::default(),
            )?;
            // Expired sessions are otherwise never deleted; a login is
            // rare enough to pay for the sweep.
            accounts::purge_expired(store)?;
            accounts::record(
                store,
                &AuditEntry {
                    user_name: &session.name,
                    action: "login",
                    detail: (!attempt.address.is_empty()).then_some(attempt.address.as_str()),
                    ..AuditEntry::default()
                },
            )?;
            Ok::<_, AccountError>(session)
        };
        match (path, shared) {
            (Some(path), _) => login(&Store::open_handle(&path, Duration::from_secs(10))?),
            (None, Some(storage)) => {
                login(&Store::open_another(&storage, Duration::from_secs(10))?)
            }
            (None, None) => {
                let store = store.lock().unwrap_or_else(|p| p.into_inner());
                login(&store)
            }
        }
    })
    .await
}

/// Sets the session cookie, good until the session's longest life, and
/// goes on to `next`.
fn logged_in(session: &accounts::Session, next: &str, config: &Config) -> Response {
    let max_age = session
        .max_expires_at
        .with_timezone(&Utc)
        .signed_duration_since(Utc::now())
        .to_std()
        .unwrap_or_default();
    let mut resp = see_other(next);
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&session.token, secure(config), max_age)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    tracing::info!(user = ?session.name, "desk: logged in");
    resp
}

/// The login form again, saying why the password check refused.
fn failed_login(
    name: &str,
    address: &str,
    e: AccountError,
    page: &impl Fn(StatusCode, &str) -> Response,
) -> Response {
    match e {
        // One message whether the name is unknown or the password wrong.
        // Names are logged with `?`: escaped and quoted, so that a newline
        // in a typed name cannot forge a log line.
        AccountError::InvalidCredentials => {
            tracing::info!(user = ?name, address = %address, "desk: failed login");
            page(StatusCode::UNAUTHORIZED, "用户名或密码错误。")
        }
        e @ (AccountError::RateLimited { .. } | AccountError::Busy { .. }) => {
            refused_login(name, address, e, page)
        }
        AccountError::AccountDisabled => {
            page(StatusCode::FORBIDDEN, "此账户已停用，请联系管理员。")
        }
        e => {
            tracing::error!(error = %e, "desk: login failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法登录，请稍后再试。",
            )
        }
    }
}

/// 429 with `Retry-After` for a login the limiter or the hash budget
/// turned away before any password was checked.
fn refused_login(
    name: &str,
    address: &str,
    refused: AccountError,
    page: impl FnOnce(StatusCode, &str) -> Response,
) -> Response {
    let (retry_after_secs, text) = match refused {
        AccountError::RateLimited { retry_after_secs } => {
            tracing::warn!(user = ?name, address = %address, "desk: login rate-limited");
            (retry_after_secs, "登录失败次数过多")
        }
        AccountError::Busy { retry_after_secs } => {
            tracing::warn!(user = ?name, address = %address, "desk: login refused, too many password checks at once (server.password_hashes_per_second)");
            (retry_after_secs, "登录请求过多")
        }
        other => {
            tracing::error!(error = %other, "desk: login failed");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "暂时无法登录，请稍后再试。",
            );
        }
    };
    let wait = if retry_after_secs > 90 {
        format!("{} 分钟", retry_after_secs.div_ceil(60))
    } else {
        format!("{} 秒", retry_after_secs.max(1))
    };
    let mut resp = page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("{text}，请 {wait} 后再试。"),
    );
    resp.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
    resp
}

pub(super) async fn logout(
    State(state): State<DeskState>,
    Posted {
        editor, headers, ..
    }: Posted<serde::de::IgnoredAny>,
) -> Response {
    let Editor { user, token } = editor;
    let done = with_store(&state, move |s| {
        accounts::revoke_session(s, &token)?;
        accounts::record(
            s,
            &AuditEntry {
                user_name: &user.name,
                action: "logout",
                ..AuditEntry::default()
            },
        )
    })
    .await;
    match done {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return internal(e, wants_json(&headers)),
        Err(resp) => return resp,
    }
    let config = state.config();
    let mut resp = see_other("/desk/login");
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(secure(&config))) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    super::set_flash(&mut resp, &config, false, "已退出登录。");
    resp
}
