//! Accounts: the security layer of the editors' desk that `kuaibao serve`
//! will carry — who may log in (users and their argon2id password hashes),
//! who is logged in (sessions behind an HttpOnly cookie, each with its CSRF
//! token), how fast anyone may guess (the login limiter) and what editors
//! did (the audit log).
//!
//! Everything here works on a plain `rusqlite::Connection`, so the daemon,
//! the `kuaibao user` and `kuaibao audit` commands and the tests share it;
//! the tables come from [`SCHEMA`], which the store applies as a migration.

mod audit;
mod cookie;
mod limiter;
mod password;
mod session;
mod users;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

pub use audit::{AuditEntry, AuditQuery, AuditRecord, audit_entries, record, record_at};
pub use cookie::{COOKIE_NAME, clear_cookie, session_cookie};
pub use limiter::{HashBudget, LimiterConfig, LoginLimiter};
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password};
pub use session::{
    Session, SessionPolicy, SessionUser, check_csrf, purge_expired, purge_expired_at, revoke_all,
    revoke_session, session_user, session_user_at,
};
pub use users::{
    LoginRequest, MAX_NAME_CHARS, UserInfo, add_user, check_name, find_user, list_users, login,
    remove_user, set_password, verify_login,
};

/// The accounts tables, applied by the store as one migration.
///
/// `login_attempts` is deliberately not here: the limiter is in memory (see
/// [`LoginLimiter`] for why). `sessions` keeps a SHA-256 of each token, so a
/// copy of the database (a backup, a stolen file) opens no session; the
/// CSRF token is kept as is because the desk must print it into its forms,
/// and it is worthless without the session cookie. `idle_secs` and
/// `max_expires_at` fix each session's sliding and absolute expiry when it
/// is created, so checking a session needs no configuration. `audit_log`
/// keeps the user's name rather than a reference: entries must outlive the
/// account, and items are never a foreign key either, so that pruning items
/// leaves the record of what was done to them.
pub const SCHEMA: &str = r#"
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
    password_hash       TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash     TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    max_expires_at TEXT NOT NULL,
    idle_secs      INTEGER NOT NULL,
    last_seen_at   TEXT NOT NULL,
    address        TEXT,
    user_agent     TEXT
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action    TEXT NOT NULL,
    item_id   INTEGER,
    story_id  INTEGER,
    before    TEXT,
    after     TEXT,
    detail    TEXT
);
CREATE INDEX audit_log_by_at ON audit_log(at);
CREATE INDEX audit_log_by_item ON audit_log(item_id) WHERE item_id IS NOT NULL;
"#;

/// Why an accounts operation was refused. The messages are shown to the
/// person at the terminal or the login form as they are.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("user name {name:?} is not allowed: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("unknown role {0:?}: expected editor or admin")]
    UnknownRole(String),
    #[error("the password is too short: it needs at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the password is too long: at most {max} characters")]
    PasswordTooLong { max: usize },
    #[error("a user named {0:?} already exists")]
    DuplicateUser(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    /// The same for an unknown name and a wrong password, so that the login
    /// form does not tell which names exist.
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("too many failed logins: try again in {}", wait_text(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    /// Over `server.password_hashes_per_second`: nothing was checked.
    #[error("too many logins at once: try again in {}", wait_text(*retry_after_secs))]
    Busy { retry_after_secs: u64 },
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the system's random number generator failed: {0}")]
    Random(String),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

impl AccountError {
    /// Errors in what the person typed on the command line (exit code 64),
    /// as opposed to refusals of what they asked for.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            AccountError::InvalidName { .. } | AccountError::UnknownRole(_)
        )
    }
}

fn wait_text(secs: u64) -> String {
    match secs {
        0..=1 => "1 second".into(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

/// What an account may do on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Role, AccountError> {
        Role::parse(s).ok_or_else(|| AccountError::UnknownRole(s.to_string()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 3339 in Beijing time at whole seconds, as the store writes times:
/// text order is time order, which the expiry queries rely on.
fn ts(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::time::beijing())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn parse_ts(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_role_round_trips() {
        for role in [Role::Editor, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(matches!(
            "root".parse::<Role>(),
            Err(AccountError::UnknownRole(_))
        ));
    }

    #[test]
    fn accounts_schema_applies_to_an_empty_database() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch(SCHEMA).expect("schema");
    }

    #[test]
    fn accounts_rate_limit_message_reads_well() {
        let e = AccountError::RateLimited {
            retry_after_secs: 600,
        };
        assert_eq!(
            e.to_string(),
            "too many failed logins: try again in 10 minutes"
        );
    }

    #[test]
    fn accounts_timestamps_are_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2025-06-20T02:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2025-06-20T10:30:00+08:00");
    }
}
