//! The desk's user accounts and the login itself: what `kuaibao user`
//! manages and what the desk's login form calls.

use chrono::Utc;

use super::limiter::LoginLimiter;
use super::session::{self, NewSession, Session, SessionPolicy};
use super::{AccountError, Role, UserInfo, password};
use crate::store::Store;

/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

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
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
) -> Result<i64, AccountError> {
    check_name(name)?;
    password::check_password(password)?;
    // Checked before hashing, which takes a while; the UNIQUE constraint
    // still decides when two adds race.
    if store.user_id(name)?.is_some() {
        return Err(AccountError::DuplicateUser(name.to_string()));
    }
    let hash = password::hash(password)?;
    store
        .insert_user(name, role, &hash, Utc::now())?
        .ok_or_else(|| AccountError::DuplicateUser(name.to_string()))
}

/// Sets a new password and ends all the user's sessions (a password is
/// changed because the old one may be known to someone else); how many
/// sessions ended.
pub fn set_password(store: &Store, name: &str, password: &str) -> Result<usize, AccountError> {
    password::check_password(password)?;
    let id = user_id(store, name)?;
    let hash = password::hash(password)?;
    Ok(store.set_password_hash(id, &hash, Utc::now())?)
}

/// All accounts, by name.
pub fn list_users(store: &Store) -> Result<Vec<UserInfo>, AccountError> {
    Ok(store.users(None, Utc::now())?)
}

/// One account, if it exists.
pub fn find_user(store: &Store, name: &str) -> Result<Option<UserInfo>, AccountError> {
    Ok(store.users(Some(name), Utc::now())?.into_iter().next())
}

/// Deletes an account and its sessions; audit entries keep its name. How
/// many sessions ended.
pub fn remove_user(store: &Store, name: &str) -> Result<usize, AccountError> {
    let id = user_id(store, name)?;
    Ok(store.delete_user(id)?)
}

/// [`login`] with the default session lifetimes and no user agent.
pub fn verify_login(
    store: &Store,
    limiter: &LoginLimiter,
    name: &str,
    password: &str,
    address: &str,
) -> Result<Session, AccountError> {
    login(
        store,
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
    store: &Store,
    limiter: &LoginLimiter,
    req: &LoginRequest<'_>,
    policy: &SessionPolicy,
) -> Result<Session, AccountError> {
    let now = limiter.now();
    limiter.begin(req.name, req.address, now)?;
    let user = store.user_credentials(req.name)?;
    let matches = password::verify(
        req.password,
        user.as_ref().map(|u| u.password_hash.as_str()),
    );
    let Some(user) = user.filter(|_| matches) else {
        return Err(AccountError::InvalidCredentials);
    };
    // Said only to someone who knows the password; it stays counted as a
    // failure.
    if user.disabled {
        return Err(AccountError::AccountDisabled);
    }
    limiter.succeeded(req.name, req.address, now);
    session::create(
        store,
        &NewSession {
            user_id: user.id,
            name: req.name,
            role: user.role,
            address: req.address,
            user_agent: req.user_agent,
        },
        policy,
        now,
    )
}

/// The id of the account named `name`, which must exist.
pub(super) fn user_id(store: &Store, name: &str) -> Result<i64, AccountError> {
    store
        .user_id(name)?
        .ok_or_else(|| AccountError::NoSuchUser(name.to_string()))
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
