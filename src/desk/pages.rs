//! Web layer (the editors' desk): the desk's HTML. The queue, the login
//! form, the audit log, the accounts list, and the frame every desk page
//! shares ([`layout`]). Pages are maud templates: every value from the
//! store, the configuration or the request is escaped as it is spliced in;
//! the one exception is an item's body, a [`crate::model::SanitizedHtml`]
//! from the sanitizer. Outlets' URLs become links only through
//! [`safe_href`].

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::{
    DeskState, Flash, clear_flash, html, internal, is_admin, json, lenient, lenient_parse, nonce,
    read_flash, with_store,
};
use crate::accounts::{self, AuditQuery, AuditRecord, SessionUser, UserInfo};
use crate::config::Config;
use crate::model::safe_href;
use crate::store::{
    DeskItem, DeskPage, DeskQuery, IssueStatus, SectionFilter, Status, Store, StoreError,
};

use super::Editor;

// The desk's own stylesheet and script, compiled in: static assets, not
// data, and the only other markup inserted unescaped (as `PreEscaped`,
// inside `<style>` and `<script>` carrying the page's CSP nonce).
const CSS: &str = include_str!("desk.css");
const JS: &str = include_str!("desk.js");

/// Stories per page of the queue: enough to work through a day's
/// candidates without paging, small enough to render in milliseconds.
pub(super) const PAGE_SIZE: usize = 200;

/// Audit entries on `/desk/audit`.
const AUDIT_ENTRIES: usize = 200;

/// Longest search accepted; longer input is cut.
const MAX_QUERY_CHARS: usize = 200;

/// `status=all` in the queue's URL: every status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Every {
    All,
}

/// The queue's `status` filter as the URL carries it: one status, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum StatusFilter {
    Only(Status),
    All(Every),
}

/// The queue's query string, as axum's `Query` reads it: a value that does
/// not read (an unknown status, a bad date or page) is left out, so the
/// page falls back to the default rather than failing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default, deserialize_with = "lenient")]
    status: Option<StatusFilter>,
    section: Option<String>,
    source: Option<String>,
    #[serde(default, deserialize_with = "lenient_parse")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "lenient_parse")]
    to: Option<NaiveDate>,
    q: Option<String>,
    #[serde(default, deserialize_with = "lenient_parse")]
    page: Option<usize>,
}

/// The queue's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueueParams {
    /// `None`: every status (`status=all`); candidates by default.
    pub status: Option<Status>,
    /// A section id, `none` (unfiled) or empty (all).
    pub section: String,
    pub source: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: String,
    /// 1-based.
    pub page: usize,
}

impl From<QueueQuery> for QueueParams {
    fn from(q: QueueQuery) -> QueueParams {
        let text = |v: Option<String>| v.map(|v| v.trim().to_string()).unwrap_or_default();
        QueueParams {
            status: match q.status {
                None => Some(Status::Candidate),
                Some(StatusFilter::Only(s)) => Some(s),
                Some(StatusFilter::All(Every::All)) => None,
            },
            section: text(q.section),
            source: text(q.source),
            from: q.from,
            to: q.to,
            q: text(q.q).chars().take(MAX_QUERY_CHARS).collect(),
            page: q.page.unwrap_or(1).max(1),
        }
    }
}

/// `status=` for a filter: a status's name, or `all`.
fn status_param(status: Option<Status>) -> &'static str {
    status.map_or("all", Status::as_str)
}

impl QueueParams {
    /// The queue URL with these filters and `page`.
    pub fn url(&self, page: usize) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if self.status != Some(Status::Candidate) {
            s.append_pair("status", status_param(self.status));
        }
        let (from, to) = (date_value(self.from), date_value(self.to));
        for (k, v) in [
            ("section", &self.section),
            ("source", &self.source),
            ("from", &from),
            ("to", &to),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        let query = s.finish();
        if query.is_empty() {
            "/desk/".into()
        } else {
            format!("/desk/?{query}")
        }
    }

    /// The 待定 group the candidates' queue shows below its candidates,
    /// under the same filters; None for any other status filter.
    fn maybe_query(&self, config: &Config) -> Option<DeskQuery> {
        (self.status == Some(Status::Candidate)).then(|| DeskQuery {
            status: Some(Status::Maybe),
            offset: 0,
            ..self.query(config)
        })
    }

    fn query(&self, config: &Config) -> DeskQuery {
        let section = match self.section.as_str() {
            "" => None,
            "none" => Some(SectionFilter::Unfiled),
            s => Some(SectionFilter::Section(s.into())),
        };
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        DeskQuery {
            status: self.status,
            section,
            source: opt(&self.source),
            from: self.from.map(|d| d.to_string()),
            to: self.to.map(|d| d.to_string()),
            text: opt(&self.q),
            sections: config.sections.iter().map(|s| s.id.clone()).collect(),
            limit: PAGE_SIZE,
            offset: (self.page - 1).saturating_mul(PAGE_SIZE),
        }
    }
}

/// A date field's value: `2025-06-20`, or empty.
fn date_value(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Candidate => "待审",
        Status::Approved => "已通过",
        Status::Rejected => "已拒绝",
        Status::Maybe => "待定",
        Status::Irrelevant => "无关",
    }
}

/// What an audit entry's action is called on the page.
fn action_label(action: &str) -> &str {
    match action {
        "approve" => "通过",
        "reject" => "拒绝",
        "move" => "移栏",
        "title" => "改标题",
        "split" => "拆分",
        "merge" => "合并",
        "undo" => "撤销",
        "login" => "登录",
        "logout" => "退出",
        "issue_new" => "新建期刊",
        "issue_add" => "加入期刊",
        "issue_remove" => "移出期刊",
        "issue_move" => "调整顺序",
        "issue_date" => "改期刊日期",
        "issue_publish" => "发布期刊",
        "issue_unpublish" => "撤回发布",
        "source.add" => "添加来源",
        "source.enable" => "启用来源",
        "source.disable" => "停用来源",
        "source.repair" => "修复来源选择器",
        "source.repair.dismiss" => "忽略来源修复",
        other => other,
    }
}

pub(super) fn section_name<'c>(config: &'c Config, id: Option<&'c str>) -> &'c str {
    match id {
        None | Some("") => "未分栏",
        Some(id) => config
            .sections
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.name.as_str()),
    }
}

/// `2025-06-20T10:30:00+08:00` as an editor reads it: `2025-06-20 10:30`.
pub(super) fn short_time(t: &str) -> String {
    t.chars()
        .take(16)
        .map(|c| if c == 'T' { ' ' } else { c })
        .collect()
}

/// What the queue's script reads from `<body>`.
pub(super) struct ScriptData<'a> {
    pub csrf: &'a str,
    /// The status filter (`status=` value).
    pub status: &'a str,
    /// The section ids, as a JSON array.
    pub sections: String,
}

/// What frames a page's `main`.
pub(super) struct Frame<'a> {
    pub title: &'a str,
    /// The navigation entry to mark as the current page.
    pub current: &'a str,
    /// The queue's script and the data it reads (`data-*` on `<body>`).
    pub script: Option<ScriptData<'a>>,
}

impl<'a> Frame<'a> {
    /// A page without the script.
    pub fn plain(title: &'a str, current: &'a str) -> Frame<'a> {
        Frame {
            title,
            current,
            script: None,
        }
    }
}

/// The page around `main`: header with navigation and logout (when logged
/// in), the inline stylesheet and, for the queue, the script.
pub(super) fn layout(
    config: &Config,
    user: Option<&SessionUser>,
    nonce: &str,
    frame: &Frame<'_>,
    main: Markup,
) -> Markup {
    let data = frame.script.as_ref();
    let nav = |path: &str, label: &str| {
        html! {
            a href=(path) aria-current=[(path == frame.current).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            "\n"
            head {
                "\n" meta charset="utf-8";
                "\n" meta name="viewport" content="width=device-width, initial-scale=1";
                "\n" meta name="referrer" content="same-origin";
                "\n" title { (frame.title) " · " (config.title) }
                "\n" style nonce=(nonce) { "\n" (PreEscaped(CSS)) }
                "\n"
            }
            "\n"
            body data-csrf=[data.map(|d| d.csrf)]
                data-status=[data.map(|d| d.status)]
                data-sections=[data.map(|d| d.sections.as_str())] {
                "\n"
                @if let Some(user) = user {
                    header.top {
                        a.brand href="/desk/" { "编辑台" }
                        nav {
                            (nav("/desk/", "审稿队列"))
                            (nav("/desk/issues", "期刊"))
                            (nav("/desk/audit", "操作记录"))
                            @if is_admin(user) {
                                (nav("/desk/sources", "来源"))
                                (nav("/desk/users", "用户"))
                            }
                        }
                        span.who { (user.name) "（" (if is_admin(user) { "管理员" } else { "编辑" }) "）" }
                        form method="post" action="/desk/logout" {
                            input type="hidden" name="csrf" value=(user.csrf_token);
                            button type="submit" { "退出" }
                        }
                    }
                }
                "\n"
                main { "\n" (main) }
                "\n"
                @if data.is_some() {
                    script nonce=(nonce) { "\n" (PreEscaped(JS)) }
                    "\n"
                }
            }
            "\n"
        }
        "\n"
    }
}

pub(super) fn flash_html(flash: Option<&Flash>) -> Markup {
    html! {
        p id="flash" class=(if flash.is_some_and(|f| f.error) { "flash error" } else { "flash" }) role="status" {
            @if let Some(f) = flash { (f.text) }
        }
        "\n"
    }
}

pub(super) fn login_page(
    config: &Config,
    nonce: &str,
    next: &str,
    name: &str,
    flash: Option<&Flash>,
) -> Markup {
    let main = html! {
        div.login {
            "\n" h1 { "编辑台登录" } "\n"
            @if flash.is_some() { (flash_html(flash)) }
            form method="post" action="/desk/login" {
                "\n" input type="hidden" name="next" value=(next);
                "\n" label { "用户名 " input type="text" name="name" value=(name) autocomplete="username" required autofocus; }
                "\n" label { "密码 " input type="password" name="password" autocomplete="current-password" required; }
                "\n" button type="submit" { "登录" }
                "\n"
            }
            "\n"
        }
        "\n"
    };
    layout(config, None, nonce, &Frame::plain("登录", ""), main)
}

/// A page saying one thing (a refusal, an error), with a way back.
pub(super) fn message_page(
    config: &Config,
    user: Option<&SessionUser>,
    nonce: &str,
    title: &str,
    message: &str,
) -> Markup {
    let main = html! {
        h1 { (title) } "\n"
        p.flash.error { (message) } "\n"
        p { a href="/desk/" { "回到审稿队列" } } "\n"
    };
    layout(config, user, nonce, &Frame::plain(title, ""), main)
}

pub(super) async fn queue(
    State(state): State<DeskState>,
    editor: Editor,
    query: Result<Query<QueueQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let config = state.config();
    let params = QueueParams::from(query.map(|Query(q)| q).unwrap_or_default());
    let query = params.query(&config);
    let maybe = params.maybe_query(&config);
    let (page, maybe) = match with_store(&state, move |s| queue_pages(s, &query, maybe)).await {
        Ok(Ok(pages)) => pages,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let n = nonce();
    let flash = read_flash(&headers);
    let body = render_queue(
        &config,
        &editor.user,
        &n,
        &params,
        &page,
        maybe.as_ref(),
        flash.as_ref(),
    );
    let mut resp = html(StatusCode::OK, &n, body);
    if flash.is_some() {
        clear_flash(&mut resp, &config);
    }
    resp
}

/// One page of the queue and, for the candidates' queue, its 待定 group:
/// listed below the last candidate (on the queue's last page), only counted
/// on the pages before.
fn queue_pages(
    store: &mut Store,
    query: &DeskQuery,
    maybe: Option<DeskQuery>,
) -> Result<(DeskPage, Option<DeskPage>), StoreError> {
    let page = store.desk_items(query)?;
    let maybe = match maybe {
        Some(mut q) => {
            let total = usize::try_from(page.total).unwrap_or(0);
            if query.offset.saturating_add(query.limit) < total {
                q.limit = 0;
            }
            Some(store.desk_items(&q)?)
        }
        None => None,
    };
    Ok((page, maybe))
}

/// The hidden fields every action form carries.
pub(super) fn hidden(csrf: &str, back: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="back" value=(back);
    }
}

pub(super) fn option(value: &str, label: &str, selected: bool) -> Markup {
    html! { option value=(value) selected[selected] { (label) } }
}

pub(super) fn render_queue(
    config: &Config,
    user: &SessionUser,
    nonce: &str,
    params: &QueueParams,
    page: &DeskPage,
    maybe: Option<&DeskPage>,
    flash: Option<&Flash>,
) -> Markup {
    let back = params.url(params.page);
    let csrf = user.csrf_token.as_str();
    let pages = (page.total as usize).div_ceil(PAGE_SIZE).max(1);
    let filters = [
        (Some(Status::Candidate), "待审"),
        (Some(Status::Maybe), "待定"),
        (Some(Status::Approved), "已通过"),
        (Some(Status::Rejected), "已拒绝"),
        (Some(Status::Irrelevant), "无关"),
        (None, "全部"),
    ];
    let main = html! {
        (flash_html(flash))
        div.layout {
            "\n"
            aside.side {
                "\n"
                // Filters: a GET form, so a filtered queue is a link an editor can keep.
                form.filters method="get" action="/desk/" role="search" {
                    "\n"
                    label { "搜索（标题、正文） " input type="search" id="q" name="q" value=(params.q) maxlength=(MAX_QUERY_CHARS); }
                    "\n"
                    label { "状态 " select name="status" {
                        @for (status, label) in filters {
                            (option(status_param(status), label, params.status == status))
                        }
                    } }
                    "\n"
                    label { "栏目 " select name="section" {
                        (option("", "全部栏目", params.section.is_empty()))
                        @for s in &config.sections { (option(&s.id, &s.name, params.section == s.id)) }
                        (option("none", "未分栏", params.section == "none"))
                    } }
                    "\n"
                    label { "来源媒体 " select name="source" {
                        (option("", "全部媒体", params.source.is_empty()))
                        @for s in &config.sources { (option(&s.id, &s.name, params.source == s.id)) }
                    } }
                    "\n"
                    label { "起始日期 " input type="date" name="from" value=(date_value(params.from)); }
                    "\n"
                    label { "截止日期 " input type="date" name="to" value=(date_value(params.to)); }
                    "\n"
                    button type="submit" { "筛选" } " " a href="/desk/" { "清除筛选" }
                    "\n"
                }
                "\n"
                form method="post" action="/desk/undo" {
                    (hidden(csrf, &back))
                    button type="submit" { "撤销我的上一步操作" }
                }
                "\n"
                details.keys open {
                    summary { "快捷键" }
                    dl {
                        dt { "j / k" } dd { "下一条 / 上一条" }
                        dt { "a" } dd { "通过" } dt { "r" } dd { "拒绝" }
                        @for (i, s) in config.sections.iter().enumerate().take(9) {
                            dt { (i + 1) } dd { "移至「" (s.name) "」" }
                        }
                        dt { "x" } dd { "勾选 / 取消勾选" } dt { "/" } dd { "搜索" } dt { "Esc" } dd { "离开输入框" }
                    }
                }
                "\n"
            }
            "\n"
            section.queue {
                "\n"
                // The bulk form stands alone; the checkboxes join it with `form=`.
                form id="bulk" class="bulkbar" method="post" action="/desk/bulk" {
                    (hidden(csrf, &back))
                    span { "勾选的条目：" }
                    button type="submit" name="action" value="approve" class="ok" { "批量通过" }
                    button type="submit" name="action" value="reject" class="no" { "批量拒绝" }
                }
                "\n"
                p.summary {
                    "共 " (page.total) " 条（" (params.status.map_or("全部状态", status_label)) "）"
                    @if let Some(maybe) = maybe.filter(|m| m.total > 0) {
                        " · " a href=(maybe_url(params)) { "待定 " (maybe.total) " 条" }
                    }
                    @if pages > 1 { " · 第 " (params.page) " / " (pages) " 页" }
                }
                "\n"
                @if page.items.is_empty() {
                    p.empty { "没有符合条件的条目。" } "\n"
                }
                (queue_items(config, csrf, &back, page, false))
                @if let Some(maybe) = maybe.filter(|m| m.total > 0 && !m.items.is_empty()) {
                    (maybe_group(config, csrf, &back, params, maybe))
                }
                @if pages > 1 {
                    nav.pager {
                        @if params.page > 1 {
                            a href=(params.url(params.page - 1)) { "« 上一页" }
                        }
                        span { (params.page) " / " (pages) }
                        @if params.page < pages {
                            a href=(params.url(params.page + 1)) { "下一页 »" }
                        }
                    }
                    "\n"
                }
            }
            "\n"
        }
        "\n"
    };
    let sections: Vec<&str> = config.sections.iter().map(|s| s.id.as_str()).collect();
    let frame = Frame {
        title: "审稿队列",
        current: "/desk/",
        script: Some(ScriptData {
            csrf,
            status: status_param(params.status),
            sections: serde_json::to_string(&sections).unwrap_or_else(|_| "[]".into()),
        }),
    };
    layout(config, Some(user), nonce, &frame, main)
}

/// The queue's link to the 待定 stories on their own, under its filters.
fn maybe_url(params: &QueueParams) -> String {
    QueueParams {
        status: Some(Status::Maybe),
        ..params.clone()
    }
    .url(1)
}

/// Below the candidates: the 待定 stories, the classifier unsure whether
/// they belong in the bulletin, in a group of their own that stays closed
/// until an editor opens it. Each has the candidates' actions.
fn maybe_group(
    config: &Config,
    csrf: &str,
    back: &str,
    params: &QueueParams,
    maybe: &DeskPage,
) -> Markup {
    html! {
        details.maybe id="maybe" {
            summary {
                h2.group { "待定 " span { "（" (maybe.total) " 条）" } }
                p.hint { "相关度介于下限与阈值之间，需编辑判断" }
            }
            "\n"
            (queue_items(config, csrf, back, maybe, true))
            @if maybe.total > maybe.items.len() as i64 {
                p.more { a href=(maybe_url(params)) { "查看全部 " (maybe.total) " 条待定条目" } }
                "\n"
            }
        }
        "\n"
    }
}

/// The queue's stories, under a heading per section (`nested`: under the
/// 待定 group's own heading).
fn queue_items(config: &Config, csrf: &str, back: &str, page: &DeskPage, nested: bool) -> Markup {
    let mut group: Option<Option<String>> = None;
    html! {
        @for item in &page.items {
            @let key = item
                .section
                .clone()
                .filter(|s| config.sections.iter().any(|c| &c.id == s));
            @if group.as_ref() != Some(&key) {
                @let count = page
                    .groups
                    .iter()
                    .find(|(g, _)| g == &key)
                    .map_or(0, |(_, n)| *n);
                @if nested {
                    h3.group { (section_name(config, key.as_deref())) " " span { "（" (count) " 条）" } }
                } @else {
                    h2.group { (section_name(config, key.as_deref())) " " span { "（" (count) " 条）" } }
                }
                "\n"
                @let _ = group.replace(key);
            }
            (render_item(config, csrf, back, item))
            "\n"
        }
    }
}

/// Links to outlets open apart and send no Referer (the desk's URLs are
/// nobody else's business); a URL that is not http(s) is shown as text.
fn outlet_link(url: &str, text: &str) -> Markup {
    html! {
        @if let Some(href) = safe_href(url) {
            a href=(href) target="_blank" rel="noopener noreferrer" { (text) }
        } @else {
            (text)
        }
    }
}

fn render_item(config: &Config, csrf: &str, back: &str, item: &DeskItem) -> Markup {
    let id = item.id;
    let shown = item.bulletin_title.as_deref().unwrap_or(&item.title);
    let date = item
        .published
        .as_deref()
        .map(short_time)
        .unwrap_or_else(|| format!("收录于 {}", short_time(&item.first_seen)));
    let origin = if item.origin.is_empty() {
        &item.source_name
    } else {
        &item.origin
    };
    let h = hidden(csrf, back);
    let unfiled = item
        .section
        .as_deref()
        .is_none_or(|s| !config.sections.iter().any(|c| c.id == s));
    html! {
        article class={ "item st-" (item.status.as_str()) } id={ "item-" (id) } data-id=(id) data-story=(item.story_id) {
            "\n"
            div.head {
                input type="checkbox" form="bulk" name="id" value=(id) aria-label="勾选";
                h3 { (shown) }
            }
            "\n"
            @if item.bulletin_title.is_some() {
                p.orig { "原标题：" (outlet_link(&item.url, &item.title)) }
            } @else {
                p.orig { (outlet_link(&item.url, "查看原文")) }
            }
            "\n"
            p.meta {
                span class={ "badge " (item.status.as_str()) } { (status_label(item.status)) }
                // In auto mode a sure candidate is already in the feeds; an
                // editor's rejection takes it out.
                @if item.status == Status::Candidate
                    && config.published().publishes(item.status, item.relevance)
                {
                    " " span.badge.auto title="自动审核模式下，相关度达到发布线的候选稿件直接发布；拒绝即撤下" { "已自动发布" }
                }
                " · " time { (date) } " · 来源：" (origin) " · "
                (item.outlets.len().max(1)) " 家媒体刊发：" (item.outlets.join("、"))
                " · 栏目：" span.sec { (section_name(config, item.section.as_deref())) }
                @if item.section_fixed { "（编辑指定）" }
                @if let Some(r) = item.relevance { " · 相关度 " (format!("{r:.2}")) }
                " · 报道 #" (item.story_id)
            }
            "\n"
            @if !item.first_paragraph.is_empty() {
                p.lead { (item.first_paragraph) } "\n"
            }
            @if let Some(expl) = &item.explanation {
                details.why { summary { "分类依据" } (render_json(config, expl, 0)) }
                "\n"
            }
            // Sanitized when stored (no scripts, styles or event handlers),
            // and the page's CSP would block any that slipped through: the
            // one value a template inserts unescaped.
            details.full { summary { "全文" } div.content { (item.content_html) } }
            "\n"
            @if item.members.len() > 1 {
                details.copies {
                    summary { "本报道的 " (item.members.len()) " 份稿件（可拆出误归的稿件）" }
                    ul {
                        @for member in &item.members {
                            li {
                                (member.source_name) "：" (outlet_link(&member.url, &member.title))
                                @if member.primary { "（主稿）" }
                                form.inline method="post" action={ "/desk/items/" (member.id) "/split" } {
                                    (h)
                                    button type="submit" { "拆出为单独报道" }
                                }
                            }
                        }
                    }
                }
                "\n"
            }
            div.actions {
                form method="post" action={ "/desk/items/" (id) "/approve" } { (h) button type="submit" class="ok" { "通过" } }
                form method="post" action={ "/desk/items/" (id) "/reject" } { (h) button type="submit" class="no" { "拒绝" } }
                form method="post" action={ "/desk/items/" (id) "/move" } {
                    (h)
                    select name="section" aria-label="栏目" {
                        @for s in &config.sections {
                            (option(&s.id, &s.name, item.section.as_deref() == Some(&s.id)))
                        }
                        (option("", "未分栏", unfiled))
                    }
                    button type="submit" { "移栏" }
                }
                details {
                    summary { "改标题" }
                    form method="post" action={ "/desk/items/" (id) "/title" } {
                        (h)
                        input type="text" name="title" value=(shown) maxlength="200" aria-label="快报标题";
                        button type="submit" { "保存标题" }
                        small { "留空则恢复原标题" }
                    }
                }
                details {
                    summary { "合并" }
                    form method="post" action={ "/desk/items/" (id) "/merge" } {
                        (h)
                        label { "并入报道 # " input type="text" name="into" inputmode="numeric" pattern="[0-9]+" required; }
                        button type="submit" { "合并" }
                    }
                }
            }
            "\n"
        }
    }
}

/// The classifier's explanation, whatever keys it has: objects as term
/// lists, `[name, score]` pairs as a table, section ids by their names.
fn render_json(config: &Config, v: &serde_json::Value, depth: usize) -> Markup {
    use serde_json::Value;
    // Deeper than any explanation the classifier writes; the page stays
    // small whatever is stored.
    if depth > 5 {
        return html! { "…" };
    }
    html! {
        @match v {
            Value::Object(map) => {
                dl {
                    @for (k, v) in map {
                        @let label = match k.as_str() {
                            "reasons" => "理由",
                            "scores" => "各栏得分",
                            "relevance" => "相关度",
                            "section" => "栏目",
                            other => other,
                        };
                        dt { (label) } dd { (render_json(config, v, depth + 1)) }
                    }
                }
            }
            Value::Array(list) if !list.is_empty() && list.iter().all(is_pair) => {
                table {
                    @for pair in list {
                        @if let Value::Array(p) = pair {
                            @if let [name, value] = p.as_slice() {
                                tr {
                                    td { (section_name(config, Some(name.as_str().unwrap_or_default()))) }
                                    td { (render_json(config, value, depth + 1)) }
                                }
                            }
                        }
                    }
                }
            }
            Value::Array(list) => {
                ul { @for v in list { li { (render_json(config, v, depth + 1)) } } }
            }
            Value::String(s) => { (s) }
            Value::Number(n) => {
                @match n.as_f64() {
                    Some(f) if n.is_f64() => { (format!("{f:.3}")) }
                    _ => { (n.to_string()) }
                }
            }
            Value::Bool(b) => { (if *b { "是" } else { "否" }) }
            Value::Null => { "—" }
        }
    }
}

fn is_pair(v: &serde_json::Value) -> bool {
    matches!(v, serde_json::Value::Array(p) if matches!(p.as_slice(), [name, _] if name.is_string()))
}

/// `/desk/audit`'s filters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditParams {
    user: Option<String>,
    #[serde(default, deserialize_with = "lenient_parse")]
    item: Option<i64>,
}

pub(super) async fn audit(
    State(state): State<DeskState>,
    editor: Editor,
    params: Result<Query<AuditParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let query = AuditQuery {
        limit: AUDIT_ENTRIES,
        user: params.user.filter(|u| !u.is_empty()),
        item_id: params.item,
    };
    let q = query.clone();
    let entries = match with_store(&state, move |s| accounts::audit_entries(s, &q)).await {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let config = state.config();
    let n = nonce();
    let flash = read_flash(&headers);
    let mut resp = html(
        StatusCode::OK,
        &n,
        render_audit(&config, &editor.user, &n, &query, &entries, flash.as_ref()),
    );
    if flash.is_some() {
        clear_flash(&mut resp, &config);
    }
    resp
}

/// A before/after value as the editor knows it: a status or section by
/// its name, a missing value as a dash.
fn audit_value(config: &Config, action: &str, v: Option<&str>) -> String {
    match (action, v) {
        (_, None) => "—".into(),
        ("approve" | "reject", Some(s)) => status_label(Status::parse(s)).into(),
        ("move", Some(s)) => section_name(config, Some(s)).into(),
        ("split" | "merge", Some(s)) => format!("报道 #{s}"),
        // Where the story stood in the issue's 目录.
        ("issue_add" | "issue_remove" | "issue_move", Some(s)) => format!("第 {s} 位"),
        ("issue_new" | "issue_publish" | "issue_unpublish", Some(s))
            if s == IssueStatus::Draft.as_str() =>
        {
            "草稿".into()
        }
        ("issue_new" | "issue_publish" | "issue_unpublish", Some(s))
            if s == IssueStatus::Published.as_str() =>
        {
            "已发布".into()
        }
        ("source.enable" | "source.disable", Some("enabled")) => "启用".into(),
        ("source.enable" | "source.disable", Some("disabled")) => "停用".into(),
        (_, Some(s)) => s.into(),
    }
}

/// An entry's detail in words: the stories a merge moved, a bulk
/// action's batch, the entry an undo took back.
fn audit_detail(e: &AuditRecord) -> String {
    let Some(detail) = e.detail.as_deref() else {
        return String::new();
    };
    match e.action.as_str() {
        "merge" => serde_json::from_str::<serde_json::Value>(detail)
            .ok()
            .and_then(|v| {
                let ids: Vec<String> = v["items"]
                    .as_array()?
                    .iter()
                    .filter_map(serde_json::Value::as_i64)
                    .map(|i| format!("#{i}"))
                    .collect();
                Some(format!("并入的稿件：{}", ids.join("、")))
            })
            .unwrap_or_else(|| detail.to_string()),
        "undo" => {
            let mut words = detail.split_whitespace().skip(1);
            match (words.next(), words.next()) {
                (Some(id), Some(action)) => {
                    format!("撤销记录 {id}（{}）", action_label(action))
                }
                _ => detail.to_string(),
            }
        }
        _ if detail.starts_with("batch ") => "批量操作".to_string(),
        // Issue actions keep the issue's number there.
        a if a.starts_with("issue_") => format!("第 {detail} 期"),
        a if a.starts_with("source.") => format!("来源 {detail}"),
        _ => detail.to_string(),
    }
}

fn render_audit(
    config: &Config,
    user: &SessionUser,
    nonce: &str,
    query: &AuditQuery,
    entries: &[AuditRecord],
    flash: Option<&Flash>,
) -> Markup {
    let main = html! {
        (flash_html(flash))
        h1 { "操作记录" } "\n"
        form.inline method="get" action="/desk/audit" {
            label { "用户 " input type="text" name="user" value=(query.user.as_deref().unwrap_or_default()); }
            " "
            label { "条目 # " input type="text" name="item" inputmode="numeric" value=(query.item_id.map(|i| i.to_string()).unwrap_or_default()); }
            " "
            button type="submit" { "筛选" }
        }
        "\n"
        p.summary { "最近 " (entries.len()) " 条" }
        "\n"
        table.list {
            tr { th { "时间" } th { "用户" } th { "操作" } th { "条目" } th { "报道" } th { "修改前" } th { "修改后" } th { "备注" } }
            "\n"
            @for e in entries {
                // An undo's values are those of the action it took back.
                @let kind = match (&e.action[..], e.detail.as_deref()) {
                    ("undo", Some(d)) => d.split_whitespace().nth(2).unwrap_or("undo"),
                    (a, _) => a,
                };
                tr {
                    td { (short_time(&e.at)) }
                    td { (e.user_name) }
                    td { (action_label(&e.action)) }
                    td { @if let Some(i) = e.item_id { "#" (i) } }
                    td { @if let Some(i) = e.story_id { "#" (i) } }
                    td { (audit_value(config, kind, e.before.as_deref())) }
                    td { (audit_value(config, kind, e.after.as_deref())) }
                    td { (audit_detail(e)) }
                }
                "\n"
            }
        }
        "\n"
    };
    layout(
        config,
        Some(user),
        nonce,
        &Frame::plain("操作记录", "/desk/audit"),
        main,
    )
}

pub(super) async fn users(
    State(state): State<DeskState>,
    editor: Editor,
    headers: HeaderMap,
) -> Response {
    let config = state.config();
    if !is_admin(&editor.user) {
        let message = "只有管理员可以查看用户列表。";
        if super::wants_json(&headers) {
            return json(StatusCode::FORBIDDEN, false, message, None);
        }
        let n = nonce();
        return html(
            StatusCode::FORBIDDEN,
            &n,
            message_page(&config, Some(&editor.user), &n, "需要管理员权限", message),
        );
    }
    let users = match with_store(&state, |s| accounts::list_users(s)).await {
        Ok(Ok(u)) => u,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let n = nonce();
    html(
        StatusCode::OK,
        &n,
        render_users(&config, &editor.user, &n, &users),
    )
}

fn render_users(config: &Config, user: &SessionUser, nonce: &str, users: &[UserInfo]) -> Markup {
    let main = html! {
        h1 { "用户" } "\n"
        p.summary {
            "用命令行管理账户：" kbd { "kuaibao user add 名字" } "、"
            kbd { "kuaibao user passwd 名字" } "、" kbd { "kuaibao user remove 名字" } "。"
        }
        "\n"
        table.list {
            tr { th { "用户名" } th { "角色" } th { "创建于" } th { "改密于" } th { "在线会话" } th { "状态" } }
            "\n"
            @for u in users {
                tr {
                    td { (u.name) }
                    td { (if u.role == accounts::Role::Admin { "管理员" } else { "编辑" }) }
                    td { (short_time(&u.created_at)) }
                    td { (short_time(&u.password_changed_at)) }
                    td { (u.active_sessions) }
                    td { (if u.disabled { "已停用" } else { "正常" }) }
                }
                "\n"
            }
        }
        "\n"
    };
    layout(
        config,
        Some(user),
        nonce,
        &Frame::plain("用户", "/desk/users"),
        main,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> QueueParams {
        let Query(q) =
            Query::<QueueQuery>::try_from_uri(&format!("/desk/?{query}").parse().expect("uri"))
                .expect("query");
        q.into()
    }

    #[test]
    fn queue_params_fall_back_to_defaults_and_round_trip() {
        let p = parse("status=bogus&from=2025-13-01&to=2025-06-30&q=%E5%B0%B1%E4%B8%9A&page=x");
        assert_eq!(p.status, Some(Status::Candidate));
        assert_eq!(p.from, None);
        assert_eq!(p.to, NaiveDate::from_ymd_opt(2025, 6, 30));
        assert_eq!(p.q, "就业");
        assert_eq!(p.page, 1);
        let url = p.url(3);
        assert_eq!(parse(url.split_once('?').map_or("", |(_, q)| q)).page, 3);
        assert_eq!(parse("").url(1), "/desk/");
        assert_eq!(parse("status=all").status, None);
        assert_eq!(parse("status=approved").status, Some(Status::Approved));
        assert_eq!(parse("status=all").url(1), "/desk/?status=all");
    }

    #[test]
    fn times_read_as_an_editor_writes_them() {
        assert_eq!(short_time("2025-06-20T10:30:00+08:00"), "2025-06-20 10:30");
    }
}
