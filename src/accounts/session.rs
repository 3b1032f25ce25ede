//! Sessions of the desk: a random token in the editor's cookie, of which
//! the database keeps only a SHA-256, and a CSRF token the desk puts in its
//! forms. A session expires after a quiet spell (sliding, renewed as the
//! editor works) and in any case at an absolute limit set when it began.
//! These rules are here; the rows are the store's (`Store::session` and
//! its neighbours).

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::{AccountError, Role, hex};
use crate::store::{NewSessionRow, Store, StoredSession};
use crate::time::beijing;

/// How long sessions last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long has expired; each use renews it.
    pub idle: Duration,
    /// However much it is used, a session ends this long after the login.
    pub max_age: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle: Duration::from_secs(12 * 3600),
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A session just created by a login: the token goes into the cookie
/// ([`super::session_cookie`]) and is not kept anywhere on the server.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub csrf_token: String,
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub expires_at: DateTime<FixedOffset>,
    /// The absolute end, for the cookie's Max-Age.
    pub max_expires_at: DateTime<FixedOffset>,
}

/// Tokens stay out of logs even when a session is debug-printed.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("csrf_token", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .field("max_expires_at", &self.max_expires_at)
            .finish()
    }
}

/// Who a request's session cookie belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    /// What the desk's forms must send back ([`check_csrf`]).
    pub csrf_token: String,
    pub expires_at: DateTime<FixedOffset>,
}

impl std::fmt::Debug for SessionUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUser")
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("csrf_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Random bytes per token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A session's expiry is renewed at most this often: each renewal is a
/// database write, and the desk makes several requests per page.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

fn random_token() -> Result<String, AccountError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Only what [`random_token`] makes can be a session: anything else in a
/// cookie is refused without a query.
fn plausible(token: &str) -> bool {
    token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

pub(super) struct NewSession<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub role: Role,
    pub address: &'a str,
    pub user_agent: Option<&'a str>,
}

pub(super) fn create(
    store: &Store,
    new: &NewSession<'_>,
    policy: &SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Session, AccountError> {
    let token = random_token()?;
    let csrf_token = random_token()?;
    let max_age = delta(policy.max_age);
    let idle = delta(policy.idle).min(max_age);
    let max_expires = now.checked_add_signed(max_age).unwrap_or(now);
    let expires = now.checked_add_signed(idle).unwrap_or(now).min(max_expires);
    store.insert_session(&NewSessionRow {
        token_hash: &token_hash(&token),
        user_id: new.user_id,
        csrf_token: &csrf_token,
        created_at: now,
        expires_at: expires,
        max_expires_at: max_expires,
        idle_secs: idle.num_seconds(),
        address: (!new.address.is_empty()).then_some(new.address),
        user_agent: new.user_agent,
    })?;
    Ok(Session {
        token,
        csrf_token,
        user_id: new.user_id,
        name: new.name.to_string(),
        role: new.role,
        expires_at: expires.with_timezone(&beijing()),
        max_expires_at: max_expires.with_timezone(&beijing()),
    })
}

/// The user a session token belongs to, renewing the session; `None` when
/// the token is unknown, expired or revoked, or its user was removed or
/// disabled.
pub fn session_user(store: &Store, token: &str) -> Result<Option<SessionUser>, AccountError> {
    session_user_at(store, token, Utc::now())
}

/// [`session_user`] at a given time (the limiter's clock, tests).
pub fn session_user_at(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionUser>, AccountError> {
    if !plausible(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(StoredSession {
        user_id,
        name,
        role,
        disabled,
        csrf_token,
        expires_at,
        max_expires_at,
        idle_secs,
        last_seen_at,
    }) = store.session(&hash)?
    else {
        return Ok(None);
    };
    // Unreadable times count as expired: failing closed.
    let (Some(expires), Some(max_expires), Some(last_seen)) =
        (expires_at, max_expires_at, last_seen_at)
    else {
        store.delete_session(&hash)?;
        return Ok(None);
    };
    if expires <= now {
        store.delete_session(&hash)?;
        return Ok(None);
    }
    if disabled {
        return Ok(None);
    }
    let mut expires = expires;
    if now - last_seen.with_timezone(&Utc) >= TOUCH_EVERY {
        let renewed = now
            .checked_add_signed(TimeDelta::seconds(idle_secs))
            .unwrap_or(now)
            .min(max_expires.with_timezone(&Utc));
        store.touch_session(&hash, now, renewed)?;
        expires = renewed.with_timezone(&beijing());
    }
    Ok(Some(SessionUser {
        user_id,
        name,
        role,
        csrf_token,
        expires_at: expires,
    }))
}

/// Logs a session out; whether there was one.
pub fn revoke_session(store: &Store, token: &str) -> Result<bool, AccountError> {
    if !plausible(token) {
        return Ok(false);
    }
    Ok(store.delete_session(&token_hash(token))?)
}

/// Logs a user out everywhere; how many sessions ended.
pub fn revoke_all(store: &Store, name: &str) -> Result<usize, AccountError> {
    let id = super::users::user_id(store, name)?;
    Ok(store.delete_user_sessions(id)?)
}

/// Deletes expired sessions (the daemon, now and then); how many.
pub fn purge_expired(store: &Store) -> Result<usize, AccountError> {
    purge_expired_at(store, Utc::now())
}

pub fn purge_expired_at(store: &Store, now: DateTime<Utc>) -> Result<usize, AccountError> {
    Ok(store.delete_expired_sessions(now)?)
}

/// Whether a form's CSRF token is the session's, compared in constant time
/// so that the response time does not reveal how much of it was right.
pub fn check_csrf(session: &SessionUser, presented: &str) -> bool {
    let expected = session.csrf_token.as_bytes();
    let presented = presented.as_bytes();
    // The length is no secret (every token has the same), so a mismatch
    // there may return early.
    if expected.is_empty() || expected.len() != presented.len() {
        return false;
    }
    let diff = expected
        .iter()
        .zip(presented)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_tokens_are_random_hex() {
        let a = random_token().expect("token");
        let b = random_token().expect("token");
        assert!(plausible(&a) && plausible(&b));
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
        assert!(!plausible("../../etc"));
        assert!(!plausible(&"g".repeat(64)));
    }

    #[test]
    fn accounts_session_debug_hides_tokens() {
        let s = SessionUser {
            user_id: 1,
            name: "alice".into(),
            role: Role::Editor,
            csrf_token: "secret-csrf".into(),
            expires_at: DateTime::parse_from_rfc3339("2025-06-20T10:30:00+08:00").expect("time"),
        };
        assert!(!format!("{s:?}").contains("secret-csrf"));
    }
}
