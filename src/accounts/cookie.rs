//! Store layer (accounts): the desk's session cookie as it is set.
//! HttpOnly so that a script injected into a page cannot read it,
//! SameSite=Lax so that other sites' forms do not carry it (the CSRF token
//! is the second line), Secure when the desk is served over HTTPS. Requests'
//! cookies are read by the desk, with the `cookie` crate.

use std::time::Duration;

/// The cookie's name.
pub const COOKIE_NAME: &str = "kuaibao_session";

/// A `Set-Cookie` value carrying a session token.
pub fn session_cookie(token: &str, secure: bool, max_age: Duration) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that makes the browser forget the session (logout).
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", secure, Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_cookie_reads_back_with_the_cookie_crate() {
        let set = session_cookie("abc123", false, Duration::from_secs(60));
        let parsed = ::cookie::Cookie::parse(set).expect("a valid Set-Cookie");
        assert_eq!((parsed.name(), parsed.value()), (COOKIE_NAME, "abc123"));
        assert_eq!(parsed.http_only(), Some(true));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }
}
