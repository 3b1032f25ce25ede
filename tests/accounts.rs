//! The desk's security layer: passwords, login limits, sessions, CSRF, the
//! cookie and the audit log through the library, and `kuaibao user` and
//! `kuaibao audit` through the binary.

use crate::common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use common::TestConfig;
use kuaibao::accounts::{
    self, AccountError, AuditEntry, AuditQuery, LimiterConfig, LoginLimiter, LoginRequest, Role,
    SessionPolicy,
};
use kuaibao::store::Store;

const PASSWORD: &str = "correct horse battery";

fn db() -> Store {
    Store::open_in_memory().expect("open")
}

/// A limiter on a clock the test moves by hand (whole seconds).
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn limiter(config: LimiterConfig) -> (LoginLimiter, Clock) {
        let secs = Arc::new(AtomicI64::new(1_750_000_000));
        let read = secs.clone();
        let limiter = LoginLimiter::with_clock(config, move || {
            DateTime::from_timestamp(read.load(Ordering::SeqCst), 0).unwrap_or_default()
        });
        (limiter, Clock(secs))
    }

    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0.load(Ordering::SeqCst), 0).unwrap_or_default()
    }
}

fn with_alice() -> Store {
    let conn = db();
    accounts::add_user(&conn, "alice", Role::Editor, PASSWORD).expect("add alice");
    conn
}

fn stored_hash(conn: &Store, name: &str) -> String {
    conn.user_credentials(name)
        .expect("query")
        .expect("a user")
        .password_hash
}

fn session_count(conn: &Store) -> i64 {
    conn.session_count().expect("count")
}

/// What the store keys a session by.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn passwords_are_stored_as_argon2id_phc_strings() {
    let conn = with_alice();
    let hash = stored_hash(&conn, "alice");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    let all = format!("{:?}", accounts::list_users(&conn).expect("users"));
    assert!(!all.contains(PASSWORD));
}

#[test]
fn user_management_refuses_bad_input_with_clear_messages() {
    let conn = with_alice();
    let short = accounts::add_user(&conn, "bob", Role::Editor, "short").expect_err("short");
    assert!(
        short.to_string().contains("at least 8 characters"),
        "{short}"
    );
    let dup = accounts::add_user(&conn, "alice", Role::Admin, PASSWORD).expect_err("duplicate");
    assert!(matches!(dup, AccountError::DuplicateUser(_)));
    assert!(dup.to_string().contains("\"alice\""), "{dup}");
    let bad = accounts::add_user(&conn, "bob smith", Role::Editor, PASSWORD).expect_err("space");
    assert!(
        bad.is_usage() && bad.to_string().contains("whitespace"),
        "{bad}"
    );
    let missing = accounts::set_password(&conn, "carol", PASSWORD).expect_err("missing");
    assert_eq!(missing.to_string(), "no user named \"carol\"");
    assert!(accounts::remove_user(&conn, "carol").is_err());
}

#[test]
fn list_users_shows_roles_and_active_sessions() {
    let conn = with_alice();
    accounts::add_user(&conn, "root", Role::Admin, PASSWORD).expect("add root");
    let limiter = LoginLimiter::default();
    accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.1").expect("login");
    let users = accounts::list_users(&conn).expect("list");
    let summary: Vec<(&str, Role, i64)> = users
        .iter()
        .map(|u| (u.name.as_str(), u.role, u.active_sessions))
        .collect();
    assert_eq!(
        summary,
        [("alice", Role::Editor, 1), ("root", Role::Admin, 0)]
    );
    assert!(users[0].created_at.ends_with("+08:00"));
}

#[test]
fn wrong_password_and_unknown_user_give_the_same_error() {
    let conn = with_alice();
    let limiter = LoginLimiter::default();
    let wrong = accounts::verify_login(&conn, &limiter, "alice", "not the password", "192.0.2.1")
        .expect_err("wrong password");
    let unknown = accounts::verify_login(&conn, &limiter, "mallory", PASSWORD, "192.0.2.1")
        .expect_err("unknown user");
    assert!(matches!(wrong, AccountError::InvalidCredentials));
    assert!(matches!(unknown, AccountError::InvalidCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string());
    let session =
        accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.1").expect("login");
    assert_eq!(
        (session.name.as_str(), session.role),
        ("alice", Role::Editor)
    );
}

#[test]
fn the_sixth_failure_within_the_window_is_refused_until_the_window_passes() {
    let conn = with_alice();
    let (limiter, clock) = Clock::limiter(LimiterConfig::default());
    for n in 0..5 {
        let e = accounts::verify_login(&conn, &limiter, "alice", "guess", &format!("192.0.2.{n}"))
            .expect_err("wrong password");
        assert!(matches!(e, AccountError::InvalidCredentials), "{e}");
        clock.advance(Duration::from_secs(60));
    }
    // Even the right password, and from a fresh address: the account is
    // what is being guessed.
    let refused = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "198.51.100.7")
        .expect_err("rate limited");
    match refused {
        AccountError::RateLimited { retry_after_secs } => {
            // The first failure leaves the 15-minute window 10 minutes on.
            assert_eq!(retry_after_secs, 10 * 60);
        }
        other => panic!("expected RateLimited, got {other}"),
    }
    clock.advance(Duration::from_secs(10 * 60));
    let session = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "198.51.100.7")
        .expect("allowed again after the window");
    assert_eq!(session.name, "alice");
    // A success starts the account afresh: five more failures are allowed.
    for _ in 0..5 {
        let e = accounts::verify_login(&conn, &limiter, "alice", "guess", "198.51.100.7")
            .expect_err("wrong");
        assert!(matches!(e, AccountError::InvalidCredentials), "{e}");
    }
}

#[test]
fn one_address_guessing_many_accounts_is_refused() {
    let conn = with_alice();
    let (limiter, _clock) = Clock::limiter(LimiterConfig::default());
    for n in 0..20 {
        let e = accounts::verify_login(&conn, &limiter, &format!("user{n}"), "guess", "192.0.2.66")
            .expect_err("unknown user");
        assert!(matches!(e, AccountError::InvalidCredentials), "{e}");
    }
    let refused = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.66")
        .expect_err("address limited");
    assert!(
        matches!(refused, AccountError::RateLimited { .. }),
        "{refused}"
    );
    accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.67")
        .expect("another address may log in");
}

#[test]
fn session_tokens_are_stored_only_as_hashes() {
    let conn = with_alice();
    let limiter = LoginLimiter::default();
    let session =
        accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.1").expect("login");
    assert_eq!(session.token.len(), 64);
    assert_ne!(session.token, session.csrf_token);
    let hash = token_hash(&session.token);
    assert_ne!(hash, session.token);
    assert!(
        conn.session(&session.token).expect("query").is_none(),
        "the token is no key"
    );
    let row = conn.session(&hash).expect("query").expect("the row");
    assert_eq!(row.csrf_token, session.csrf_token);
    assert_ne!(row.csrf_token, session.token);
    let user = accounts::session_user(&conn, &session.token)
        .expect("query")
        .expect("a live session");
    assert_eq!((user.name.as_str(), user.role), ("alice", Role::Editor));
    assert_eq!(user.csrf_token, session.csrf_token);
    assert!(!format!("{session:?}").contains(&session.token));
    // The hash itself is no token.
    assert!(
        accounts::session_user(&conn, &hash)
            .expect("query")
            .is_none()
    );
}

#[test]
fn sessions_slide_but_expire_when_idle_and_at_the_absolute_limit() {
    let conn = with_alice();
    let (limiter, clock) = Clock::limiter(LimiterConfig::default());
    let policy = SessionPolicy {
        idle: Duration::from_secs(3600),
        max_age: Duration::from_secs(3 * 3600),
    };
    let login = |address| {
        accounts::login(
            &conn,
            &limiter,
            &LoginRequest {
                name: "alice",
                password: PASSWORD,
                address,
                user_agent: Some("test"),
            },
            &policy,
        )
        .expect("login")
    };
    let idle = login("192.0.2.1");
    let busy = login("192.0.2.1");
    assert_eq!(
        idle.expires_at.with_timezone(&Utc),
        clock.now() + TimeDelta::hours(1)
    );
    let user = |token: &str| accounts::session_user_at(&conn, token, clock.now()).expect("query");
    // Each use within the hour renews the hour, up to three hours in all.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(40 * 60));
        assert!(user(&busy.token).is_some(), "renewed while in use");
    }
    assert!(user(&idle.token).is_none(), "idle for over an hour");
    assert_eq!(
        accounts::purge_expired_at(&conn, clock.now()).expect("purge"),
        0,
        "the idle one was already removed when it was found expired"
    );
    clock.advance(Duration::from_secs(40 * 60));
    assert!(user(&busy.token).is_none(), "past the absolute limit");
    assert_eq!(session_count(&conn), 0);
}

#[test]
fn purge_removes_only_expired_sessions() {
    let conn = with_alice();
    let (limiter, clock) = Clock::limiter(LimiterConfig::default());
    accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "").expect("login");
    clock.advance(Duration::from_secs(6 * 3600));
    accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "").expect("login");
    clock.advance(Duration::from_secs(7 * 3600));
    assert_eq!(
        accounts::purge_expired_at(&conn, clock.now()).expect("purge"),
        1
    );
    assert_eq!(session_count(&conn), 1);
}

#[test]
fn logout_password_change_and_removal_end_sessions() {
    let conn = with_alice();
    accounts::add_user(&conn, "bob", Role::Admin, PASSWORD).expect("add bob");
    let limiter = LoginLimiter::default();
    let login =
        |name| accounts::verify_login(&conn, &limiter, name, PASSWORD, "192.0.2.1").expect("login");
    let live = |token: &str| {
        accounts::session_user(&conn, token)
            .expect("query")
            .is_some()
    };

    let a1 = login("alice");
    let a2 = login("alice");
    assert!(accounts::revoke_session(&conn, &a1.token).expect("logout"));
    assert!(!live(&a1.token) && live(&a2.token));
    assert!(!accounts::revoke_session(&conn, &a1.token).expect("again"));

    assert_eq!(
        accounts::set_password(&conn, "alice", "a brand new password").expect("passwd"),
        1
    );
    assert!(!live(&a2.token), "a new password ends the old sessions");
    let e = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "192.0.2.1")
        .expect_err("the old password");
    assert!(matches!(e, AccountError::InvalidCredentials));
    accounts::verify_login(
        &conn,
        &limiter,
        "alice",
        "a brand new password",
        "192.0.2.1",
    )
    .expect("the new password");

    let b1 = login("bob");
    let b2 = login("bob");
    assert_eq!(accounts::revoke_all(&conn, "bob").expect("revoke all"), 2);
    assert!(!live(&b1.token) && !live(&b2.token));

    let b3 = login("bob");
    accounts::record(
        &conn,
        &AuditEntry {
            user_name: "bob",
            action: "approve",
            item_id: Some(7),
            ..AuditEntry::default()
        },
    )
    .expect("audit");
    assert_eq!(accounts::remove_user(&conn, "bob").expect("remove"), 1);
    assert!(!live(&b3.token));
    assert!(accounts::find_user(&conn, "bob").expect("find").is_none());
    let kept = accounts::audit_entries(&conn, &AuditQuery::default()).expect("audit");
    assert_eq!(kept[0].user_name, "bob", "the audit log keeps the name");
}

#[test]
fn disabled_accounts_cannot_log_in_or_use_their_sessions() {
    let conn = with_alice();
    let limiter = LoginLimiter::default();
    let s = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "").expect("login");
    assert!(conn.set_user_disabled("alice", true).expect("disable"));
    assert!(
        accounts::session_user(&conn, &s.token)
            .expect("query")
            .is_none()
    );
    let e = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "").expect_err("disabled");
    assert!(matches!(e, AccountError::AccountDisabled));
    let e = accounts::verify_login(&conn, &limiter, "alice", "wrong pw!", "").expect_err("wrong");
    assert!(
        matches!(e, AccountError::InvalidCredentials),
        "a wrong password does not learn that the account is disabled"
    );
}

#[test]
fn csrf_check_accepts_only_the_sessions_token() {
    let conn = with_alice();
    let limiter = LoginLimiter::default();
    let s = accounts::verify_login(&conn, &limiter, "alice", PASSWORD, "").expect("login");
    let user = accounts::session_user(&conn, &s.token)
        .expect("query")
        .expect("session");
    assert!(accounts::check_csrf(&user, &s.csrf_token));
    assert!(!accounts::check_csrf(&user, ""));
    assert!(!accounts::check_csrf(&user, &s.token));
    let mut near = s.csrf_token.clone();
    let last = if near.ends_with('0') { "1" } else { "0" };
    near.replace_range(63.., last);
    assert!(!accounts::check_csrf(&user, &near));
    assert!(!accounts::check_csrf(&user, &s.csrf_token[..63]));
}

#[test]
fn cookie_is_http_only_lax_and_secure_only_when_asked() {
    let plain = accounts::session_cookie("abc", false, Duration::from_secs(3600));
    assert_eq!(
        plain,
        "kuaibao_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600"
    );
    let secure = accounts::session_cookie("abc", true, Duration::from_secs(3600));
    assert!(secure.ends_with("; Secure"), "{secure}");
    assert!(secure.contains("HttpOnly") && secure.contains("SameSite=Lax"));
    let cleared = accounts::clear_cookie(true);
    assert!(cleared.starts_with("kuaibao_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0") && cleared.contains("; Secure"));
    assert!(!accounts::clear_cookie(false).contains("Secure"));
}

#[test]
fn audit_entries_come_back_newest_first_with_before_and_after() {
    let conn = db();
    let t0 = Utc::now();
    let entry = |user, action, item, before, after| AuditEntry {
        user_name: user,
        action,
        item_id: Some(item),
        story_id: None,
        before: Some(before),
        after: Some(after),
        detail: None,
    };
    accounts::record_at(
        &conn,
        &entry("alice", "approve", 1, "candidate", "approved"),
        t0,
    )
    .expect("1");
    accounts::record_at(
        &conn,
        &entry("bob", "reject", 2, "candidate", "rejected"),
        t0 + TimeDelta::minutes(1),
    )
    .expect("2");
    accounts::record_at(
        &conn,
        &AuditEntry {
            story_id: Some(9),
            detail: Some("merged into story 9"),
            ..entry("alice", "retitle", 1, "旧标题", "新标题")
        },
        t0 + TimeDelta::minutes(1),
    )
    .expect("3");

    let all = accounts::audit_entries(&conn, &AuditQuery::default()).expect("all");
    let order: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(order, ["retitle", "reject", "approve"]);
    assert_eq!(all[0].before.as_deref(), Some("旧标题"));
    assert_eq!(all[0].after.as_deref(), Some("新标题"));
    assert_eq!(all[0].story_id, Some(9));
    assert!(all[0].at.ends_with("+08:00"), "{}", all[0].at);

    let alice = accounts::audit_entries(
        &conn,
        &AuditQuery {
            user: Some("alice".into()),
            ..AuditQuery::default()
        },
    )
    .expect("alice");
    assert_eq!(alice.len(), 2);
    let item2 = accounts::audit_entries(
        &conn,
        &AuditQuery {
            item_id: Some(2),
            ..AuditQuery::default()
        },
    )
    .expect("item 2");
    assert_eq!(item2[0].user_name, "bob");
    let one = accounts::audit_entries(
        &conn,
        &AuditQuery {
            limit: 1,
            ..AuditQuery::default()
        },
    )
    .expect("limit");
    assert_eq!(one.len(), 1);
}

// --- the binary ---

fn kuaibao(config: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kuaibao"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kuaibao");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin
        && let Err(e) = pipe.write_all(text.as_bytes())
    {
        // A command refused on its arguments exits before it reads its
        // input: the pipe is closed under the write, and its exit code is
        // what the caller checks.
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(pipe);
    child.wait_with_output().expect("wait")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn cli_user_add_list_remove() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = kuaibao(&tc.path(), &["user", "list", "--json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(users[0]["name"], "alice");
    assert_eq!(users[0]["role"], "editor");
    assert_eq!(users.as_array().map(Vec::len), Some(1));

    // The password typed in works; what is stored is a hash.
    let store = kuaibao::store::Store::open(&tc.dir.path().join("kuaibao.db")).expect("open store");
    let limiter = LoginLimiter::default();
    accounts::verify_login(&store, &limiter, "alice", "correct horse battery", "")
        .expect("log in with the password given on stdin");

    let out = kuaibao(&tc.path(), &["user", "list"], None);
    let table = text(&out.stdout);
    assert!(
        table.starts_with("NAME") && table.contains("alice"),
        "{table}"
    );

    let out = kuaibao(
        &tc.path(),
        &["user", "add", "root", "--role", "admin", "--password-stdin"],
        Some("another good password\r\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--password-stdin"],
        Some("whatever it is\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists"));

    let out = kuaibao(&tc.path(), &["user", "remove", "alice"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = kuaibao(&tc.path(), &["user", "list", "--json"], None);
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(users[0]["name"], "root");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users.as_array().map(Vec::len), Some(1));

    let out = kuaibao(&tc.path(), &["user", "remove", "alice"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no user named \"alice\""));
}

#[test]
fn cli_user_add_refuses_a_short_password() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--password-stdin"],
        Some("short\n"),
    );
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("at least 8 characters"), "{err}");
    let out = kuaibao(&tc.path(), &["user", "list", "--json"], None);
    assert_eq!(text(&out.stdout).trim(), "[]");

    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--password-stdin"],
        Some(""),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no password on standard input"));
}

#[test]
fn cli_usage_errors_exit_64() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "al ice", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("whitespace"));
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--role", "root", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
}

#[test]
fn cli_passwd_changes_the_password() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(
        &tc.path(),
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let store = kuaibao::store::Store::open(&tc.dir.path().join("kuaibao.db")).expect("open store");
    let limiter = LoginLimiter::default();
    let s = accounts::verify_login(&store, &limiter, "alice", "correct horse battery", "")
        .expect("login");
    let out = kuaibao(
        &tc.path(),
        &["user", "passwd", "alice", "--password-stdin"],
        Some("a new one with spaces \n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 session(s) ended"));
    assert!(
        accounts::session_user(&store, &s.token)
            .expect("query")
            .is_none()
    );
    accounts::verify_login(&store, &limiter, "alice", "a new one with spaces ", "")
        .expect("the trailing space is part of the password");
}

#[test]
fn cli_audit_on_an_empty_log() {
    let tc = TestConfig::new("", "");
    let out = kuaibao(&tc.path(), &["audit", "--json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[]");

    let store = kuaibao::store::Store::open(&tc.dir.path().join("kuaibao.db")).expect("open store");
    accounts::record(
        &store,
        &AuditEntry {
            user_name: "alice",
            action: "approve",
            item_id: Some(42),
            before: Some("candidate"),
            after: Some("approved"),
            ..AuditEntry::default()
        },
    )
    .expect("record");
    let out = kuaibao(&tc.path(), &["audit", "--item", "42"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("AT"), "{table}");
    assert!(table.contains("candidate → approved"), "{table}");
    let out = kuaibao(&tc.path(), &["audit", "--user", "bob", "--json"], None);
    assert_eq!(text(&out.stdout).trim(), "[]");
}
