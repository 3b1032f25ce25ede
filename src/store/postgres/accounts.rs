//! The desk's accounts on PostgreSQL: users, sessions and the audit log
//! (`AccountStore`, see [`crate::store::accounts`] for what each method
//! means). Part of the store layer (PostgreSQL backend); its one job is to
//! read and write the account tables of migration 1 the way the SQLite
//! store does.
//!
//! The web desk reads a session and its user on every request, so those
//! statements go by primary key or unique index only (`sessions.token_hash`,
//! `users.id`, `users.name`); an optional filter is a second statement
//! rather than `$1 IS NULL OR …`, which a cached generic plan could not
//! answer from an index.
//!
//! Flags are BIGINT 0/1 as in SQLite (see `postgres::schema`); times are
//! the store's RFC 3339 strings in Beijing time, so text comparison under
//! `COLLATE "C"` is time comparison, as in SQLite.

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;

use super::PgStore;
use crate::store::accounts::{
    AccountStore, AuditEntry, AuditQuery, AuditRecord, NewSessionRow, Role, StoredSession,
    UserCredentials, UserInfo,
};
use crate::store::{StoreError, parse_ts, ts};

/// A stored role; the table's CHECK allows only the two, and should it
/// ever read otherwise, the lesser role (as the SQLite store reads it).
fn stored_role(s: &str) -> Role {
    Role::parse(s).unwrap_or(Role::Editor)
}

/// A 0/1 flag column read as SQLite reads an integer as a bool.
fn flag(row: &Row, idx: usize) -> Result<bool, StoreError> {
    Ok(row.try_get::<_, i64>(idx)? != 0)
}

fn user_info(r: &Row) -> Result<UserInfo, StoreError> {
    Ok(UserInfo {
        name: r.try_get(0)?,
        role: stored_role(r.try_get(1)?),
        created_at: r.try_get(2)?,
        password_changed_at: r.try_get(3)?,
        disabled: flag(r, 4)?,
        active_sessions: r.try_get(5)?,
    })
}

fn audit_record(r: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        user_name: r.try_get(2)?,
        action: r.try_get(3)?,
        item_id: r.try_get(4)?,
        story_id: r.try_get(5)?,
        before: r.try_get(6)?,
        after: r.try_get(7)?,
        detail: r.try_get(8)?,
    })
}

/// A row count as the trait returns it (a count of rows fits a usize).
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl AccountStore for PgStore {
    fn user_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            let row = self
                .db()
                .query_opt("SELECT id FROM users WHERE name = $1", &[&name])?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }

    fn insert_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<i64>, StoreError> {
            // ON CONFLICT rather than catching the unique violation: two adds
            // racing from two processes both end cleanly, one with the id, the
            // other with `None`, as SQLite answers a taken name.
            let at = ts(at);
            let row = self.db().query_opt(
                "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
                 VALUES ($1, $2, $3, $4, $4)
                 ON CONFLICT (name) DO NOTHING
                 RETURNING id",
                &[&name, &role.as_str(), &password_hash, &at],
            )?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }

    fn set_password_hash(
        &self,
        user_id: i64,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            tx.execute(
                "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
                &[&user_id, &password_hash, &ts(at)],
            )?;
            let ended = tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
            tx.commit()?;
            Ok(count(ended))
        })
    }

    fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<bool, StoreError> {
            let changed = self.db().execute(
                "UPDATE users SET disabled = $2 WHERE name = $1",
                &[&name, &i64::from(disabled)],
            )?;
            Ok(changed > 0)
        })
    }

    fn users(&self, name: Option<&str>, now: DateTime<Utc>) -> Result<Vec<UserInfo>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<UserInfo>, StoreError> {
            let now = ts(now);
            // `sessions_by_user` answers each count.
            const COLUMNS: &str =
                "SELECT u.name, u.role, u.created_at, u.password_changed_at, u.disabled,
                        (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > $1)
                 FROM users u";
            let rows = match name {
                Some(name) => self.db().query(
                    &format!("{COLUMNS} WHERE u.name = $2 ORDER BY u.name"),
                    &[&now, &name],
                )?,
                None => self
                    .db()
                    .query(&format!("{COLUMNS} ORDER BY u.name"), &[&now])?,
            };
            rows.iter().map(user_info).collect()
        })
    }

    fn user_credentials(&self, name: &str) -> Result<Option<UserCredentials>, StoreError> {
        crate::store::postgres::outside_runtime(
            || -> Result<Option<UserCredentials>, StoreError> {
                let row = self.db().query_opt(
                    "SELECT id, role, password_hash, disabled FROM users WHERE name = $1",
                    &[&name],
                )?;
                row.map(|r| {
                    Ok(UserCredentials {
                        id: r.try_get(0)?,
                        role: stored_role(r.try_get(1)?),
                        password_hash: r.try_get(2)?,
                        disabled: flag(&r, 3)?,
                    })
                })
                .transpose()
            },
        )
    }

    fn delete_user(&self, user_id: i64) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let mut db = self.db();
            let mut tx = db.transaction()?;
            // The foreign key would cascade too; deleted explicitly to count
            // them, as the SQLite store does.
            let ended = tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
            tx.execute("DELETE FROM users WHERE id = $1", &[&user_id])?;
            tx.commit()?;
            Ok(count(ended))
        })
    }

    fn insert_session(&self, s: &NewSessionRow<'_>) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            self.db().execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at,
                     max_expires_at, idle_secs, last_seen_at, address, user_agent)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8, $9)",
                &[
                    &s.token_hash,
                    &s.user_id,
                    &s.csrf_token,
                    &ts(s.created_at),
                    &ts(s.expires_at),
                    &ts(s.max_expires_at),
                    &s.idle_secs,
                    &s.address,
                    &s.user_agent,
                ],
            )?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Option<StoredSession>, StoreError> {
            // Both lookups by primary key: this runs on every desk request.
            let row = self.db().query_opt(
                "SELECT s.user_id, u.name, u.role, u.disabled, s.csrf_token, s.expires_at,
                        s.max_expires_at, s.idle_secs, s.last_seen_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1",
                &[&token_hash],
            )?;
            row.map(|r| {
                // An unreadable time is `None`, for the caller to treat as
                // expired (as the SQLite store reads it).
                let time =
                    |idx| -> Result<_, StoreError> { Ok(parse_ts(r.try_get::<_, &str>(idx)?)) };
                Ok(StoredSession {
                    user_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    role: stored_role(r.try_get(2)?),
                    disabled: flag(&r, 3)?,
                    csrf_token: r.try_get(4)?,
                    expires_at: time(5)?,
                    max_expires_at: time(6)?,
                    idle_secs: r.try_get(7)?,
                    last_seen_at: time(8)?,
                })
            })
            .transpose()
        })
    }

    fn touch_session(
        &self,
        token_hash: &str,
        seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<(), StoreError> {
            self.db().execute(
                "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1",
                &[&token_hash, &ts(seen), &ts(expires_at)],
            )?;
            Ok(())
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<bool, StoreError> {
            let deleted = self
                .db()
                .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
            Ok(deleted > 0)
        })
    }

    fn delete_user_sessions(&self, user_id: i64) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let deleted = self
                .db()
                .execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])?;
            Ok(count(deleted))
        })
    }

    fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<usize, StoreError> {
            let deleted = self
                .db()
                .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&ts(now)])?;
            Ok(count(deleted))
        })
    }

    fn session_count(&self) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            Ok(self
                .db()
                .query_one("SELECT COUNT(*) FROM sessions", &[])?
                .try_get(0)?)
        })
    }

    fn record_audit(&self, entry: &AuditEntry<'_>, at: DateTime<Utc>) -> Result<i64, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<i64, StoreError> {
            let row = self.db().query_one(
                "INSERT INTO audit_log (at, user_name, action, item_id, story_id, before, after, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING id",
                &[
                    &ts(at),
                    &entry.user_name,
                    &entry.action,
                    &entry.item_id,
                    &entry.story_id,
                    &entry.before,
                    &entry.after,
                    &entry.detail,
                ],
            )?;
            Ok(row.try_get(0)?)
        })
    }

    fn audit_entries(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        crate::store::postgres::outside_runtime(|| -> Result<Vec<AuditRecord>, StoreError> {
            // Ids come from one sequence, so within one second `id DESC` is the
            // reverse order of recording, as SQLite's rowid is; across
            // processes, the order in which they drew their ids.
            let mut sql = String::from(
                "SELECT id, at, user_name, action, item_id, story_id, before, after, detail
                 FROM audit_log WHERE TRUE",
            );
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&limit];
            if let Some(user) = &query.user {
                params.push(user);
                sql.push_str(&format!(" AND user_name = ${}", params.len()));
            }
            if let Some(item) = &query.item_id {
                params.push(item);
                sql.push_str(&format!(" AND item_id = ${}", params.len()));
            }
            sql.push_str(" ORDER BY at DESC, id DESC LIMIT $1");
            let rows = self.db().query(&sql, &params)?;
            rows.iter().map(audit_record).collect()
        })
    }
}
