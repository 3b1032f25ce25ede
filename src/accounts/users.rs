//! The desk's user accounts and the login itself: what `kuaibao user`
//! manages and what the desk's login form calls.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::limiter::LoginLimiter;
use super::session::{self, NewSession, Session, SessionPolicy};
use super::{AccountError, Role, password, ts};

/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

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

/// What the login form sends, and from where.
#[derive(Debug, Clone, Copy)]
pub struct LoginRequest<'a> {
    pub name: &'a str,
    pub password: &'a str,
    /// The client's address as the desk sees it ("" when it cannot tell).
    pub address: &'a str,
    pub user_agent: Option<&'a str>,
}

/// Refuses names that would be confusing in the audit log or in a table:
/// empty, over-long, or with spaces or control characters.
pub fn check_name(name: &str) -> Result<(), AccountError> {
    let refuse = |reason| {
        Err(AccountError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return refuse("it is longer than 64 characters");
    }
    if name.chars().any(char::is_whitespace) {
        return refuse("it contains whitespace");
    }
    if name.chars().any(char::is_control) {
        return refuse("it contains control characters");
    }
    Ok(())
}

/// Creates an account; its id.
pub fn add_user(
    conn: &Connection,
    name: &str,
    role: Role,
    password: &str,
) -> Result<i64, AccountError> {
    check_name(name)?;
    password::check_password(password)?;
    // Checked before hashing, which takes a while; the UNIQUE constraint
    // still decides when two adds race.
    if user_id(conn, name)?.is_some() {
        return Err(AccountError::DuplicateUser(name.to_string()));
    }
    let hash = password::hash(password)?;
    let now = ts(Utc::now());
    match conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![name, role.as_str(), hash, now],
    ) {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(AccountError::DuplicateUser(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets a new password and ends all the user's sessions (a password is
/// changed because the old one may be known to someone else); how many
/// sessions ended.
pub fn set_password(conn: &Connection, name: &str, password: &str) -> Result<usize, AccountError> {
    password::check_password(password)?;
    let id = user_id(conn, name)?.ok_or_else(|| AccountError::NoSuchUser(name.to_string()))?;
    let hash = password::hash(password)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
        params![id, hash, ts(Utc::now())],
    )?;
    let ended = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    tx.commit()?;
    Ok(ended)
}

/// All accounts, by name.
pub fn list_users(conn: &Connection) -> Result<Vec<UserInfo>, AccountError> {
    query_users(conn, None)
}

/// One account, if it exists.
pub fn find_user(conn: &Connection, name: &str) -> Result<Option<UserInfo>, AccountError> {
    Ok(query_users(conn, Some(name))?.into_iter().next())
}

fn query_users(conn: &Connection, name: Option<&str>) -> Result<Vec<UserInfo>, AccountError> {
    let mut stmt = conn.prepare(
        "SELECT u.name, u.role, u.created_at, u.password_changed_at, u.disabled,
                (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.expires_at > ?1)
         FROM users u WHERE ?2 IS NULL OR u.name = ?2 ORDER BY u.name",
    )?;
    let rows = stmt.query_map(params![ts(Utc::now()), name], |r| {
        Ok(UserInfo {
            name: r.get(0)?,
            role: Role::parse(&r.get::<_, String>(1)?).unwrap_or(Role::Editor),
            created_at: r.get(2)?,
            password_changed_at: r.get(3)?,
            disabled: r.get(4)?,
            active_sessions: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes an account and its sessions; audit entries keep its name. How
/// many sessions ended.
pub fn remove_user(conn: &Connection, name: &str) -> Result<usize, AccountError> {
    let id = user_id(conn, name)?.ok_or_else(|| AccountError::NoSuchUser(name.to_string()))?;
    let tx = conn.unchecked_transaction()?;
    // The foreign key cascades too, but only where `foreign_keys` is on;
    // sessions must not outlive their user on any connection.
    let ended = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(ended)
}

/// [`login`] with the default session lifetimes and no user agent.
pub fn verify_login(
    conn: &Connection,
    limiter: &LoginLimiter,
    name: &str,
    password: &str,
    address: &str,
) -> Result<Session, AccountError> {
    login(
        conn,
        limiter,
        &LoginRequest {
            name,
            password,
            address,
            user_agent: None,
        },
        &SessionPolicy::default(),
    )
}

/// Checks a login and opens a session. The limiter is asked first, so a
/// refused attempt costs no hashing and reveals nothing about the
/// password; an unknown name and a wrong password give the same error
/// after the same work.
pub fn login(
    conn: &Connection,
    limiter: &LoginLimiter,
    req: &LoginRequest<'_>,
    policy: &SessionPolicy,
) -> Result<Session, AccountError> {
    let now = limiter.now();
    limiter.begin(req.name, req.address, now)?;
    let user = conn
        .query_row(
            "SELECT id, role, password_hash, disabled FROM users WHERE name = ?1",
            [req.name],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            },
        )
        .optional()?;
    let matches = password::verify(req.password, user.as_ref().map(|u| u.2.as_str()));
    let Some((user_id, role, _, disabled)) = user.filter(|_| matches) else {
        return Err(AccountError::InvalidCredentials);
    };
    // Said only to someone who knows the password; it stays counted as a
    // failure.
    if disabled {
        return Err(AccountError::AccountDisabled);
    }
    limiter.succeeded(req.name, req.address, now);
    session::create(
        conn,
        &NewSession {
            user_id,
            name: req.name,
            role: Role::parse(&role).unwrap_or(Role::Editor),
            address: req.address,
            user_agent: req.user_agent,
        },
        policy,
        now,
    )
}

fn user_id(conn: &Connection, name: &str) -> Result<Option<i64>, AccountError> {
    Ok(conn
        .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_name_rules() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("王编辑").is_ok());
        assert!(check_name(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "al ice",
            "tab\tbed",
            "bell\u{7}",
            "ideographic\u{3000}space",
        ] {
            assert!(
                matches!(check_name(bad), Err(AccountError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        assert!(check_name(&"a".repeat(65)).is_err());
    }
}
