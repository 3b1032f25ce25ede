//! Web layer (the editors' desk): the POST handlers for an editor's
//! decisions on stories (approve, reject, move to a section, bulletin
//! title, split, merge), the bulk form and undo. Forms arrive as serde
//! structs through [`Posted`].
//!
//! Each handler checks the session's CSRF token before anything else,
//! writes through the store, records an audit entry (who, what, before →
//! after) and tells the feed refresher, so the decision is in the served
//! feeds within a second. Forms get a 303 back to the queue they came
//! from (filters kept) with a flash message; the script's requests
//! (`Accept: application/json`) get `{ok, message, item}`.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::auth::Posted;
use super::pages::message_page;
use super::{
    DeskState, html, json, nonce, safe_back, see_other, set_flash, wants_json, with_store,
};
use crate::accounts::{self, AccountError, AuditEntry, AuditQuery, AuditRecord};
use crate::config::Config;
use crate::store::{Decision, DeskItem, Status, Store, StoreError};

/// Longest bulletin title accepted, in characters.
const MAX_TITLE_CHARS: usize = 200;

/// Audit entries searched for the last undoable action.
const UNDO_HORIZON: usize = 500;

/// Actions undo can take back.
const UNDOABLE: [&str; 6] = ["approve", "reject", "move", "title", "split", "merge"];

/// One decision on one story.
enum Op {
    Status(Status),
    Move(Option<String>),
    Title(Option<String>),
    Split,
    Merge { into: i64 },
}

/// What an action did.
struct Outcome {
    message: String,
    item: Option<DeskItem>,
    /// Anything written: the feeds must be refreshed.
    changed: bool,
}

/// Why an action was not done; the message is the editor's.
pub(super) enum Refusal {
    NotFound(String),
    Invalid(String),
    Conflict(String),
    Internal(String),
}

impl Refusal {
    /// The HTTP status the script gets for it.
    pub(super) fn status(&self) -> StatusCode {
        match self {
            Refusal::NotFound(_) => StatusCode::NOT_FOUND,
            Refusal::Invalid(_) => StatusCode::BAD_REQUEST,
            Refusal::Conflict(_) => StatusCode::CONFLICT,
            Refusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the editor is told.
    pub(super) fn into_message(self) -> String {
        match self {
            Refusal::NotFound(m)
            | Refusal::Invalid(m)
            | Refusal::Conflict(m)
            | Refusal::Internal(m) => m,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        match e {
            StoreError::NoSuchItem(id) => Refusal::NotFound(format!("没有条目 #{id}。")),
            StoreError::NoSuchStory(id) => Refusal::NotFound(format!("没有报道 #{id}。")),
            StoreError::AloneInStory { item, .. } => {
                Refusal::Conflict(format!("条目 #{item} 是其报道中唯一的稿件，无需拆分。"))
            }
            StoreError::SameStory(id) => Refusal::Invalid(format!("报道 #{id} 不能并入它自己。")),
            other => {
                tracing::error!(error = %other, "desk: database error");
                Refusal::Internal("数据库出错，操作未完成；请稍后再试。".into())
            }
        }
    }
}

impl From<AccountError> for Refusal {
    fn from(e: AccountError) -> Refusal {
        tracing::error!(error = %e, "desk: cannot write the audit log");
        Refusal::Internal("无法写入操作记录，请稍后再试。".into())
    }
}

/// `「title」` for messages, cut short.
fn named(item: &DeskItem) -> String {
    let title = item.bulletin_title.as_deref().unwrap_or(&item.title);
    let mut short: String = title.chars().take(30).collect();
    if title.chars().count() > 30 {
        short.push('…');
    }
    format!("「{short}」")
}

fn section_label(config: &Config, id: Option<&str>) -> String {
    match id {
        None => "未分栏".into(),
        Some(id) => config
            .sections
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| id.to_string(), |s| s.name.clone()),
    }
}

pub(super) fn status_word(s: Status) -> &'static str {
    match s {
        Status::Candidate => "待审",
        Status::Approved => "通过",
        Status::Rejected => "拒绝",
        Status::Maybe => "待定",
        Status::Irrelevant => "无关",
    }
}

fn the_item(store: &Store, id: i64) -> Result<DeskItem, Refusal> {
    store
        .desk_item(id)?
        .ok_or_else(|| Refusal::NotFound(format!("没有条目 #{id}。")))
}

/// The answer to an action: JSON for the script, else back to the queue
/// with the message.
fn respond(
    state: &DeskState,
    headers: &HeaderMap,
    back: &str,
    result: Result<Outcome, Refusal>,
) -> Response {
    let config = state.config();
    if let Ok(o) = &result
        && o.changed
    {
        // The decision is in the served feeds once the refresher ran.
        state.notify_changed();
    }
    if wants_json(headers) {
        return match result {
            Ok(o) => json(
                StatusCode::OK,
                true,
                &o.message,
                o.item.and_then(|i| serde_json::to_value(i).ok()),
            ),
            Err(r) => json(r.status(), false, &r.into_message(), None),
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
        Err(Refusal::NotFound(m) | Refusal::Invalid(m) | Refusal::Conflict(m)) => (true, m),
    };
    let mut resp = see_other(back);
    set_flash(&mut resp, &config, error, &message);
    resp
}

/// The fields of a story's action forms (each form sends those it has).
#[derive(Deserialize)]
pub(super) struct ItemForm {
    back: Option<String>,
    section: Option<String>,
    title: Option<String>,
    into: Option<String>,
}

/// `POST /desk/items/{id}/{action}`.
pub(super) async fn item(
    State(state): State<DeskState>,
    Path((id, action)): Path<(String, String)>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<ItemForm>,
) -> Response {
    let back = safe_back(form.back.as_deref());
    let config = state.config();
    let op = match parse_op(&config, &action, &form) {
        Ok(op) => op,
        Err(r) => return respond(&state, &headers, &back, Err(r)),
    };
    let Ok(id) = id.parse::<i64>() else {
        return respond(
            &state,
            &headers,
            &back,
            Err(Refusal::NotFound("没有这个条目。".into())),
        );
    };
    let user = editor.user.name.clone();
    let result = with_store(&state, move |s| apply(s, &config, &user, id, op)).await;
    match result {
        Ok(result) => respond(&state, &headers, &back, result),
        Err(resp) => resp,
    }
}

fn parse_op(config: &Config, action: &str, form: &ItemForm) -> Result<Op, Refusal> {
    Ok(match action {
        "approve" => Op::Status(Status::Approved),
        "reject" => Op::Status(Status::Rejected),
        "move" => {
            let section = form.section.as_deref().unwrap_or_default().trim();
            if section.is_empty() {
                Op::Move(None)
            } else if config.sections.iter().any(|s| s.id == section) {
                Op::Move(Some(section.to_string()))
            } else {
                return Err(Refusal::Invalid(format!("没有栏目「{section}」。")));
            }
        }
        "title" => {
            let title = form.title.as_deref().unwrap_or_default().trim();
            if title.chars().count() > MAX_TITLE_CHARS {
                return Err(Refusal::Invalid(format!(
                    "标题太长：最多 {MAX_TITLE_CHARS} 个字。"
                )));
            }
            if title.chars().any(char::is_control) {
                return Err(Refusal::Invalid("标题里不能有换行或控制字符。".into()));
            }
            Op::Title((!title.is_empty()).then(|| title.to_string()))
        }
        "split" => Op::Split,
        "merge" => {
            let into = form.into.as_deref().unwrap_or_default().trim();
            match into.trim_start_matches('#').parse::<i64>() {
                Ok(into) => Op::Merge { into },
                Err(_) => {
                    return Err(Refusal::Invalid("请填写要并入的报道编号（如 12）。".into()));
                }
            }
        }
        _ => return Err(Refusal::NotFound("没有这个操作。".into())),
    })
}

fn apply(
    store: &mut Store,
    config: &Config,
    user: &str,
    id: i64,
    op: Op,
) -> Result<Outcome, Refusal> {
    let item = the_item(store, id)?;
    let name = named(&item);
    match op {
        Op::Status(status) => {
            // Recorded as a decision the classifier learns from.
            let before = store.set_status_by(id, status, Some(user))?;
            if before == status {
                return Ok(Outcome {
                    message: format!("{name} 已是「{}」状态。", status_word(status)),
                    item: Some(item),
                    changed: false,
                });
            }
            decide(store, user, &item, status, None)?;
            Ok(Outcome {
                message: format!("已{}：{name}", status_word(status)),
                item: store.desk_item(id)?,
                changed: true,
            })
        }
        Op::Move(section) => {
            let before =
                store.set_section(id, section.as_deref(), &crate::classify::filed_title)?;
            let to = section_label(config, section.as_deref());
            if before == section {
                return Ok(Outcome {
                    message: format!("{name} 已在「{to}」栏目。"),
                    item: store.desk_item(id)?,
                    changed: false,
                });
            }
            accounts::record(
                store,
                &AuditEntry {
                    user_name: user,
                    action: "move",
                    item_id: Some(item.id),
                    story_id: Some(item.story_id),
                    before: before.as_deref(),
                    after: section.as_deref(),
                    detail: None,
                },
            )?;
            store.record_decision(item.id, Decision::Move, Some(user))?;
            Ok(Outcome {
                message: format!("已将 {name} 移至「{to}」。"),
                item: store.desk_item(id)?,
                changed: true,
            })
        }
        Op::Title(title) => {
            let before = store.set_bulletin_title(id, title.as_deref())?;
            if before == title {
                return Ok(Outcome {
                    message: format!("{name} 的标题没有变化。"),
                    item: store.desk_item(id)?,
                    changed: false,
                });
            }
            accounts::record(
                store,
                &AuditEntry {
                    user_name: user,
                    action: "title",
                    item_id: Some(item.id),
                    story_id: Some(item.story_id),
                    before: before.as_deref(),
                    after: title.as_deref(),
                    detail: None,
                },
            )?;
            let after = store.desk_item(id)?;
            Ok(Outcome {
                message: match &title {
                    Some(t) => format!("标题已改为「{t}」。"),
                    None => format!("已恢复原标题：「{}」。", item.title),
                },
                item: after,
                changed: true,
            })
        }
        Op::Split => {
            let story = store.story_of(id)?;
            let new_story = store.split_item(id)?;
            let (before, after) = (story.to_string(), new_story.to_string());
            accounts::record(
                store,
                &AuditEntry {
                    user_name: user,
                    action: "split",
                    item_id: Some(id),
                    story_id: Some(story),
                    before: Some(&before),
                    after: Some(&after),
                    detail: None,
                },
            )?;
            Ok(Outcome {
                message: format!("已将条目 #{id} 拆出为报道 #{new_story}。"),
                item: store.desk_item(id)?,
                changed: true,
            })
        }
        Op::Merge { into } => {
            let from = item.story_id;
            if into == from {
                return Err(StoreError::SameStory(into).into());
            }
            // What undo needs to take the merge back: the story's items
            // and the decision it had (the merged items take on the other
            // story's).
            let items = store.story_item_ids(from)?;
            let detail =
                serde_json::json!({ "items": items, "status": item.status.as_str() }).to_string();
            store.merge_stories(into, from)?;
            let (before, after) = (from.to_string(), into.to_string());
            accounts::record(
                store,
                &AuditEntry {
                    user_name: user,
                    action: "merge",
                    item_id: Some(item.id),
                    story_id: Some(into),
                    before: Some(&before),
                    after: Some(&after),
                    detail: Some(&detail),
                },
            )?;
            Ok(Outcome {
                message: format!("已将报道 #{from} {name} 并入报道 #{into}。"),
                item: store.desk_item(id)?,
                changed: true,
            })
        }
    }
}

/// The audit entry of an approve or reject that changed `item`'s status
/// from `item.status` (the store recorded the decision itself).
fn decide(
    store: &mut Store,
    user: &str,
    item: &DeskItem,
    status: Status,
    batch: Option<&str>,
) -> Result<(), Refusal> {
    let action = if status == Status::Approved {
        "approve"
    } else {
        "reject"
    };
    accounts::record(
        store,
        &AuditEntry {
            user_name: user,
            action,
            item_id: Some(item.id),
            story_id: Some(item.story_id),
            before: Some(item.status.as_str()),
            after: Some(status.as_str()),
            detail: batch,
        },
    )?;
    Ok(())
}

/// The bulk form: `action`, `back` and one `id` per checked story. Read
/// as its pairs, since serde's structs take a key once.
type BulkForm = Vec<(String, String)>;

fn field<'f>(form: &'f BulkForm, key: &'f str) -> impl Iterator<Item = &'f str> {
    form.iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `POST /desk/bulk`: approve or reject every checked story.
pub(super) async fn bulk(
    State(state): State<DeskState>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<BulkForm>,
) -> Response {
    let back = safe_back(field(&form, "back").next());
    let status = match field(&form, "action").next() {
        Some("approve") => Status::Approved,
        Some("reject") => Status::Rejected,
        _ => {
            return respond(
                &state,
                &headers,
                &back,
                Err(Refusal::Invalid("请选择批量通过或批量拒绝。".into())),
            );
        }
    };
    let mut ids: Vec<i64> = Vec::new();
    for v in field(&form, "id") {
        match v.trim().parse::<i64>() {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(_) => {
                return respond(
                    &state,
                    &headers,
                    &back,
                    Err(Refusal::Invalid(format!("「{v}」不是条目编号。"))),
                );
            }
        }
    }
    if ids.is_empty() {
        return respond(
            &state,
            &headers,
            &back,
            Err(Refusal::Invalid("没有勾选任何条目。".into())),
        );
    }
    // One tag for the whole batch: undo takes it back as one action.
    let mut tag = [0u8; 8];
    if getrandom::fill(&mut tag).is_err() {
        tag = chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or(0)
            .to_le_bytes();
    }
    let batch = format!(
        "batch {}",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let user = editor.user.name.clone();
    let result = with_store(&state, move |s| {
        let (mut changed, mut same, mut missing) = (0usize, 0usize, 0usize);
        for id in ids {
            let Some(item) = s.desk_item(id)? else {
                missing += 1;
                continue;
            };
            if s.set_status_by(id, status, Some(&user))? == status {
                same += 1;
                continue;
            }
            decide(s, &user, &item, status, Some(&batch))?;
            changed += 1;
        }
        let mut message = format!("已批量{} {changed} 条", status_word(status));
        if same > 0 {
            message.push_str(&format!("，{same} 条原已如此"));
        }
        if missing > 0 {
            message.push_str(&format!("，{missing} 条不存在"));
        }
        message.push('。');
        Ok::<_, Refusal>(Outcome {
            message,
            item: None,
            changed: changed > 0,
        })
    })
    .await;
    match result {
        Ok(result) => respond(&state, &headers, &back, result),
        Err(resp) => resp,
    }
}

/// `POST /desk/undo`: takes back this user's last action not yet undone
/// (a whole batch for a bulk action), from the audit entries' before
/// values. Refused when someone changed the story since.
/// A form that only says where to go back to.
#[derive(Deserialize)]
pub(super) struct BackForm {
    back: Option<String>,
}

pub(super) async fn undo(
    State(state): State<DeskState>,
    Posted {
        editor,
        form,
        headers,
    }: Posted<BackForm>,
) -> Response {
    let back = safe_back(form.back.as_deref());
    let user = editor.user.name.clone();
    let config = state.config();
    let result = with_store(&state, move |s| undo_last(s, &config, &user)).await;
    match result {
        Ok(result) => respond(&state, &headers, &back, result),
        Err(resp) => resp,
    }
}

/// The audit entry an undo entry took back (`detail` = `undo #ID ACTION`).
fn undone_id(e: &AuditRecord) -> Option<i64> {
    if e.action != "undo" {
        return None;
    }
    e.detail
        .as_deref()?
        .split_whitespace()
        .nth(1)?
        .trim_start_matches('#')
        .parse()
        .ok()
}

fn undo_last(store: &mut Store, config: &Config, user: &str) -> Result<Outcome, Refusal> {
    let entries = accounts::audit_entries(
        store,
        &AuditQuery {
            limit: UNDO_HORIZON,
            user: Some(user.to_string()),
            item_id: None,
        },
    )?;
    let undone: HashSet<i64> = entries.iter().filter_map(undone_id).collect();
    let open = |e: &&AuditRecord| UNDOABLE.contains(&e.action.as_str()) && !undone.contains(&e.id);
    let Some(last) = entries.iter().find(open) else {
        return Ok(Outcome {
            message: "没有可以撤销的操作。".into(),
            item: None,
            changed: false,
        });
    };
    let batch = last.detail.as_deref().filter(|d| d.starts_with("batch "));
    let group: Vec<&AuditRecord> = match batch {
        Some(tag) => entries
            .iter()
            .filter(open)
            .filter(|e| e.action == last.action && e.detail.as_deref() == Some(tag))
            .collect(),
        None => vec![last],
    };
    // All or nothing: every story must still be as the action left it.
    for e in &group {
        check_unchanged(store, e)?;
    }
    let mut item = None;
    for e in &group {
        let restored = revert(store, user, e)?;
        let (before, after) = (e.after.clone(), restored);
        let detail = format!("undo #{} {}", e.id, e.action);
        accounts::record(
            store,
            &AuditEntry {
                user_name: user,
                action: "undo",
                item_id: e.item_id,
                story_id: e.story_id,
                before: before.as_deref(),
                after: after.as_deref(),
                detail: Some(&detail),
            },
        )?;
        if let Some(id) = e.item_id {
            item = store.desk_item(id)?;
        }
    }
    let what = match (last.action.as_str(), group.len()) {
        ("approve" | "reject", n) if n > 1 => {
            format!("批量{}（{n} 条）", action_word(&last.action))
        }
        ("move", _) => format!(
            "移栏（已回到「{}」）",
            section_label(config, last.before.as_deref())
        ),
        (a, _) => action_word(a).to_string(),
    };
    Ok(Outcome {
        message: format!("已撤销：{what}。"),
        item,
        changed: true,
    })
}

fn action_word(action: &str) -> &str {
    match action {
        "approve" => "通过",
        "reject" => "拒绝",
        "move" => "移栏",
        "title" => "改标题",
        "split" => "拆分",
        "merge" => "合并",
        other => other,
    }
}

fn conflict(e: &AuditRecord) -> Refusal {
    Refusal::Conflict(format!(
        "无法撤销：条目 #{} 在此之后已被改动。",
        e.item_id.unwrap_or_default()
    ))
}

/// Refuses an undo that would overwrite a later change by anyone.
fn check_unchanged(store: &Store, e: &AuditRecord) -> Result<(), Refusal> {
    let Some(id) = e.item_id else {
        return Err(conflict(e));
    };
    let Some(item) = store.desk_item(id)? else {
        return Err(conflict(e));
    };
    let same = match e.action.as_str() {
        "approve" | "reject" => Some(item.status.as_str()) == e.after.as_deref(),
        "move" => item.section.as_deref() == e.after.as_deref(),
        "title" => item.bulletin_title.as_deref() == e.after.as_deref(),
        "split" | "merge" => Some(item.story_id.to_string()).as_deref() == e.after.as_deref(),
        _ => false,
    };
    if same { Ok(()) } else { Err(conflict(e)) }
}

/// Restores the value before `e`; returns the restored value as the undo's
/// `after` (for a merge: the story the items are in again).
fn revert(store: &mut Store, user: &str, e: &AuditRecord) -> Result<Option<String>, Refusal> {
    let id = e.item_id.ok_or_else(|| conflict(e))?;
    let story = |s: Option<&str>| -> Result<i64, Refusal> {
        s.and_then(|s| s.parse().ok()).ok_or_else(|| conflict(e))
    };
    match e.action.as_str() {
        "approve" | "reject" => {
            let before = e.before.as_deref().map_or(Status::Candidate, Status::parse);
            store.restore_status(id, before)?;
            if let Some(decision) = Decision::parse(&e.action) {
                store.forget_decision(id, decision, user)?;
            }
            Ok(Some(before.as_str().to_string()))
        }
        "move" => {
            store.set_section(id, e.before.as_deref(), &crate::classify::filed_title)?;
            store.forget_decision(id, Decision::Move, user)?;
            Ok(e.before.clone())
        }
        "title" => {
            store.set_bulletin_title(id, e.before.as_deref())?;
            Ok(e.before.clone())
        }
        "split" => {
            let (old, new) = (story(e.before.as_deref())?, story(e.after.as_deref())?);
            store.merge_stories(old, new)?;
            Ok(Some(old.to_string()))
        }
        "merge" => {
            let detail: serde_json::Value = e
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| conflict(e))?;
            let items: Vec<i64> = detail["items"]
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
                .unwrap_or_default();
            if items.is_empty() {
                return Err(conflict(e));
            }
            let status = detail["status"]
                .as_str()
                .map_or(Status::Candidate, Status::parse);
            let story = store.regroup_items(&items, status)?;
            Ok(Some(story.to_string()))
        }
        _ => Err(conflict(e)),
    }
}
