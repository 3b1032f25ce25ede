//! The desk's session cookie: HttpOnly so that a script injected into a
//! page cannot read it, SameSite=Lax so that other sites' forms do not
//! carry it (the CSRF token is the second line), Secure when the desk is
//! served over HTTPS.

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

/// The session token in a `Cookie` request header, if there is one. The
/// first non-empty `kuaibao_session` wins; other cookies are ignored.
pub fn parse_cookie(header_value: &str) -> Option<&str> {
    header_value.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let value = value.trim().trim_matches('"');
        (name.trim() == COOKIE_NAME && !value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_cookie_round_trips() {
        let set = session_cookie("abc123", false, Duration::from_secs(60));
        let pair = set.split(';').next().unwrap_or_default();
        assert_eq!(parse_cookie(pair), Some("abc123"));
        assert_eq!(
            parse_cookie("theme=dark; kuaibao_session=abc123 ; lang=zh"),
            Some("abc123")
        );
        assert_eq!(parse_cookie("kuaibao_session=; other=1"), None);
        assert_eq!(parse_cookie("kuaibao_sessionx=abc"), None);
        assert_eq!(parse_cookie(""), None);
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }
}
