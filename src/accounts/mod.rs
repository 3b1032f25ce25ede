//! Accounts, layer 4 (store, after `store`): the security logic of the
//! editors' desk that `kuaibao serve` carries — who may log in (argon2id password hashes), who is logged in
//! (sessions behind an HttpOnly cookie, each with its CSRF token), how fast
//! anyone may guess (the login limiter) and what editors did (the audit
//! log).
//!
//! Layer: above the store (it decides; the store keeps). Everything here
//! works on a [`crate::store::Store`], whose typed methods (`store::accounts`) read and
//! write the users, sessions and audit tables; the row types
//! ([`UserInfo`], [`AuditRecord`], …) are the store's, re-exported here.

mod audit;
mod cookie;
mod limiter;
mod password;
mod session;
mod users;

use crate::store::StoreError;

pub use crate::store::{AuditEntry, AuditQuery, AuditRecord, Role, UserInfo};
pub use audit::{audit_entries, record, record_at};
pub use cookie::{COOKIE_NAME, clear_cookie, session_cookie};
pub use limiter::{HashBudget, LimiterConfig, LoginLimiter};
pub use password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password};
pub use session::{
    Session, SessionPolicy, SessionUser, check_csrf, purge_expired, purge_expired_at, revoke_all,
    revoke_session, session_user, session_user_at,
};
pub use users::{
    LoginRequest, MAX_NAME_CHARS, add_user, check_name, find_user, list_users, login, remove_user,
    set_password, verify_login,
};

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
    #[error("{0}")]
    Store(#[from] StoreError),
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

impl std::str::FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Role, AccountError> {
        Role::parse(s).ok_or_else(|| AccountError::UnknownRole(s.to_string()))
    }
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
    fn accounts_unknown_roles_are_refused() {
        assert_eq!("admin".parse::<Role>().ok(), Some(Role::Admin));
        assert!(matches!(
            "root".parse::<Role>(),
            Err(AccountError::UnknownRole(_))
        ));
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
}
