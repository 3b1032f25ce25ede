//! Web layer (the editors' desk): the administrators' 来源 page. Every
//! configured source with its health as `kuaibao status` shows it; adding
//! an outlet by its address (the proposal and preview of `kuaibao sources
//! add`, then appending the `[[source]]` table to the sources file);
//! switching a source on or off; testing a source's selectors as
//! `kuaibao sources test` does; and the repairs heal proposed when a
//! source's selectors broke after a redesign: a banner per proposal, with
//! its evidence and the old and new tables side by side, to apply (应用,
//! as `kuaibao sources heal ID --apply` would) or dismiss (忽略).
//!
//! The sources file is changed through [`crate::config::edit`] only (which
//! keeps every byte a person wrote), each change is in the audit log
//! (`source.add`, `source.enable`, `source.disable`, `source.repair`,
//! `source.repair.dismiss`), and the daemon is
//! asked to reload its configuration ([`DeskState::request_reload`]), so
//! the change is polled without a restart. Outside the daemon the page says
//! that the change takes effect at the next start.
//!
//! Fetching an outlet can take long: a proposal and a test each run on a
//! blocking thread under a time cap, so a hanging outlet neither holds the
//! request forever nor keeps the server's workers busy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::Posted;
use super::pages::{Frame, flash_html, layout, message_page, option, section_name, short_time};
use super::{
    DeskState, Editor, Flash, clear_flash, html, internal, is_admin, json, nonce, read_flash,
    see_other, set_flash, wants_json, with_store,
};
use crate::accounts::{self, AuditEntry, SessionUser};
use crate::config::edit::{self, EditError};
use crate::config::{Config, parse_sources};
use crate::fetch::Fetcher;
use crate::heal::Evidence;
use crate::model::safe_href;
use crate::onboard::{self, AddRequest, OnboardError, Proposal};
use crate::poll::{SourceTest, SourceTestError};
use crate::store::{RepairRow, SourceState};

/// How long a proposal may take: fetching the address, its feed or list
/// and a few articles.
const PROPOSE_LIMIT: Duration = Duration::from_secs(30);

/// How long a test of a source's selectors may take.
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// Articles read by a test, as `kuaibao sources test` does by default.
const TEST_ARTICLES: usize = 3;

/// Items of a test shown on the page.
const TEST_ITEMS_SHOWN: usize = 30;

/// How long an action waits for the daemon's reload before it answers.
const RELOAD_WAIT: Duration = Duration::from_secs(3);

/// Longest name, id or region accepted from the address form.
const MAX_FIELD_CHARS: usize = 200;

/// Where the page lives (and every action returns to).
const PAGE: &str = "/desk/sources";

/// The address form: the outlet's address and what the admin knows of it.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct AddressForm {
    url: Option<String>,
    name: Option<String>,
    id: Option<String>,
    section: Option<String>,
    region: Option<String>,
}

/// The 添加 form: the `[[source]]` table, as proposed or as edited.
#[derive(Debug, Deserialize)]
pub(super) struct AddForm {
    toml: Option<String>,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub(super) struct NoFields {}

/// What the page shows above the sources, the answer to an action.
enum Panel {
    Nothing,
    Proposal(Box<Proposal>),
    /// An add was refused: the table again, to fix.
    Retry {
        toml: String,
    },
    Test {
        name: String,
        test: Box<SourceTest>,
    },
}

/// A form field, trimmed and cut to [`MAX_FIELD_CHARS`].
fn field(v: Option<&str>) -> String {
    v.unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_FIELD_CHARS)
        .collect()
}

fn some(v: String) -> Option<String> {
    (!v.is_empty()).then_some(v)
}

fn error(text: impl Into<String>) -> Option<Flash> {
    Some(Flash {
        error: true,
        text: text.into(),
    })
}

/// 403 for anyone but an administrator.
fn refuse_non_admin(config: &Config, user: &SessionUser, headers: &HeaderMap) -> Option<Response> {
    if is_admin(user) {
        return None;
    }
    let message = "只有管理员可以管理来源。";
    if wants_json(headers) {
        return Some(json(StatusCode::FORBIDDEN, false, message, None));
    }
    let n = nonce();
    Some(html(
        StatusCode::FORBIDDEN,
        &n,
        message_page(config, Some(user), &n, "需要管理员权限", message),
    ))
}

/// `GET /desk/sources`.
pub(super) async fn page(
    State(state): State<DeskState>,
    editor: Editor,
    headers: HeaderMap,
) -> Response {
    let config = state.config();
    if let Some(refused) = refuse_non_admin(&config, &editor.user, &headers) {
        return refused;
    }
    let flash = read_flash(&headers);
    let had_flash = flash.is_some();
    let mut resp = show(
        &state,
        &editor.user,
        flash,
        &AddressForm::default(),
        Panel::Nothing,
    )
    .await;
    if resp.status() == StatusCode::OK && had_flash {
        clear_flash(&mut resp, &config);
    }
    resp
}

/// The page with `message` on top, the address form filled from `form`
/// and `panel` above the sources.
async fn show(
    state: &DeskState,
    user: &SessionUser,
    message: Option<Flash>,
    form: &AddressForm,
    panel: Panel,
) -> Response {
    let config = state.config();
    let ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
    let read = with_store(state, move |s| {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let states = s.source_states(&refs)?;
        let mut latest = HashMap::new();
        for id in &ids {
            if let Some(r) = s.latest_repair(id)? {
                latest.insert(id.clone(), r);
            }
        }
        let proposed = s.proposed_repairs()?;
        Ok::<_, crate::store::StoreError>((states, latest, proposed))
    })
    .await;
    let (states, latest, proposed) = match read {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    // Only the proposals of configured sources: one of a source removed
    // since can be neither applied nor shown beside its row.
    let proposed: Vec<RepairRow> = proposed
        .into_iter()
        .filter(|r| config.source(&r.source_id).is_some())
        .collect();
    let n = nonce();
    let view = View {
        states: &states,
        latest: &latest,
        proposed: &proposed,
        message: message.as_ref(),
        form,
        panel: &panel,
        can_reload: state.can_reload(),
    };
    html(StatusCode::OK, &n, render(&config, user, &n, &view))
}

/// `POST /desk/sources/preview`: proposes a source for the address and
/// shows what polling it would store, writing nothing.
pub(super) async fn preview(
    State(state): State<DeskState>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<AddressForm>,
) -> Response {
    let config = state.config();
    if let Some(refused) = refuse_non_admin(&config, &editor.user, &headers) {
        return refused;
    }
    match propose(config, &form).await {
        Ok(proposal) => {
            show(
                &state,
                &editor.user,
                None,
                &form,
                Panel::Proposal(Box::new(proposal)),
            )
            .await
        }
        Err(message) => show(&state, &editor.user, error(message), &form, Panel::Nothing).await,
    }
}

/// [`onboard::propose`] for the address form, on a blocking thread under
/// [`PROPOSE_LIMIT`]; the error is the admin's message.
async fn propose(config: Arc<Config>, form: &AddressForm) -> Result<Proposal, String> {
    let address = field(form.url.as_deref());
    if address.is_empty() {
        return Err("请填写要添加的网址。".into());
    }
    let url = url::Url::parse(&address).map_err(|e| format!("「{address}」不是有效的网址：{e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("只能添加 http 或 https 网址。".into());
    }
    let section = field(form.section.as_deref());
    if !section.is_empty() && !config.sections.iter().any(|s| s.id == section) {
        return Err(format!("没有栏目「{section}」。"));
    }
    let request = AddRequest {
        url: Some(url),
        name: some(field(form.name.as_deref())),
        id: some(field(form.id.as_deref())),
        section: some(section),
        region: some(field(form.region.as_deref())),
    };
    let fetcher = Fetcher::new(&config.poll).map_err(|e| {
        tracing::error!(error = %e, "desk: cannot set up the HTTP client");
        format!("无法建立 HTTP 客户端：{e}")
    })?;
    let run = on_own_thread(move || async move {
        tokio::time::timeout(
            PROPOSE_LIMIT,
            onboard::propose(
                &fetcher,
                &config.poll,
                &config.sections,
                &config.sources,
                &request,
            ),
        )
        .await
    })
    .await;
    match run {
        Ok(Ok(Ok(proposal))) => Ok(proposal),
        Ok(Ok(Err(e))) => Err(onboard_message(&e)),
        Ok(Err(_)) => Err(format!(
            "{} 秒内没有完成，已放弃：该网站响应太慢，请稍后再试。",
            PROPOSE_LIMIT.as_secs()
        )),
        Err(e) => {
            tracing::error!(error = %e, "desk: a source proposal failed");
            Err("分析该网址时出错，没有结果。".into())
        }
    }
}

/// Runs a future that is not `Send` (it holds parsed pages across its
/// fetches) to its end on a thread of its own. Not on one of the runtime's
/// blocking threads: they are few (see `cli::runtime`), and the future
/// itself hands its parsing to them, so a few such runs at once could
/// hold every one while waiting for one.
async fn on_own_thread<T, F>(make: impl FnOnce() -> F + Send + 'static) -> Result<T, String>
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    let handle = tokio::runtime::Handle::current();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("kuaibao-desk-onboard".into())
        .spawn(move || {
            let _ = done.send(handle.block_on(make()));
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    // A panic on the thread drops `done` unanswered.
    result.await.map_err(|_| "the work panicked".to_string())
}

fn onboard_message(e: &OnboardError) -> String {
    match e {
        OnboardError::Fetch { url, error } => format!("无法获取 {url}：{error}"),
        OnboardError::NotModified { url } => format!("{url} 回答了 304（未修改），无法读取。"),
        OnboardError::NoList { url, reason } => {
            format!("在 {url} 没有找到新闻列表或订阅源：{reason}")
        }
        OnboardError::Invalid(m) => format!("提议的来源无效：{m}"),
    }
}

fn edit_message(e: &EditError) -> String {
    match e {
        EditError::DuplicateId { id } => {
            format!("来源文件里已有 id 为「{id}」的来源，请在配置中换一个 id。")
        }
        EditError::DuplicateUrl { url, id } => {
            format!("来源「{id}」已在抓取 {url}，不必重复添加。")
        }
        EditError::Invalid { message } => format!("来源配置无效：{message}"),
        EditError::Parse { .. } => format!("来源文件本身有误，没有修改：{e}"),
        EditError::UnknownSource { id } => format!("来源文件里没有「{id}」。"),
        EditError::Io { .. } => {
            tracing::error!(error = %e, "desk: cannot change the sources file");
            format!("无法修改来源文件：{e}")
        }
    }
}

/// Asks the daemon to reload and waits (a little) until it has: what to
/// tell the admin about when the change takes effect.
async fn reload(state: &DeskState) -> &'static str {
    let before = state.config();
    if !state.request_reload() {
        return "本服务没有运行守护进程的重新加载：修改在下次启动 kuaibao serve 或运行 kuaibao poll 时生效。";
    }
    let deadline = tokio::time::Instant::now() + RELOAD_WAIT;
    while tokio::time::Instant::now() < deadline {
        if !Arc::ptr_eq(&state.config(), &before) {
            return "配置已重新加载，立即生效。";
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "已请求重新加载配置，尚未完成；稍后刷新本页查看（若仍未生效，请查看守护进程的日志）。"
}

/// Records a source change in the audit log; a failure is logged and
/// told, the change stands (the file is written already).
async fn audit(
    state: &DeskState,
    user: &str,
    action: &'static str,
    id: &str,
    before: Option<String>,
    after: Option<String>,
) -> &'static str {
    let (user, id) = (user.to_string(), id.to_string());
    let recorded = with_store(state, move |s| {
        accounts::record(
            s,
            &AuditEntry {
                user_name: &user,
                action,
                item_id: None,
                story_id: None,
                before: before.as_deref(),
                after: after.as_deref(),
                detail: Some(&id),
            },
        )
    })
    .await;
    match recorded {
        Ok(Ok(_)) => "",
        Ok(Err(e)) => {
            tracing::error!(error = %e, "desk: cannot write the audit log");
            "（未能写入操作记录。）"
        }
        Err(_) => "（未能写入操作记录。）",
    }
}

/// `POST /desk/sources/add`: appends the `[[source]]` table to the sources
/// file, records it and reloads.
pub(super) async fn add(
    State(state): State<DeskState>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<AddForm>,
) -> Response {
    let config = state.config();
    if let Some(refused) = refuse_non_admin(&config, &editor.user, &headers) {
        return refused;
    }
    // A textarea sends CRLF line ends.
    let block = form.toml.unwrap_or_default().replace("\r\n", "\n");
    if block.trim().is_empty() {
        return show(
            &state,
            &editor.user,
            error("没有要添加的来源配置：请先按网址预览。"),
            &AddressForm::default(),
            Panel::Nothing,
        )
        .await;
    }
    let cfg = config.clone();
    let text = block.clone();
    let written = tokio::task::spawn_blocking(move || {
        edit::append_source(&cfg.sources_path, &text, cfg.poll.interval, &cfg.sections)
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return show(
                &state,
                &editor.user,
                error(edit_message(&e)),
                &AddressForm::default(),
                Panel::Retry { toml: block },
            )
            .await;
        }
        Err(e) => return internal(e, false),
    }
    // Valid, since it was appended: what it adds, for the log and message.
    let added = parse_sources(
        std::path::Path::new("<new source>"),
        &block,
        config.poll.interval,
        &config.sections,
    )
    .ok()
    .and_then(|mut v| v.pop());
    let (id, name, url) =
        added.map_or_else(Default::default, |s| (s.id, s.name, s.url.to_string()));
    let audited = audit(
        &state,
        &editor.user.name,
        "source.add",
        &id,
        None,
        Some(url),
    )
    .await;
    let reloaded = reload(&state).await;
    let mut resp = see_other(PAGE);
    set_flash(
        &mut resp,
        &config,
        false,
        &format!("已添加来源「{name}」（{id}）。{reloaded}{audited}"),
    );
    resp
}

/// `POST /desk/sources/{id}/{enable,disable,test}`.
pub(super) async fn action(
    State(state): State<DeskState>,
    Path((id, action)): Path<(String, String)>,
    Posted {
        editor,
        form: NoFields {},
        headers,
    }: Posted<NoFields>,
) -> Response {
    let config = state.config();
    if let Some(refused) = refuse_non_admin(&config, &editor.user, &headers) {
        return refused;
    }
    let Some(source) = config.source(&id).cloned() else {
        let mut resp = see_other(PAGE);
        set_flash(&mut resp, &config, true, &format!("没有来源「{id}」。"));
        return resp;
    };
    let enable = match action.as_str() {
        "enable" => true,
        "disable" => false,
        "test" => {
            return match test(&config, &source).await {
                Ok(test) => {
                    let panel = Panel::Test {
                        name: source.name.clone(),
                        test: Box::new(test),
                    };
                    show(&state, &editor.user, None, &AddressForm::default(), panel).await
                }
                Err(message) => {
                    show(
                        &state,
                        &editor.user,
                        error(message),
                        &AddressForm::default(),
                        Panel::Nothing,
                    )
                    .await
                }
            };
        }
        _ => {
            let mut resp = see_other(PAGE);
            set_flash(&mut resp, &config, true, "没有这个操作。");
            return resp;
        }
    };
    let path = config.sources_path.clone();
    let sid = id.clone();
    let written = tokio::task::spawn_blocking(move || edit::set_enabled(&path, &sid, enable)).await;
    let mut resp = see_other(PAGE);
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            set_flash(&mut resp, &config, true, &edit_message(&e));
            return resp;
        }
        Err(e) => return internal(e, false),
    }
    let word = |on: bool| if on { "enabled" } else { "disabled" };
    let (kind, verb) = if enable {
        ("source.enable", "启用")
    } else {
        ("source.disable", "停用")
    };
    let audited = audit(
        &state,
        &editor.user.name,
        kind,
        &id,
        Some(word(source.enabled).to_string()),
        Some(word(enable).to_string()),
    )
    .await;
    let reloaded = reload(&state).await;
    set_flash(
        &mut resp,
        &config,
        false,
        &format!(
            "已{verb}来源「{}」（{id}）。{reloaded}{audited}",
            source.name
        ),
    );
    resp
}

/// [`crate::poll::test_source`] with [`TEST_ARTICLES`] articles, on a
/// blocking thread under [`TEST_LIMIT`].
async fn test(config: &Arc<Config>, source: &crate::config::Source) -> Result<SourceTest, String> {
    let fetcher = Fetcher::new(&config.poll).map_err(|e| {
        tracing::error!(error = %e, "desk: cannot set up the HTTP client");
        format!("无法建立 HTTP 客户端：{e}")
    })?;
    let (config, source) = (config.clone(), source.clone());
    let run = on_own_thread(move || async move {
        tokio::time::timeout(
            TEST_LIMIT,
            crate::poll::test_source(&fetcher, &config.poll, &source, TEST_ARTICLES),
        )
        .await
    })
    .await;
    match run {
        Ok(Ok(Ok(test))) => Ok(test),
        Ok(Ok(Err(e))) => Err(match e {
            SourceTestError::Fetch { url, error } => format!("测试失败：无法获取 {url}：{error}"),
            SourceTestError::NotModified { url } => {
                format!("测试失败：{url} 回答了 304（未修改）。")
            }
            SourceTestError::Extract { url, error } => {
                format!("测试失败：无法从 {url} 提取列表：{error}")
            }
        }),
        Ok(Err(_)) => Err(format!(
            "测试在 {} 秒内没有完成，已放弃。",
            TEST_LIMIT.as_secs()
        )),
        Err(e) => {
            tracing::error!(error = %e, "desk: a source test failed");
            Err("测试时出错，没有结果。".into())
        }
    }
}

/// What the page renders.
struct View<'a> {
    /// In the configuration's order.
    states: &'a [SourceState],
    /// Each source's latest repair, by source id.
    latest: &'a HashMap<String, RepairRow>,
    /// Repairs waiting for an administrator, of configured sources.
    proposed: &'a [RepairRow],
    message: Option<&'a Flash>,
    form: &'a AddressForm,
    panel: &'a Panel,
    can_reload: bool,
}

/// A source's health in words, as `kuaibao status` has it, and its class.
fn health(s: &SourceState) -> (&'static str, String) {
    if s.last_attempt_at.is_none() {
        ("never", "从未抓取".into())
    } else if s.consecutive_failures > 0 {
        ("bad", format!("失败 ×{}", s.consecutive_failures))
    } else if s.limited_passes >= crate::report::LIMITED_FLAG_AFTER {
        ("bad", format!("受限 ×{}", s.limited_passes))
    } else {
        ("ok", "正常".into())
    }
}

fn time_or_dash(t: Option<&str>) -> String {
    t.map_or_else(|| "—".into(), short_time)
}

fn link(url: &str, text: &str) -> Markup {
    html! {
        @if let Some(href) = safe_href(url) {
            a href=(href) target="_blank" rel="noopener noreferrer" { (text) }
        } @else {
            (text)
        }
    }
}

fn render(config: &Config, user: &SessionUser, nonce: &str, view: &View<'_>) -> Markup {
    let csrf = user.csrf_token.as_str();
    let form = view.form;
    let chosen = field(form.section.as_deref());
    let main = html! {
        (flash_html(view.message))
        h1 { "来源" } "\n"
        p.summary {
            "来源文件：" code { (config.sources_path.display()) } "。"
            @if view.can_reload {
                "这里的修改写入该文件，并让运行中的服务立即重新加载配置，无需重启。"
            } @else {
                "这里的修改写入该文件；本服务不能重新加载配置，修改在下次启动 kuaibao serve 或运行 kuaibao poll 时生效。"
            }
        }
        "\n"
        (render_panel(config, csrf, view.panel))
        @for r in view.proposed { (repair_banner(config, csrf, r)) }
        table.list.sources {
            tr {
                th { "ID" } th { "名称" } th { "类型" } th { "栏目" } th { "状态" }
                th { "上次成功" } th { "连续失败" } th { "下次抓取" } th { "最近错误" }
                th { "启用" } th { "操作" }
            }
            "\n"
            @for (s, st) in config.sources.iter().zip(view.states) {
                @let (class, label) = health(st);
                tr id={ "source-" (s.id) } class=[(!s.enabled).then_some("off")] {
                    td { code { (s.id) } }
                    td { (link(s.url.as_str(), &s.name)) }
                    td { (s.kind.as_str()) }
                    td { (section_name(config, s.section.as_deref())) }
                    td {
                        span class={ "health " (class) } { (label) }
                        @if let Some(r) = view.latest.get(&s.id) { (repair_note(r)) }
                    }
                    td { (time_or_dash(st.last_success_at.as_deref())) }
                    td { (st.consecutive_failures) }
                    td { (time_or_dash(st.next_due_at.as_deref())) }
                    td.err {
                        (st.last_error.iter().chain(st.last_limits.iter()).cloned().collect::<Vec<_>>().join("；"))
                    }
                    td { (if s.enabled { "是" } else { "否" }) }
                    td.actions {
                        @if s.enabled {
                            form.inline method="post" action={ "/desk/sources/" (s.id) "/disable" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" class="no" { "停用" }
                            }
                        } @else {
                            form.inline method="post" action={ "/desk/sources/" (s.id) "/enable" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" class="ok" { "启用" }
                            }
                        }
                        " "
                        form.inline method="post" action={ "/desk/sources/" (s.id) "/test" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "测试" }
                        }
                    }
                }
                "\n"
            }
        }
        "\n"
        h2 { "按网址添加" } "\n"
        form.addsource method="post" action="/desk/sources/preview" {
            input type="hidden" name="csrf" value=(csrf);
            "\n" label { "网址 " input type="url" name="url" value=(field(form.url.as_deref())) required size="60" placeholder="https://"; }
            "\n" label { "名称（可选） " input type="text" name="name" value=(field(form.name.as_deref())) maxlength=(MAX_FIELD_CHARS); }
            "\n" label { "ID（可选） " input type="text" name="id" value=(field(form.id.as_deref())) maxlength=(MAX_FIELD_CHARS); }
            "\n" label { "栏目 " select name="section" {
                (option("", "不指定（由分类决定）", chosen.is_empty()))
                @for s in &config.sections { (option(&s.id, &s.name, chosen == s.id)) }
            } }
            "\n" label { "地区（可选） " input type="text" name="region" value=(field(form.region.as_deref())) maxlength=(MAX_FIELD_CHARS); }
            "\n" button type="submit" { "预览" }
            "\n"
        }
        "\n"
        p.summary { "预览会读取该网址和其中几篇文章（最多 " (PROPOSE_LIMIT.as_secs()) " 秒），不写入任何内容；确认后再点「添加」。" }
        "\n"
    };
    layout(config, Some(user), nonce, &Frame::plain("来源", PAGE), main)
}

fn add_form(csrf: &str, toml: &str) -> Markup {
    html! {
        form.addsource method="post" action="/desk/sources/add" {
            input type="hidden" name="csrf" value=(csrf);
            "\n"
            label.block {
                "[[source]] 配置（可先修改再添加）"
                textarea name="toml" rows="16" cols="80" spellcheck="false" { (toml) }
            }
            "\n" button type="submit" class="ok" { "添加" }
            "\n"
        }
        "\n"
    }
}

fn render_panel(config: &Config, csrf: &str, panel: &Panel) -> Markup {
    match panel {
        Panel::Nothing => html! {},
        Panel::Retry { toml } => html! {
            section.panel {
                h2 { "添加来源" } "\n"
                (add_form(csrf, toml))
            }
            "\n"
        },
        Panel::Proposal(p) => html! {
            section.panel.proposal {
                h2 { "预览：" (p.source.name) "（" code { (p.source.id) } "）" } "\n"
                p { "发现方式：" (p.found) } "\n"
                p {
                    "可信度 " (format!("{:.2}", p.confidence)) "；列表共 " (p.items) " 条；页面编码 "
                    (p.encoding) "；" (p.requests) " 次请求，用时 " (p.millis) " 毫秒。"
                    @if let Some(s) = &p.source.section { " 栏目：" (section_name(config, Some(s))) "。" }
                }
                "\n"
                @if !p.warnings.is_empty() {
                    ul.warnings { @for w in &p.warnings { li { (w) } } }
                    "\n"
                }
                h3 { "[[source]] 配置" } "\n"
                pre.toml { (p.toml) } "\n"
                h3 { "前 " (p.preview.len()) " 条（共 " (p.items) " 条），即抓取时会保存的内容" } "\n"
                table.list.preview {
                    tr { th { "日期" } th { "标题" } th { "字数" } th { "来源" } th { "错误" } }
                    "\n"
                    @for i in &p.preview {
                        tr {
                            td { (time_or_dash(i.published.as_deref())) }
                            td { (link(&i.url, &i.title)) }
                            td { @if let Some(c) = i.chars { (c) " 字" } @else { "—" } }
                            td { (i.origin.as_deref().unwrap_or("—")) }
                            td.err { (i.error.as_deref().unwrap_or_default()) }
                        }
                        "\n"
                    }
                }
                "\n"
                (add_form(csrf, &p.toml))
            }
            "\n"
        },
        Panel::Test { name, test } => html! {
            section.panel.test {
                h2 { "测试：" (name) "（" code { (test.source_id) } "）" } "\n"
                p {
                    (link(&test.url, &test.url))
                    @if test.final_url != test.url { " → " (link(&test.final_url, &test.final_url)) }
                    "；HTTP " (test.status) "；" (test.bytes) " 字节；编码 " (test.encoding)
                    "；列表 " (test.items.len()) " 条（只读前 " (TEST_ARTICLES) " 篇文章，不保存）。"
                }
                "\n"
                table.list.tested {
                    tr { th { "#" } th { "日期" } th { "标题" } th { "文章" } }
                    "\n"
                    @for (n, item) in test.items.iter().take(TEST_ITEMS_SHOWN).enumerate() {
                        tr {
                            td { (n + 1) }
                            td { (time_or_dash(item.published.as_deref())) }
                            td { (link(&item.url, &item.title)) }
                            td {
                                @if let Some(a) = &item.article {
                                    @if let Some(e) = &a.error {
                                        span.err { "失败：" (e) }
                                    } @else {
                                        (a.text_chars) " 字，来源 " (a.origin) "，日期 "
                                        (time_or_dash(a.published.as_deref()))
                                        br; small { (a.text_start) "…" }
                                    }
                                }
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
        },
    }
}

/// A repair's evidence, read leniently (an unreadable one is empty).
fn evidence(r: &RepairRow) -> Evidence {
    serde_json::from_str(&r.evidence).unwrap_or_default()
}

/// What broke, in words.
fn what_broke(what: &str) -> &'static str {
    match what {
        "list" => "列表选择器",
        "article" => "正文选择器",
        "list and article" => "列表和正文选择器",
        _ => "选择器",
    }
}

/// The latest repair beside a source's health: applied, failed, or
/// waiting above the table. Nothing for a dismissed one.
fn repair_note(r: &RepairRow) -> Markup {
    let when = short_time(r.decided_at.as_deref().unwrap_or(&r.created_at));
    match r.status.as_str() {
        "applied" => html! {
            br; small.repair.applied title={ "由 " (r.decided_by.as_deref().unwrap_or("—")) " 应用" } {
                (what_broke(&r.what)) "修复于 " (when)
            }
        },
        "failed" => {
            let notes = evidence(r).notes.join("；");
            let reason = if notes.is_empty() {
                format!(
                    "{}在网站改版后失效，没有找到可靠的新选择器",
                    what_broke(&r.what)
                )
            } else {
                format!("{}失效：{notes}", what_broke(&r.what))
            };
            html! { br; small.repair.failed { "需要人工：" (reason) } }
        }
        "proposed" => html! {
            br; a.repair.proposed href={ "#repair-" (r.id) } { "待确认的修复" }
        },
        _ => html! {},
    }
}

/// Each line of `text`, and whether it is missing from `other`.
fn marked_lines<'t>(text: &'t str, other: &str) -> Vec<(&'t str, bool)> {
    let others: HashSet<&str> = other.lines().map(str::trim_end).collect();
    text.lines()
        .map(|l| (l, !others.contains(l.trim_end())))
        .collect()
}

/// The tables in a `<pre>`, the lines that differ from `other` marked as
/// `tag` (`del` on the old side, `ins` on the new).
fn marked_pre(class: &str, text: &str, other: &str, tag: &str) -> Markup {
    html! {
        pre class={ "toml " (class) } {
            @for (line, differs) in marked_lines(text, other) {
                @if differs {
                    @if tag == "del" { del { (line) } } @else { ins { (line) } }
                } @else {
                    (line)
                }
                "\n"
            }
        }
    }
}

/// The banner of a proposed repair: what broke, the proof, both tables,
/// 应用 and 忽略.
fn repair_banner(config: &Config, csrf: &str, r: &RepairRow) -> Markup {
    let name = config
        .source(&r.source_id)
        .map_or(r.source_id.as_str(), |s| s.name.as_str());
    let e = evidence(r);
    let action = |verb: &str| format!("/desk/sources/{}/repairs/{}/{verb}", r.source_id, r.id);
    html! {
        section.panel.repair id={ "repair-" (r.id) } {
            h2 {
                "「" (name) "」（" code { (r.source_id) } "）的" (what_broke(&r.what))
                "在网站改版后失效，已找到新的选择器"
            }
            "\n"
            p.evidence {
                "可信度 " (format!("{:.2}", r.confidence)) "；发现于 " (short_time(&r.created_at)) "。"
                @if e.known_on_page > 0 || r.what.contains("list") {
                    "列表页上有 " span.known { (e.known_on_page) } " 篇已保存的文章，新选择器找回 "
                    span.found { (e.found_again) } " 篇，共读到 " span.items { (e.items) } " 条。"
                }
                @if e.articles_checked > 0 {
                    "重读 " span.checked { (e.articles_checked) } " 篇已保存的文章，"
                    span.matching { (e.articles_matching) } " 篇正文与保存的一致。"
                }
            }
            "\n"
            @if !e.notes.is_empty() {
                ul.notes { @for n in &e.notes { li { (n) } } }
                "\n"
            }
            div.tables {
                div.old { h3 { "现在的配置" } (marked_pre("old", &r.old_toml, &r.new_toml, "del")) }
                div.new { h3 { "修复后的配置" } (marked_pre("new", &r.new_toml, &r.old_toml, "ins")) }
            }
            "\n"
            p.summary {
                "应用后，旧的选择器作为注释留在来源文件中，并另存一份备份。"
            }
            form.inline method="post" action=(action("apply")) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" class="ok" { "应用" }
            }
            " "
            form.inline method="post" action=(action("dismiss")) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" class="no" { "忽略" }
            }
        }
        "\n"
    }
}

/// `POST /desk/sources/{id}/repairs/{repair_id}/{apply,dismiss}`: writes
/// a proposed repair's tables to the sources file (the old ones kept in a
/// comment and a backup), or sets it aside; audited either way.
pub(super) async fn repair(
    State(state): State<DeskState>,
    Path((id, repair_id, action)): Path<(String, String, String)>,
    Posted {
        editor,
        form: NoFields {},
        headers,
    }: Posted<NoFields>,
) -> Response {
    let config = state.config();
    if let Some(refused) = refuse_non_admin(&config, &editor.user, &headers) {
        return refused;
    }
    let refuse = |text: &str| {
        let mut resp = see_other(PAGE);
        set_flash(&mut resp, &config, true, text);
        resp
    };
    let apply = match action.as_str() {
        "apply" => true,
        "dismiss" => false,
        _ => return refuse("没有这个操作。"),
    };
    let Ok(rid) = repair_id.parse::<i64>() else {
        return refuse("没有这个修复。");
    };
    let row = match with_store(&state, move |s| s.repair(rid)).await {
        Ok(Ok(Some(row))) if row.source_id == id => row,
        Ok(Ok(_)) => return refuse("没有这个修复。"),
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    if row.status != "proposed" {
        let done = match row.status.as_str() {
            "applied" => "已应用",
            "dismissed" => "已忽略",
            _ => "不是待确认的修复",
        };
        return refuse(&format!("「{id}」的这个修复{done}，没有再修改。"));
    }
    let Some(source) = config.source(&id).cloned() else {
        return refuse(&format!("没有来源「{id}」：它已从来源文件中删除。"));
    };
    let user = editor.user.name.clone();
    if !apply {
        let by = user.clone();
        let decided = with_store(&state, move |s| s.decide_repair(rid, "dismissed", &by)).await;
        match decided {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return internal(e, false),
            Err(resp) => return resp,
        }
        let audited = audit(
            &state,
            &user,
            "source.repair.dismiss",
            &id,
            Some("proposed".into()),
            Some("dismissed".into()),
        )
        .await;
        let mut resp = see_other(PAGE);
        set_flash(
            &mut resp,
            &config,
            false,
            &format!(
                "已忽略「{}」（{id}）的选择器修复，来源文件没有修改。{audited}",
                source.name
            ),
        );
        return resp;
    }
    // The proposal replaces the tables it was made from: after a hand edit
    // it would undo the edit, so it is refused.
    if crate::heal::tables_toml(&source) != row.old_toml {
        return refuse(&format!(
            "「{id}」的配置在提出这个修复之后已被修改，没有应用；请测试该来源，或运行 kuaibao sources heal {id} 重新检查。"
        ));
    }
    let cfg = config.clone();
    let (sid, tables) = (id.clone(), row.new_toml.clone());
    let note = format!("repaired on the desk by {user}");
    let interval = source.interval;
    let written = tokio::task::spawn_blocking(move || {
        edit::replace_tables(
            &cfg.sources_path,
            &sid,
            &tables,
            &note,
            interval,
            &cfg.sections,
        )
    })
    .await;
    let backup = match written {
        Ok(Ok(backup)) => backup,
        Ok(Err(e)) => return refuse(&edit_message(&e)),
        Err(e) => return internal(e, false),
    };
    let by = user.clone();
    let decided = with_store(&state, move |s| s.decide_repair(rid, "applied", &by)).await;
    let decided = match decided {
        Ok(Ok(())) => "",
        Ok(Err(e)) => {
            tracing::error!(error = %e, "desk: cannot mark the repair applied");
            "（未能记录该修复已应用。）"
        }
        Err(_) => "（未能记录该修复已应用。）",
    };
    let audited = audit(
        &state,
        &user,
        "source.repair",
        &id,
        Some(row.old_toml.clone()),
        Some(row.new_toml.clone()),
    )
    .await;
    let reloaded = reload(&state).await;
    let backup = backup
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let mut resp = see_other(PAGE);
    set_flash(
        &mut resp,
        &config,
        false,
        &format!(
            "已应用「{}」（{id}）的选择器修复；旧的选择器留在来源文件的注释中，备份为 {backup}。{reloaded}{decided}{audited}",
            source.name
        ),
    );
    resp
}
