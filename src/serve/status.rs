//! Web layer (the server): operational endpoints of `kuaibao serve`,
//! `/healthz`, `/metrics`, `/status` (a maud template), `/status.json`. They read the store directly (on a blocking
//! thread, since a poll may hold the store for a moment) and are never
//! cached: they are for operators, not feed readers. All but `/healthz`
//! (which tells nothing but "up") need a desk login unless
//! `server.status_public`: outlets' errors and URLs, item counts and
//! traffic are the society's business.

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;

use super::ServeState;
use crate::model::safe_href;
use crate::store::SourceState;

const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// Someone who may read the operational endpoints: anyone when
/// `server.status_public`, else an editor or administrator logged in on
/// the desk. Without a session a browser is sent to the desk's login form
/// (and back here after it), anything else gets 401, as on the desk.
pub(super) struct Operator;

impl FromRequestParts<ServeState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServeState,
    ) -> Result<Operator, Response> {
        if state.config().server.status_public {
            return Ok(Operator);
        }
        match crate::desk::Editor::from_request_parts(parts, state).await {
            Ok(_) => Ok(Operator),
            Err(mut refused) => {
                refused.headers_mut().insert(CACHE_CONTROL, NO_STORE);
                Err(refused)
            }
        }
    }
}

/// 200 "ok" when the database answers a trivial query, 503 otherwise.
pub(super) async fn healthz(State(state): State<ServeState>) -> Response {
    let store = state.inner.store.clone();
    let ok = tokio::task::spawn_blocking(move || {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        store.ping().is_ok()
    })
    .await
    .unwrap_or(false);
    let (status, body) = if ok {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    };
    (status, [(CACHE_CONTROL, NO_STORE)], body).into_response()
}

pub(super) async fn metrics(_: Operator, State(state): State<ServeState>) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            ),
            (CACHE_CONTROL, NO_STORE),
        ],
        state.inner.metrics.render(),
    )
        .into_response()
}

#[derive(Serialize)]
struct StatusReport {
    sources: Vec<SourceState>,
    /// Every status, 0 included, so consumers need no defaults.
    items: BTreeMap<&'static str, i64>,
}

async fn report(state: &ServeState) -> Result<StatusReport, Response> {
    let config = state.config();
    let store = state.inner.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        let counts = store.status_counts()?;
        Ok::<_, crate::store::StoreError>(StatusReport {
            sources: store.source_states(&ids)?,
            items: crate::metrics::EDITORS_STATUSES
                .into_iter()
                .map(|s| (s.as_str(), 0))
                .chain(counts.into_iter().map(|(s, n)| (s.as_str(), n)))
                .collect(),
        })
    })
    .await;
    match result {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            [(CACHE_CONTROL, NO_STORE)],
            format!("database unavailable: {e}\n"),
        )
            .into_response()),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

pub(super) async fn status_json(_: Operator, State(state): State<ServeState>) -> Response {
    match report(&state).await {
        Ok(r) => ([(CACHE_CONTROL, NO_STORE)], axum::Json(r)).into_response(),
        Err(resp) => resp,
    }
}

pub(super) async fn status_html(_: Operator, State(state): State<ServeState>) -> Response {
    let report = match report(&state).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let h = status_page(&format!("{} · 状态", state.config().title), &report).into_string();
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, NO_STORE),
        ],
        h,
    )
        .into_response()
}

/// The status page's stylesheet: a static asset, the page's only unescaped
/// markup.
const STATUS_STYLE: &str = "body{font:14px/1.5 sans-serif;margin:1rem}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
.bad{color:#b5121b}";

fn status_page(title: &str, report: &StatusReport) -> Markup {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_string());
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" title { (title) }
                "\n" style { (PreEscaped(STATUS_STYLE)) }
                "\n"
            }
            "\n"
            body {
                "\n" h1 { (title) }
                "\n" h2 { "条目" }
                "\n"
                ul {
                    "\n"
                    @for status in crate::metrics::EDITORS_STATUSES {
                        li { (status.as_str()) ": " (report.items.get(status.as_str()).copied().unwrap_or(0)) }
                        "\n"
                    }
                }
                "\n" h2 { "来源" } "\n"
                table {
                    "\n"
                    tr { th { "id" } th { "名称" } th { "连续失败" } th { "上次成功" } th { "下次" } th { "条目" } th { "上次错误" } th { "触及限额" } }
                    "\n"
                    @for s in &report.sources {
                        tr class=[(s.consecutive_failures > 0 || s.limited_passes >= crate::report::LIMITED_FLAG_AFTER).then_some("bad")] {
                            td {
                                @if let Some(href) = safe_href(&s.url) {
                                    a href=(href) { (s.id) }
                                } @else {
                                    (s.id)
                                }
                            }
                            td { (s.name) }
                            td { (s.consecutive_failures) }
                            td { (opt(&s.last_success_at)) }
                            td { (opt(&s.next_due_at)) }
                            td { (s.items) }
                            td { (opt(&s.last_error)) }
                            td {
                                @match &s.last_limits {
                                    Some(l) => { (l) " (连续 " (s.limited_passes) " 次)" }
                                    None => "—",
                                }
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
        }
        "\n"
    }
}
