//! Web layer (the editors' desk): issues (期), where editors assemble the
//! bulletin from what they approved before it is circulated. The same store
//! API and the same code paths as the `kuaibao issue …` commands
//! ([`crate::assemble`], [`Store::create_issue`] and friends), behind the
//! desk's session, CSRF check and audit log.
//!
//! | path | what |
//! |---|---|
//! | `GET /desk/issues` | every issue, and the form to draft a new one |
//! | `POST /desk/issues` | drafts an issue (`number`, `date`) as `kuaibao issue new` does |
//! | `GET /desk/issues/{number}` | its 目录 by section, with the buttons; stories that may be added |
//! | `GET /desk/issues/{number}/preview` | the HTML export, drafts too |
//! | `GET /desk/issues/{number}/export.{docx,md,html,txt}` | the exports as downloads |
//! | `POST /desk/issues/{number}/{add,remove,move,date,publish,unpublish}` | one change |
//!
//! Forms get a 303 back to the issue with a flash message; the script's
//! requests (`Accept: application/json`) get `{ok, message, item, issue}`
//! (`item` always null: the shape of the other desk actions, with the
//! issue as it is after the change).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use maud::{Markup, html as markup};
use serde::Deserialize;

use super::actions::{Refusal, status_word};
use super::auth::Posted;
use super::pages::{Frame, flash_html, hidden, layout, message_page, short_time};
use super::{
    DeskState, Editor, clear_flash, html, internal, nonce, read_flash, see_other, set_flash,
    wants_json, with_store,
};
use crate::accounts::{self, AuditEntry, SessionUser};
use crate::assemble::{self, ExportFormat};
use crate::config::Config;
use crate::model::safe_href;
use crate::store::{
    IssueDetail, IssueEntry, IssueInfo, IssueStatus, Status, Store, StoreError, UNSECTIONED_NAME,
    check_issue_number,
};

/// The issues list: what the navigation's 期刊 marks as current.
const ISSUES_PATH: &str = "/desk/issues";

/// One change to an issue.
enum Op {
    Add(i64),
    Remove(i64),
    Move { story: i64, position: usize },
    Date(NaiveDate),
    Publish,
    Unpublish,
}

/// What a change did.
struct Outcome {
    message: String,
    /// The issue after it, for the script.
    issue: Option<IssueDetail>,
    /// Anything written.
    changed: bool,
}

/// `第 202509 期`: how the desk names an issue.
fn issue_name(number: &str) -> String {
    format!("第 {number} 期")
}

/// `「title」` for messages, cut short.
fn quoted(title: &str) -> String {
    let mut short: String = title.chars().take(30).collect();
    if title.chars().count() > 30 {
        short.push('…');
    }
    format!("「{short}」")
}

/// The editor's words for a store refusal about issues; anything else is
/// as the other desk actions word it.
fn refusal(e: StoreError, publishing: bool) -> Refusal {
    match e {
        StoreError::InvalidIssueNumber(n) => Refusal::Invalid(format!(
            "「{n}」不是期号：期号是六位数字，如 202509（年份加本年第几期）。"
        )),
        StoreError::DuplicateIssue(n) => {
            Refusal::Conflict(format!("{}已存在，请换一个期号。", issue_name(&n)))
        }
        StoreError::NoSuchIssue(n) => Refusal::NotFound(format!("没有{}。", issue_name(&n))),
        StoreError::IssuePublished(n) => Refusal::Conflict(format!(
            "{}已发布，不能修改；如需更正，请先撤回发布。",
            issue_name(&n)
        )),
        StoreError::StoryNotApproved { story, status } if publishing => Refusal::Conflict(format!(
            "无法发布：报道 #{story} 现为「{}」，不再是已通过的稿件；请先将它移出本期。",
            status_word(Status::parse(&status))
        )),
        StoreError::StoryNotApproved { story, status } => Refusal::Conflict(format!(
            "报道 #{story} 现为「{}」：只有已通过的稿件才能编入期刊。",
            status_word(Status::parse(&status))
        )),
        StoreError::StoryInIssue { story, issue } => {
            Refusal::Conflict(format!("报道 #{story} 已在{}中。", issue_name(&issue)))
        }
        StoreError::StoryNotInIssue { story, issue } => Refusal::NotFound(format!(
            "报道 #{story} 不在{}中（页面可能已过期，请刷新）。",
            issue_name(&issue)
        )),
        StoreError::BadPosition { position, len, .. } => {
            Refusal::Invalid(format!("没有第 {position} 位：本期共 {len} 篇。"))
        }
        StoreError::EmptyIssue(n) => {
            Refusal::Conflict(format!("{}还没有任何稿件，不能发布。", issue_name(&n)))
        }
        other => other.into(),
    }
}

/// The answer to a change: JSON for the script, else back to `back` with
/// the message.
fn respond(
    state: &DeskState,
    headers: &HeaderMap,
    back: &str,
    result: Result<Outcome, Refusal>,
) -> Response {
    let config = state.config();
    if wants_json(headers) {
        return match result {
            Ok(o) => (
                StatusCode::OK,
                axum::Json(serde_json::json!({
                    "ok": true,
                    "message": o.message,
                    "item": null,
                    "issue": o.issue,
                })),
            )
                .into_response(),
            Err(r) => super::json(r.status(), false, &r.into_message(), None),
        };
    }
    let (error, message) = match result {
        Ok(o) => (false, o.message),
        Err(Refusal::Internal(m)) => {
            let n = nonce();
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                &n,
                message_page(&config, None, &n, "操作未完成", &m),
            );
        }
        Err(r) => (true, r.into_message()),
    };
    let mut resp = see_other(back);
    set_flash(&mut resp, &config, error, &message);
    resp
}

/// A page that is not there (an unknown or malformed number, an unknown
/// file), for an editor: the session was checked before.
fn not_found(state: &DeskState, user: &SessionUser, headers: &HeaderMap, text: &str) -> Response {
    if wants_json(headers) {
        return super::json(StatusCode::NOT_FOUND, false, text, None);
    }
    let n = nonce();
    html(
        StatusCode::NOT_FOUND,
        &n,
        message_page(&state.config(), Some(user), &n, "没有这一期", text),
    )
}

/// Records an issue change in the audit log: the issue's number as the
/// detail, the story (and its primary item, so that the audit page's
/// 条目 filter finds it) when the change is about one.
fn record(
    store: &Store,
    user: &str,
    action: &str,
    number: &str,
    entry: Option<&IssueEntry>,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), Refusal> {
    accounts::record(
        store,
        &AuditEntry {
            user_name: user,
            action,
            item_id: entry.map(|e| e.item_id),
            story_id: entry.map(|e| e.story_id),
            before,
            after,
            detail: Some(number),
        },
    )?;
    Ok(())
}

/// The number a new issue would most likely get: the one after this
/// year's latest (`202509` → `202510`), else this year's first. Only a
/// suggestion in the form; the editor may type any free number.
fn next_number(issues: &[IssueInfo], today: NaiveDate) -> String {
    let year = today.year().clamp(0, 9999) as u32;
    let latest = issues
        .iter()
        .filter_map(|i| i.number.parse::<u32>().ok())
        .filter(|n| n / 100 == year)
        .max();
    match latest {
        Some(n) if n % 100 < 99 => format!("{:06}", n + 1),
        Some(_) => String::new(),
        None => format!("{year:04}01"),
    }
}

/// `GET /desk/issues`.
pub(super) async fn list(
    State(state): State<DeskState>,
    editor: Editor,
    headers: HeaderMap,
) -> Response {
    let config = state.config();
    let sections = assemble::section_ids(&config);
    let loaded = with_store(&state, move |s| {
        Ok::<_, StoreError>((s.issues()?, s.free_stories(&sections)?.len()))
    })
    .await;
    let (issues, free) = match loaded {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let n = nonce();
    let flash = read_flash(&headers);
    let body = render_list(
        &config,
        &editor.user,
        &n,
        &issues,
        free,
        assemble::today(),
        flash.as_ref(),
    );
    let mut resp = html(StatusCode::OK, &n, body);
    if flash.is_some() {
        clear_flash(&mut resp, &config);
    }
    resp
}

fn render_list(
    config: &Config,
    user: &SessionUser,
    nonce: &str,
    issues: &[IssueInfo],
    free: usize,
    today: NaiveDate,
    flash: Option<&super::Flash>,
) -> Markup {
    let main = markup! {
        (flash_html(flash))
        h1 { "期刊" } "\n"
        form.newissue method="post" action=(ISSUES_PATH) {
            (hidden(&user.csrf_token, ISSUES_PATH))
            label { "期号 " input type="text" name="number" value=(next_number(issues, today)) inputmode="numeric"
                pattern="[0-9]{6}" maxlength="6" placeholder="202509" required; }
            label { "日期 " input type="date" name="date" value=(today); }
            button type="submit" class="ok" { "新建草稿" }
        }
        "\n"
        p.summary {
            "新草稿收入所有已通过、尚未编入任何一期的报道（现有 " (free) " 篇），\
             按栏目排好；之后可以调整顺序、移除或加入。期号为六位数字：年份加本年第几期。"
        }
        "\n"
        @if issues.is_empty() {
            p.empty { "还没有任何一期。" } "\n"
        } @else {
            div.scroll {
                table.list {
                    tr { th { "期号" } th { "日期" } th { "状态" } th { "篇数" } th { "发布于" } }
                    "\n"
                    @for i in issues {
                        tr {
                            td { a href={ (ISSUES_PATH) "/" (i.number) } { (issue_name(&i.number)) } }
                            td { (i.date) }
                            td { (status_badge(i.status)) }
                            td { (i.stories) }
                            td { (i.published_at.as_deref().map_or_else(|| "—".to_string(), short_time)) }
                        }
                        "\n"
                    }
                }
            }
            "\n"
        }
    };
    layout(
        config,
        Some(user),
        nonce,
        &Frame::plain("期刊", ISSUES_PATH),
        main,
    )
}

fn status_badge(status: IssueStatus) -> Markup {
    match status {
        IssueStatus::Draft => markup! { span.badge { "草稿" } },
        IssueStatus::Published => markup! { span class="badge approved" { "已发布" } },
    }
}

/// The fields of the issue forms (each form sends those it has).
#[derive(Deserialize)]
pub(super) struct IssueForm {
    number: Option<String>,
    date: Option<String>,
    story: Option<String>,
    position: Option<String>,
}

/// `POST /desk/issues`: drafts a new issue as `kuaibao issue new` does.
pub(super) async fn create(
    State(state): State<DeskState>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<IssueForm>,
) -> Response {
    let number = form
        .number
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_string();
    let date = match form
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => assemble::today(),
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                return respond(
                    &state,
                    &headers,
                    ISSUES_PATH,
                    Err(Refusal::Invalid(format!(
                        "「{d}」不是日期：请按 2025-06-20 的格式填写。"
                    ))),
                );
            }
        },
    };
    // Checked here too, before it is put into the address redirected to.
    if let Err(e) = check_issue_number(&number) {
        return respond(&state, &headers, ISSUES_PATH, Err(refusal(e, false)));
    }
    let config = state.config();
    let user = editor.user.name.clone();
    let num = number.clone();
    let result = with_store(&state, move |s| {
        let detail = match assemble::new_issue(&config, s, &num, date) {
            Ok(d) => d,
            Err(assemble::AssembleError::Store(e)) => return Err(refusal(e, false)),
            Err(e) => {
                tracing::error!(error = %e, "desk: cannot draft an issue");
                return Err(Refusal::Internal(
                    "无法新建这一期，操作未完成；请稍后再试。".into(),
                ));
            }
        };
        record(
            s,
            &user,
            "issue_new",
            &num,
            None,
            None,
            Some(IssueStatus::Draft.as_str()),
        )?;
        let count = detail.entries.len();
        let mut message = format!(
            "已新建{}草稿，收入 {count} 篇已通过的报道。",
            issue_name(&num)
        );
        if count == 0 {
            message.push_str("目前没有可编入的已通过报道：先在审稿队列通过几篇，再到这里加入。");
        }
        Ok(Outcome {
            message,
            issue: Some(detail),
            changed: true,
        })
    })
    .await;
    match result {
        Ok(result @ Ok(_)) => respond(&state, &headers, &format!("{ISSUES_PATH}/{number}"), result),
        Ok(result) => respond(&state, &headers, ISSUES_PATH, result),
        Err(resp) => resp,
    }
}

/// `GET /desk/issues/{number}`.
pub(super) async fn page(
    State(state): State<DeskState>,
    editor: Editor,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    if check_issue_number(&number).is_err() {
        return not_found(&state, &editor.user, &headers, "没有这一期。");
    }
    let config = state.config();
    let sections = assemble::section_ids(&config);
    let num = number.clone();
    let loaded = with_store(&state, move |s| {
        let detail = s.issue(&num, &sections)?;
        // Only a draft can take more: a published issue is read-only.
        let free = if detail.info.status == IssueStatus::Draft {
            s.free_stories(&sections)?
        } else {
            Vec::new()
        };
        Ok::<_, StoreError>((detail, free))
    })
    .await;
    let (detail, free) = match loaded {
        Ok(Ok(l)) => l,
        Ok(Err(StoreError::NoSuchIssue(_))) => {
            return not_found(
                &state,
                &editor.user,
                &headers,
                &format!("没有{}。", issue_name(&number)),
            );
        }
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    let n = nonce();
    let flash = read_flash(&headers);
    let body = render_issue(&config, &editor.user, &n, &detail, &free, flash.as_ref());
    let mut resp = html(StatusCode::OK, &n, body);
    if flash.is_some() {
        clear_flash(&mut resp, &config);
    }
    resp
}

/// A section's name on the desk as the issue prints it: stories whose
/// section is unset or no longer configured print last, under 其他.
fn section_of<'c>(config: &'c Config, id: Option<&str>) -> (Option<&'c str>, &'c str) {
    match id.and_then(|id| config.section(id)) {
        Some(s) => (Some(s.id.as_str()), s.name.as_str()),
        None => (None, UNSECTIONED_NAME),
    }
}

/// `2025-06-20`, from an item's RFC 3339 time.
fn day(published: Option<&str>) -> String {
    published
        .map(|p| p.get(..10).unwrap_or(p).to_string())
        .unwrap_or_else(|| "—".into())
}

/// The issue page: its toolbar, its 目录 and, in a draft, the approved
/// stories that may be added.
fn render_issue(
    config: &Config,
    user: &SessionUser,
    nonce: &str,
    detail: &IssueDetail,
    free: &[IssueEntry],
    flash: Option<&super::Flash>,
) -> Markup {
    let info = &detail.info;
    let base = format!("{ISSUES_PATH}/{}", info.number);
    let draft = info.status == IssueStatus::Draft;
    let h = hidden(&user.csrf_token, &base);
    let main = markup! {
        (flash_html(flash))
        p.crumbs { a href=(ISSUES_PATH) { "« 全部期刊" } } "\n"
        h1 { (issue_name(&info.number)) " " (status_badge(info.status)) } "\n"
        p.summary { (crate::bulletin::date_line(info.date)) " · 共 " (detail.entries.len()) " 篇" } "\n"
        (issue_toolbar(config, info, &base, &h))
        "\n"
        @if !draft {
            p.flash { "本期已发布，只读；如需更正，先撤回发布（撤回后公开页面和订阅源里不再有本期）。" } "\n"
        }
        div class="layout issue" {
            "\n"
            (issue_contents(config, &base, &h, &detail.entries, draft))
            "\n"
            @if draft {
                (free_stories(config, &base, &h, free))
                "\n"
            }
        }
        "\n"
    };
    layout(
        config,
        Some(user),
        nonce,
        &Frame::plain(&issue_name(&info.number), ISSUES_PATH),
        main,
    )
}

/// What may be done with the issue as a whole: preview, export and, by
/// status, redate and publish or take back.
fn issue_toolbar(config: &Config, info: &IssueInfo, base: &str, h: &Markup) -> Markup {
    let draft = info.status == IssueStatus::Draft;
    markup! {
        div.toolbar {
            a.button href={ (base) "/preview" } { "预览" }
            span {
                "导出：" a href={ (base) "/export.docx" } { "Word" } " · "
                a href={ (base) "/export.md" } { "Markdown" } " · "
                a href={ (base) "/export.html" } { "HTML" } " · "
                a href={ (base) "/export.txt" } { "文本" }
            }
            @if draft {
                form method="post" action={ (base) "/date" } {
                    (h)
                    label { "日期 " input type="date" name="date" value=(info.date) required; }
                    button type="submit" { "改日期" }
                }
                form method="post" action={ (base) "/publish" } {
                    (h)
                    button type="submit" class="ok" { "发布" }
                }
            } @else {
                @let public = crate::publish::issue_url(config, &info.number);
                @if let Some(href) = safe_href(&public) { a href=(href) { "公开页面" } }
                form method="post" action={ (base) "/unpublish" } {
                    (h)
                    button type="submit" class="no" { "撤回发布" }
                }
            }
        }
    }
}

/// The issue's 目录: its stories in print order, under their sections.
fn issue_contents(
    config: &Config,
    base: &str,
    h: &Markup,
    entries: &[IssueEntry],
    draft: bool,
) -> Markup {
    markup! {
        section.contents {
            "\n" h2 { "目录" } "\n"
            @if entries.is_empty() {
                p.empty { "本期还没有稿件。" } "\n"
            }
            @for run in section_runs(config, entries) {
                h3.group { (run.name) " " span { "（" (run.entries.len()) " 篇）" } } "\n"
                ol.entries {
                    @for (k, e) in run.entries.iter().enumerate() {
                        (issue_entry(base, h, e, draft, k == 0, k + 1 == run.entries.len()))
                        "\n"
                    }
                }
                "\n"
            }
        }
    }
}

/// Beside a draft: approved stories in no issue yet, each with 加入.
fn free_stories(config: &Config, base: &str, h: &Markup, free: &[IssueEntry]) -> Markup {
    markup! {
        aside.free {
            "\n" h2 { "可加入的报道" } "\n"
            p.summary { "已通过、尚未编入任何一期的报道（" (free.len()) " 篇）；加入后排在其栏目末尾。" }
            "\n"
            @if free.is_empty() {
                p.empty { "没有了。在" a href="/desk/" { "审稿队列" } "通过的报道会出现在这里。" } "\n"
            } @else {
                ul.entries {
                    "\n"
                    @for e in free {
                        li.entry { div {
                            p.title { (e.title) }
                            p.meta {
                                (section_of(config, e.section.as_deref()).1) " · 来源：" (e.origin)
                                " · " time { (day(e.published.as_deref())) } " · 报道 #" (e.story_id)
                            }
                            form method="post" action={ (base) "/add" } {
                                (h)
                                input type="hidden" name="story" value=(e.story_id);
                                button type="submit" class="ok" { "加入" }
                            }
                        } }
                        "\n"
                    }
                }
                "\n"
            }
        }
    }
}

/// Stories of one section that follow each other in the issue.
struct SectionRun<'e> {
    name: &'e str,
    entries: Vec<&'e IssueEntry>,
}

/// The issue's stories in print order, grouped by section; 上移/下移 only
/// where a story has a neighbour in its run (it never leaves its section).
fn section_runs<'e>(config: &'e Config, entries: &'e [IssueEntry]) -> Vec<SectionRun<'e>> {
    let mut runs: Vec<(Option<&str>, SectionRun<'e>)> = Vec::new();
    for e in entries {
        let (key, name) = section_of(config, e.section.as_deref());
        match runs.last_mut() {
            Some((k, run)) if *k == key => run.entries.push(e),
            _ => runs.push((
                key,
                SectionRun {
                    name,
                    entries: vec![e],
                },
            )),
        }
    }
    runs.into_iter().map(|(_, run)| run).collect()
}

/// One story of the issue's 目录, with its buttons in a draft.
fn issue_entry(
    base: &str,
    h: &Markup,
    e: &IssueEntry,
    draft: bool,
    first: bool,
    last: bool,
) -> Markup {
    markup! {
        li.entry id={ "story-" (e.story_id) } {
            span.pos { (e.position) }
            div {
                p.title { (e.title) }
                p.meta {
                    "来源：" (e.origin) " · " time { (day(e.published.as_deref())) } " · 报道 #" (e.story_id) " · "
                    @if let Some(href) = safe_href(&e.url) {
                        a href=(href) target="_blank" rel="noopener noreferrer" { "原文" }
                    } @else {
                        "原文"
                    }
                }
                @if e.status != Status::Approved {
                    p class="flash error" { "这篇报道现为「" (status_word(e.status)) "」，发布前须移出本期。" }
                }
                @if draft {
                    div.actions {
                        @if !first {
                            form method="post" action={ (base) "/move" } {
                                (h)
                                input type="hidden" name="story" value=(e.story_id);
                                input type="hidden" name="position" value=(e.position - 1);
                                button type="submit" { "上移" }
                            }
                        }
                        @if !last {
                            form method="post" action={ (base) "/move" } {
                                (h)
                                input type="hidden" name="story" value=(e.story_id);
                                input type="hidden" name="position" value=(e.position + 1);
                                button type="submit" { "下移" }
                            }
                        }
                        form method="post" action={ (base) "/remove" } {
                            (h)
                            input type="hidden" name="story" value=(e.story_id);
                            button type="submit" class="no" { "移除" }
                        }
                        // Alone in its section, a story has nowhere to move to.
                        @if !(first && last) {
                            details {
                                summary { "移到…" }
                                form method="post" action={ (base) "/move" } {
                                    (h)
                                    input type="hidden" name="story" value=(e.story_id);
                                    label { "第 " input type="text" name="position" inputmode="numeric" pattern="[0-9]+" required aria-label="位置"; " 位" }
                                    button type="submit" { "移动" }
                                    small { "只在本栏目内移动" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /desk/issues/{number}/{file}`: `preview` (the HTML export, shown)
/// and `export.{docx,md,html,txt}` (downloads), drafts as well as
/// published issues: editors proofread a draft before it goes out.
pub(super) async fn file(
    State(state): State<DeskState>,
    editor: Editor,
    Path((number, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let format = match file.as_str() {
        "preview" => None,
        "export.docx" => Some(ExportFormat::Docx),
        "export.md" => Some(ExportFormat::Markdown),
        "export.html" => Some(ExportFormat::Html),
        "export.txt" => Some(ExportFormat::Text),
        _ => return not_found(&state, &editor.user, &headers, "没有这个页面。"),
    };
    // Checked before the store is asked: the number ends up in a file name.
    if check_issue_number(&number).is_err() {
        return not_found(&state, &editor.user, &headers, "没有这一期。");
    }
    let config = state.config();
    let num = number.clone();
    let doc = match with_store(&state, move |s| assemble::issue_doc(&config, s, &num)).await {
        Ok(Ok(doc)) => doc,
        Ok(Err(StoreError::NoSuchIssue(_))) => {
            return not_found(
                &state,
                &editor.user,
                &headers,
                &format!("没有{}。", issue_name(&number)),
            );
        }
        Ok(Err(e)) => return internal(e, false),
        Err(resp) => return resp,
    };
    // Rendered without the store's lock (zipping a Word file takes a
    // moment the poller should not wait for), off the async runtime.
    let Some(format) = format else {
        // The HTML export, with the page's nonce on its one inline
        // stylesheet: the desk's CSP allows no other style, and a
        // nonce-less copy would show the issue unstyled.
        let n = nonce();
        let style_nonce = n.clone();
        let page = tokio::task::spawn_blocking(move || {
            crate::bulletin::to_html_page(&doc, Some(&style_nonce))
        })
        .await;
        return match page {
            Ok(page) => html(StatusCode::OK, &n, page),
            Err(e) => internal(e, false),
        };
    };
    let rendered = tokio::task::spawn_blocking(move || assemble::render(&doc, format)).await;
    let body = match rendered {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return internal(e, false),
        Err(e) => return internal(e, false),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        assemble::export_file_name(&number, format)
    )) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    resp
}

/// `POST /desk/issues/{number}/{action}`.
pub(super) async fn action(
    State(state): State<DeskState>,
    Path((number, action)): Path<(String, String)>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<IssueForm>,
) -> Response {
    if check_issue_number(&number).is_err() {
        return not_found(&state, &editor.user, &headers, "没有这一期。");
    }
    let back = format!("{ISSUES_PATH}/{number}");
    let op = match parse_op(&action, &form) {
        Ok(op) => op,
        Err(r) => return respond(&state, &headers, &back, Err(r)),
    };
    // The issues feed and pages show published issues only: a draft's
    // edits change nothing served, publishing and unpublishing do.
    let served = matches!(op, Op::Publish | Op::Unpublish);
    let config = state.config();
    let user = editor.user.name.clone();
    let result = with_store(&state, move |s| apply(s, &config, &user, &number, op)).await;
    match result {
        Ok(result) => {
            if served && result.as_ref().is_ok_and(|o| o.changed) {
                state.notify_changed();
            }
            respond(&state, &headers, &back, result)
        }
        Err(resp) => resp,
    }
}

fn story_field(form: &IssueForm) -> Result<i64, Refusal> {
    form.story
        .as_deref()
        .map(|s| s.trim().trim_start_matches('#'))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Refusal::Invalid("请给出报道编号（如 12）。".into()))
}

fn parse_op(action: &str, form: &IssueForm) -> Result<Op, Refusal> {
    Ok(match action {
        "add" => Op::Add(story_field(form)?),
        "remove" => Op::Remove(story_field(form)?),
        "move" => {
            let story = story_field(form)?;
            let position = form
                .position
                .as_deref()
                .and_then(|p| p.trim().parse::<usize>().ok())
                .filter(|&p| p > 0)
                .ok_or_else(|| Refusal::Invalid("请填写要移到的位置（从 1 起的序号）。".into()))?;
            Op::Move { story, position }
        }
        "date" => {
            let date = form.date.as_deref().unwrap_or_default().trim();
            match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                Ok(d) => Op::Date(d),
                Err(_) => {
                    return Err(Refusal::Invalid(format!(
                        "「{date}」不是日期：请按 2025-06-20 的格式填写。"
                    )));
                }
            }
        }
        "publish" => Op::Publish,
        "unpublish" => Op::Unpublish,
        _ => return Err(Refusal::NotFound("没有这个操作。".into())),
    })
}

/// Applies `op` under the store's lock: what the issue was before (for
/// the audit entry and to skip changes that change nothing), the change
/// through the store API, the audit entry.
fn apply(
    store: &mut Store,
    config: &Config,
    user: &str,
    number: &str,
    op: Op,
) -> Result<Outcome, Refusal> {
    let sections = assemble::section_ids(config);
    let before = store
        .issue(number, &sections)
        .map_err(|e| refusal(e, false))?;
    let target = Target {
        user,
        number,
        sections,
        name: issue_name(number),
    };
    match op {
        Op::Add(story) => add_story(store, &target, story),
        Op::Remove(story) => remove_story(store, &target, &before, story),
        Op::Move { story, position } => move_story(store, &target, &before, story, position),
        Op::Date(date) => redate(store, &target, before, date),
        Op::Publish => set_published(store, config, &target, before, true),
        Op::Unpublish => set_published(store, config, &target, before, false),
    }
}

/// The issue an operation changes and the editor changing it.
struct Target<'a> {
    user: &'a str,
    number: &'a str,
    sections: Vec<String>,
    /// `第 202509 期`, for messages.
    name: String,
}

/// The story's entry in an issue, if it is in it.
fn entry_of(detail: &IssueDetail, story: i64) -> Option<IssueEntry> {
    detail.entries.iter().find(|e| e.story_id == story).cloned()
}

/// An operation that would change nothing: said, not written or audited.
fn unchanged(message: String, detail: IssueDetail) -> Result<Outcome, Refusal> {
    Ok(Outcome {
        message,
        issue: Some(detail),
        changed: false,
    })
}

/// Adds a story to the issue, at the end of its section.
fn add_story(store: &mut Store, t: &Target, story: i64) -> Result<Outcome, Refusal> {
    let position = store
        .issue_add(t.number, story, &t.sections)
        .map_err(|e| refusal(e, false))?;
    let after = store.issue(t.number, &t.sections)?;
    let entry = entry_of(&after, story);
    let pos = position.to_string();
    record(
        store,
        t.user,
        "issue_add",
        t.number,
        entry.as_ref(),
        None,
        Some(&pos),
    )?;
    let title = entry.map(|e| quoted(&e.title)).unwrap_or_default();
    Ok(Outcome {
        message: format!("已将{title}加入{}，排在第 {position} 位。", t.name),
        issue: Some(after),
        changed: true,
    })
}

/// Takes a story out of the issue; it can be added again.
fn remove_story(
    store: &mut Store,
    t: &Target,
    before: &IssueDetail,
    story: i64,
) -> Result<Outcome, Refusal> {
    let entry = entry_of(before, story);
    store
        .issue_remove(t.number, story, &t.sections)
        .map_err(|e| refusal(e, false))?;
    let pos = entry.as_ref().map(|e| e.position.to_string());
    record(
        store,
        t.user,
        "issue_remove",
        t.number,
        entry.as_ref(),
        pos.as_deref(),
        None,
    )?;
    let title = entry.map(|e| quoted(&e.title)).unwrap_or_default();
    Ok(Outcome {
        message: format!("已将{title}移出{}；它可以再加入。", t.name),
        issue: Some(store.issue(t.number, &t.sections)?),
        changed: true,
    })
}

/// Moves a story to another position within its section.
fn move_story(
    store: &mut Store,
    t: &Target,
    before: &IssueDetail,
    story: i64,
    position: usize,
) -> Result<Outcome, Refusal> {
    let entry = entry_of(before, story);
    let now = store
        .issue_move(t.number, story, position, &t.sections)
        .map_err(|e| refusal(e, false))?;
    let title = entry.as_ref().map(|e| quoted(&e.title)).unwrap_or_default();
    let after = store.issue(t.number, &t.sections)?;
    let was = entry.as_ref().map_or(now, |e| e.position);
    if was == now {
        return unchanged(
            format!("{title}仍在第 {now} 位：报道只在本栏目内移动。"),
            after,
        );
    }
    let (was_s, now_s) = (was.to_string(), now.to_string());
    record(
        store,
        t.user,
        "issue_move",
        t.number,
        entry.as_ref(),
        Some(&was_s),
        Some(&now_s),
    )?;
    Ok(Outcome {
        message: format!("已将{title}从第 {was} 位移到第 {now} 位。"),
        issue: Some(after),
        changed: true,
    })
}

/// Changes the date of a draft issue.
fn redate(
    store: &mut Store,
    t: &Target,
    before: IssueDetail,
    date: NaiveDate,
) -> Result<Outcome, Refusal> {
    let name = &t.name;
    if before.info.status == IssueStatus::Published {
        return Err(refusal(StoreError::IssuePublished(t.number.into()), false));
    }
    if before.info.date == date {
        return unchanged(format!("{name}的日期已是 {date}。"), before);
    }
    store
        .set_issue_date(t.number, date)
        .map_err(|e| refusal(e, false))?;
    let (was, now) = (before.info.date.to_string(), date.to_string());
    record(
        store,
        t.user,
        "issue_date",
        t.number,
        None,
        Some(&was),
        Some(&now),
    )?;
    Ok(Outcome {
        message: format!("{name}的日期已改为 {date}。"),
        issue: Some(store.issue(t.number, &t.sections)?),
        changed: true,
    })
}

/// Publishes the issue (`publish`) or takes it back to a draft.
fn set_published(
    store: &mut Store,
    config: &Config,
    t: &Target,
    before: IssueDetail,
    publish: bool,
) -> Result<Outcome, Refusal> {
    let (name, number) = (&t.name, t.number);
    let (want, action, done) = if publish {
        (IssueStatus::Published, "issue_publish", "已发布")
    } else {
        (
            IssueStatus::Draft,
            "issue_unpublish",
            "已撤回发布，又是草稿",
        )
    };
    if before.info.status == want {
        let message = if publish {
            format!("{name}已是发布状态。")
        } else {
            format!("{name}还是草稿，没有发布。")
        };
        return unchanged(message, before);
    }
    if publish {
        store.publish_issue(number).map_err(|e| refusal(e, true))?;
    } else {
        store
            .unpublish_issue(number)
            .map_err(|e| refusal(e, false))?;
    }
    record(
        store,
        t.user,
        action,
        number,
        None,
        Some(before.info.status.as_str()),
        Some(want.as_str()),
    )?;
    let message = if publish {
        format!(
            "{name}{done}：{}",
            crate::publish::issue_url(config, number)
        )
    } else {
        format!("{name}{done}。")
    };
    Ok(Outcome {
        message,
        issue: Some(store.issue(number, &t.sections)?),
        changed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(number: &str) -> IssueInfo {
        IssueInfo {
            number: number.into(),
            date: NaiveDate::from_ymd_opt(2025, 6, 20).expect("date"),
            status: IssueStatus::Draft,
            stories: 0,
            created_at: String::new(),
            updated_at: String::new(),
            published_at: None,
        }
    }

    #[test]
    fn the_suggested_number_follows_this_years_latest() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 20).expect("date");
        assert_eq!(next_number(&[], today), "202501");
        assert_eq!(
            next_number(&[info("202508"), info("202509"), info("202412")], today),
            "202510"
        );
        assert_eq!(next_number(&[info("202412")], today), "202501");
        assert_eq!(next_number(&[info("202599")], today), "");
    }
}
