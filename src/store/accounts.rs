//! The desk's accounts, the store's side: users, sessions and the audit
//! log as typed rows. Part of the store layer; its one job is to read and
//! write the tables of migration 3 (see [`super::schema`]).
//!
//! Nothing here decides anything: hashing passwords, the login limiter,
//! when a session expires or is renewed, the CSRF check and the cookie are
//! [`crate::accounts`]'s, which calls these methods. Times are taken as
//! `DateTime<Utc>` and kept as RFC 3339 in Beijing time, like every time in
//! the store, so text order is time order (the expiry queries rely on it).

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{SqliteStore, StoreError, parse_ts, ts};

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

    /// The role stored as `s`. The table's CHECK allows only the two;
    /// should it ever read otherwise, the lesser role.
    fn stored(s: &str) -> Role {
        Role::parse(s).unwrap_or(Role::Editor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account as `kuaibao user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub password_changed_at: String,
    /// Sessions not yet expired.
    pub active_sessions: i64,
    pub disabled: bool,
}

/// What a login checks a password against.
#[derive(Clone)]
pub struct UserCredentials {
    pub id: i64,
    pub role: Role,
    /// The PHC string of the password's hash.
    pub password_hash: String,
    pub disabled: bool,
}

/// The hash stays out of logs.
impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A session row to insert: the token itself is never stored, only its
/// hash.
#[derive(Debug, Clone, Copy)]
pub struct NewSessionRow<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_expires_at: DateTime<Utc>,
    /// The sliding expiry, fixed when the session began.
    pub idle_secs: i64,
    pub address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A stored session with its user. A time that cannot be read is `None`
/// (a row edited by hand); the caller decides what that means.
#[derive(Clone)]
pub struct StoredSession {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub csrf_token: String,
    pub expires_at: Option<DateTime<FixedOffset>>,
    pub max_expires_at: Option<DateTime<FixedOffset>>,
    pub idle_secs: i64,
    pub last_seen_at: Option<DateTime<FixedOffset>>,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("csrf_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// One action to record. `before` and `after` are whatever text describes
/// the changed value (a status, a title, a JSON object); the log does not
/// interpret them.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditEntry<'a> {
    pub user_name: &'a str,
    pub action: &'a str,
    pub item_id: Option<i64>,
    pub story_id: Option<i64>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Which entries to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub limit: usize,
    /// Only this user's actions.
    pub user: Option<String>,
    /// Only actions on this item.
    pub item_id: Option<i64>,
}

impl Default for AuditQuery {
    fn default() -> AuditQuery {
        AuditQuery {
            limit: 100,
            user: None,
            item_id: None,
        }
    }
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub user_name: String,
    pub action: String,
    pub item_id: Option<i64>,
    pub story_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub detail: Option<String>,
}

pub trait AccountStore {
    /// The id of the account named `name`.
    fn user_id(&self, name: &str) -> Result<Option<i64>, StoreError>;

    /// Creates an account; its id, or `None` when the name is taken.
    fn insert_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError>;

    /// Replaces a user's password hash and ends all their sessions, in one
    /// transaction; how many sessions ended.
    fn set_password_hash(
        &self,
        user_id: i64,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError>;

    /// Disables (or enables again) an account: a disabled account can
    /// neither log in nor use the sessions it has. Whether it exists.
    fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError>;

    /// Accounts, by name (`name`: only that one), with their sessions that
    /// are still open at `now`.
    fn users(&self, name: Option<&str>, now: DateTime<Utc>) -> Result<Vec<UserInfo>, StoreError>;

    /// What a login checks for the account named `name`.
    fn user_credentials(&self, name: &str) -> Result<Option<UserCredentials>, StoreError>;

    /// Deletes an account and its sessions; audit entries keep its name.
    /// How many sessions ended.
    fn delete_user(&self, user_id: i64) -> Result<usize, StoreError>;

    fn insert_session(&self, s: &NewSessionRow<'_>) -> Result<(), StoreError>;

    /// The session whose token hashes to `token_hash`, with its user.
    fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError>;

    /// Renews a session: seen at `seen`, now expiring at `expires_at`.
    fn touch_session(
        &self,
        token_hash: &str,
        seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Deletes one session; whether there was one.
    fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError>;

    /// Deletes every session of a user; how many.
    fn delete_user_sessions(&self, user_id: i64) -> Result<usize, StoreError>;

    /// Deletes the sessions expired at `now`; how many.
    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<usize, StoreError>;

    /// Sessions stored, expired or not (what a purge leaves).
    fn session_count(&self) -> Result<i64, StoreError>;

    /// Records an action at `at`; its id.
    fn record_audit(&self, entry: &AuditEntry<'_>, at: DateTime<Utc>) -> Result<i64, StoreError>;

    /// Recorded actions, newest first; within one second, in the order they
    /// were recorded (newest first too).
    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

impl AccountStore for SqliteStore {
    fn user_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    fn insert_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        match self.conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![name, role.as_str(), password_hash, ts(at)],
        ) {
            Ok(_) => Ok(Some(self.conn.last_insert_rowid())),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn set_password_hash(
        &self,
        user_id: i64,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![user_id, password_hash, ts(at)],
        )?;
        let ended = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        Ok(ended)
    }

    fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE users SET disabled = ?2 WHERE name = ?1",
            params![name, disabled],
        )? > 0)
    }

    fn users(&self, name: Option<&str>, now: DateTime<Utc>) -> Result<Vec<UserInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT u.name, u.role, u.created_at, u.password_changed_at, u.disabled,
                    (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?1)
             FROM users u WHERE ?2 IS NULL OR u.name = ?2 ORDER BY u.name",
        )?;
        let rows = stmt.query_map(params![ts(now), name], |r| {
            Ok(UserInfo {
                name: r.get(0)?,
                role: Role::stored(&r.get::<_, String>(1)?),
                created_at: r.get(2)?,
                password_changed_at: r.get(3)?,
                disabled: r.get(4)?,
                active_sessions: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn user_credentials(&self, name: &str) -> Result<Option<UserCredentials>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, role, password_hash, disabled FROM users WHERE name = ?1",
                [name],
                |r| {
                    Ok(UserCredentials {
                        id: r.get(0)?,
                        role: Role::stored(&r.get::<_, String>(1)?),
                        password_hash: r.get(2)?,
                        disabled: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn delete_user(&self, user_id: i64) -> Result<usize, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        // The foreign key cascades too, but only where `foreign_keys` is on;
        // sessions must not outlive their user on any connection.
        let ended = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
        tx.execute("DELETE FROM users WHERE id = ?1", [user_id])?;
        tx.commit()?;
        Ok(ended)
    }

    fn insert_session(&self, s: &NewSessionRow<'_>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at,
                 max_expires_at, idle_secs, last_seen_at, address, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?4, ?8, ?9)",
            params![
                s.token_hash,
                s.user_id,
                s.csrf_token,
                ts(s.created_at),
                ts(s.expires_at),
                ts(s.max_expires_at),
                s.idle_secs,
                s.address,
                s.user_agent,
            ],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT s.user_id, u.name, u.role, u.disabled, s.csrf_token, s.expires_at,
                        s.max_expires_at, s.idle_secs, s.last_seen_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1",
                [token_hash],
                |r| {
                    Ok(StoredSession {
                        user_id: r.get(0)?,
                        name: r.get(1)?,
                        role: Role::stored(&r.get::<_, String>(2)?),
                        disabled: r.get(3)?,
                        csrf_token: r.get(4)?,
                        expires_at: parse_ts(&r.get::<_, String>(5)?),
                        max_expires_at: parse_ts(&r.get::<_, String>(6)?),
                        idle_secs: r.get(7)?,
                        last_seen_at: parse_ts(&r.get::<_, String>(8)?),
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    fn touch_session(
        &self,
        token_hash: &str,
        seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE token_hash = ?1",
            params![token_hash, ts(seen), ts(expires_at)],
        )?;
        Ok(())
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?
            > 0)
    }

    fn delete_user_sessions(&self, user_id: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?)
    }

    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", [ts(now)])?)
    }

    fn session_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?)
    }

    fn record_audit(&self, entry: &AuditEntry<'_>, at: DateTime<Utc>) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO audit_log (at, user_name, action, item_id, story_id, before, after, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                ts(at),
                entry.user_name,
                entry.action,
                entry.item_id,
                entry.story_id,
                entry.before,
                entry.after,
                entry.detail,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, user_name, action, item_id, story_id, before, after, detail
             FROM audit_log
             WHERE (?1 IS NULL OR user_name = ?1) AND (?2 IS NULL OR item_id = ?2)
             ORDER BY at DESC, id DESC LIMIT ?3",
        )?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![query.user, query.item_id, limit], |r| {
            Ok(AuditRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                user_name: r.get(2)?,
                action: r.get(3)?,
                item_id: r.get(4)?,
                story_id: r.get(5)?,
                before: r.get(6)?,
                after: r.get(7)?,
                detail: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_role_round_trips() {
        for role in [Role::Editor, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn removing_a_user_by_hand_cascades_to_sessions_as_the_store_has_foreign_keys_on() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(&dir.path().join("kuaibao.db")).expect("store");
        let now = Utc::now();
        let id = store
            .insert_user("alice", Role::Editor, "$argon2id$x", now)
            .expect("insert")
            .expect("new");
        store
            .insert_session(&NewSessionRow {
                token_hash: "h",
                user_id: id,
                csrf_token: "c",
                created_at: now,
                expires_at: now + chrono::TimeDelta::hours(1),
                max_expires_at: now + chrono::TimeDelta::hours(2),
                idle_secs: 3600,
                address: None,
                user_agent: None,
            })
            .expect("session");
        // Not `delete_user`, which deletes the sessions itself: a tool
        // deleting the row must not leave them behind either.
        store
            .conn
            .execute("DELETE FROM users WHERE name = 'alice'", [])
            .expect("delete");
        assert_eq!(store.session_count().expect("count"), 0);
        assert!(store.session("h").expect("query").is_none());
    }

    #[test]
    fn accounts_timestamps_are_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2025-06-20T02:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2025-06-20T10:30:00+08:00");
    }
}
