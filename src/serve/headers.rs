//! Serve: the security headers of every response of `kuaibao serve`, public
//! pages and feeds alike. Only headers a handler did not set are added, so
//! the desk's own (a per-page nonce CSP) stand.
//!
//! The public HTML pages (the index, `/issues/…`, `/status`) carry one
//! inline `<style>` each and no script, form or frame; their links lead
//! away, and nothing is loaded from elsewhere but possibly pictures in an
//! issue's text. Everything else (feeds, OPML, JSON, exports, plain text)
//! is not meant to be rendered as a page at all.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

/// The CSP of a public HTML page: its inline style, pictures, nothing else.
pub const HTML_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The CSP of anything else: a browser that renders a feed or an export
/// runs and loads nothing from it.
pub const DOCUMENT_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) async fn security_headers(mut resp: Response) -> Response {
    add_security_headers(&mut resp);
    resp
}

/// What [`security_headers`] does, for responses that do not pass through
/// the router (the connection layer's fast 304s).
pub(super) fn add_security_headers(resp: &mut Response) {
    let html = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let h = resp.headers_mut();
    add(h, X_CONTENT_TYPE_OPTIONS, "nosniff");
    add(h, X_FRAME_OPTIONS, "DENY");
    // Outlets see that a reader came from here, not from which page.
    add(h, REFERRER_POLICY, "strict-origin-when-cross-origin");
    // A 304 has no Content-Type, and its headers replace the cached ones:
    // a CSP guessed for it could strip a cached page of its style.
    match html {
        Some(true) => add(h, CONTENT_SECURITY_POLICY, HTML_CSP),
        Some(false) => add(h, CONTENT_SECURITY_POLICY, DOCUMENT_CSP),
        None => {}
    }
}

fn add(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}
