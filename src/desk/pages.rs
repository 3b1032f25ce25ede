//! The desk's HTML: the queue, the login form, the audit log and the
//! accounts list. Part of the editors' desk that `kuaibao serve` runs
//! between store and publish. Pages are built with `format!`/`write!`;
//! every value from the store, the configuration or the request goes
//! through [`escape`], except an item's body, which the store keeps
//! sanitized.

use std::fmt::Write;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;

use super::{Flash, clear_flash, html, internal, is_admin, json, nonce, read_flash, with_store};
use crate::accounts::{self, AuditQuery, AuditRecord, SessionUser, UserInfo};
use crate::config::Config;
use crate::normalize::escape_html as escape;
use crate::serve::ServeState;
use crate::store::{DeskItem, DeskPage, DeskQuery, SectionFilter, Status};

use super::Editor;

const CSS: &str = include_str!("desk.css");
const JS: &str = include_str!("desk.js");

/// Stories per page of the queue: enough to work through a day's
/// candidates without paging, small enough to render in milliseconds.
pub(super) const PAGE_SIZE: usize = 200;

/// Audit entries on `/desk/audit`.
const AUDIT_ENTRIES: usize = 200;

/// Longest search accepted; longer input is cut.
const MAX_QUERY_CHARS: usize = 200;

/// The queue's filters as the URL carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueueParams {
    /// `candidate` (default), `approved`, `rejected`, `irrelevant`, `all`.
    pub status: String,
    /// A section id, `none` (unfiled) or empty (all).
    pub section: String,
    pub source: String,
    pub from: String,
    pub to: String,
    pub q: String,
    /// 1-based.
    pub page: usize,
}

impl QueueParams {
    /// Reads the query string; anything unrecognised falls back to the
    /// default rather than failing the page.
    pub fn parse(raw: Option<&str>) -> QueueParams {
        let mut p = QueueParams {
            status: "candidate".into(),
            section: String::new(),
            source: String::new(),
            from: String::new(),
            to: String::new(),
            q: String::new(),
            page: 1,
        };
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let v = v.trim();
            match k.as_ref() {
                "status"
                    if matches!(
                        v,
                        "candidate" | "approved" | "rejected" | "irrelevant" | "all"
                    ) =>
                {
                    p.status = v.into()
                }
                "section" => p.section = v.into(),
                "source" => p.source = v.into(),
                "from" if is_date(v) => p.from = v.into(),
                "to" if is_date(v) => p.to = v.into(),
                "q" => p.q = v.chars().take(MAX_QUERY_CHARS).collect(),
                "page" => p.page = v.parse().unwrap_or(1).max(1),
                _ => {}
            }
        }
        p
    }

    /// The queue URL with these filters and `page`.
    pub fn url(&self, page: usize) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if self.status != "candidate" {
            s.append_pair("status", &self.status);
        }
        for (k, v) in [
            ("section", &self.section),
            ("source", &self.source),
            ("from", &self.from),
            ("to", &self.to),
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

    fn query(&self, config: &Config) -> DeskQuery {
        let status = match self.status.as_str() {
            "all" => None,
            s => Some(Status::parse(s)),
        };
        let section = match self.section.as_str() {
            "" => None,
            "none" => Some(SectionFilter::Unfiled),
            s => Some(SectionFilter::Section(s.into())),
        };
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        DeskQuery {
            status,
            section,
            source: opt(&self.source),
            from: opt(&self.from),
            to: opt(&self.to),
            text: opt(&self.q),
            sections: config.sections.iter().map(|s| s.id.clone()).collect(),
            limit: PAGE_SIZE,
            offset: (self.page - 1).saturating_mul(PAGE_SIZE),
        }
    }
}

fn is_date(s: &str) -> bool {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Candidate => "待审",
        Status::Approved => "已通过",
        Status::Rejected => "已拒绝",
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
        other => other,
    }
}

fn section_name<'c>(config: &'c Config, id: Option<&'c str>) -> &'c str {
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

/// What frames a page's `main`.
pub(super) struct Frame<'a> {
    pub title: &'a str,
    /// The navigation entry to mark as the current page.
    pub current: &'a str,
    /// Trusted markup (already escaped) for the `<body>` tag.
    pub body_attrs: &'a str,
    /// Whether the page carries the keyboard script.
    pub script: bool,
}

/// The page around `main`: header with navigation and logout (when logged
/// in), the inline stylesheet and, for the queue, the script.
pub(super) fn layout(
    config: &Config,
    user: Option<&SessionUser>,
    nonce: &str,
    frame: &Frame<'_>,
    main: &str,
) -> String {
    let Frame {
        title,
        current,
        body_attrs,
        script,
    } = *frame;
    let mut h = String::with_capacity(main.len() + CSS.len() + JS.len() + 2048);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"same-origin\">\n\
         <title>{} · {}</title>\n<style nonce=\"{nonce}\">\n{CSS}</style>\n</head>\n<body{body_attrs}>\n",
        escape(title),
        escape(&config.title),
    );
    if let Some(user) = user {
        let nav = |path: &str, label: &str| {
            format!(
                "<a href=\"{path}\"{}>{label}</a>",
                if path == current {
                    " aria-current=\"page\""
                } else {
                    ""
                }
            )
        };
        let _ = write!(
            h,
            "<header class=\"top\"><a class=\"brand\" href=\"/desk/\">编辑台</a><nav>{}{}{}{}</nav>\
             <span class=\"who\">{}（{}）</span>\
             <form method=\"post\" action=\"/desk/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">退出</button></form></header>",
            nav("/desk/", "审稿队列"),
            nav("/desk/issues", "期刊"),
            nav("/desk/audit", "操作记录"),
            if is_admin(user) {
                nav("/desk/users", "用户")
            } else {
                String::new()
            },
            escape(&user.name),
            if is_admin(user) {
                "管理员"
            } else {
                "编辑"
            },
            escape(&user.csrf_token),
        );
    }
    h.push_str("\n<main>\n");
    h.push_str(main);
    h.push_str("</main>\n");
    if script {
        let _ = write!(h, "<script nonce=\"{nonce}\">\n{JS}</script>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

pub(super) fn flash_html(flash: Option<&Flash>) -> String {
    match flash {
        Some(f) => format!(
            "<p id=\"flash\" class=\"flash{}\" role=\"status\">{}</p>\n",
            if f.error { " error" } else { "" },
            escape(&f.text)
        ),
        None => "<p id=\"flash\" class=\"flash\" role=\"status\"></p>\n".into(),
    }
}

pub(super) fn login_page(
    config: &Config,
    nonce: &str,
    next: &str,
    name: &str,
    flash: Option<&Flash>,
) -> String {
    let main = format!(
        "<div class=\"login\">\n<h1>编辑台登录</h1>\n{}\
         <form method=\"post\" action=\"/desk/login\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
         <label>用户名 <input type=\"text\" name=\"name\" value=\"{}\" autocomplete=\"username\" required autofocus></label>\n\
         <label>密码 <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">登录</button>\n</form>\n</div>\n",
        if flash.is_some() {
            flash_html(flash)
        } else {
            String::new()
        },
        escape(next),
        escape(name),
    );
    layout(
        config,
        None,
        nonce,
        &Frame {
            title: "登录",
            current: "",
            body_attrs: "",
            script: false,
        },
        &main,
    )
}

/// A page saying one thing (a refusal, an error), with a way back.
pub(super) fn message_page(
    config: &Config,
    user: Option<&SessionUser>,
    nonce: &str,
    title: &str,
    message: &str,
) -> String {
    let main = format!(
        "<h1>{}</h1>\n<p class=\"flash error\">{}</p>\n<p><a href=\"/desk/\">回到审稿队列</a></p>\n",
        escape(title),
        escape(message)
    );
    layout(
        config,
        user,
        nonce,
        &Frame {
            title,
            current: "",
            body_attrs: "",
            script: false,
        },
        &main,
    )
}

pub(super) async fn queue(
    State(state): State<ServeState>,
    editor: Editor,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let config = state.config();
    let params = QueueParams::parse(raw.as_deref());
    let query = params.query(&config);
    let page = match with_store(&state, move |s| s.desk_items(&query)).await {
        Ok(Ok(page)) => page,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let n = nonce();
    let flash = read_flash(&headers);
    let body = render_queue(&config, &editor.user, &n, &params, &page, flash.as_ref());
    let mut resp = html(StatusCode::OK, &n, body);
    if flash.is_some() {
        clear_flash(&mut resp, &config);
    }
    resp
}

/// The hidden fields every action form carries.
pub(super) fn hidden(csrf: &str, back: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">",
        escape(csrf),
        escape(back)
    )
}

fn option(value: &str, label: &str, selected: bool) -> String {
    format!(
        "<option value=\"{}\"{}>{}</option>",
        escape(value),
        if selected { " selected" } else { "" },
        escape(label)
    )
}

pub(super) fn render_queue(
    config: &Config,
    user: &SessionUser,
    nonce: &str,
    params: &QueueParams,
    page: &DeskPage,
    flash: Option<&Flash>,
) -> String {
    let back = params.url(params.page);
    let csrf = user.csrf_token.as_str();
    let mut m = String::with_capacity(page.items.len() * 6000 + 8192);
    m.push_str(&flash_html(flash));
    m.push_str("<div class=\"layout\">\n<aside class=\"side\">\n");
    // Filters: a GET form, so a filtered queue is a link an editor can keep.
    let _ = write!(
        m,
        "<form class=\"filters\" method=\"get\" action=\"/desk/\" role=\"search\">\n\
         <label>搜索（标题、正文） <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" maxlength=\"{MAX_QUERY_CHARS}\"></label>\n\
         <label>状态 <select name=\"status\">",
        escape(&params.q)
    );
    for (value, label) in [
        ("candidate", "待审"),
        ("approved", "已通过"),
        ("rejected", "已拒绝"),
        ("irrelevant", "无关"),
        ("all", "全部"),
    ] {
        m.push_str(&option(value, label, params.status == value));
    }
    m.push_str("</select></label>\n<label>栏目 <select name=\"section\">");
    m.push_str(&option("", "全部栏目", params.section.is_empty()));
    for s in &config.sections {
        m.push_str(&option(&s.id, &s.name, params.section == s.id));
    }
    m.push_str(&option("none", "未分栏", params.section == "none"));
    m.push_str("</select></label>\n<label>来源媒体 <select name=\"source\">");
    m.push_str(&option("", "全部媒体", params.source.is_empty()));
    for s in &config.sources {
        m.push_str(&option(&s.id, &s.name, params.source == s.id));
    }
    let _ = write!(
        m,
        "</select></label>\n<label>起始日期 <input type=\"date\" name=\"from\" value=\"{}\"></label>\n\
         <label>截止日期 <input type=\"date\" name=\"to\" value=\"{}\"></label>\n\
         <button type=\"submit\">筛选</button> <a href=\"/desk/\">清除筛选</a>\n</form>\n",
        escape(&params.from),
        escape(&params.to)
    );
    let _ = writeln!(
        m,
        "<form method=\"post\" action=\"/desk/undo\">{}<button type=\"submit\">撤销我的上一步操作</button></form>",
        hidden(csrf, &back)
    );
    m.push_str(
        "<details class=\"keys\" open><summary>快捷键</summary><dl>\
         <dt>j / k</dt><dd>下一条 / 上一条</dd>\
         <dt>a</dt><dd>通过</dd><dt>r</dt><dd>拒绝</dd>",
    );
    for (i, s) in config.sections.iter().enumerate().take(9) {
        let _ = write!(m, "<dt>{}</dt><dd>移至「{}」</dd>", i + 1, escape(&s.name));
    }
    m.push_str(
        "<dt>x</dt><dd>勾选 / 取消勾选</dd><dt>/</dt><dd>搜索</dd><dt>Esc</dt><dd>离开输入框</dd>\
         </dl></details>\n</aside>\n<section class=\"queue\">\n",
    );

    // The bulk form stands alone; the checkboxes join it with `form=`.
    let _ = writeln!(
        m,
        "<form id=\"bulk\" class=\"bulkbar\" method=\"post\" action=\"/desk/bulk\">{}\
         <span>勾选的条目：</span><button type=\"submit\" name=\"action\" value=\"approve\" class=\"ok\">批量通过</button>\
         <button type=\"submit\" name=\"action\" value=\"reject\" class=\"no\">批量拒绝</button></form>",
        hidden(csrf, &back)
    );
    let pages = (page.total as usize).div_ceil(PAGE_SIZE).max(1);
    let _ = writeln!(
        m,
        "<p class=\"summary\">共 {} 条（{}）{}</p>",
        page.total,
        escape(match params.status.as_str() {
            "all" => "全部状态",
            s => status_label(Status::parse(s)),
        }),
        if pages > 1 {
            format!(" · 第 {} / {pages} 页", params.page)
        } else {
            String::new()
        }
    );
    if page.items.is_empty() {
        m.push_str("<p class=\"empty\">没有符合条件的条目。</p>\n");
    }
    let mut group: Option<Option<String>> = None;
    for item in &page.items {
        let key = item
            .section
            .clone()
            .filter(|s| config.sections.iter().any(|c| &c.id == s));
        if group.as_ref() != Some(&key) {
            let count = page
                .groups
                .iter()
                .find(|(g, _)| g == &key)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(
                m,
                "<h2 class=\"group\">{} <span>（{count} 条）</span></h2>",
                escape(section_name(config, key.as_deref()))
            );
            group = Some(key);
        }
        render_item(&mut m, config, csrf, &back, item);
    }
    if pages > 1 {
        m.push_str("<nav class=\"pager\">");
        if params.page > 1 {
            let _ = write!(
                m,
                "<a href=\"{}\">« 上一页</a>",
                escape(&params.url(params.page - 1))
            );
        }
        let _ = write!(m, "<span>{} / {pages}</span>", params.page);
        if params.page < pages {
            let _ = write!(
                m,
                "<a href=\"{}\">下一页 »</a>",
                escape(&params.url(params.page + 1))
            );
        }
        m.push_str("</nav>\n");
    }
    m.push_str("</section>\n</div>\n");
    let sections: Vec<&str> = config.sections.iter().map(|s| s.id.as_str()).collect();
    let attrs = format!(
        " data-csrf=\"{}\" data-status=\"{}\" data-sections=\"{}\"",
        escape(csrf),
        escape(&params.status),
        escape(&serde_json::to_string(&sections).unwrap_or_else(|_| "[]".into()))
    );
    layout(
        config,
        Some(user),
        nonce,
        &Frame {
            title: "审稿队列",
            current: "/desk/",
            body_attrs: &attrs,
            script: true,
        },
        &m,
    )
}

fn render_item(m: &mut String, config: &Config, csrf: &str, back: &str, item: &DeskItem) {
    let id = item.id;
    let shown = item.bulletin_title.as_deref().unwrap_or(&item.title);
    let _ = write!(
        m,
        "<article class=\"item st-{}\" id=\"item-{id}\" data-id=\"{id}\" data-story=\"{}\">\n\
         <div class=\"head\"><input type=\"checkbox\" form=\"bulk\" name=\"id\" value=\"{id}\" aria-label=\"勾选\">\
         <h3>{}</h3></div>\n",
        item.status.as_str(),
        item.story_id,
        escape(shown),
    );
    // Links to outlets open apart and send no Referer: the desk's URLs
    // are nobody else's business.
    let link = |text: &str| {
        format!(
            "<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">{}</a>",
            escape(&item.url),
            escape(text)
        )
    };
    if item.bulletin_title.is_some() {
        let _ = writeln!(m, "<p class=\"orig\">原标题：{}</p>", link(&item.title));
    } else {
        let _ = writeln!(m, "<p class=\"orig\">{}</p>", link("查看原文"));
    }
    let date = item
        .published
        .as_deref()
        .map(short_time)
        .unwrap_or_else(|| format!("收录于 {}", short_time(&item.first_seen)));
    let _ = write!(
        m,
        "<p class=\"meta\"><span class=\"badge {}\">{}</span> · <time>{}</time> · 来源：{} · \
         {} 家媒体刊发：{} · 栏目：<span class=\"sec\">{}</span>{}",
        item.status.as_str(),
        status_label(item.status),
        escape(&date),
        escape(if item.origin.is_empty() {
            &item.source_name
        } else {
            &item.origin
        }),
        item.outlets.len().max(1),
        escape(&item.outlets.join("、")),
        escape(section_name(config, item.section.as_deref())),
        if item.section_fixed {
            "（编辑指定）"
        } else {
            ""
        },
    );
    if let Some(r) = item.relevance {
        let _ = write!(m, " · 相关度 {r:.2}");
    }
    let _ = writeln!(m, " · 报道 #{}</p>", item.story_id);
    if !item.first_paragraph.is_empty() {
        let _ = writeln!(m, "<p class=\"lead\">{}</p>", escape(&item.first_paragraph));
    }
    if let Some(expl) = &item.explanation {
        m.push_str("<details class=\"why\"><summary>分类依据</summary>");
        render_json(m, config, expl, 0);
        m.push_str("</details>\n");
    }
    // Sanitized when stored (no scripts, styles or event handlers), and
    // the page's CSP would block any that slipped through.
    let _ = writeln!(
        m,
        "<details class=\"full\"><summary>全文</summary><div class=\"content\">{}</div></details>",
        item.content_html
    );
    if item.members.len() > 1 {
        let _ = write!(
            m,
            "<details class=\"copies\"><summary>本报道的 {} 份稿件（可拆出误归的稿件）</summary><ul>",
            item.members.len()
        );
        for member in &item.members {
            let _ = write!(
                m,
                "<li>{}：<a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">{}</a>{}\
                 <form class=\"inline\" method=\"post\" action=\"/desk/items/{}/split\">{}\
                 <button type=\"submit\">拆出为单独报道</button></form></li>",
                escape(&member.source_name),
                escape(&member.url),
                escape(&member.title),
                if member.primary { "（主稿）" } else { "" },
                member.id,
                hidden(csrf, back),
            );
        }
        m.push_str("</ul></details>\n");
    }
    let h = hidden(csrf, back);
    let _ = write!(
        m,
        "<div class=\"actions\">\
         <form method=\"post\" action=\"/desk/items/{id}/approve\">{h}<button type=\"submit\" class=\"ok\">通过</button></form>\
         <form method=\"post\" action=\"/desk/items/{id}/reject\">{h}<button type=\"submit\" class=\"no\">拒绝</button></form>\
         <form method=\"post\" action=\"/desk/items/{id}/move\">{h}<select name=\"section\" aria-label=\"栏目\">"
    );
    for s in &config.sections {
        m.push_str(&option(
            &s.id,
            &s.name,
            item.section.as_deref() == Some(&s.id),
        ));
    }
    m.push_str(&option(
        "",
        "未分栏",
        item.section
            .as_deref()
            .is_none_or(|s| !config.sections.iter().any(|c| c.id == s)),
    ));
    let _ = writeln!(
        m,
        "</select><button type=\"submit\">移栏</button></form>\
         <details><summary>改标题</summary><form method=\"post\" action=\"/desk/items/{id}/title\">{h}\
         <input type=\"text\" name=\"title\" value=\"{}\" maxlength=\"200\" aria-label=\"快报标题\">\
         <button type=\"submit\">保存标题</button><small>留空则恢复原标题</small></form></details>\
         <details><summary>合并</summary><form method=\"post\" action=\"/desk/items/{id}/merge\">{h}\
         <label>并入报道 # <input type=\"text\" name=\"into\" inputmode=\"numeric\" pattern=\"[0-9]+\" required></label>\
         <button type=\"submit\">合并</button></form></details>\
         </div>\n</article>",
        escape(shown),
    );
}

/// The classifier's explanation, whatever keys it has: objects as term
/// lists, `[name, score]` pairs as a table, section ids by their names.
fn render_json(m: &mut String, config: &Config, v: &serde_json::Value, depth: usize) {
    use serde_json::Value;
    // Deeper than any explanation the classifier writes; the page stays
    // small whatever is stored.
    if depth > 5 {
        m.push('…');
        return;
    }
    match v {
        Value::Object(map) => {
            m.push_str("<dl>");
            for (k, v) in map {
                let label = match k.as_str() {
                    "reasons" => "理由",
                    "scores" => "各栏得分",
                    "relevance" => "相关度",
                    "section" => "栏目",
                    other => other,
                };
                let _ = write!(m, "<dt>{}</dt><dd>", escape(label));
                render_json(m, config, v, depth + 1);
                m.push_str("</dd>");
            }
            m.push_str("</dl>");
        }
        Value::Array(list) if !list.is_empty() && list.iter().all(is_pair) => {
            m.push_str("<table>");
            for pair in list {
                if let Value::Array(p) = pair
                    && let [name, value] = p.as_slice()
                {
                    let name = name.as_str().unwrap_or_default();
                    let _ = write!(
                        m,
                        "<tr><td>{}</td><td>",
                        escape(section_name(config, Some(name)))
                    );
                    render_json(m, config, value, depth + 1);
                    m.push_str("</td></tr>");
                }
            }
            m.push_str("</table>");
        }
        Value::Array(list) => {
            m.push_str("<ul>");
            for v in list {
                m.push_str("<li>");
                render_json(m, config, v, depth + 1);
                m.push_str("</li>");
            }
            m.push_str("</ul>");
        }
        Value::String(s) => m.push_str(&escape(s)),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => {
                let _ = write!(m, "{f:.3}");
            }
            _ => m.push_str(&n.to_string()),
        },
        Value::Bool(b) => m.push_str(if *b { "是" } else { "否" }),
        Value::Null => m.push('—'),
    }
}

fn is_pair(v: &serde_json::Value) -> bool {
    matches!(v, serde_json::Value::Array(p) if matches!(p.as_slice(), [name, _] if name.is_string()))
}

pub(super) async fn audit(
    State(state): State<ServeState>,
    editor: Editor,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut query = AuditQuery {
        limit: AUDIT_ENTRIES,
        ..AuditQuery::default()
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "user" if !v.is_empty() => query.user = Some(v.into_owned()),
            "item" => query.item_id = v.parse().ok(),
            _ => {}
        }
    }
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
        // Where the story stood in the 目录.
        ("issue_add" | "issue_remove" | "issue_move", Some(s)) => format!("第 {s} 位"),
        ("issue_new" | "issue_publish" | "issue_unpublish", Some("draft")) => "草稿".into(),
        ("issue_new" | "issue_publish" | "issue_unpublish", Some("published")) => "已发布".into(),
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
        // Issue actions keep the number there.
        a if a.starts_with("issue_") => format!("第 {detail} 期"),
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
) -> String {
    let mut m = String::new();
    m.push_str(&flash_html(flash));
    let _ = writeln!(
        m,
        "<h1>操作记录</h1>\n<form class=\"inline\" method=\"get\" action=\"/desk/audit\">\
         <label>用户 <input type=\"text\" name=\"user\" value=\"{}\"></label> \
         <label>条目 # <input type=\"text\" name=\"item\" inputmode=\"numeric\" value=\"{}\"></label> \
         <button type=\"submit\">筛选</button></form>\n<p class=\"summary\">最近 {} 条</p>",
        escape(query.user.as_deref().unwrap_or_default()),
        query.item_id.map(|i| i.to_string()).unwrap_or_default(),
        entries.len()
    );
    m.push_str(
        "<table class=\"list\"><tr><th>时间</th><th>用户</th><th>操作</th><th>条目</th>\
         <th>报道</th><th>修改前</th><th>修改后</th><th>备注</th></tr>\n",
    );
    for e in entries {
        // An undo's values are those of the action it took back.
        let kind = match (&e.action[..], e.detail.as_deref()) {
            ("undo", Some(d)) => d.split_whitespace().nth(2).unwrap_or("undo"),
            (a, _) => a,
        };
        let _ = writeln!(
            m,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&short_time(&e.at)),
            escape(&e.user_name),
            escape(action_label(&e.action)),
            e.item_id.map(|i| format!("#{i}")).unwrap_or_default(),
            e.story_id.map(|i| format!("#{i}")).unwrap_or_default(),
            escape(&audit_value(config, kind, e.before.as_deref())),
            escape(&audit_value(config, kind, e.after.as_deref())),
            escape(&audit_detail(e)),
        );
    }
    m.push_str("</table>\n");
    layout(
        config,
        Some(user),
        nonce,
        &Frame {
            title: "操作记录",
            current: "/desk/audit",
            body_attrs: "",
            script: false,
        },
        &m,
    )
}

pub(super) async fn users(
    State(state): State<ServeState>,
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

fn render_users(config: &Config, user: &SessionUser, nonce: &str, users: &[UserInfo]) -> String {
    let mut m = String::from(
        "<h1>用户</h1>\n<p class=\"summary\">用命令行管理账户：<kbd>kuaibao user add 名字</kbd>、\
         <kbd>kuaibao user passwd 名字</kbd>、<kbd>kuaibao user remove 名字</kbd>。</p>\n\
         <table class=\"list\"><tr><th>用户名</th><th>角色</th><th>创建于</th><th>改密于</th>\
         <th>在线会话</th><th>状态</th></tr>\n",
    );
    for u in users {
        let _ = writeln!(
            m,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&u.name),
            if u.role == accounts::Role::Admin {
                "管理员"
            } else {
                "编辑"
            },
            escape(&short_time(&u.created_at)),
            escape(&short_time(&u.password_changed_at)),
            u.active_sessions,
            if u.disabled { "已停用" } else { "正常" },
        );
    }
    m.push_str("</table>\n");
    layout(
        config,
        Some(user),
        nonce,
        &Frame {
            title: "用户",
            current: "/desk/users",
            body_attrs: "",
            script: false,
        },
        &m,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_params_fall_back_to_defaults_and_round_trip() {
        let p = QueueParams::parse(Some(
            "status=bogus&from=2025-13-01&to=2025-06-30&q=%E5%B0%B1%E4%B8%9A&page=x",
        ));
        assert_eq!(p.status, "candidate");
        assert_eq!(p.from, "");
        assert_eq!(p.to, "2025-06-30");
        assert_eq!(p.q, "就业");
        assert_eq!(p.page, 1);
        let url = p.url(3);
        assert_eq!(
            QueueParams::parse(url.split_once('?').map(|(_, q)| q)).page,
            3
        );
        assert_eq!(QueueParams::parse(None).url(1), "/desk/");
    }

    #[test]
    fn times_read_as_an_editor_writes_them() {
        assert_eq!(short_time("2025-06-20T10:30:00+08:00"), "2025-06-20 10:30");
    }
}
