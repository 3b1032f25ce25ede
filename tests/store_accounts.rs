//! The store's accounts (`AccountStore`: users, sessions, the audit log)
//! and issues (`IssueStore`), each test written once and run on both
//! backends, SQLite and PostgreSQL (`support::backends`), so the two are
//! held to the same answers.
//!
//! The account tests call the store directly, below `kuaibao::accounts`
//! (which hashes passwords and decides expiry): what is checked here is
//! that each backend keeps and gives back the rows as the desk relies on.
//! The issue tests store items and approve them through `ItemStore`, as
//! the poller and the desk do, and find their stories through the issue
//! API itself.

use crate::support;

use std::sync::Barrier;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use kuaibao::config::{DedupConfig, EncodingChoice, Source, SourceKind};
use kuaibao::dedup::prepare_story;
use kuaibao::model::NewItem;
use kuaibao::normalize::sanitize_html;
use kuaibao::store::postgres::PgStore;
use kuaibao::store::{
    AccountStore, AuditEntry, AuditQuery, IssueEdits, IssueStatus, IssueStore, ItemStore,
    NewSessionRow, Role, Status, StoreError,
};
use url::Url;

/// A fixed time, whole seconds (the store keeps seconds).
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-20T02:30:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// A session of `user_id` keyed `hash`, begun at `at`, idle for an hour at
/// most and three hours in all.
fn session_row(hash: &str, user_id: i64, at: DateTime<Utc>) -> NewSessionRow<'_> {
    NewSessionRow {
        token_hash: hash,
        user_id,
        csrf_token: "csrf-of-the-session",
        created_at: at,
        expires_at: at + TimeDelta::hours(1),
        max_expires_at: at + TimeDelta::hours(3),
        idle_secs: 3600,
        address: Some("192.0.2.1"),
        user_agent: Some("test"),
    }
}

fn add_user<S: AccountStore + ?Sized>(store: &S, name: &str, role: Role) -> i64 {
    store
        .insert_user(name, role, &format!("$argon2id$hash-of-{name}"), t0())
        .expect("insert")
        .expect("a new name")
}

// --- users -----------------------------------------------------------------

fn a_new_user_is_found_by_name_and_a_taken_name_is_refused<S: AccountStore + ?Sized>(
    store: &mut S,
) {
    assert_eq!(store.user_id("alice").expect("query"), None);
    let id = add_user(store, "alice", Role::Editor);
    assert_eq!(store.user_id("alice").expect("query"), Some(id));
    let again = store
        .insert_user("alice", Role::Admin, "$argon2id$other", t0())
        .expect("a taken name is no error");
    assert_eq!(again, None, "the name is taken");
    let creds = store
        .user_credentials("alice")
        .expect("query")
        .expect("alice");
    assert_eq!(creds.id, id);
    assert_eq!(creds.role, Role::Editor, "the first add stands");
    assert_eq!(creds.password_hash, "$argon2id$hash-of-alice");
    assert!(!creds.disabled);
    assert!(store.user_credentials("Alice").expect("query").is_none());
    let bob = add_user(store, "bob", Role::Admin);
    assert_ne!(bob, id);
}
on_both_backends!(a_new_user_is_found_by_name_and_a_taken_name_is_refused);

fn users_are_listed_by_name_in_byte_order_with_their_open_sessions<S: AccountStore + ?Sized>(
    store: &mut S,
) {
    let alice = add_user(store, "alice", Role::Editor);
    add_user(store, "张三", Role::Editor);
    add_user(store, "Zed", Role::Admin);
    add_user(store, "bob", Role::Admin);
    store
        .insert_session(&session_row("open", alice, t0()))
        .expect("session");
    // Begun two hours ago: expired an hour ago, still stored.
    store
        .insert_session(&session_row("stale", alice, t0() - TimeDelta::hours(2)))
        .expect("session");

    let users = store.users(None, t0()).expect("users");
    let summary: Vec<(&str, Role, i64, bool)> = users
        .iter()
        .map(|u| (u.name.as_str(), u.role, u.active_sessions, u.disabled))
        .collect();
    assert_eq!(
        summary,
        [
            ("Zed", Role::Admin, 0, false),
            ("alice", Role::Editor, 1, false),
            ("bob", Role::Admin, 0, false),
            ("张三", Role::Editor, 0, false),
        ],
        "by name as bytes, as SQLite compares text"
    );
    assert_eq!(users[1].created_at, "2025-06-20T10:30:00+08:00");
    assert_eq!(users[1].password_changed_at, users[1].created_at);

    let one = store.users(Some("alice"), t0()).expect("alice");
    assert_eq!(one, vec![users[1].clone()]);
    assert!(store.users(Some("carol"), t0()).expect("carol").is_empty());
    // An hour on, the open session has expired too.
    let later = store
        .users(Some("alice"), t0() + TimeDelta::hours(1))
        .expect("later");
    assert_eq!(later[0].active_sessions, 0);
}
on_both_backends!(users_are_listed_by_name_in_byte_order_with_their_open_sessions);

fn a_disabled_account_reads_as_disabled_until_enabled_again<S: AccountStore + ?Sized>(
    store: &mut S,
) {
    let alice = add_user(store, "alice", Role::Editor);
    store
        .insert_session(&session_row("h", alice, t0()))
        .expect("session");
    assert!(store.set_user_disabled("alice", true).expect("disable"));
    assert!(!store.set_user_disabled("carol", true).expect("no carol"));
    let creds = store
        .user_credentials("alice")
        .expect("query")
        .expect("alice");
    assert!(creds.disabled);
    let session = store.session("h").expect("query").expect("kept");
    assert!(session.disabled, "the session's user is disabled");
    assert!(store.users(None, t0()).expect("users")[0].disabled);
    assert!(store.set_user_disabled("alice", false).expect("enable"));
    assert!(!store.session("h").expect("query").expect("kept").disabled);
}
on_both_backends!(a_disabled_account_reads_as_disabled_until_enabled_again);

fn a_new_password_replaces_the_hash_and_ends_every_session<S: AccountStore + ?Sized>(
    store: &mut S,
) {
    let alice = add_user(store, "alice", Role::Editor);
    let bob = add_user(store, "bob", Role::Editor);
    for hash in ["a1", "a2"] {
        store
            .insert_session(&session_row(hash, alice, t0()))
            .expect("session");
    }
    store
        .insert_session(&session_row("b1", bob, t0()))
        .expect("session");
    let at = t0() + TimeDelta::days(1);
    assert_eq!(
        store
            .set_password_hash(alice, "$argon2id$new", at)
            .expect("passwd"),
        2
    );
    let creds = store
        .user_credentials("alice")
        .expect("query")
        .expect("alice");
    assert_eq!(creds.password_hash, "$argon2id$new");
    let info = &store.users(Some("alice"), at).expect("alice")[0];
    assert_eq!(info.password_changed_at, "2025-06-21T10:30:00+08:00");
    assert_eq!(info.created_at, "2025-06-20T10:30:00+08:00");
    assert!(store.session("a1").expect("query").is_none());
    assert!(store.session("a2").expect("query").is_none());
    assert!(store.session("b1").expect("query").is_some(), "bob's stays");
    assert_eq!(
        store
            .set_password_hash(999_999, "$argon2id$x", at)
            .expect("nobody"),
        0
    );
}
on_both_backends!(a_new_password_replaces_the_hash_and_ends_every_session);

fn deleting_a_user_ends_their_sessions_and_the_audit_log_keeps_the_name<
    S: AccountStore + ?Sized,
>(
    store: &mut S,
) {
    let bob = add_user(store, "bob", Role::Admin);
    let alice = add_user(store, "alice", Role::Editor);
    store
        .insert_session(&session_row("b1", bob, t0()))
        .expect("session");
    store
        .insert_session(&session_row("b2", bob, t0()))
        .expect("session");
    store
        .insert_session(&session_row("a1", alice, t0()))
        .expect("session");
    store
        .record_audit(
            &AuditEntry {
                user_name: "bob",
                action: "approve",
                item_id: Some(7),
                ..AuditEntry::default()
            },
            t0(),
        )
        .expect("audit");
    assert_eq!(store.delete_user(bob).expect("delete"), 2);
    assert_eq!(store.user_id("bob").expect("query"), None);
    assert!(store.session("b1").expect("query").is_none());
    assert_eq!(store.session_count().expect("count"), 1);
    let kept = store.audit_entries(&AuditQuery::default()).expect("audit");
    assert_eq!(kept[0].user_name, "bob");
    // The name is free again.
    let again = add_user(store, "bob", Role::Editor);
    assert_ne!(again, bob);
    assert_eq!(store.delete_user(999_999).expect("nobody"), 0);
}
on_both_backends!(deleting_a_user_ends_their_sessions_and_the_audit_log_keeps_the_name);

// --- sessions ---------------------------------------------------------------

fn a_session_is_found_by_its_token_hash_with_its_user<S: AccountStore + ?Sized>(store: &mut S) {
    let alice = add_user(store, "alice", Role::Admin);
    assert!(store.session("h").expect("query").is_none());
    store
        .insert_session(&session_row("h", alice, t0()))
        .expect("session");
    let s = store.session("h").expect("query").expect("the session");
    assert_eq!(s.user_id, alice);
    assert_eq!(s.name, "alice");
    assert_eq!(s.role, Role::Admin);
    assert!(!s.disabled);
    assert_eq!(s.csrf_token, "csrf-of-the-session");
    assert_eq!(s.idle_secs, 3600);
    let at = |t: DateTime<Utc>| Some(t.fixed_offset());
    assert_eq!(s.expires_at, at(t0() + TimeDelta::hours(1)));
    assert_eq!(s.max_expires_at, at(t0() + TimeDelta::hours(3)));
    assert_eq!(s.last_seen_at, at(t0()), "seen when it began");
    assert_eq!(
        s.expires_at.map(|t| t.to_rfc3339()),
        Some("2025-06-20T11:30:00+08:00".to_string()),
        "in Beijing time"
    );
    assert!(store.session("H").expect("query").is_none(), "exact key");
}
on_both_backends!(a_session_is_found_by_its_token_hash_with_its_user);

fn touching_a_session_renews_its_expiry_and_last_seen<S: AccountStore + ?Sized>(store: &mut S) {
    let alice = add_user(store, "alice", Role::Editor);
    store
        .insert_session(&session_row("h", alice, t0()))
        .expect("session");
    store
        .insert_session(&session_row("other", alice, t0()))
        .expect("session");
    let seen = t0() + minutes(40);
    store
        .touch_session("h", seen, seen + TimeDelta::hours(1))
        .expect("touch");
    let s = store.session("h").expect("query").expect("the session");
    assert_eq!(s.last_seen_at, Some(seen.fixed_offset()));
    assert_eq!(
        s.expires_at,
        Some((seen + TimeDelta::hours(1)).fixed_offset())
    );
    assert_eq!(
        s.max_expires_at,
        Some((t0() + TimeDelta::hours(3)).fixed_offset()),
        "the absolute limit stays"
    );
    let other = store.session("other").expect("query").expect("other");
    assert_eq!(other.last_seen_at, Some(t0().fixed_offset()), "untouched");
    // Touching a session that is gone is no error.
    store
        .touch_session("gone", seen, seen + TimeDelta::hours(1))
        .expect("touch nothing");
    assert_eq!(store.session_count().expect("count"), 2);
}
on_both_backends!(touching_a_session_renews_its_expiry_and_last_seen);

fn a_purge_deletes_only_the_sessions_expired_by_then<S: AccountStore + ?Sized>(store: &mut S) {
    let alice = add_user(store, "alice", Role::Editor);
    store
        .insert_session(&session_row("early", alice, t0()))
        .expect("session");
    store
        .insert_session(&session_row("late", alice, t0() + TimeDelta::hours(6)))
        .expect("session");
    // Expiring exactly now counts as expired.
    assert_eq!(
        store
            .delete_expired_sessions(t0() + TimeDelta::hours(1))
            .expect("purge"),
        1
    );
    assert_eq!(store.session_count().expect("count"), 1);
    assert!(store.session("late").expect("query").is_some());
    assert_eq!(
        store
            .delete_expired_sessions(t0() + TimeDelta::hours(1))
            .expect("again"),
        0
    );
    // Across a day boundary in Beijing time (16:00 UTC): text order is
    // still time order.
    assert_eq!(
        store
            .delete_expired_sessions(t0() + TimeDelta::hours(20))
            .expect("purge"),
        1
    );
    assert_eq!(store.session_count().expect("count"), 0);
}
on_both_backends!(a_purge_deletes_only_the_sessions_expired_by_then);

fn logging_out_deletes_one_session_and_revoking_all_every_one_of_the_user<
    S: AccountStore + ?Sized,
>(
    store: &mut S,
) {
    let alice = add_user(store, "alice", Role::Editor);
    let bob = add_user(store, "bob", Role::Editor);
    for (hash, user) in [("a1", alice), ("a2", alice), ("b1", bob), ("b2", bob)] {
        store
            .insert_session(&session_row(hash, user, t0()))
            .expect("session");
    }
    assert!(store.delete_session("a1").expect("logout"));
    assert!(!store.delete_session("a1").expect("again"));
    assert!(store.session("a2").expect("query").is_some());
    assert_eq!(store.delete_user_sessions(bob).expect("revoke all"), 2);
    assert_eq!(store.delete_user_sessions(bob).expect("again"), 0);
    assert_eq!(store.session_count().expect("count"), 1);
    let users = store.users(None, t0()).expect("users");
    let open: Vec<i64> = users.iter().map(|u| u.active_sessions).collect();
    assert_eq!(open, [1, 0]);
}
on_both_backends!(logging_out_deletes_one_session_and_revoking_all_every_one_of_the_user);

// --- the audit log ------------------------------------------------------------

fn audit_entries_come_back_newest_first_and_filtered<S: AccountStore + ?Sized>(store: &mut S) {
    let entry = |user, action, item, before, after| AuditEntry {
        user_name: user,
        action,
        item_id: Some(item),
        story_id: None,
        before: Some(before),
        after: Some(after),
        detail: None,
    };
    assert!(
        store
            .audit_entries(&AuditQuery::default())
            .expect("empty")
            .is_empty()
    );
    let first = store
        .record_audit(
            &entry("alice", "approve", 1, "candidate", "approved"),
            t0() + minutes(2),
        )
        .expect("1");
    // Recorded later, but an earlier time: the log is by time.
    let second = store
        .record_audit(&entry("bob", "reject", 2, "candidate", "rejected"), t0())
        .expect("2");
    let third = store
        .record_audit(
            &AuditEntry {
                story_id: Some(9),
                detail: Some("merged into story 9"),
                ..entry("alice", "retitle", 1, "旧标题", "新标题")
            },
            t0() + minutes(2),
        )
        .expect("3");
    let fourth = store
        .record_audit(
            &AuditEntry {
                user_name: "alice",
                action: "login",
                ..AuditEntry::default()
            },
            t0() + minutes(1),
        )
        .expect("4");
    assert!(
        first < second && second < third && third < fourth,
        "ids grow"
    );

    let all = store.audit_entries(&AuditQuery::default()).expect("all");
    let order: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        order,
        ["retitle", "approve", "login", "reject"],
        "newest first; within a second, the last recorded first"
    );
    let retitle = &all[0];
    assert_eq!(retitle.id, third);
    assert_eq!(retitle.at, "2025-06-20T10:32:00+08:00");
    assert_eq!(retitle.user_name, "alice");
    assert_eq!(retitle.item_id, Some(1));
    assert_eq!(retitle.story_id, Some(9));
    assert_eq!(retitle.before.as_deref(), Some("旧标题"));
    assert_eq!(retitle.after.as_deref(), Some("新标题"));
    assert_eq!(retitle.detail.as_deref(), Some("merged into story 9"));
    let login = &all[2];
    assert_eq!(
        (login.item_id, login.story_id, login.before.as_deref()),
        (None, None, None)
    );

    let query = |user: Option<&str>, item_id: Option<i64>, limit: usize| {
        store
            .audit_entries(&AuditQuery {
                limit,
                user: user.map(str::to_string),
                item_id,
            })
            .expect("query")
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(query(Some("alice"), None, 100), [third, first, fourth]);
    assert_eq!(query(None, Some(1), 100), [third, first]);
    assert_eq!(query(Some("bob"), Some(2), 100), [second]);
    assert_eq!(query(Some("bob"), Some(1), 100), Vec::<i64>::new());
    assert_eq!(query(Some("carol"), None, 100), Vec::<i64>::new());
    assert_eq!(query(None, None, 2), [third, first]);
    assert_eq!(query(Some("alice"), None, 1), [third]);
    assert_eq!(query(None, None, 0), Vec::<i64>::new());
    assert_eq!(
        query(None, None, usize::MAX).len(),
        4,
        "no limit to speak of"
    );
}
on_both_backends!(audit_entries_come_back_newest_first_and_filtered);

// --- issues -------------------------------------------------------------------

/// Section ids in bulletin order, as the configuration gives them.
fn sections() -> Vec<String> {
    ["focus", "regional", "opinion", "abroad"]
        .map(String::from)
        .to_vec()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// An article of source `demo`; `date` is `YYYY-MM-DD HH:MM` Beijing time,
/// or empty for an article without a date.
fn article(slug: &str, section: Option<&str>, date: &str) -> NewItem {
    let text = format!("第 {slug} 条消息的正文，讲的是这一件事情，与别条不同。");
    NewItem {
        source_id: "demo".into(),
        guid: None,
        url: format!("https://www.example.gov.cn/{slug}.html"),
        canonical_url: format!("http://example.gov.cn/{slug}.html"),
        title: format!("消息 {slug}"),
        content_html: sanitize_html(
            &format!("<p>{text}</p>"),
            &Url::parse("https://www.example.gov.cn/").expect("base"),
        ),
        content_text: text,
        content_hash: format!("hash-{slug}"),
        origin: "新华社".into(),
        section: section.map(str::to_string),
        region: None,
        published: (!date.is_empty()).then(|| {
            DateTime::parse_from_rfc3339(&format!("{}:00+08:00", date.replace(' ', "T")))
                .expect("date")
        }),
        bulletin_title: None,
        relevance: None,
        explanation: None,
    }
}

fn demo_source() -> Source {
    Source {
        id: "demo".into(),
        name: "示例来源".into(),
        url: Url::parse("http://127.0.0.1:9/list.xml").expect("url"),
        kind: SourceKind::Feed,
        encoding: EncodingChoice::Auto,
        interval: Duration::from_secs(1800),
        region: None,
        section: None,
        enabled: true,
        list: None,
        json: None,
        article: None,
    }
}

/// Stores `item` in a story of its own, approved as an editor would, then
/// gives it `status`; returns (story, item).
fn add<S: ItemStore + IssueStore + ?Sized>(
    store: &mut S,
    item: &NewItem,
    status: Status,
) -> (i64, i64) {
    let cfg = DedupConfig {
        enabled: false,
        ..DedupConfig::default()
    };
    let story = prepare_story(item, Utc::now(), &cfg);
    let id = store
        .save_item(item, Status::Candidate, &story, &mut |_| Ok(None))
        .expect("save")
        .id();
    store
        .set_status_by(id, Status::Approved, Some("editor"))
        .expect("approve");
    // A free approved story until it goes into an issue: found there.
    let story = store
        .free_stories(&[])
        .expect("free")
        .iter()
        .find(|e| e.item_id == id)
        .map(|e| e.story_id)
        .expect("the new story is free");
    if status != Status::Approved {
        store.set_status(id, status).expect("status");
    }
    (story, id)
}

/// Ten approved stories, filed as: focus 2, regional 5, opinion 2,
/// abroad 1, dated so that within a section the slug order is date
/// order; stored out of that order. Returns the stories by slug.
fn ten_stories<S: ItemStore + IssueStore + ?Sized>(store: &mut S) -> Vec<i64> {
    store.sync_sources(&[demo_source()]).expect("sources");
    let plan = [
        ("f1", "focus", "2025-06-10 08:00"),
        ("f2", "focus", "2025-06-12 08:00"),
        ("r1", "regional", "2025-06-01 08:00"),
        ("r2", "regional", "2025-06-02 08:00"),
        ("r3", "regional", "2025-06-11 09:30"),
        ("r4", "regional", "2025-06-11 10:00"),
        ("r5", "regional", "2025-06-18 08:00"),
        ("o1", "opinion", "2025-06-03 08:00"),
        ("o2", "opinion", "2025-06-19 08:00"),
        ("a1", "abroad", "2025-06-05 08:00"),
    ];
    let mut stories = vec![0; plan.len()];
    // Stored in reverse, so ids do not give the order away.
    for (i, (slug, section, date)) in plan.iter().enumerate().rev() {
        stories[i] = add(store, &article(slug, Some(section), date), Status::Approved).0;
    }
    stories
}

fn story_ids<S: IssueStore + ?Sized>(store: &S, number: &str) -> Vec<i64> {
    store
        .issue(number, &sections())
        .expect("issue")
        .entries
        .iter()
        .map(|e| e.story_id)
        .collect()
}

fn a_new_issue_holds_every_approved_story_by_section_in_bulletin_order_then_by_date<
    S: ItemStore + IssueStore + ?Sized,
>(
    store: &mut S,
) {
    let stories = ten_stories(store);
    let (candidate, _) = add(
        store,
        &article("cand", Some("focus"), "2025-06-15 08:00"),
        Status::Candidate,
    );
    let (rejected, _) = add(
        store,
        &article("rej", Some("focus"), "2025-06-15 09:00"),
        Status::Rejected,
    );
    let free = store.free_stories(&sections()).expect("free");
    assert_eq!(
        free.iter().map(|e| e.story_id).collect::<Vec<_>>(),
        stories,
        "what a new draft would take"
    );

    let info = store
        .create_issue("202509", day(2025, 6, 20), &sections())
        .expect("create");
    assert_eq!(info.number, "202509");
    assert_eq!(info.date, day(2025, 6, 20));
    assert_eq!(info.status, IssueStatus::Draft);
    assert_eq!(info.stories, 10);
    assert_eq!(info.published_at, None);
    assert!(info.created_at.ends_with("+08:00"), "{}", info.created_at);
    assert_eq!(info.updated_at, info.created_at);

    let detail = store.issue("202509", &sections()).expect("issue");
    assert_eq!(
        detail
            .entries
            .iter()
            .map(|e| e.story_id)
            .collect::<Vec<_>>(),
        stories,
        "by section in bulletin order, by date within a section"
    );
    assert_eq!(
        detail
            .entries
            .iter()
            .map(|e| e.position)
            .collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert!(!story_ids(store, "202509").contains(&candidate));
    assert!(!story_ids(store, "202509").contains(&rejected));
    let first = &detail.entries[0];
    assert_eq!(first.title, "消息 f1");
    assert_eq!(first.origin, "新华社");
    assert_eq!(first.section.as_deref(), Some("focus"));
    assert_eq!(first.url, "https://www.example.gov.cn/f1.html");
    assert_eq!(
        first.published.as_deref(),
        Some("2025-06-10T08:00:00+08:00")
    );
    assert_eq!(first.status, Status::Approved);
    assert!(store.free_stories(&sections()).expect("free").is_empty());
    // The same with other section orders: sections group as asked.
    let reversed: Vec<String> = sections().into_iter().rev().collect();
    let other = store.issue("202509", &reversed).expect("issue");
    let order: Vec<&str> = other
        .entries
        .iter()
        .filter_map(|e| e.section.as_deref())
        .collect();
    assert_eq!(order[0], "abroad");
    assert_eq!(order[9], "focus");
}
on_both_backends!(a_new_issue_holds_every_approved_story_by_section_in_bulletin_order_then_by_date);

fn a_second_issue_holds_only_the_stories_approved_since_and_unsectioned_ones_last<
    S: ItemStore + IssueStore + ?Sized,
>(
    store: &mut S,
) {
    ten_stories(store);
    let (candidate, _) = add(
        store,
        &article("cand", Some("focus"), "2025-06-15 08:00"),
        Status::Candidate,
    );
    store
        .create_issue("202509", day(2025, 6, 20), &sections())
        .expect("first");
    let (loose, _) = add(
        store,
        &article("loose", None, "2025-06-21 08:00"),
        Status::Approved,
    );
    let (unknown, _) = add(
        store,
        &article("gone", Some("no-longer-configured"), "2025-06-20 08:00"),
        Status::Approved,
    );
    let (abroad, _) = add(
        store,
        &article("abroad", Some("abroad"), "2025-06-25 08:00"),
        Status::Approved,
    );
    let (focus, _) = add(
        store,
        &article("focus", Some("focus"), "2025-06-28 08:00"),
        Status::Approved,
    );
    // No date of its own: filed by when it was first seen (now), last.
    let (undated, _) = add(
        store,
        &article("undated", Some("focus"), ""),
        Status::Approved,
    );
    let (rejected, _) = add(
        store,
        &article("rej", Some("focus"), "2025-06-22 08:00"),
        Status::Rejected,
    );

    let info = store
        .create_issue("202510", day(2025, 7, 4), &sections())
        .expect("second");
    assert_eq!(info.stories, 5);
    assert_eq!(
        story_ids(store, "202510"),
        [focus, undated, abroad, unknown, loose],
        "sections in bulletin order, others last by date"
    );
    assert!(!story_ids(store, "202510").contains(&candidate));
    assert!(!story_ids(store, "202510").contains(&rejected));

    // A third issue with nothing new approved is empty, not a repeat.
    let info = store
        .create_issue("202511", day(2025, 7, 18), &sections())
        .expect("third");
    assert_eq!(info.stories, 0);
    assert!(story_ids(store, "202511").is_empty());

    let list = store.issues().expect("list");
    let numbers: Vec<(&str, i64, IssueStatus)> = list
        .iter()
        .map(|i| (i.number.as_str(), i.stories, i.status))
        .collect();
    assert_eq!(
        numbers,
        [
            ("202511", 0, IssueStatus::Draft),
            ("202510", 5, IssueStatus::Draft),
            ("202509", 10, IssueStatus::Draft)
        ],
        "newest first"
    );
    assert_eq!(list[1].date, day(2025, 7, 4));
}
on_both_backends!(a_second_issue_holds_only_the_stories_approved_since_and_unsectioned_ones_last);

fn issue_numbers_must_be_six_digits_and_unique<S: ItemStore + IssueStore + ?Sized>(store: &mut S) {
    ten_stories(store);
    let s = sections();
    for bad in ["2025", "2025-09", "../etc", "２０２５０９", "2025090"] {
        assert!(
            matches!(
                store.create_issue(bad, day(2025, 6, 20), &s),
                Err(StoreError::InvalidIssueNumber(_))
            ),
            "{bad}"
        );
    }
    store
        .create_issue("202509", day(2025, 6, 20), &s)
        .expect("create");
    let again = store.create_issue("202509", day(2025, 6, 21), &s);
    assert!(
        matches!(again, Err(StoreError::DuplicateIssue(_))),
        "{again:?}"
    );
    assert_eq!(
        store.issue("202509", &s).expect("issue").info.date,
        day(2025, 6, 20),
        "the first stands"
    );
    assert!(matches!(
        store.issue("202599", &s),
        Err(StoreError::NoSuchIssue(_))
    ));
    for result in [
        store.publish_issue("202599").map(|_| ()),
        store.unpublish_issue("202599").map(|_| ()),
        store.delete_issue("202599"),
        store.set_issue_date("202599", day(2025, 1, 1)),
    ] {
        assert!(
            matches!(result, Err(StoreError::NoSuchIssue(_))),
            "{result:?}"
        );
    }
    assert_eq!(store.issues().expect("list").len(), 1);
}
on_both_backends!(issue_numbers_must_be_six_digits_and_unique);

fn edits_add_remove_and_move_stories_as_asked_within_their_sections<
    S: ItemStore + IssueStore + ?Sized,
>(
    store: &mut S,
) {
    let draft = ten_stories(store);
    let s = sections();
    store
        .create_issue("202509", day(2025, 6, 20), &s)
        .expect("create");
    assert_eq!(story_ids(store, "202509"), draft);
    // focus: 0 1 | regional: 2…6 | opinion: 7 8 | abroad: 9

    // Remove, then add back: it returns at the end of its section.
    let first_regional = draft[2];
    store
        .issue_remove("202509", first_regional, &s)
        .expect("remove");
    assert_eq!(story_ids(store, "202509").len(), 9);
    assert_eq!(
        store.free_stories(&s).expect("free")[0].story_id,
        first_regional,
        "free again"
    );
    let at = store
        .issue_add("202509", first_regional, &s)
        .expect("add back");
    assert_eq!(at, 7, "last of regional");
    let now = story_ids(store, "202509");
    assert_eq!(now[6], first_regional);
    assert_eq!(&now[2..6], &draft[3..7]);

    // Move within a section.
    let moved = store.issue_move("202509", draft[8], 8, &s).expect("move");
    assert_eq!(moved, 8);
    assert_eq!(story_ids(store, "202509")[7..9], [draft[8], draft[7]]);

    // Past the start of its section: first in its section, not in another.
    let moved = store
        .issue_move("202509", first_regional, 1, &s)
        .expect("move");
    assert_eq!(moved, 3);
    let now = story_ids(store, "202509");
    assert_eq!(now[..3], [draft[0], draft[1], first_regional]);
    // Past the end of its section: last there.
    let moved = store.issue_move("202509", draft[0], 10, &s).expect("move");
    assert_eq!(moved, 2);
    store.issue_move("202509", draft[0], 1, &s).expect("back");

    // Past the end of the issue: refused, nothing changed.
    for position in [0, 11] {
        let refused = store.issue_move("202509", draft[0], position, &s);
        assert!(
            matches!(refused, Err(StoreError::BadPosition { len: 10, .. })),
            "{refused:?}"
        );
    }
    assert_eq!(story_ids(store, "202509"), now);

    // Several edits at once apply together or not at all.
    let edits = IssueEdits {
        remove: vec![draft[9]],
        add: vec![999_999],
        date: Some(day(2030, 1, 1)),
        ..IssueEdits::default()
    };
    assert!(matches!(
        store.edit_issue("202509", &edits, &s),
        Err(StoreError::NoSuchStory(999_999))
    ));
    assert_eq!(story_ids(store, "202509"), now, "nothing applied");
    assert_eq!(
        store.issue("202509", &s).expect("issue").info.date,
        day(2025, 6, 20)
    );
    // Removals come before moves: a move counts in the shorter issue.
    let edits = IssueEdits {
        remove: vec![draft[9]],
        moves: vec![(draft[8], 10)],
        ..IssueEdits::default()
    };
    assert!(matches!(
        store.edit_issue("202509", &edits, &s),
        Err(StoreError::BadPosition {
            position: 10,
            len: 9,
            ..
        })
    ));
    assert_eq!(story_ids(store, "202509"), now, "nothing applied");
    assert_eq!(now[7..9], [draft[8], draft[7]]);
    let edits = IssueEdits {
        remove: vec![draft[9]],
        moves: vec![(draft[8], 9)],
        ..IssueEdits::default()
    };
    let edited = store.edit_issue("202509", &edits, &s).expect("edit");
    let expected = [&now[..7], &[draft[7], draft[8]]].concat();
    assert_eq!(edited.info.stories, 9);
    assert_eq!(
        edited
            .entries
            .iter()
            .map(|e| e.story_id)
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        edited
            .entries
            .iter()
            .map(|e| e.position)
            .collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    assert_eq!(story_ids(store, "202509"), expected);

    // A story is in one issue at most; only approved stories go in.
    store
        .create_issue("202510", day(2025, 7, 4), &s)
        .expect("second");
    assert_eq!(story_ids(store, "202510"), [draft[9]], "the one removed");
    match store.issue_add("202510", draft[0], &s) {
        Err(StoreError::StoryInIssue { story, issue }) => {
            assert_eq!((story, issue.as_str()), (draft[0], "202509"));
        }
        other => panic!("expected StoryInIssue, got {other:?}"),
    }
    let (candidate, _) = add(
        store,
        &article("cand", Some("focus"), "2025-06-30 08:00"),
        Status::Candidate,
    );
    match store.issue_add("202510", candidate, &s) {
        Err(StoreError::StoryNotApproved { story, status }) => {
            assert_eq!((story, status.as_str()), (candidate, "candidate"));
        }
        other => panic!("expected StoryNotApproved, got {other:?}"),
    }
    assert!(matches!(
        store.issue_remove("202510", draft[0], &s),
        Err(StoreError::StoryNotInIssue { .. })
    ));
    assert!(matches!(
        store.issue_move("202510", draft[0], 1, &s),
        Err(StoreError::StoryNotInIssue { .. })
    ));

    store
        .set_issue_date("202509", day(2025, 6, 21))
        .expect("date");
    assert_eq!(
        store.issue("202509", &s).expect("issue").info.date,
        day(2025, 6, 21)
    );
}
on_both_backends!(edits_add_remove_and_move_stories_as_asked_within_their_sections);

fn a_published_issue_cannot_be_edited_until_unpublished<S: ItemStore + IssueStore + ?Sized>(
    store: &mut S,
) {
    ten_stories(store);
    let s = sections();
    store
        .create_issue("202509", day(2025, 6, 20), &s)
        .expect("create");
    let ids = story_ids(store, "202509");
    let info = store.publish_issue("202509").expect("publish");
    assert_eq!(info.status, IssueStatus::Published);
    let published_at = info.published_at.clone().expect("published at");
    assert!(published_at.ends_with("+08:00"), "{published_at}");
    assert_eq!(info.updated_at, published_at);
    let again = store.publish_issue("202509").expect("publish again");
    assert_eq!(again.published_at.as_deref(), Some(published_at.as_str()));

    let (later, _) = add(
        store,
        &article("later", Some("focus"), "2025-06-28 08:00"),
        Status::Approved,
    );
    for result in [
        store.issue_remove("202509", ids[0], &s).map(|_| ()),
        store.issue_add("202509", later, &s).map(|_| ()),
        store.issue_move("202509", ids[1], 1, &s).map(|_| ()),
        store.set_issue_date("202509", day(2025, 7, 1)),
        store.delete_issue("202509"),
    ] {
        assert!(
            matches!(result, Err(StoreError::IssuePublished(_))),
            "{result:?}"
        );
    }
    assert_eq!(story_ids(store, "202509"), ids);

    let info = store.unpublish_issue("202509").expect("unpublish");
    assert_eq!(info.status, IssueStatus::Draft);
    assert_eq!(info.published_at, None);
    let still = store.unpublish_issue("202509").expect("a draft stays");
    assert_eq!(still.status, IssueStatus::Draft);
    assert_eq!(
        store
            .issue_move("202509", ids[1], 1, &s)
            .expect("a draft again"),
        1
    );

    // Deleting a draft frees its stories for the next one.
    store.delete_issue("202509").expect("delete");
    assert!(matches!(
        store.issue("202509", &s),
        Err(StoreError::NoSuchIssue(_))
    ));
    let info = store
        .create_issue("202509", day(2025, 6, 20), &s)
        .expect("again");
    assert_eq!(info.stories, 11);
}
on_both_backends!(a_published_issue_cannot_be_edited_until_unpublished);

fn an_issue_is_published_only_when_every_story_in_it_is_still_approved<
    S: ItemStore + IssueStore + ?Sized,
>(
    store: &mut S,
) {
    ten_stories(store);
    let s = sections();
    store
        .create_issue("202509", day(2025, 6, 20), &s)
        .expect("create");
    let detail = store.issue("202509", &s).expect("issue");
    // An editor rejects two stories after they were drafted.
    let (fourth, seventh) = (&detail.entries[3], &detail.entries[6]);
    store
        .set_status_by(seventh.item_id, Status::Rejected, Some("editor"))
        .expect("reject");
    store
        .set_status_by(fourth.item_id, Status::Rejected, Some("editor"))
        .expect("reject");
    let now = store.issue("202509", &s).expect("issue");
    assert_eq!(
        now.entries[3].status,
        Status::Rejected,
        "shown as it is now"
    );
    assert_eq!(now.info.stories, 10, "still in the draft");
    match store.publish_issue("202509") {
        Err(StoreError::StoryNotApproved { story, status }) => {
            assert_eq!(story, fourth.story_id, "the first in print order");
            assert_eq!(status, "rejected");
        }
        other => panic!("expected StoryNotApproved, got {other:?}"),
    }
    assert_eq!(
        store.issue("202509", &s).expect("issue").info.status,
        IssueStatus::Draft
    );
    store
        .create_issue("202510", day(2025, 7, 4), &s)
        .expect("empty");
    assert!(matches!(
        store.publish_issue("202510"),
        Err(StoreError::EmptyIssue(_))
    ));
    // Approved again, it goes out.
    for e in [fourth, seventh] {
        store
            .set_status_by(e.item_id, Status::Approved, Some("editor"))
            .expect("approve");
    }
    assert_eq!(
        store.publish_issue("202509").expect("publish").status,
        IssueStatus::Published
    );
}
on_both_backends!(an_issue_is_published_only_when_every_story_in_it_is_still_approved);

fn an_issue_prints_the_bulletin_title_and_the_sources_name_when_the_article_names_none<
    S: ItemStore + IssueStore + ?Sized,
>(
    store: &mut S,
) {
    store.sync_sources(&[demo_source()]).expect("sources");
    let titled = NewItem {
        bulletin_title: Some("南京：消息 titled".into()),
        ..article("titled", Some("regional"), "2025-06-01 08:00")
    };
    let (_, titled_item) = add(store, &titled, Status::Approved);
    let unnamed = NewItem {
        origin: "  ".into(),
        ..article("unnamed", Some("regional"), "2025-06-02 08:00")
    };
    add(store, &unnamed, Status::Approved);
    let elsewhere = NewItem {
        origin: String::new(),
        source_id: "unsynced".into(),
        ..article("elsewhere", Some("regional"), "2025-06-03 08:00")
    };
    add(store, &elsewhere, Status::Approved);
    store
        .create_issue("202509", day(2025, 6, 20), &sections())
        .expect("create");
    let entries = store.issue("202509", &sections()).expect("issue").entries;
    let shown: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.title.as_str(), e.origin.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("南京：消息 titled", "新华社"),
            ("消息 unnamed", "示例来源"),
            ("消息 elsewhere", "unsynced"),
        ]
    );
    assert_eq!(entries[0].item_id, titled_item);
    let html = store.item_html(titled_item).expect("html");
    assert!(html.contains("第 titled 条消息的正文"), "{html}");
    assert!(store.item_html(999_999).is_err(), "no such item");
}
on_both_backends!(
    an_issue_prints_the_bulletin_title_and_the_sources_name_when_the_article_names_none
);

// --- many processes on one PostgreSQL database ----------------------------------

/// `n` stores on one fresh database, each its own connection, as `n`
/// kuaibao processes would be; `None` when the test skips.
fn shared_postgres(test: &str, n: usize) -> Option<(support::pg_server::TestDb, Vec<PgStore>)> {
    let db = support::pg_server::database(test)?;
    let stores = (0..n)
        .map(|_| PgStore::connect(&db.url).expect("connect"))
        .collect();
    Some((db, stores))
}

/// Runs `work(i, store)` on every store at once (released together by a
/// barrier); the answers in store order.
fn at_once<T: Send>(
    stores: &mut [PgStore],
    work: impl Fn(usize, &mut PgStore) -> T + Sync,
) -> Vec<T> {
    let barrier = Barrier::new(stores.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter_mut()
            .enumerate()
            .map(|(i, store)| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    work(i, store)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    })
}

#[test]
fn drafts_created_at_once_by_several_processes_never_share_a_story() {
    let Some((_db, mut stores)) = shared_postgres("drafts_created_at_once", 4) else {
        return;
    };
    stores[0].sync_sources(&[demo_source()]).expect("sources");
    let mut all = Vec::new();
    for i in 0..40 {
        let date = format!("2025-06-{:02} 08:00", i % 28 + 1);
        all.push(
            add(
                &mut stores[0],
                &article(&format!("s{i}"), Some("focus"), &date),
                Status::Approved,
            )
            .0,
        );
    }
    let created = at_once(&mut stores, |i, store| {
        store
            .create_issue(&format!("2025{:02}", i + 10), day(2025, 7, 1), &sections())
            .expect("create")
            .stories
    });
    assert_eq!(created.iter().sum::<i64>(), 40, "{created:?}");
    let mut held: Vec<i64> = (0..4)
        .flat_map(|i| story_ids(&stores[0], &format!("2025{:02}", i + 10)))
        .collect();
    held.sort_unstable();
    all.sort_unstable();
    assert_eq!(held, all, "every story in exactly one issue");
}

#[test]
fn one_story_added_to_several_drafts_at_once_lands_in_one() {
    let Some((_db, mut stores)) = shared_postgres("one_story_added_at_once", 4) else {
        return;
    };
    stores[0].sync_sources(&[demo_source()]).expect("sources");
    for i in 0..4 {
        stores[0]
            .create_issue(&format!("2025{:02}", i + 10), day(2025, 7, 1), &sections())
            .expect("empty draft");
    }
    let (story, _) = add(
        &mut stores[0],
        &article("contested", Some("focus"), "2025-06-01 08:00"),
        Status::Approved,
    );
    let added = at_once(&mut stores, |i, store| {
        store.issue_add(&format!("2025{:02}", i + 10), story, &sections())
    });
    let won: Vec<usize> = added
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.is_ok().then_some(i))
        .collect();
    assert_eq!(won.len(), 1, "{added:?}");
    for r in &added {
        if let Err(e) = r {
            assert!(matches!(e, StoreError::StoryInIssue { .. }), "{e}");
        }
    }
}

#[test]
fn one_name_added_by_several_processes_at_once_is_one_account() {
    let Some((_db, mut stores)) = shared_postgres("one_name_at_once", 4) else {
        return;
    };
    let ids = at_once(&mut stores, |_, store| {
        store
            .insert_user("alice", Role::Editor, "$argon2id$x", t0())
            .expect("no error, taken or not")
    });
    assert_eq!(ids.iter().flatten().count(), 1, "{ids:?}");
    assert_eq!(stores[0].users(None, t0()).expect("users").len(), 1);
}
